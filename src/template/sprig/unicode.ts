// Go's unicode predicates and byte-level string views that sprig's string
// functions depend on. Go strings are UTF-8 bytes; slicing by byte offsets is
// observable (trunc, substr, initials), so those functions work on bytes here.

export const isLetter = (r: string): boolean => /\p{L}/u.test(r);
export const isUpper = (r: string): boolean => /\p{Lu}/u.test(r);
export const isLower = (r: string): boolean => /\p{Ll}/u.test(r);
export const isTitleCase = (r: string): boolean => /\p{Lt}/u.test(r);
export const isDigit = (r: string): boolean => /\p{Nd}/u.test(r);
export const isNumber = (r: string): boolean => /\p{N}/u.test(r);
/** unicode.IsPunct: category P. */
export const isPunct = (r: string): boolean => /\p{P}/u.test(r);

/** unicode.IsSpace: '\t', '\n', '\v', '\f', '\r', ' ', U+0085, U+00A0 and category Z spaces. */
export function isSpace(r: string): boolean {
  const c = r.codePointAt(0)!;
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return /\p{White_Space}/u.test(r);
}

/** unicode.ToUpper / ToLower / ToTitle for one rune (simple case mapping: one rune in, one rune out). */
// JS applies the full mappings of SpecialCasing.txt; where they give several runes, Go's simple mapping is
// the rune itself except for these (İ lowers to i; Greek letters with ypogegrammeni upper to prosgegrammeni).
function simpleUpperSpecial(c: number): number | undefined {
  if ((c >= 0x1f80 && c <= 0x1f87) || (c >= 0x1f90 && c <= 0x1f97) || (c >= 0x1fa0 && c <= 0x1fa7)) return c + 8;
  if (c === 0x1fb3 || c === 0x1fc3 || c === 0x1ff3) return c + 9;
  return undefined;
}

export function toUpperRune(r: string): string {
  const u = r.toUpperCase();
  if ([...u].length === 1) return u;
  const special = simpleUpperSpecial(r.codePointAt(0)!);
  return special === undefined ? r : String.fromCodePoint(special);
}
export function toLowerRune(r: string): string {
  if (r === "\u0130") return "i";
  const l = r.toLowerCase();
  return [...l].length === 1 ? l : r;
}
export function toTitleRune(r: string): string {
  // Title case differs from upper case only for digraphs such as U+01C6 ("ǆ" -> "ǅ").
  const c = r.codePointAt(0)!;
  if (c >= 0x01c4 && c <= 0x01cc) return String.fromCodePoint(c - ((c - 0x01c4) % 3) + 1);
  if (c >= 0x01f1 && c <= 0x01f3) return "\u01f2";
  return toUpperRune(r);
}

const utf8 = new TextEncoder();
const utf8Lossy = new TextDecoder("utf-8", { fatal: false });

export function toBytes(s: string): Uint8Array {
  return utf8.encode(s);
}

export function fromBytes(b: Uint8Array): string {
  return utf8Lossy.decode(b);
}

/** Go's byte length of a string. */
export function byteLen(s: string): number {
  return utf8.encode(s).length;
}

/** Go's s[start:end] on bytes, with Go's panic when out of range. */
export function byteSlice(s: string, start: number, end?: number): string {
  const b = toBytes(s);
  const e = end ?? b.length;
  if (start < 0 || e < start || e > b.length) {
    const what = end === undefined ? `[${start}:]` : start === 0 ? `[:${e}]` : `[${start}:${e}]`;
    throw new Error(`runtime error: slice bounds out of range ${what} with length ${b.length}`);
  }
  return fromBytes(b.subarray(start, e));
}

/**
 * The string as Go's `rune(str[i])` loops see it: one Latin-1 character per
 * byte. Writing such a rune back (bytes.Buffer.WriteRune) re-encodes it, so
 * these helpers mirror goutils' byte-wise Initials and DeleteWhiteSpace.
 */
export function byteRunes(s: string): string[] {
  return [...toBytes(s)].map((b) => String.fromCharCode(b));
}
