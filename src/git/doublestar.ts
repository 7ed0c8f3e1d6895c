// Glob patterns with the behaviour of github.com/bmatcuk/doublestar/v4 `PathMatch`
// (on a system whose separator is `/`), the library werf uses for every git mask.
//
// Semantics reproduced (checked against the real library, see fixtures/git/doublestar-*.json):
//   *        any run of characters except `/` (may be empty)
//   **       a whole path segment (at the pattern start, after `/`, or first in a `{}` alternative):
//              `**/` matches zero or more leading segments ("a/", "a/b/", also the empty segment of "/x"),
//              a final `**` matches everything that is left (including nothing);
//            anywhere else `**` is just `*` (bash globstar rule: `a/**.txt` == `a/*.txt`)
//   ?        one character (code point) except `/`
//   [set]    one character from the set; `[^set]` / `[!set]` negate; `a-z` ranges, `\` escapes;
//            a `-` first or last is literal; a reversed range `[z-a]` matches only its first character.
//            Classes may match `/` (`a[/]c` matches "a/c"), as in doublestar.
//   {a,b}    alternatives, nestable; `{}` is an empty alternative
//   \c       the character c (a `}` outside braces must be escaped: doublestar calls it malformed)
// When the name is used up, what is left of the pattern must be one of "", "*", "**", "/**", "**/", "/**/"
// (so `a/**` and `a/**/` match "a", but `a/**/*` does not match "a/").
//
// One deliberate difference: doublestar validates lazily (`{a,b[}` matches "a" and fails only on other
// names); we reject a malformed pattern up front, whatever the name. werf treats ErrBadPattern as fatal
// anyway, so a malformed mask is a configuration error for us.
//
// Patterns are compiled once to a RegExp; `CompiledGlob.match` is a single RegExp test.

