// Quoting for the shell scripts stapel2docker writes (RUN scripts, git patch scripts, the import filter, build.sh,
// commit.env, ansible blocks): the one module that knows POSIX shell / bash quoting.

/** A POSIX shell word: bare when it holds only characters no shell treats specially, else single-quoted. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(value)) return value;
  return singleQuote(value);
}

/** A POSIX shell single-quoted word, always quoted (`'` written as `'\''`). */
export function singleQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * One shell comment line holding user text: every control character (line breaks, U+0085, U+2028 ...) becomes
 * `?`, so the text cannot end the comment and start a command.
 */
export function shellComment(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, "?");
}

/** A bash word that reads back as `s`, a byte string (one char per byte, U+0000–U+00FF): '...' when printable
 *  ASCII, else $'...' with \xHH escapes. */
export function bashBytesQuote(s: string): string {
  if (/^[\x20-\x7e]*$/.test(s)) return singleQuote(s);
  let out = "$'";
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c > 0xff) throw new Error("bashBytesQuote: not a byte string");
    if (ch === "\\" || ch === "'") out += `\\${ch}`;
    else if (c >= 0x20 && c <= 0x7e) out += ch;
    else out += `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return `${out}'`;
}
