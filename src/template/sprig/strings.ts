// sprig's string functions (strings.go, goutils, xstrings wrappers).
import { type FuncMap, type GoValue, goFunc } from "../value.js";
import { argInt, argString, strslice, strval } from "./args.js";
import { camelcase, kebabcase, snakecase } from "./casing.js";
import { goQuote } from "../strconv.js";
import {
  byteLen, byteRunes, byteSlice, fromBytes, isLetter, isLower, isDigit, isSpace, isTitleCase, isUpper, toBytes, toLowerRune,
  toTitleRune, toUpperRune,
} from "./unicode.js";

/** strings.TrimSpace: Unicode white space at both ends. */
function trimSpace(s: string): string {
  const r = [...s];
  let i = 0;
  let j = r.length;
  while (i < j && isSpace(r[i])) i++;
  while (j > i && isSpace(r[j - 1])) j--;
  return r.slice(i, j).join("");
}

/** strings.Trim(s, cutset): drop runes in cutset from both ends. */
function trimCutset(s: string, cutset: string): string {
  if (s === "" || cutset === "") return s;
  const set = new Set(cutset);
  const r = [...s];
  let i = 0;
  let j = r.length;
  while (i < j && set.has(r[i])) i++;
  while (j > i && set.has(r[j - 1])) j--;
  return r.slice(i, j).join("");
}

/** Go's deprecated strings.Title: upper-case (title-case) the first letter of each word. */
function isTitleSeparator(r: string): boolean {
  const c = r.codePointAt(0)!;
  if (c <= 0x7f) return !/[0-9A-Za-z_]/.test(r);
  if (isLetter(r) || isDigit(r)) return false;
  return isSpace(r);
}

export function title(s: string): string {
  let prev = " ";
  let out = "";
  for (const r of s) {
    out += isTitleSeparator(prev) ? toTitleRune(r) : r;
    prev = r;
  }
  return out;
}

/** goutils.Uncapitalize: lower-case the first rune of each space-separated word. */
function untitle(s: string): string {
  let next = true;
  let out = "";
  for (const r of s) {
    if (isSpace(r)) {
      next = true;
      out += r;
    } else if (next) {
      out += toLowerRune(r);
      next = false;
    } else out += r;
  }
  return out;
}

/** goutils.SwapCase. */
function swapcase(s: string): string {
  let whitespace = true;
  let out = "";
  for (const r of s) {
    if (isUpper(r) || isTitleCase(r)) {
      out += toLowerRune(r);
      whitespace = false;
    } else if (isLower(r)) {
      out += whitespace ? toTitleRune(r) : toUpperRune(r);
      whitespace = false;
    } else {
      whitespace = isSpace(r);
      out += r;
    }
  }
  return out;
}

/** goutils.Initials: first byte of each space-separated word (byte-wise, as goutils does). */
function initials(s: string): string {
  let gap = true;
  let out = "";
  for (const ch of byteRunes(s)) {
    if (isSpace(ch)) gap = true;
    else if (gap) {
      out += ch;
      gap = false;
    }
  }
  return out;
}

/** goutils.DeleteWhiteSpace (byte-wise: it also drops the bytes 0x85 and 0xA0 inside UTF-8 sequences). */
function nospace(s: string): string {
  const runes = byteRunes(s);
  const kept = runes.filter((ch) => !isSpace(ch));
  return kept.length === runes.length ? s : kept.join("");
}

/** goutils.AbbreviateFull, byte offsets; errors (width < 4 or < 7 with offset) give "" like sprig's ignored error. */
function abbreviateFull(s: string, offset: number, maxWidth: number): string {
  if (s === "") return "";
  if (maxWidth < 4) return "";
  const len = byteLen(s);
  if (len <= maxWidth) return s;
  if (offset > len) offset = len;
  if (len - offset < maxWidth - 3) offset = len - (maxWidth - 3);
  if (offset <= 4) return byteSlice(s, 0, maxWidth - 3) + "...";
  if (maxWidth < 7) return "";
  if (offset + maxWidth - 3 < len) return "..." + abbreviateFull(byteSlice(s, offset), 0, maxWidth - 3);
  return "..." + byteSlice(s, len - (maxWidth - 3));
}

