// werf `import:` include/exclude filtering as a bash script for the import helper stage.
//
// A Dockerfile `COPY --from` cannot filter, so the emitter adds a helper stage (FROM the toolchain image:
// a static bash and busybox under /.stapel/bin, nothing else) whose RUN bind-mounts the source image's
// `add` directory and runs the script made here. The script walks that directory, keeps what werf's
// path matcher keeps (src/git/pathMatcher.ts: include AND NOT exclude, each mask = glob | glob without
// trailing `*` segments | that + "/**/*", doublestar semantics) and copies it, with relative paths,
// modes, owners, mtimes and symlinks (never followed), into the output directory.
//
// Masks become POSIX EREs for bash's `[[ $p =~ $re ]]`:
//   * The glob semantics are not re-derived here: each glob is compiled by src/git/doublestar.ts and its
//     JavaScript RegExp source (a small, fixed grammar) is parsed back and rewritten. The lookaheads
//     doublestar uses for zero-length tails (`(?!$)X`, `(?:$|X)`) have no ERE form; they become
//     "X without the empty string" and "empty or X", which is exact because X always runs to the end.
//   * The script runs with LC_ALL=C, so bash matches bytes. A regex here is a *byte string*: every
//     char is one byte (U+0000–U+00FF); a non-ASCII character of a mask appears as its UTF-8 bytes, and
//     `?` / `[set]` match one whole UTF-8 sequence. Test a path against it as its UTF-8 bytes read as
//     latin1 (`Buffer.from(p).toString("latin1")`). `*` and `**` match any bytes but `/`, so names
//     that are not valid UTF-8 still match `*`; `?` and classes never match an invalid byte.
//   * Only the subset that POSIX ERE and JavaScript read alike is produced: groups `( )`, `|`, `*`, `?`,
//     `^`/`$` only at the ends, backslash escapes only outside brackets, brackets without `\ ] [ ^ -`
//     (those become alternatives), never an empty group, bracket or alternative.
//   * Directories are entered only when something below them may match (like shouldGoThrough): for
//     that a second ERE accepts a directory `d` when `d/` is a prefix of a path the includes accept.
//
// Masks that cannot become an ERE (a UserError): a malformed doublestar pattern (as PathMatcher says),
// a mask holding a NUL character, and a mask whose ERE would exceed MAX_REGEX_LENGTH bytes (many
// nested `{a,b}` alternatives).
//
// The walk is done in bash itself (globbing with dotglob, sorted bytewise), so any file name works,
// including names with newlines, quotes, `$`, spaces, a leading `-` and invalid UTF-8; the selected
// entries go NUL-separated to busybox `cpio -o -H newc -0` and are unpacked with `cpio -i -d -m -u`.
// Parent directories of selected entries are copied too (mode, owner), empty directories only when a
// mask selects them. Output is deterministic: no timestamps, sorted walk.

import { BadPatternError, compileGlob } from "../git/doublestar.js";
import { cleanPath, trimTrailingGlobs, WerfMask } from "../git/pathMatcher.js";
import { UserError } from "../diagnostics.js";
import { bashBytesQuote } from "../shell/quote.js";

export interface ImportFilter {
  add: string;
  includePaths: string[];
  excludePaths: string[];
}

/** The longest ERE (in bytes) a single mask may produce. */
export const MAX_REGEX_LENGTH = 65536;

// ---------------------------------------------------------------------------------------------
// Code-point regex trees

type Range = readonly [number, number];
type N =
  | { k: "set"; r: Range[] } // one code point from sorted, disjoint ranges
  | { k: "eps" }
  | { k: "none" }
  | { k: "cat"; a: N[] }
  | { k: "alt"; a: N[] }
  | { k: "star"; a: N }
  | { k: "plus"; a: N }; // one or more; `a` is never nullable

const EPS: N = { k: "eps" };
const NONE: N = { k: "none" };
const MAX_CP = 0x10ffff;
const SLASH = 0x2f;

function cat(items: N[]): N {
  const out: N[] = [];
  for (const i of items) {
    if (i.k === "none") return NONE;
    if (i.k === "eps") continue;
    if (i.k === "cat") out.push(...i.a);
    else out.push(i);
  }
  if (out.length === 0) return EPS;
  return out.length === 1 ? out[0] : { k: "cat", a: out };
}

