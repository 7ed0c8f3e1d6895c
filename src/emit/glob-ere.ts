// The second backend of the pattern tree (glob-tree.ts): code points → UTF-8 bytes → POSIX ERE text, the subset that
// POSIX ERE and JavaScript read alike (docs in import-filter.ts).

import { UserError } from "../diagnostics.js";
import { BadPatternError } from "../git/doublestar.js";
import { MAX_CP, maskTree, type N, type Range } from "./glob-tree.js";

/** The longest ERE (in bytes) a single mask may produce. */
export const MAX_REGEX_LENGTH = 65536;

// ---------------------------------------------------------------------------------------------
// Code points → bytes (UTF-8), then ERE text

type B =
  | { k: "b"; set: Uint8Array } // one byte; set[i] = 1 when byte i is in it
  | { k: "eps" }
  | { k: "none" }
  | { k: "cat"; a: B[] }
  | { k: "alt"; a: B[] }
  | { k: "star"; a: B }
  | { k: "plus"; a: B };

function byteSet(ranges: Iterable<Range>): B {
  const set = new Uint8Array(256);
  for (const [lo, hi] of ranges) for (let b = lo; b <= hi; b++) set[b] = 1;
  set[0] = 0; // no path holds a NUL byte
  return set.some((x) => x) ? { k: "b", set } : { k: "none" };
}

function bcat(items: B[]): B {
  const out: B[] = [];
  for (const i of items) {
    if (i.k === "none") return { k: "none" };
    if (i.k === "eps") continue;
    if (i.k === "cat") out.push(...i.a);
    else out.push(i);
  }
  if (out.length === 0) return { k: "eps" };
  return out.length === 1 ? out[0] : { k: "cat", a: out };
}

function balt(items: B[]): B {
  const out: B[] = [];
  for (const i of items) {
    if (i.k === "none") continue;
    if (i.k === "alt") out.push(...i.a);
    else out.push(i);
  }
  if (out.length === 0) return { k: "none" };
  return out.length === 1 ? out[0] : { k: "alt", a: out };
}

function encode(cp: number): number[] {
  return [...Buffer.from(String.fromCodePoint(cp), "utf8")];
}

/** UTF-8 byte-range sequences for the code points lo..hi (no surrogates), as in Go's regexp/syntax. */
function utf8Sequences(lo: number, hi: number): Range[][] {
  if (lo > hi) return [];
  for (const m of [0x7f, 0x7ff, 0xffff]) {
    if (lo <= m && hi > m) return [...utf8Sequences(lo, m), ...utf8Sequences(m + 1, hi)];
  }
  if (hi <= 0x7f) return [[[lo, hi]]];
  for (let i = 1; i < 4; i++) {
    const m = (1 << (6 * i)) - 1;
    if ((lo & ~m) !== (hi & ~m)) {
      if ((lo & m) !== 0) return [...utf8Sequences(lo, lo | m), ...utf8Sequences((lo | m) + 1, hi)];
      if ((hi & m) !== m) return [...utf8Sequences(lo, (hi & ~m) - 1), ...utf8Sequences(hi & ~m, hi)];
    }
  }
  const a = encode(lo);
  const b = encode(hi);
  return [a.map((x, i) => [x, b[i]] as const)];
}

const CONT: Range = [0x80, 0xbf];
/** Any one non-ASCII UTF-8 sequence (by its lead byte; exact for valid UTF-8). */
const ANY_NON_ASCII: B = balt([
  bcat([byteSet([[0xc0, 0xdf]]), byteSet([CONT])]),
  bcat([byteSet([[0xe0, 0xef]]), byteSet([CONT]), byteSet([CONT])]),
  bcat([byteSet([[0xf0, 0xf7]]), byteSet([CONT]), byteSet([CONT]), byteSet([CONT])]),
]);

function withoutSurrogates(r: Range[]): Range[] {
  const out: Range[] = [];
  for (const [lo, hi] of r) {
    if (hi < 0xd800 || lo > 0xdfff) out.push([lo, hi]);
    else {
      if (lo < 0xd800) out.push([lo, 0xd7ff]);
      if (hi > 0xdfff) out.push([0xe000, hi]);
    }
  }
  return out;
}

function asciiPart(r: Range[]): Range[] {
  return r.filter(([lo]) => lo <= 0x7f).map(([lo, hi]) => [lo, Math.min(hi, 0x7f)] as const);
}

function nonAsciiPart(r: Range[]): Range[] {
  return withoutSurrogates(r.filter(([, hi]) => hi >= 0x80).map(([lo, hi]) => [Math.max(lo, 0x80), hi] as const));
}

function coversAllNonAscii(r: Range[]): boolean {
  return r.some(([lo, hi]) => lo <= 0x80 && hi >= MAX_CP) ||
    (r.some(([lo, hi]) => lo <= 0x80 && hi >= 0xd7ff) && r.some(([lo, hi]) => lo <= 0xe000 && hi >= MAX_CP));
}