/** doublestar.ErrBadPattern. `message` is doublestar's text; `detail` says what is wrong. */
export class BadPatternError extends Error {
  readonly pattern: string;
  readonly detail: string;
  constructor(pattern: string, detail: string) {
    super("syntax error in pattern");
    this.name = "BadPatternError";
    this.pattern = pattern;
    this.detail = detail;
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing: pattern text → nodes (alternatives still nested)

interface ClassRange {
  lo: number;
  hi: number;
}

/** Every node keeps its source text: what is left of the pattern decides zero-length matches. */
type Node =
  | { kind: "lit"; cp: number; src: string }
  | { kind: "sep"; src: string }
  | { kind: "star"; src: string }
  | { kind: "dstar"; src: string } // two stars in a row; whether it is a globstar depends on its neighbours
  | { kind: "any"; src: string }
  | { kind: "class"; negated: boolean; ranges: ClassRange[]; src: string }
  | { kind: "alt"; alts: Node[][]; src: string };

const MAX_EXPANSIONS = 4096;

class Parser {
  private i = 0;
  private readonly cps: number[];
  constructor(private readonly pattern: string) {
    this.cps = Array.from(pattern, (c) => c.codePointAt(0)!);
  }

  private fail(detail: string): never {
    throw new BadPatternError(this.pattern, detail);
  }

  private src(from: number, to: number): string {
    return String.fromCodePoint(...this.cps.slice(from, to));
  }

  /** Parses until the end of the pattern, or (inside braces) until an unescaped `,` or `}`. */
  parseSequence(inBraces: boolean): Node[] {
    const out: Node[] = [];
    const cps = this.cps;
    while (this.i < cps.length) {
      const c = cps[this.i];
      if (inBraces && (c === 0x2c /* , */ || c === 0x7d /* } */)) return out;
      // doublestar matches a stray `}` literally but reports the pattern as malformed on any mismatch
      if (c === 0x7d) this.fail("`}` without a matching `{`");
      switch (c) {
        case 0x2a /* * */:
          if (cps[this.i + 1] === 0x2a) {
            out.push({ kind: "dstar", src: "**" });
            this.i += 2;
          } else {
            out.push({ kind: "star", src: "*" });
            this.i++;
          }
          break;
        case 0x3f /* ? */:
          out.push({ kind: "any", src: "?" });
          this.i++;
          break;
        case 0x2f /* / */:
          out.push({ kind: "sep", src: "/" });
          this.i++;
          break;
        case 0x5c /* \ */:
          if (this.i + 1 >= cps.length) this.fail("the pattern ends with an unescaped `\\`");
          out.push({ kind: "lit", cp: cps[this.i + 1], src: this.src(this.i, this.i + 2) });
          this.i += 2;
          break;
        case 0x5b /* [ */:
          out.push(this.parseClass());
          break;
        case 0x7b /* { */:
          out.push(this.parseAlternatives());
          break;
        default:
          out.push({ kind: "lit", cp: c, src: String.fromCodePoint(c) });
          this.i++;
      }
    }
    if (inBraces) this.fail("`{` is never closed with `}`");
    return out;
  }

  private parseAlternatives(): Node {
    const open = this.i;
    this.i++; // {
    const alts: Node[][] = [];
    for (;;) {
      alts.push(this.parseSequence(true));
      const c = this.cps[this.i];
      this.i++;
      if (c === 0x7d) break; // }
      if (this.i > this.cps.length) this.fail(`\`{\` at offset ${open} is never closed`);
    }
    return { kind: "alt", alts, src: this.src(open, this.i) };
  }

  private classChar(): number {
    const cps = this.cps;
    if (this.i >= cps.length) this.fail("`[` is never closed with `]`");
    let c = cps[this.i++];
    if (c === 0x5c) {
      if (this.i >= cps.length) this.fail("`[` is never closed with `]`");
      c = cps[this.i++];
    }
    return c;
  }

  private parseClass(): Node {
    const cps = this.cps;
    const start = this.i;
    this.i++; // [
    let negated = false;
    if (cps[this.i] === 0x5e /* ^ */ || cps[this.i] === 0x21 /* ! */) {
      negated = true;
      this.i++;
    }
    const ranges: ClassRange[] = [];
    for (;;) {
      if (this.i >= cps.length) this.fail("`[` is never closed with `]`");
      if (cps[this.i] === 0x5d /* ] */) {
        if (ranges.length === 0) this.fail("a character class `[]` must not be empty");
        this.i++;
        break;
      }
      const lo = this.classChar();
      let hi = lo;
      if (cps[this.i] === 0x2d /* - */ && this.i + 1 < cps.length && cps[this.i + 1] !== 0x5d) {
        this.i++; // -
        hi = this.classChar();
      }
      ranges.push({ lo, hi });
    }
    return { kind: "class", negated, ranges, src: this.src(start, this.i) };
  }
}

// ---------------------------------------------------------------------------------------------
// Brace expansion: nodes → flat sequences. Each element records `tail`, the rest of the pattern as
// doublestar sees it at that point (doublestar matches an alternative by matching `alt + rest` afresh,
// so inside an alternative the rest is that text; before a `{`, the braces are still unexpanded).
// A marker records where an alternative starts: such a point counts as the start of a segment
// (so `x{**,y}/z` has a globstar).

type Flat = (Exclude<Node, { kind: "alt" }> | { kind: "altStart"; src: "" }) & { tail: string };

function expand(nodes: Node[], after: string, pattern: string): Flat[][] {
  let results: Flat[][] = [[]];
  for (let j = 0; j < nodes.length; j++) {
    const node = nodes[j];
    const rest = nodes.slice(j + 1).map((n) => n.src).join("") + after;
    const tail = node.src + rest;
    if (node.kind !== "alt") {
      for (const r of results) r.push({ ...node, tail });
      continue;
    }
    const altSeqs: Flat[][] = [];
    for (const alt of node.alts) {
      for (const seq of expand(alt, rest, pattern)) altSeqs.push([{ kind: "altStart", src: "", tail }, ...seq]);
    }
    const next: Flat[][] = [];
    for (const r of results) for (const a of altSeqs) next.push([...r, ...a]);
    if (next.length > MAX_EXPANSIONS) {
      throw new BadPatternError(pattern, `more than ${MAX_EXPANSIONS} combinations of {alternatives}`);
    }
    results = next;
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Tokens: flat nodes with globstars resolved and runs of stars merged (doublestar only lets the
// last star of a run absorb characters, which is the same as one star).

type Token = { tail: string } & (
  | { kind: "lit"; cp: number }
  | { kind: "sep" }
  | { kind: "star" } // `*`, or a `**` that is not a whole segment
  | { kind: "globSep" } // `**/` as a whole segment
  | { kind: "globEnd" } // `**` as the last whole segment
  | { kind: "any" }
  | { kind: "class"; negated: boolean; ranges: ClassRange[] }
  | { kind: "mark" } // zero-width: the start of an alternative
);

function tokenize(flat: Flat[]): Token[] {
  const out: Token[] = [];
  let segmentStart = true;
  for (let i = 0; i < flat.length; i++) {
    const f = flat[i];
    const tail = f.tail;
    if (f.kind === "altStart") {
      out.push({ kind: "mark", tail });
      segmentStart = true;
      continue;
    }
    if (f.kind === "dstar" && segmentStart) {
      const next = flat[i + 1];
      if (next === undefined) {
        out.push({ kind: "globEnd", tail });
        continue;
      }
      if (next.kind === "sep") {
        out.push({ kind: "globSep", tail });
        i++; // the separator belongs to the globstar
        continue; // segmentStart stays true
      }
    }
    switch (f.kind) {
      case "dstar":
      case "star": {
        const prev = out[out.length - 1];
        if (prev?.kind !== "star") out.push({ kind: "star", tail });
        segmentStart = false;
        break;
      }
      case "sep":
        out.push({ kind: "sep", tail });
        segmentStart = true;
        break;
      case "lit":
        out.push({ kind: "lit", cp: f.cp, tail });
        segmentStart = false;
        break;
      case "any":
        out.push({ kind: "any", tail });
        segmentStart = false;
        break;
      case "class":
        out.push({ kind: "class", negated: f.negated, ranges: f.ranges, tail });
        segmentStart = false;
        break;
    }
  }
  return out;
}

/** What may be left of the pattern when the name is used up (doublestar's zero-length patterns);
 * a leading `{...}` is zero-length when one of its alternatives followed by the rest is. */
function isZeroLengthTail(tail: string): boolean {
  if (ZERO_LENGTH_TAILS.has(tail)) return true;
  if (!tail.startsWith("{")) return false;
  try {
    const parser = new Parser(tail);
    const [group] = parser.parseSequence(false);
    if (group?.kind !== "alt") return false;
    const rest = tail.slice(group.src.length);
    return group.alts.some((alt) => isZeroLengthTail(alt.map((n) => n.src).join("") + rest));
  } catch {
    return false;
  }
}

const ZERO_LENGTH_TAILS = new Set(["", "*", "**", "/**", "**/", "/**/"]);

function cpEscape(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

function tokenRegex(t: Token): string {
  switch (t.kind) {
    case "lit":
      return cpEscape(t.cp);
    case "sep":
      return "/";
    case "star":
      return "[^/]*";
    case "globSep":
      return "(?:[^/]*/)*";
    case "globEnd":
      return "[^]*";
    case "any":
      return "[^/]";
    case "mark":
      return "";
    case "class": {
      // a reversed range matches only its first character
      const parts = t.ranges.map((r) => (r.hi > r.lo ? `${cpEscape(r.lo)}-${cpEscape(r.hi)}` : cpEscape(r.lo)));
      return `[${t.negated ? "^" : ""}${parts.join("")}]`;
    }
  }
}

/** Regex for one brace-free token sequence. At each point where the name may run out, only a
 * zero-length tail may remain: other points get a `(?!$)` guard, zero-length tails an `$` exit. */
function sequenceRegex(tokens: Token[]): string {
  let re = "";
  for (let k = tokens.length - 1; k >= 0; k--) {
    const body = tokenRegex(tokens[k]) + re;
    re = isZeroLengthTail(tokens[k].tail) ? `(?:$|${body})` : `(?!$)${body}`;
  }
  return re;
}

// ---------------------------------------------------------------------------------------------
// Segments, for "could a path below this directory match?"

/** One `/`-separated part of a brace-free pattern: a globstar, or a regex for one name. */
export type GlobSegment = { globstar: true } | { globstar: false; regex: { test(name: string): boolean }; crossesSeparator: boolean };

function segmentsOf(tokens: Token[]): GlobSegment[] {
  const segs: GlobSegment[] = [];
  let cur: Token[] = [];
  const flush = () => {
    const crosses = cur.some((t) => t.kind === "class" && classMatchesSlash(t));
    // several stars in one name: matched linearly (the RegExp would backtrack), the plain `^…$` answer: the name may
    // run out where every token left can take nothing
    const seg = cur;
    const regex =
      seg.filter((t) => t.kind === "star").length > 2
        ? { test: (name: string) => sequenceMatch(seg, seg.map((_, k) => seg.slice(k).every((t) => t.kind === "star" || t.kind === "mark")), name) }
        : new RegExp(`^${seg.map(tokenRegex).join("")}$`, "u");
    segs.push({ globstar: false, regex, crossesSeparator: crosses });
    cur = [];
  };
  for (const t of tokens) {
    if (t.kind === "mark") continue;
    if (t.kind === "sep") flush();
    else if (t.kind === "globSep") {
      if (cur.length) flush();
      segs.push({ globstar: true });
    } else if (t.kind === "globEnd") {
      if (cur.length) flush();
      segs.push({ globstar: true });
      return segs;
    } else cur.push(t);
  }
  flush();
  return segs;
}

function classMatchesSlash(t: Extract<Token, { kind: "class" }>): boolean {
  const slash = 0x2f;
  const inSet = t.ranges.some((r) => r.lo === slash || (r.lo <= slash && slash <= r.hi));
  return t.negated ? !inSet : inSet;
}

// ---------------------------------------------------------------------------------------------
// Public API

export interface CompiledGlob {
  readonly pattern: string;
  /** The RegExp source (anchored, for the "u" flag) that `match` tests. */
  readonly regexSource: string;
  /** doublestar.PathMatch(pattern, name). */
  match(name: string): boolean;
  /**
   * True unless no path strictly below directory `dir` (a "/"-separated path, no trailing slash,
   * "" for the root) can match. Conservative: may say true when nothing below matches.
   */
  mayMatchBelow(dir: string): boolean;
}

/** One token of a brace-free alternative of a pattern, for other backends than RegExp (the import filter's ERE):
 *  what it matches, and whether the name may end right before it (only a zero-length tail is left). */
export type GlobToken = { mayEndBefore: boolean } & (
  | { kind: "lit"; cp: number }
  | { kind: "sep" }
  | { kind: "star" }
  | { kind: "globSep" }
  | { kind: "globEnd" }
  | { kind: "any" }
  | { kind: "class"; negated: boolean; ranges: { lo: number; hi: number }[] }
  | { kind: "mark" }
);

/** The pattern's brace-free alternatives as token sequences (what compileGlob turns into its RegExp). Throws
 *  BadPatternError for a malformed pattern. */
export function globTokenSequences(pattern: string): GlobToken[][] {
  const nodes = new Parser(pattern).parseSequence(false);
  return expand(nodes, "", pattern)
    .map(tokenize)
    .map((seq) => seq.map(({ tail, ...t }) => ({ ...t, mayEndBefore: isZeroLengthTail(tail) }) as GlobToken));
}

/** Compiles a doublestar pattern. Throws BadPatternError for a malformed one. */
export function compileGlob(pattern: string, opts: { linear?: boolean } = {}): CompiledGlob {
  const nodes = new Parser(pattern).parseSequence(false);
  const sequences = expand(nodes, "", pattern).map(tokenize);
  const source = sequences.map(sequenceRegex).join("|");
  const regexSource = `^(?:${source})$`;
  const regex = new RegExp(regexSource, "u");
  let segmentLists: GlobSegment[][] | undefined;
  // a sequence with several unbounded tokens makes the backtracking RegExp polynomial in the name's length (`*a*a*a*…c`
  // against a long name of `a`s: seconds, then minutes): such globs are matched by sequenceMatch, linear in the name
  const linear = opts.linear ?? sequences.some((seq) => seq.filter((t) => t.kind === "star" || t.kind === "globSep" || t.kind === "globEnd").length > 2);
  const zeroTails = linear ? sequences.map((seq) => seq.map((t) => isZeroLengthTail(t.tail))) : [];
  return {
    pattern,
    regexSource,
    match: linear ? (name) => sequences.some((seq, n) => sequenceMatch(seq, zeroTails[n], name)) : (name) => regex.test(name),
    mayMatchBelow(dir) {
      segmentLists ??= sequences.map(segmentsOf);
      const dirParts = dir === "" ? [] : dir.split("/");
      return segmentLists.some((segs) => prefixMayMatch(segs, dirParts));
    },
  };
}

/**
 * What sequenceRegex's RegExp answers, without backtracking: f(k, i) = "the pattern from token k matches the name from
 * code point i", computed for every k and i from the end (O(tokens × name)). At the end of the name, token k's rest
 * matches when its tail is a zero-length one (the `$` exit), else not (the `(?!$)` guard); before the end, the token
 * takes its characters and f(k + 1, ·) the rest. An unbounded token (a star, a globstar segment, a globstar at the
 * end) is a loop over the characters it may take, each step one table entry.
 */
function sequenceMatch(tokens: readonly Token[], zeroTail: readonly boolean[], name: string): boolean {
  const cps = Array.from(name, (c) => c.codePointAt(0)!);
  const len = cps.length;
  const SLASH = 0x2f;
  // next[i] = f(k + 1, i); cur[i] = f(k, i)
  let next = new Uint8Array(len + 1);
  next[len] = 1; // after the last token: the name must be used up
  let cur = new Uint8Array(len + 1);
  const loop = new Uint8Array(len + 2);
  const inGroup = new Uint8Array(len + 2);
  for (let k = tokens.length - 1; k >= 0; k--) {
    const t = tokens[k];
    // the token's own match from i, then f(k + 1, ·): computed for i < len
    switch (t.kind) {
      case "star":
      case "globEnd":
        // loop[i]: the token has started and may go on at i
        loop[len] = next[len];
        for (let i = len - 1; i >= 0; i--) loop[i] = next[i] || ((t.kind === "globEnd" || cps[i] !== SLASH) && loop[i + 1]) ? 1 : 0;
        for (let i = 0; i < len; i++) cur[i] = loop[i];
        break;
      case "globSep":
        // `(?:[^/]*/)*`: between groups (loop) or inside one (inGroup)
        loop[len] = next[len];
        inGroup[len] = 0;
        for (let i = len - 1; i >= 0; i--) {
          inGroup[i] = cps[i] === SLASH ? loop[i + 1] : inGroup[i + 1];
          loop[i] = next[i] || inGroup[i] ? 1 : 0;
        }
        for (let i = 0; i < len; i++) cur[i] = loop[i];
        break;
      case "mark":
        for (let i = 0; i < len; i++) cur[i] = next[i];
        break;
      default:
        for (let i = 0; i < len; i++) cur[i] = next[i + 1] && oneMatches(t, cps[i]) ? 1 : 0;
    }
    cur[len] = zeroTail[k] ? 1 : 0;
    [cur, next] = [next, cur];
  }
  return next[0] === 1;
}

/** Whether a token that takes one code point takes `cp` (as its RegExp: `u` flag, `[^…]` takes `/` too). */
function oneMatches(t: Token, cp: number): boolean {
  switch (t.kind) {
    case "lit":
      return cp === t.cp;
    case "sep":
      return cp === 0x2f;
    case "any":
      return cp !== 0x2f;
    case "class": {
      const inside = t.ranges.some((r) => (r.hi > r.lo ? cp >= r.lo && cp <= r.hi : cp === r.lo));
      return t.negated ? !inside : inside;
    }
    default:
      return false;
  }
}

function prefixMayMatch(segs: GlobSegment[], dirParts: string[]): boolean {
  for (let i = 0; i < dirParts.length; i++) {
    const s = segs[i];
    if (s === undefined) return false; // the pattern ends above the directory's contents
    if (s.globstar || s.crossesSeparator) return true;
    if (!s.regex.test(dirParts[i])) return false;
  }
  return segs.length > dirParts.length;
}

/** Throws BadPatternError if `pattern` is malformed. */
export function validatePattern(pattern: string): void {
  compileGlob(pattern);
}

const cache = new Map<string, CompiledGlob>();

/** doublestar.PathMatch: compiled patterns are cached. Throws BadPatternError. */
export function pathMatch(pattern: string, name: string): boolean {
  let g = cache.get(pattern);
  if (!g) {
    g = compileGlob(pattern);
    if (cache.size > 10000) cache.clear();
    cache.set(pattern, g);
  }
  return g.match(name);
}
