// Escaping for each place a value can take in a Dockerfile, as BuildKit's Dockerfile frontend reads it
// (moby/buildkit frontend/dockerfile/parser and shell, the frontend built into Docker 26 / buildx 0.13).
//
// The only code that knows Dockerfile syntax besides the printer (print.ts), which calls it for every value.
// Every function returns text that BuildKit reads back as exactly `value`, or throws EscapeError when no
// spelling exists; the printer turns that into a located UserError. What the parser does, and why each
// function is what it is:
// - Physical lines end at "\n" only; a trailing "\r" is dropped. Lines of 65536 bytes or more fail to scan.
// - A line whose first non-blank character is "#" is a comment, even inside a multi-line instruction.
// - An instruction continues on the next line when it ends with an odd "\" followed by blanks or tabs.
// - `strings.TrimSpace` (Go's unicode.IsSpace: also U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
//   U+202F, U+205F, U+3000) trims every instruction's arguments.
// - Flags (`--mount=`, `--from=`, `--chown=`) are read byte by byte: a byte 0x85 or 0xA0 (inside any UTF-8
//   character holding it) counts as a blank, and every byte >= 0x80 is re-encoded as if it were Latin-1. So
//   flag values are restricted to printable ASCII.
// - RUN/COPY/ADD (also under ONBUILD) holding "<<" start heredocs: the lines that follow are taken as content.
// - ENV/LABEL/ARG, COPY/ADD/VOLUME sources, USER/WORKDIR/STOPSIGNAL, EXPOSE and `--from` pass through the
//   shell-word lexer: `\` escapes, '...' and "..." are removed, `$x`/`${x}` are substituted.
// Verified on the engine by test/dockerfile/engine.test.ts (values read back with docker inspect / docker run).

export class EscapeError extends Error {}