function alt(items: N[]): N {
  const out: N[] = [];
  const seen = new Set<string>();
  const add = (i: N) => {
    const key = JSON.stringify(i);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(i);
    }
  };
  for (const i of items) {
    if (i.k === "none") continue;
    if (i.k === "alt") i.a.forEach(add);
    else add(i);
  }
  if (out.length === 0) return NONE;
  // the empty string is already in a nullable alternative
  const trimmed = out.some((i) => i.k !== "eps" && nullable(i)) ? out.filter((i) => i.k !== "eps") : out;
  return trimmed.length === 1 ? trimmed[0] : { k: "alt", a: trimmed };
}

function star(a: N): N {
  if (a.k === "none" || a.k === "eps") return EPS;
  if (a.k === "star") return a;
  if (a.k === "plus") return { k: "star", a: a.a };
  return { k: "star", a };
}

function nullable(n: N): boolean {
  switch (n.k) {
    case "eps":
    case "star":
      return true;
    case "none":
    case "set":
    case "plus":
      return false;
    case "cat":
      return n.a.every(nullable);
    case "alt":
      return n.a.some(nullable);
  }
}

/** L(n) without the empty string. */
function nonEmpty(n: N): N {
  switch (n.k) {
    case "eps":
    case "none":
      return NONE;
    case "set":
    case "plus":
      return n;
    case "alt":
      return alt(n.a.map(nonEmpty));
    case "star":
      return nullable(n.a) ? cat([nonEmpty(n.a), n]) : { k: "plus", a: n.a };
    case "cat": {
      const [first, ...rest] = n.a;
      const restN = cat(rest);
      return alt([cat([nonEmpty(first), restN]), nullable(first) ? nonEmpty(restN) : NONE]);
    }
  }
}

function hasSlash(r: Range[]): boolean {
  return r.some(([lo, hi]) => lo <= SLASH && SLASH <= hi);
}

