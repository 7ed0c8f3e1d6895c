// Quoting for each place a value can take in a Dockerfile (BuildKit's Dockerfile frontend, 1.x syntax).
//
// Every function either returns text that BuildKit reads back as exactly `value`, or throws
// QuoteError when no Dockerfile spelling exists (the caller turns it into a located UserError).
// Verified on the engine by test/emit/engine.test.ts (docker inspect / docker run read the values back).

export class QuoteError extends Error {}

function noNewline(value: string, what: string): void {
  if (/[\r\n]/.test(value)) throw new QuoteError(`${what} contains a line break, which a Dockerfile instruction cannot hold`);
  if (value.includes("\0")) throw new QuoteError(`${what} contains a NUL character`);
}

/**
 * A double-quoted word for instructions with variable substitution (ENV, LABEL, ARG values):
 * `\` and `"` are backslash-escaped, `$` is escaped so it is not expanded. No line breaks.
 */
export function quoteWord(value: string, what = "value"): string {
  noNewline(value, what);
  return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

/**
 * A JSON array for exec form (CMD, ENTRYPOINT, SHELL: no substitution). JSON escapes every control character.
 * `\u2028`/`\u2029` are escaped too so the line stays one line for any reader.
 */
export function execForm(values: readonly string[]): string {
  for (const v of values) if (v.includes("\0")) throw new QuoteError("a NUL character cannot be passed in exec form");
  return JSON.stringify(values).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/**
 * A JSON array for instructions that substitute variables after parsing the JSON (VOLUME, COPY, ADD):
 * each `\` and `$` gets a backslash (`\\$` in JSON reads back as `\$`, then substitution makes it `$`).
 */
export function substitutedJsonForm(values: readonly string[], what = "path"): string {
  for (const v of values) noNewline(v, what);
  return execForm(values.map((v) => v.replace(/[\\$]/g, (c) => `\\${c}`)));
}

/**
 * The rest-of-line argument of WORKDIR/USER/STOPSIGNAL/EXPOSE (substitution, no quotes removed for WORKDIR):
 * `\` and `$` escaped; leading/trailing blanks and line breaks cannot be expressed.
 */
export function substitutedRest(value: string, what = "value"): string {
  noNewline(value, what);
  if (value.trim() !== value || value === "") throw new QuoteError(`${what} ${JSON.stringify(value)} is empty or has leading/trailing blanks`);
  return value.replace(/[\\$]/g, (c) => `\\${c}`);
}

/** A raw rest-of-line value (shell-form CMD/ENTRYPOINT, HEALTHCHECK, ONBUILD): one line, no continuation. */
export function rawRest(value: string, what = "value"): string {
  noNewline(value, what);
  if (value.trim() === "") throw new QuoteError(`${what} is empty`);
  if (/\\\s*$/.test(value)) throw new QuoteError(`${what} ends with a backslash, which a Dockerfile reads as a line continuation`);
  return value;
}

/** A POSIX shell single-quoted word. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Text for one shell comment line: every line break and other control character (C0, DEL, C1, U+2028/U+2029)
 *  becomes "?", so the text cannot end the comment and start a command. */
export function shellComment(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, "?");
}

/** A heredoc terminator that equals no line of `body` (compared after trimming blanks, to be safe). */
export function heredocTerminator(body: string, base = "STAPEL_EOF"): string {
  const lines = new Set(body.split("\n").map((l) => l.trim()));
  let word = base;
  for (let n = 1; lines.has(word); n++) word = `${base}_${n}`;
  return word;
}

/** Flag values such as `--chown=` and mount options: a conservative character set. */
export function flagValue(value: string, what: string): string {
  if (!/^[A-Za-z0-9_.@+\-/:]+$/.test(value)) {
    throw new QuoteError(`${what} ${JSON.stringify(value)} has characters a Dockerfile flag cannot hold (use letters, digits, . _ - @ + / :)`);
  }
  return value;
}

/** A mount option value (`target=`, `source=`, `id=`): commas and quotes split the CSV, so they are rejected. */
export function mountValue(value: string, what: string): string {
  noNewline(value, what);
  if (/[,"'=\s$\\]/.test(value)) {
    throw new QuoteError(`${what} ${JSON.stringify(value)} contains a comma, quote, '=', '$', backslash or blank, which a RUN --mount option cannot hold`);
  }
  return value;
}