/** Go's unicode.IsSpace. */
export function isGoSpace(ch: string): boolean {
  const c = ch.codePointAt(0)!;
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Characters no Dockerfile value can hold: NUL and unpaired UTF-16 surrogates (they cannot be written as UTF-8). */
function checkText(value: string, what: string): void {
  if (value.includes("\0")) throw new EscapeError(`${what} contains a NUL character`);
  if (LONE_SURROGATE.test(value)) throw new EscapeError(`${what} contains an unpaired UTF-16 surrogate, which is not text`);
}

function noLineBreak(value: string, what: string): void {
  checkText(value, what);
  if (/[\r\n]/.test(value)) throw new EscapeError(`${what} contains a line break, which a Dockerfile instruction cannot hold`);
}

/** Whether `value` starts or ends with a character BuildKit trims. */
function hasEdgeSpace(value: string): boolean {
  if (value === "") return false;
  const chars = [...value];
  return isGoSpace(chars[0]) || isGoSpace(chars[chars.length - 1]);
}

/** Inside a double-quoted lexer word: `\`, `"` and `$` get a backslash. */
function inDoubleQuotes(value: string): string {
  return value.replace(/[\\"$]/g, (c) => `\\${c}`);
}

/** Outside quotes in a lexer word: `\`, `$` and both quotes get a backslash. */
function unquotedWord(value: string): string {
  return value.replace(/[\\$'"]/g, (c) => `\\${c}`);
}

/**
 * A double-quoted word (ENV and ARG values, LABEL keys and values): read by the parser's word splitter, which
 * keeps blanks inside quotes, then by the lexer, which removes the quotes and the backslashes before `\ " $`.
 */
export function word(value: string, what = "value"): string {
  noLineBreak(value, what);
  return `"${inDoubleQuotes(value)}"`;
}

/** The inside of a double-quoted word, for a word the printer assembles from parts (text and `${ARG}`). */
export function wordPart(value: string, what = "value"): string {
  noLineBreak(value, what);
  return inDoubleQuotes(value);
}

/**
 * A JSON array for exec form (CMD, ENTRYPOINT, SHELL: no substitution). JSON escapes the C0 controls; the C1
 * controls and the non-ASCII blanks are escaped too, so the line reads as one line in any editor.
 */
export function execForm(values: readonly string[], what = "value", separator = ","): string {
  for (const v of values) checkText(v, what);
  const json = `[${values.map((v) => JSON.stringify(v)).join(separator)}]`;
  return json.replace(/[\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * A JSON array whose elements then go through the lexer (COPY, ADD, VOLUME): `\`, `$` and both quotes get a
 * backslash (in JSON `\\$`, which reads back as `\$`, then `$`).
 */
export function substitutedJson(values: readonly string[], what = "path"): string {
  for (const v of values) noLineBreak(v, what);
  return execForm(values.map(unquotedWord), what);
}

/**
 * The rest of the line of USER, WORKDIR and STOPSIGNAL: trimmed, then one lexer word (blanks inside are kept). A
 * plain value is written with `\` and `$` escaped; one with blanks at its edges, quotes or a leading `-` (which
 * would read as a flag) is written in double quotes, which keep it whole.
 */
export function restWord(value: string, what = "value"): string {
  noLineBreak(value, what);
  if (value === "") throw new EscapeError(`${what} is empty`);
  const plain = !hasEdgeSpace(value) && !/['"]/.test(value) && !value.startsWith("-");
  return plain ? value.replace(/[\\$]/g, (c) => `\\${c}`) : `"${inDoubleQuotes(value)}"`;
}

/** One EXPOSE port: EXPOSE splits its arguments at ASCII blanks before the lexer sees them, so none may hold one. */
export function port(value: string, what = "port"): string {
  noLineBreak(value, what);
  if (value === "" || GO_SPACE.test(value) || /['"]/.test(value) || value.startsWith("-")) {
    throw new EscapeError(`${what} ${JSON.stringify(value)} is not a port (no blanks, quotes or leading '-')`);
  }
  return value.replace(/[\\$]/g, (c) => `\\${c}`);
}

/** A flag value (`--from=`, `--chown=` parts): a conservative set of printable ASCII. */
export function flag(value: string, what: string): string {
  checkText(value, what);
  if (!/^[A-Za-z0-9_.@+\-/:]+$/.test(value)) {
    throw new EscapeError(`${what} ${JSON.stringify(value)} has characters a Dockerfile flag cannot hold (use letters, digits, . _ - @ + / :)`);
  }
  return value;
}

/**
 * A RUN --mount option value (`target=`, `source=`, `id=`, `from=`): the flag is read byte by byte (non-ASCII is
 * corrupted, 0x85/0xA0 bytes split it) and its value is a CSV record, so printable ASCII without blanks, commas,
 * quotes, '=', '$' or backslashes.
 */
export function mountValue(value: string, what: string): string {
  noLineBreak(value, what);
  if (value === "" || !/^[\x21-\x7e]+$/.test(value) || /[,"'=$\\]/.test(value)) {
    throw new EscapeError(
      `${what} ${JSON.stringify(value)} contains a blank, a non-ASCII character, a comma, quote, '=', '$' or backslash, which a RUN --mount option cannot hold`,
    );
  }
  return value;
}

const IMAGE_REF = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/;

/** An image reference (FROM, --from=): printable ASCII of a reference's alphabet. */
export function imageRef(ref: string, what = "image reference"): string {
  checkText(ref, what);
  if (!IMAGE_REF.test(ref)) throw new EscapeError(`${what} ${JSON.stringify(ref)} is not a valid image reference`);
  return ref;
}

/** A build stage or named context name: BuildKit's `[a-z][a-z0-9._-]*`. */
export function stageName(name: string, what = "build stage name"): string {
  if (!/^[a-z][a-z0-9._-]*$/.test(name)) throw new EscapeError(`${what} ${JSON.stringify(name)} is not a valid build stage name`);
  return name;
}

/** An environment variable or build argument name. */
export function envName(name: string, what = "environment variable name"): string {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) throw new EscapeError(`${what} ${JSON.stringify(name)} is not valid`);
  return name;
}

/** A label key in a LABEL pair: a double-quoted word, never empty, without '=' (the parser splits a pair at its
 *  first '=', quoted or not). */
export function labelKey(key: string, what = "label name"): string {
  if (key === "") throw new EscapeError(`${what} is empty`);
  if (key.includes("=")) throw new EscapeError(`${what} ${JSON.stringify(key)} contains '=', which a LABEL key cannot hold`);
  return word(key, what);
}

/**
 * A shell-form CMD/ENTRYPOINT/HEALTHCHECK command written verbatim, or undefined when the line would not read
 * back as `value` (blanks at its edges, a line break, a trailing backslash, a leading `[` that makes it JSON, a
 * leading `--` that makes it a flag); the caller then uses exec form with /bin/sh -c.
 */
export function shellForm(value: string): string | undefined {
  checkText(value, "command");
  const ok = value !== "" && value.trim() === value && !hasEdgeSpace(value) && !/[\r\n]/.test(value) && !/\\$/.test(value) &&
    !value.startsWith("[") && !value.startsWith("--");
  return ok ? value : undefined;
}

/** The raw rest of a line (werf's `docker.HEALTHCHECK` string): one line, no continuation. */
export function rawRest(value: string, what = "value"): string {
  noLineBreak(value, what);
  if (value.trim() === "" || [...value].every(isGoSpace)) throw new EscapeError(`${what} is empty`);
  if (/\\[\s\u0085]*$/.test(value)) throw new EscapeError(`${what} ends with a backslash, which a Dockerfile reads as a line continuation`);
  return value;
}

/**
 * ONBUILD's instruction: one line, no continuation, and no heredoc: `ONBUILD RUN <<X` would make the parser take
 * the Dockerfile's next lines as the heredoc's content, turning them into part of this instruction.
 */
export function onbuild(value: string, what = "ONBUILD"): string {
  const v = rawRest(value, what);
  const words = v.split(GO_SPACE).filter((w) => w !== "");
  const name = (words[0] ?? "").toLowerCase();
  if (!/^[a-z]+$/.test(name)) throw new EscapeError(`${what} ${JSON.stringify(value)} does not start with an instruction name`);
  if (name === "onbuild") throw new EscapeError(`${what} cannot hold another ONBUILD`);
  if ((name === "run" || name === "copy" || name === "add") && v.includes("<<")) {
    throw new EscapeError(`${what} ${JSON.stringify(value)} holds "<<", which BuildKit reads as a heredoc taking the next lines of the Dockerfile`);
  }
  return v;
}

/** One comment line: characters that end a line for BuildKit or for an editor become spaces. */
export function comment(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]/g, " ");
}

/** A heredoc terminator that equals no line of `body` (compared after trimming blanks, more than BuildKit does). */
export function heredocTerminator(body: string, base = "STAPEL_EOF"): string {
  const lines = new Set(body.split("\n").map((l) => l.trim().replace(/^[\s\u0085]+|[\s\u0085]+$/g, "")));
  let w = base;
  for (let n = 1; lines.has(w); n++) w = `${base}_${n}`;
  return w;
}

/** BuildKit's scanner reads lines of at most 65535 bytes (bufio.MaxScanTokenSize - 1, the "\n" included). */
export const MAX_LINE_BYTES = 65535;