/** goutils.WrapCustom (byte offsets, space is the only break point). */
export function wrapCustom(s: string, width: number, newline: string, wrapLongWords: boolean): string {
  if (s === "") return "";
  if (newline === "") newline = "\n";
  if (width < 1) width = 1;
  const b = toBytes(s);
  const len = b.length;
  const SPACE = 0x20;
  const sub = (x: number, y: number) => fromBytes(b.subarray(x, y));
  let offset = 0;
  let out = "";
  while (len - offset > width) {
    if (b[offset] === SPACE) {
      offset++;
      continue;
    }
    const end = Math.min(width + offset + 1, len);
    const window = b.subarray(offset, end);
    const spaceAt = window.lastIndexOf(SPACE) + offset;
    if (spaceAt >= offset) {
      out += sub(offset, spaceAt) + newline;
      offset = spaceAt + 1;
    } else if (wrapLongWords) {
      out += sub(offset, width + offset) + newline;
      offset += width;
    } else {
      const e = width + offset;
      const idx = b.subarray(e).indexOf(SPACE);
      if (idx === -1) {
        out += sub(offset, len);
        offset = len;
      } else {
        out += sub(offset, idx + e) + newline;
        offset = idx + e + 1;
      }
    }
  }
  return out + sub(offset, len);
}

function trunc(c: number, s: string): string {
  const len = byteLen(s);
  if (c < 0 && len + c > 0) return byteSlice(s, len + c);
  if (c >= 0 && len > c) return byteSlice(s, 0, c);
  return s;
}

function substr(start: number, end: number, s: string): string {
  if (start < 0) return byteSlice(s, 0, end);
  if (end < 0 || end > byteLen(s)) return byteSlice(s, start);
  return byteSlice(s, start, end);
}

function indent(spaces: number, s: string): string {
  const pad = repeat(spaces, " ");
  return pad + s.split("\n").join("\n" + pad);
}

