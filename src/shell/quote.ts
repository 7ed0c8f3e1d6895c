// Quoting for POSIX shell scripts that stapel2docker writes (RUN scripts, build.sh, commit.env, ansible blocks).

/** A POSIX shell single-quoted word (bare when it holds only characters no shell treats specially). */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * One shell comment line holding user text: every control character (line breaks, U+0085, U+2028 ...) becomes
 * `?`, so the text cannot end the comment and start a command.
 */
export function shellComment(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, "?");
}