/** Strings w such that w + "/" is a prefix of (or is) a string of L(n): the directories below which n may match. */
function dirPrefixes(n: N): N {
  switch (n.k) {
    case "eps":
    case "none":
      return NONE;
    case "set":
      return hasSlash(n.r) ? EPS : NONE;
    case "alt":
      return alt(n.a.map(dirPrefixes));
    case "star":
    case "plus":
      return cat([star(n.a), dirPrefixes(n.a)]);
    case "cat": {
      const [first, ...rest] = n.a;
      const restN = cat(rest);
      return alt([dirPrefixes(first), cat([first, dirPrefixes(restN)])]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reading back doublestar's RegExp source (see tokenRegex/sequenceRegex/compileGlob there)

type P =
  | { k: "set"; r: Range[] }
  | { k: "cat"; a: P[] }
  | { k: "alt"; a: P[] }
  | { k: "star"; a: P }
  | { k: "end" } // `$`
  | { k: "notEnd" }; // `(?!$)`

class RegexReader {
  private i = 0;
  constructor(private readonly s: string) {}

  private fail(what: string): never {
    throw new Error(`import-filter: unexpected ${what} at ${this.i} in doublestar regex ${JSON.stringify(this.s)}`);
  }

  read(): P {
    if (this.s[0] !== "^") this.fail("start");
    this.i = 1;
    const p = this.alternation();
    if (this.i !== this.s.length) this.fail("text");
    return p;
  }

  private alternation(): P {
    const items = [this.sequence()];
    while (this.s[this.i] === "|") {
      this.i++;
      items.push(this.sequence());
    }
    return items.length === 1 ? items[0] : { k: "alt", a: items };
  }

  private sequence(): P {
    const items: P[] = [];
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined || c === "|" || c === ")") break;
      let atom: P;
      if (this.s.startsWith("(?!$)", this.i)) {
        this.i += 5;
        items.push({ k: "notEnd" });
        continue;
      } else if (this.s.startsWith("(?:", this.i)) {
        this.i += 3;
        atom = this.alternation();
        if (this.s[this.i] !== ")") this.fail("group end");
        this.i++;
      } else if (c === "$") {
        this.i++;
        items.push({ k: "end" });
        continue;
      } else if (c === "[") {
        atom = this.cls();
      } else if (c === "\\") {
        const cp = this.escape();
        atom = { k: "set", r: [[cp, cp]] };
      } else if (c === "(" || c === "*" || c === "?" || c === "+" || c === "." || c === "{" || c === "^") {
        this.fail(JSON.stringify(c));
      } else {
        const cp = this.s.codePointAt(this.i)!;
        this.i += cp > 0xffff ? 2 : 1;
        atom = { k: "set", r: [[cp, cp]] };
      }
      if (this.s[this.i] === "*") {
        this.i++;
        atom = { k: "star", a: atom };
      }
      items.push(atom);
    }
    return items.length === 1 ? items[0] : { k: "cat", a: items };
  }

  /** `\u{hex}`, or `\` + a literal character. */
  private escape(): number {
    this.i++; // backslash
    const m = /^u\{([0-9a-fA-F]+)\}/.exec(this.s.slice(this.i, this.i + 10));
    if (m) {
      this.i += m[0].length;
      return parseInt(m[1], 16);
    }
    const cp = this.s.codePointAt(this.i);
    if (cp === undefined) this.fail("end after backslash");
    this.i += cp > 0xffff ? 2 : 1;
    return cp;
  }

  private clsChar(): number {
    if (this.s[this.i] === "\\") return this.escape();
    const cp = this.s.codePointAt(this.i);
    if (cp === undefined) this.fail("end in class");
    this.i += cp > 0xffff ? 2 : 1;
    return cp;
  }

  private cls(): P {
    this.i++; // [
    let negated = false;
    if (this.s[this.i] === "^") {
      negated = true;
      this.i++;
    }
    const ranges: Range[] = [];
    while (this.s[this.i] !== "]") {
      if (this.i >= this.s.length) this.fail("end in class");
      const lo = this.clsChar();
      let hi = lo;
      if (this.s[this.i] === "-" && this.s[this.i + 1] !== "]") {
        this.i++;
        hi = this.clsChar();
      }
      ranges.push([lo, hi]);
    }
    this.i++; // ]
    const set = normalize(ranges);
    return { k: "set", r: negated ? complement(set) : set };
  }
}

function normalize(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function complement(set: Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of set) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return out;
}

/**
 * P → N. `atTail`: nothing follows in the whole regex, so `$` is the empty string there and `(?!$)`
 * followed by X is X without the empty string. Anywhere else `$` and `(?!$)` are refused (a new form).
 */
function lower(p: P, atTail: boolean): N {
  switch (p.k) {
    case "set":
      return { k: "set", r: p.r };
    case "star":
      return star(lower(p.a, false));
    case "alt":
      return alt(p.a.map((x) => lower(x, atTail)));
    case "end":
    case "notEnd":
      if (!atTail) throw new Error("import-filter: `$` or `(?!$)` not at the end of a doublestar regex");
      return p.k === "end" ? EPS : NONE;
    case "cat": {
      const items = [...p.a];
      if (atTail) while (items.length > 0 && items[items.length - 1].k === "end") items.pop();
      const out: N[] = [];
      for (let j = 0; j < items.length; j++) {
        const it = items[j];
        if (it.k === "notEnd") {
          if (!atTail) throw new Error("import-filter: `(?!$)` not at the end of a doublestar regex");
          out.push(nonEmpty(lower({ k: "cat", a: items.slice(j + 1) }, true)));
          return cat(out);
        }
        out.push(lower(it, atTail && j === items.length - 1));
      }
      return cat(out);
    }
  }
}

/** One doublestar glob as a code-point tree. Throws BadPatternError. */
function globTree(pattern: string): N {
  return lower(new RegexReader(compileGlob(pattern).regexSource).read(), true);
}

/** One werf mask (glob | trimmed | trimmed/**\/*) as a code-point tree, or "all" for a universal mask. */
function maskTree(mask: string): N | "all" {
  if (new WerfMask(mask).universal) return "all";
  const cleaned = cleanPath(mask);
  const trimmed = trimTrailingGlobs(cleaned);
  const recursive = trimmed === "" ? "**/*" : `${trimmed}/**/*`;
  return alt([...new Set([cleaned, trimmed, recursive])].map(globTree));
}

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
function anchored(n: N): string {
  const b = toBytes(n);
  if (b.k === "none") return "$.^";
  if (b.k === "eps") return "^$";
  return `^(${emit(b).text})$`;
}

/** A mask's tree; UserError for a NUL or a malformed mask. */
function treeOf(mask: string, label: string): N | "all" {
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
function sized(n: N, masks: readonly string[], label: string): string {
  const re = anchored(n);
  if (re.length > MAX_REGEX_LENGTH) {
    throw new UserError({
      message: `${label}: ${masks.map((m) => JSON.stringify(m)).join(", ")} too complex for the import filter (a ${re.length}-byte regular expression, at most ${MAX_REGEX_LENGTH})`,
      hint: "split nested {a,b} alternatives into several simpler masks",
    });
  }
  return re;
}

const ANY_PATH = "^([^/]|/)*$";

// ---------------------------------------------------------------------------------------------
// Public API

/** doublestar.PathMatch(pattern, ·) as an anchored ERE over UTF-8 bytes (see the header). Throws BadPatternError. */
export function globToRegex(pattern: string): string {
  return anchored(globTree(pattern));
}

/**
 * The werf mask as a POSIX ERE (for bash `[[ $p =~ re ]]`, LC_ALL=C) matching the relative paths werf's
 * matcher accepts (WerfMask.matches): anchored, over UTF-8 bytes (one char per byte, see the header).
 * Throws UserError for a mask that cannot become an ERE (malformed, NUL, too complex).
 */
export function maskToRegex(mask: string): string {
  const t = treeOf(mask, "import mask");
  return t === "all" ? ANY_PATH : sized(t, [mask], "import mask");
}

/**
 * An ERE accepting a directory `d` (relative, no trailing slash) when some path strictly below it may
 * match the mask: `d + "/"` is a prefix of an accepted path. Exact, so never stricter than
 * WerfMask.mayMatchBelow. Throws UserError like maskToRegex.
 */
export function maskBelowRegex(mask: string): string {
  const t = treeOf(mask, "import mask");
  return t === "all" ? ANY_PATH : sized(dirPrefixes(t), [mask], "import mask");
}

/** A bash word that reads back as `s` (a byte string, one char per byte). */
export const bashQuote = bashBytesQuote;

/** A value for a bash comment line: printable ASCII, other characters as \u{…}. */
function commentText(s: string): string {
  return s.replace(/[^\x20-\x7e]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

interface Compiled {
  /** undefined: every path is included. */
  include?: string;
  includeBelow?: string;
  /** undefined: nothing is excluded; "all": everything is. */
  exclude?: string | "all";
}

function compileFilter(f: ImportFilter): Compiled {
  const inc = f.includePaths.map((m, i) => treeOf(m, `import includePaths[${i}]`));
  const exc = f.excludePaths.map((m, i) => treeOf(m, `import excludePaths[${i}]`));
  const out: Compiled = {};
  const incTrees = inc.filter((t): t is N => t !== "all");
  if (inc.length > 0 && incTrees.length === inc.length) {
    out.include = sized(alt(incTrees), f.includePaths, "import includePaths");
    out.includeBelow = sized(dirPrefixes(alt(incTrees)), f.includePaths, "import includePaths");
  }
  const excTrees = exc.filter((t): t is N => t !== "all");
  if (excTrees.length < exc.length) out.exclude = "all";
  else if (exc.length > 0) out.exclude = sized(alt(excTrees), f.excludePaths, "import excludePaths");
  return out;
}

/**
 * A bash script body (no shebang; run by /.stapel/bin/bash -e; it exports PATH=/.stapel/bin itself) that
 * copies the files of `src` matched by the filter to `out`, keeping relative paths, modes, owners,
 * mtimes, symlinks (not followed), and empty directories only when a mask matches them. `out` is
 * created (with the mode and owner of `src`). When `src` is not a directory (an `add` naming one file),
 * `out` becomes a copy of it if the filter keeps it (the path "" relative to `add`), else an empty
 * directory. Deterministic text, printable ASCII only. Throws UserError for a mask that cannot be used.
 */
export function importFilterScript(f: ImportFilter, src: string, out: string): string {
  const c = compileFilter(f);
  const lines: string[] = [];
  lines.push(
    `# werf import filter: add ${commentText(f.add)}`,
    `#   includePaths: ${commentText(JSON.stringify(f.includePaths))}`,
    `#   excludePaths: ${commentText(JSON.stringify(f.excludePaths))}`,
    "export PATH=/.stapel/bin LC_ALL=C",
    "set -o pipefail",
    "shopt -s dotglob nullglob",
    `S2D_SRC=${bashQuote(src)}`,
    `S2D_OUT=${bashQuote(out)}`,
  );
  if (c.include !== undefined) {
    lines.push(`S2D_INC=${bashQuote(c.include)}`, `S2D_BELOW=${bashQuote(c.includeBelow!)}`);
  }
  if (c.exclude !== undefined && c.exclude !== "all") lines.push(`S2D_EXC=${bashQuote(c.exclude)}`);
  // s2d_keep PATH: include AND NOT exclude
  lines.push("s2d_keep() {");
  if (c.exclude === "all") lines.push("  return 1");
  else {
    if (c.include !== undefined) lines.push("  [[ $1 =~ $S2D_INC ]] || return 1");
    if (c.exclude !== undefined) lines.push("  [[ $1 =~ $S2D_EXC ]] && return 1");
    lines.push("  return 0");
  }
  lines.push("}");
  // s2d_enter DIR: the walk goes into DIR (werf's shouldGoThrough)
  lines.push("s2d_enter() {");
  if (c.exclude === "all") lines.push("  return 1");
  else {
    if (c.exclude !== undefined) lines.push("  [[ $1 =~ $S2D_EXC ]] && return 1");
    if (c.include !== undefined) lines.push("  [[ $1 =~ $S2D_INC || $1 =~ $S2D_BELOW ]] || return 1");
    lines.push("  return 0");
  }
  lines.push("}");
  lines.push(
    "# directories entered but not listed yet: listed (for their mode and owner) before the first entry below them",
    "S2D_PENDING=()",
    "s2d_list() {",
    "  local d",
    "  for d in \"${S2D_PENDING[@]}\"; do printf '%s\\0' \"$d\"; done",
    "  S2D_PENDING=()",
    "  printf '%s\\0' \"$1\"",
    "}",
    "s2d_walk() {",
    "  local e p",
    "  for e in \"$S2D_SRC/$1\"*; do",
    "    p=$1${e##*/}",
    "    if [[ -d $e && ! -L $e ]]; then",
    "      if ! s2d_enter \"$p\"; then continue; fi",
    "      if s2d_keep \"$p\"; then",
    "        s2d_list \"$p\"",
    "        s2d_walk \"$p/\"",
    "      else",
    "        S2D_PENDING+=(\"$p\")",
    "        s2d_walk \"$p/\"",
    "        if (( ${#S2D_PENDING[@]} > 0 )); then unset 'S2D_PENDING[-1]'; fi",
    "      fi",
    "    elif s2d_keep \"$p\"; then",
    "      s2d_list \"$p\"",
    "    fi",
    "  done",
    "  return 0",
    "}",
    "if [[ -d $S2D_SRC ]]; then",
    "  mkdir -p \"$S2D_OUT\"",
    "  chmod \"$(stat -c %a \"$S2D_SRC\")\" \"$S2D_OUT\"",
    "  chown \"$(stat -c %u:%g \"$S2D_SRC\")\" \"$S2D_OUT\"",
    "  s2d_walk '' | (cd \"$S2D_SRC\" && cpio -o -H newc -0) | (cd \"$S2D_OUT\" && cpio -i -d -m -u)",
    "elif s2d_keep ''; then",
    "  cp -a \"$S2D_SRC\" \"$S2D_OUT\"",
    "else",
    "  mkdir -p \"$S2D_OUT\"",
    "fi",
  );
  return lines.join("\n") + "\n";
}