function toBytes(n: N): B {
  switch (n.k) {
    case "eps":
      return { k: "eps" };
    case "none":
      return { k: "none" };
    case "cat":
      return bcat(n.a.map(toBytes));
    case "alt":
      return balt(n.a.map(toBytes));
    case "star":
    case "plus":
      // (code points from a set holding every non-ASCII one)* = (bytes: its ASCII part + 0x80-0xff)*
      // for valid UTF-8 (and more lenient for invalid names, as doublestar's `*` is)
      if (n.a.k === "set" && coversAllNonAscii(n.a.r)) return { k: n.k, a: byteSet([...asciiPart(n.a.r), [0x80, 0xff]]) };
      return { k: n.k, a: toBytes(n.a) };
    case "set": {
      const ascii = byteSet(asciiPart(n.r));
      if (coversAllNonAscii(n.r)) return balt([ascii, ANY_NON_ASCII]);
      const seqs = nonAsciiPart(n.r).flatMap(([lo, hi]) => utf8Sequences(lo, hi));
      return balt([ascii, ...seqs.map((seq) => bcat(seq.map((r) => byteSet([r]))))]);
    }
  }
}

const ERE_SPECIAL = new Set([..."\\.[]()*+?{}|^$"].map((c) => c.charCodeAt(0)));
/** Bytes kept out of brackets: POSIX reads `\` literally there, JavaScript as an escape; `[` may start `[:`. */
const BRACKET_UNSAFE = new Set([..."\\][^-"].map((c) => c.charCodeAt(0)));

function literal(b: number): string {
  return (ERE_SPECIAL.has(b) ? "\\" : "") + String.fromCharCode(b);
}

function bracketBody(bytes: number[]): string {
  let s = "";
  for (let i = 0; i < bytes.length; ) {
    let j = i;
    while (j + 1 < bytes.length && bytes[j + 1] === bytes[j] + 1) j++;
    if (j - i >= 2) s += `${String.fromCharCode(bytes[i])}-${String.fromCharCode(bytes[j])}`;
    else for (let k = i; k <= j; k++) s += String.fromCharCode(bytes[k]);
    i = j + 1;
  }
  return s;
}

/** A byte set as an atom: a literal, a bracket, or a group of a bracket and escaped literals. */
function emitSet(set: Uint8Array): { text: string; atom: boolean } {
  const members: number[] = [];
  const others: number[] = [];
  for (let b = 1; b < 256; b++) (set[b] ? members : others).push(b);
  if (members.length === 1) return { text: literal(members[0]), atom: true };
  if (others.length === 0) return { text: "([^/]|/)", atom: true };
  const safe = members.filter((b) => !BRACKET_UNSAFE.has(b));
  const parts = members.filter((b) => BRACKET_UNSAFE.has(b)).map(literal);
  if (safe.length === 1) parts.unshift(literal(safe[0]));
  else if (safe.length > 1) parts.unshift(`[${bracketBody(safe)}]`);
  const positive = parts.length === 1 ? parts[0] : `(${parts.join("|")})`;
  if (others.every((b) => !BRACKET_UNSAFE.has(b))) {
    const negative = `[^${bracketBody(others)}]`;
    if (negative.length < positive.length) return { text: negative, atom: true };
  }
  return { text: positive, atom: true };
}

/** ERE text; `atom` says whether a quantifier may follow it directly. */
function emit(b: B): { text: string; atom: boolean } {
  switch (b.k) {
    case "b":
      return emitSet(b.set);
    case "eps":
    case "none":
      throw new Error("import-filter: empty or impossible sub-expression left in a regex");
    case "star":
    case "plus": {
      const inner = emit(b.a);
      return { text: `${inner.atom ? inner.text : `(${inner.text})`}${b.k === "star" ? "*" : "+"}`, atom: false };
    }
    case "cat":
      return { text: b.a.map((x) => (x.k === "alt" ? `(${emit(x).text})` : emit(x).text)).join(""), atom: false };
    case "alt": {
      const opt = b.a.some((x) => x.k === "eps");
      const rest = b.a.filter((x) => x.k !== "eps");
      const text = rest.map((x) => emit(x).text).join("|");
      if (!opt) return { text, atom: false };
      const one = rest.length === 1 ? emit(rest[0]) : { text, atom: false };
      return { text: `${one.atom ? one.text : `(${one.text})`}?`, atom: false };
    }
  }
}

/** The whole-string ERE of a tree; for the empty language, an ERE no path matches. */
export function anchored(n: N): string {
  const b = toBytes(n);
  if (b.k === "none") return "$.^";
  if (b.k === "eps") return "^$";
  return `^(${emit(b).text})$`;
}

/** A mask's tree; UserError for a NUL or a malformed mask. */
export function treeOf(mask: string, label: string): N | "all" {
  if (mask.includes("\0")) {
    throw new UserError({
      message: `${label}: the mask ${JSON.stringify(mask)} holds a NUL character`,
      hint: "no file name can hold a NUL character: remove it from the mask",
    });
  }
  try {
    return maskTree(mask);
  } catch (e) {
    if (!(e instanceof BadPatternError)) throw e;
    throw new UserError({
      message: `${label}: malformed mask ${JSON.stringify(mask)}: ${e.detail}`,
      hint: "masks use doublestar syntax (*, **, ?, [set], {a,b}); escape a literal character with a backslash",
    });
  }
}

/** `anchored(n)`, or UserError when the ERE is longer than MAX_REGEX_LENGTH. */
export function sized(n: N, masks: readonly string[], label: string): string {
  const re = anchored(n);
  if (re.length > MAX_REGEX_LENGTH) {
    throw new UserError({
      message: `${label}: ${masks.map((m) => JSON.stringify(m)).join(", ")} too complex for the import filter (a ${re.length}-byte regular expression, at most ${MAX_REGEX_LENGTH})`,
      hint: "split nested {a,b} alternatives into several simpler masks",
    });
  }
  return re;
}

export const ANY_PATH = "^([^/]|/)*$";

