// Code-point pattern trees of werf masks (docs in import-filter.ts): doublestar's compiled glob read into a tree
// (cat/alt/star over code-point sets), with the derived trees the import filter needs (non-empty, directory prefixes).

import { compileGlob } from "../git/doublestar.js";
import { cleanPath, trimTrailingGlobs, WerfMask } from "../git/pathMatcher.js";

// ---------------------------------------------------------------------------------------------
// Code-point regex trees

export type Range = readonly [number, number];
export type N =
  | { k: "set"; r: Range[] } // one code point from sorted, disjoint ranges
  | { k: "eps" }
  | { k: "none" }
  | { k: "cat"; a: N[] }
  | { k: "alt"; a: N[] }
  | { k: "star"; a: N }
  | { k: "plus"; a: N }; // one or more; `a` is never nullable

export const EPS: N = { k: "eps" };
export const NONE: N = { k: "none" };
export const MAX_CP = 0x10ffff;
export const SLASH = 0x2f;

export function cat(items: N[]): N {
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

export function alt(items: N[]): N {
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

export function star(a: N): N {
  if (a.k === "none" || a.k === "eps") return EPS;
  if (a.k === "star") return a;
  if (a.k === "plus") return { k: "star", a: a.a };
  return { k: "star", a };
}

export function nullable(n: N): boolean {
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
export function nonEmpty(n: N): N {
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
export function dirPrefixes(n: N): N {
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
export function globTree(pattern: string): N {
  return lower(new RegexReader(compileGlob(pattern).regexSource).read(), true);
}

/** One werf mask (glob | trimmed | trimmed/**\/*) as a code-point tree, or "all" for a universal mask. */
export function maskTree(mask: string): N | "all" {
  if (new WerfMask(mask).universal) return "all";
  const cleaned = cleanPath(mask);
  const trimmed = trimTrailingGlobs(cleaned);
  const recursive = trimmed === "" ? "**/*" : `${trimmed}/**/*`;
  return alt([...new Set([cleaned, trimmed, recursive])].map(globTree));
}

