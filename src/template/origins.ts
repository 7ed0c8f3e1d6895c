// Where a string that `tpl` executes came from. werf names a tpl template `tpl-<adler32>`, which tells a
// user nothing; when the text is exactly a project file read with `.Files.Get` or `.Files.Glob` (the
// Deckhouse pattern `{{ tpl (.Files.Get ".werf/images.yaml") $ }}`), errors inside it are located in that
// file instead: `.werf/images.yaml:12:5`. Text that was cut or joined has no file, and keeps werf's name.

export class FileOrigins {
  private readonly byText = new Map<string, string>();

  /** Records that `text` is the content of project file `file` (as the user wrote its path). */
  note(text: string, file: string): void {
    // Short texts are too likely to be the content of several files, or a value that is not a file.
    if (text.length < 16) return;
    const known = this.byText.get(text);
    if (known === undefined) this.byText.set(text, file);
    else if (known !== file) this.byText.set(text, "");
  }

  /** The one project file whose whole content is `text`, or undefined. */
  fileOf(text: string): string | undefined {
    return this.byText.get(text) || undefined;
  }
}
