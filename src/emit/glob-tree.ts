// Code-point pattern trees of werf masks (docs in import-filter.ts): doublestar's tokens lowered to a tree
// (cat/alt/star over code-point sets), with the derived trees the import filter needs (non-empty, directory prefixes).
// glob-ere.ts is the tree's ERE backend; doublestar's RegExp is the other backend of the same tokens.

import { globTokenSequences, type GlobToken } from "../git/doublestar.js";
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
// doublestar's tokens → trees (the RegExp backend is doublestar's own tokenRegex/sequenceRegex)

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

const NOT_SLASH: N = { k: "set", r: [[0, SLASH - 1], [SLASH + 1, MAX_CP]] };
const SLASH_SET: N = { k: "set", r: [[SLASH, SLASH]] };

/** What one token matches (doublestar's tokenRegex, as a tree). */
function tokenTree(t: GlobToken): N {
  switch (t.kind) {
    case "lit":
      return { k: "set", r: [[t.cp, t.cp]] };
    case "sep":
      return SLASH_SET;
    case "star":
      return star(NOT_SLASH);
    case "globSep":
      return star(cat([star(NOT_SLASH), SLASH_SET]));
    case "globEnd":
      return star({ k: "set", r: [[0, MAX_CP]] });
    case "any":
      return NOT_SLASH;
    case "mark":
      return EPS;
    case "class": {
      // a reversed range matches only its first character
      const set = normalize(t.ranges.map((r): Range => (r.hi > r.lo ? [r.lo, r.hi] : [r.lo, r.lo])));
      return { k: "set", r: t.negated ? complement(set) : set };
    }
  }
}

/** One brace-free alternative: where the name may end, only a zero-length tail is left (doublestar's rule). */
function sequenceTree(tokens: GlobToken[]): N {
  let rest: N = EPS;
  for (let k = tokens.length - 1; k >= 0; k--) {
    const body = cat([tokenTree(tokens[k]), rest]);
    rest = tokens[k].mayEndBefore ? alt([EPS, body]) : nonEmpty(body);
  }
  return rest;
}

/** One doublestar glob as a code-point tree, built from doublestar's own tokens (globTokenSequences), the same
 *  ones its RegExp is made of. Throws BadPatternError. */
export function globTree(pattern: string): N {
  return alt(globTokenSequences(pattern).map(sequenceTree));
}

/** One werf mask (glob | trimmed | trimmed/**\/*) as a code-point tree, or "all" for a universal mask. */
export function maskTree(mask: string): N | "all" {
  if (new WerfMask(mask).universal) return "all";
  const cleaned = cleanPath(mask);
  const trimmed = trimTrailingGlobs(cleaned);
  const recursive = trimmed === "" ? "**/*" : `${trimmed}/**/*`;
  return alt([...new Set([cleaned, trimmed, recursive])].map(globTree));
}