/** strings.Split semantics: empty separator splits into UTF-8 sequences (runes). */
export function goSplit(s: string, sep: string, n = -1): string[] {
  if (n === 0) return [];
  if (sep === "") {
    const runes = [...s];
    if (n < 0 || n >= runes.length) return runes;
    return [...runes.slice(0, n - 1), runes.slice(n - 1).join("")];
  }
  const parts = s.split(sep);
  if (n < 0 || parts.length <= n) return parts;
  return [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

function indexedMap(parts: string[]): Map<string, GoValue> {
  return new Map(parts.map((p, i) => [`_${i}`, p]));
}

/** strings.Repeat panics on a negative count. */
function repeat(count: number, s: string): string {
  if (count < 0) throw new Error("strings: negative Repeat count");
  return s.repeat(count);
}

/** Go's %v inside single quotes, for squote. */
function squote(...args: GoValue[]): string {
  return args.filter((a) => a !== null && a !== undefined).map((a) => `'${strval(a)}'`).join(" ");
}

export function registerStrings(fm: FuncMap): void {
  fm.set("hello", goFunc(0, 0, () => "Hello!"));
  const s1 = (name: string, f: (s: string) => string) => fm.set(name, goFunc(1, 1, (a) => f(argString(a))));
  s1("trim", trimSpace);
  s1("upper", (s) => [...s].map(toUpperRune).join(""));
  s1("lower", (s) => [...s].map(toLowerRune).join(""));
  s1("title", title);
  s1("untitle", untitle);
  s1("swapcase", swapcase);
  s1("initials", initials);
  s1("nospace", nospace);
  s1("snakecase", snakecase);
  s1("camelcase", camelcase);
  s1("kebabcase", kebabcase);
  fm.set("abbrev", goFunc(2, 2, (w, s) => {
    const width = argInt(w);
    const str = argString(s);
    return width < 4 ? str : abbreviateFull(str, 0, width);
  }));
  fm.set("abbrevboth", goFunc(3, 3, (l, r, s) => {
    const left = argInt(l);
    const right = argInt(r);
    const str = argString(s);
    if (right < 4 || (left > 0 && right < 7)) return str;
    return abbreviateFull(str, left, right);
  }));
  fm.set("trunc", goFunc(2, 2, (c, s) => trunc(argInt(c), argString(s))));
  fm.set("substr", goFunc(3, 3, (a, b, s) => substr(argInt(a), argInt(b), argString(s))));
  fm.set("repeat", goFunc(2, 2, (c, s) => repeat(argInt(c), argString(s))));
  const trimAll = goFunc(2, 2, (a, b) => trimCutset(argString(b), argString(a)));
  fm.set("trimAll", trimAll);
  fm.set("trimall", trimAll);
  fm.set("trimSuffix", goFunc(2, 2, (a, b) => {
    const suffix = argString(a);
    const s = argString(b);
    return suffix !== "" && s.endsWith(suffix) ? s.slice(0, s.length - suffix.length) : s;
  }));
  fm.set("trimPrefix", goFunc(2, 2, (a, b) => {
    const prefix = argString(a);
    const s = argString(b);
    return s.startsWith(prefix) ? s.slice(prefix.length) : s;
  }));
  fm.set("contains", goFunc(2, 2, (a, b) => argString(b).includes(argString(a))));
  fm.set("hasPrefix", goFunc(2, 2, (a, b) => argString(b).startsWith(argString(a))));
  fm.set("hasSuffix", goFunc(2, 2, (a, b) => argString(b).endsWith(argString(a))));
  fm.set("quote", goFunc(0, Infinity, (...args) => args.filter((a) => a !== null && a !== undefined).map((a) => goQuote(strval(a))).join(" ")));
  fm.set("squote", goFunc(0, Infinity, squote));
  fm.set("cat", goFunc(0, Infinity, (...args) => args.filter((a) => a !== null && a !== undefined).map(strval).join(" ")));
  fm.set("indent", goFunc(2, 2, (n, s) => indent(argInt(n), argString(s))));
  fm.set("nindent", goFunc(2, 2, (n, s) => "\n" + indent(argInt(n), argString(s))));
  fm.set("replace", goFunc(3, 3, (o, n, s) => {
    const old = argString(o);
    const repl = argString(n);
    const src = argString(s);
    if (old === "") return [...src].reduce((acc, r) => acc + r + repl, repl);
    return src.split(old).join(repl);
  }));
  fm.set("plural", goFunc(3, 3, (one, many, n) => {
    const a = argString(one);
    const b = argString(many);
    return argInt(n) === 1 ? a : b;
  }));
  fm.set("wrap", goFunc(2, 2, (l, s) => wrapCustom(argString(s), argInt(l), "", false)));
  fm.set("wrapWith", goFunc(3, 3, (l, sep, s) => wrapCustom(argString(s), argInt(l), argString(sep), true)));
  fm.set("split", goFunc(2, 2, (sep, s) => indexedMap(goSplit(argString(s), argString(sep)))));
  fm.set("splitn", goFunc(3, 3, (sep, n, s) => indexedMap(goSplit(argString(s), argString(sep), argInt(n)))));
  fm.set("splitList", goFunc(2, 2, (sep, s) => goSplit(argString(s), argString(sep))));
  fm.set("join", goFunc(2, 2, (sep, v) => strslice(v).join(argString(sep))));
  fm.set("sortAlpha", goFunc(1, 1, (v) => {
    if (!Array.isArray(v)) return [strval(v)];
    return strslice(v).sort(compareBytes);
  }));
  fm.set("toString", goFunc(1, 1, (v) => strval(v)));
  fm.set("toStrings", goFunc(1, 1, (v) => strslice(v)));
}

/** Go compares strings byte-wise; UTF-16 order differs only for astral vs. U+E000..U+FFFF, so compare code points. */
export function compareBytes(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
