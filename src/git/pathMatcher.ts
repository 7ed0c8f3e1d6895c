// werf's path matcher (pkg/path_matcher) on top of doublestar.
//
// A werf mask matches a path when doublestar matches it with one of three globs:
//   the mask itself, the mask with trailing `*`-only segments (and slashes) trimmed, and that + "/**/*".
// So a mask that names a directory matches everything below it (`src`, `src/*` and `src/**/*` are the
// same mask), while `*.php` still matches only top-level php files. ".", "" and "**" match everything.
//
// A PathMatcher has a base path (the mapping's `add`, relative to the repository root, no leading
// slash; it may name a single file): paths outside it never match, masks are relative to it,
// includes are ORed, excludes are ORed, and a path matches when an include matches (or there are
// no includes) and no exclude does.
//
// For tree walks (werf's IsDirOrSubmodulePathMatched / ShouldGoThrough):
//   isDirFullyMatched(dir) — every path below `dir` matches (a walk may take the whole subtree);
//   shouldGoThrough(dir)   — some path below `dir` may match (false means the walk can skip it).

import path from "node:path";
import { BadPatternError, compileGlob, type CompiledGlob } from "./doublestar.js";
import { UserError } from "../diagnostics.js";

/** filepath.Clean for "/"-separated relative paths: "" → ".", "a//b/./c/" → "a/b/c". */
export function cleanPath(p: string): string {
  return path.posix.normalize(p === "" ? "." : p).replace(/(.)\/+$/, "$1");
}

/** werf's util.SafeTrimGlobsAndSlashesFromPath: drops trailing segments made only of `*` (or empty). */
export function trimTrailingGlobs(mask: string): string {
  const parts = mask.split("/");
  while (parts.length > 0 && /^\**$/.test(parts[parts.length - 1])) parts.pop();
  return parts.join("/");
}

const UNIVERSAL = new Set([".", "", "**"]);

const GLOB_CHARS = /[*?[\]{}\\]/;

/**
 * Exact string tests for three mask shapes, equivalent to werf's three globs:
 * - a literal path `a/b`: the path itself or anything below it;
 * - "any depth, then a literal path X" (`**` `/X`): X's segments somewhere in the path, and anything below;
 * - "any depth, then *SUFFIX" (the mask `**` `/*SUFFIX`) with a literal SUFFIX without `/`: some path segment
 *   ends with SUFFIX (the mask matches such files, the recursive glob everything below such a directory).
 * Anything else: undefined (the RegExp decides).
 */
export function fastMatcher(cleaned: string): ((rel: string) => boolean) | undefined {
  if (cleaned === "" || cleaned === "." || cleaned.startsWith("/") || cleaned.includes("//")) return undefined;
  // one brace group of plain alternatives (`src/**/*.{ts,tsx}`): the union of the masks it expands to
  const open = cleaned.indexOf("{");
  if (open >= 0) {
    const close = cleaned.indexOf("}", open);
    if (close < 0 || cleaned.indexOf("{", open + 1) >= 0 || cleaned.indexOf("}", close + 1) >= 0 || cleaned.includes("\\")) return undefined;
    const alts = cleaned.slice(open + 1, close).split(",");
    if (alts.some((a) => a === "" || a === "." || a === ".." || a.includes("/") || GLOB_CHARS.test(a))) return undefined;
    const each = alts.map((a) => fastMatcher(cleaned.slice(0, open) + a + cleaned.slice(close + 1)));
    if (each.some((f) => f === undefined)) return undefined;
    const fs = each as ((rel: string) => boolean)[];
    if (fs.length === 1) return fs[0];
    return (rel) => {
      for (let i = 0; i < fs.length; i++) if (fs[i](rel)) return true;
      return false;
    };
  }
  return fastFrom(cleaned, 0);
}

/**
 * The fast test of mask `cleaned` (no brace) on the part of a path from offset `k` on (the path's first `k` characters
 * are a literal directory and its "/", already checked): no string is cut from the path.
 */
function fastFrom(cleaned: string, k: number): ((rel: string) => boolean) | undefined {
  // only `*` segments (`*`, `**/*`, `*/**`): the recursive glob `**` `/*` matches every path
  const trimmed = trimTrailingGlobs(cleaned);
  if (trimmed === "") return k === 0 ? () => true : (rel) => rel.length > k;
  // a literal path, or one followed by `*`-only segments (`src/**`, `src/*`: the trimmed glob is the path itself)
  if (!GLOB_CHARS.test(trimmed)) {
    if (k === 0) {
      const below = `${trimmed}/`;
      return (rel) => rel === trimmed || rel.startsWith(below);
    }
    return (rel) => rel.startsWith(trimmed, k) && (rel.length === k + trimmed.length || rel.charCodeAt(k + trimmed.length) === 0x2f);
  }
  if (cleaned.startsWith("**/") && !GLOB_CHARS.test(cleaned.slice(3))) {
    // "any depth, then the literal path X": X's segments somewhere in the path, anything below them too
    // `/${rel}/` holds `/X/`, without making that string per path
    const x = cleaned.slice(3);
    const xs = `${x}/`;
    const sx = `/${x}`;
    const sxs = `/${x}/`;
    if (k === 0) return (rel) => rel === x || rel.startsWith(xs) || rel.endsWith(sx) || rel.includes(sxs);
    return (rel) =>
      (rel.length === k + x.length && rel.startsWith(x, k)) || rel.startsWith(xs, k) || (rel.length >= k + sx.length && rel.endsWith(sx)) || rel.indexOf(sxs, k) >= 0;
  }
  if (cleaned.startsWith("**/*")) {
    const suffix = cleaned.slice(4);
    if (suffix !== "" && !GLOB_CHARS.test(suffix) && !suffix.includes("/")) {
      const inside = `${suffix}/`;
      if (k === 0) return (rel) => rel.endsWith(suffix) || rel.includes(inside);
      return (rel) => (rel.length >= k + suffix.length && rel.endsWith(suffix)) || rel.indexOf(inside, k) >= 0;
    }
  }
  // literal leading segments, then one of the shapes above (`src/**/*.go`): the path is below them, and the rest
  // matches the shape
  if (k === 0) {
    const segs = cleaned.split("/");
    let n = 0;
    while (n < segs.length - 1 && !GLOB_CHARS.test(segs[n])) n++;
    if (n > 0) {
      const lead = `${segs.slice(0, n).join("/")}/`;
      const rest = fastFrom(segs.slice(n).join("/"), lead.length);
      if (rest) return (rel) => rel.startsWith(lead) && rest(rel);
    }
  }
  return undefined;
}

/** No leading, trailing or doubled slash (what git lists): the fast matchers' assumption. */
export function wellFormedPath(rel: string): boolean {
  return rel.charCodeAt(0) !== 0x2f && rel.charCodeAt(rel.length - 1) !== 0x2f && !rel.includes("//");
}

/** One include or exclude mask with werf's matching rules. */
export class WerfMask {
  readonly mask: string;
  readonly universal: boolean;
  private readonly globs: CompiledGlob[];
  /** The globs as one RegExp: one test per path. */
  private readonly combined: RegExp | undefined;

  /** Throws BadPatternError for a malformed mask. */
  constructor(mask: string) {
    this.mask = mask;
    const cleaned = cleanPath(mask);
    this.universal = UNIVERSAL.has(mask) || UNIVERSAL.has(cleaned);
    const trimmed = trimTrailingGlobs(cleaned);
    const recursive = trimmed === "" ? "**/*" : `${trimmed}/**/*`;
    const sources = [...new Set([cleaned, trimmed, recursive])];
    this.globs = this.universal ? [] : sources.map((p) => compileGlob(p));
    this.combined = this.universal ? undefined : new RegExp(this.globs.map((g) => g.regexSource).join("|"), "u");
    this.fast = this.universal ? undefined : fastMatcher(cleaned);
  }

  /**
   * The leading literal segments of the mask ("" when it starts with a glob, `/`, `.` or `..`): every path the mask
   * matches is this path or below it (the mask, its trimmed form and the recursive glob all start with them). A
   * sorted listing can then be read from that prefix's range only.
   */
  literalPrefix(): string {
    if (this.universal) return "";
    const cleaned = cleanPath(this.mask);
    if (cleaned.startsWith("/")) return "";
    const lit: string[] = [];
    for (const seg of cleaned.split("/")) {
      if (seg === "" || seg === "." || seg === ".." || GLOB_CHARS.test(seg)) break;
      lit.push(seg);
    }
    return lit.join("/");
  }

  /** A string test equal to the RegExp for the commonest mask shapes (plan time on big repositories). */
  private readonly fast: ((rel: string) => boolean) | undefined;

  /** `rel` is relative to the base path ("" for the base itself). */
  matches(rel: string): boolean {
    // the fast paths assume a well-formed path (what git lists): no leading, trailing or doubled slash
    if (this.fast && wellFormedPath(rel)) return this.fast(rel);
    return this.combined === undefined || this.combined.test(rel);
  }

  /** matches() of a path the caller checked with wellFormedPath (one check per path, not per mask). */
  matchesWellFormed(rel: string): boolean {
    if (this.fast) return this.fast(rel);
    return this.combined === undefined || this.combined.test(rel);
  }

  /** True unless no path strictly below directory `relDir` can match (conservative). */
  mayMatchBelow(relDir: string): boolean {
    if (this.universal) return true;
    return this.matches(relDir) || this.globs.some((g) => g.mayMatchBelow(relDir));
  }
}

export interface PathMatcherOptions {
  /** The mapping's `add`: repository-relative, leading/trailing slashes ignored; "" or "/" = whole repo. */
  basePath?: string;
  includeGlobs?: readonly string[];
  excludeGlobs?: readonly string[];
  /** Names the setting in error messages, e.g. "git[0].includePaths" (default "includePaths"/"excludePaths"). */
  label?: { include?: string; exclude?: string };
}

/** Strips leading and trailing slashes: "/app/" → "app", "/" → "". */
export function normalizeBasePath(add: string): string {
  const cleaned = cleanPath(add.replace(/^\/+/, ""));
  return cleaned === "." ? "" : cleaned;
}

function compileMasks(masks: readonly string[], label: string): WerfMask[] {
  return masks.map((m) => {
    try {
      return new WerfMask(m);
    } catch (e) {
      if (!(e instanceof BadPatternError)) throw e;
      throw new UserError({
        message: `${label}: malformed mask ${JSON.stringify(m)}: ${e.detail}`,
        hint: "masks use doublestar syntax (*, **, ?, [set], {a,b}); escape a literal character with a backslash",
      });
    }
  });
}

export interface Matcher {
  isPathMatched(path: string): boolean;
  isDirFullyMatched(dir: string): boolean;
  shouldGoThrough(dir: string): boolean;
}

export class PathMatcher implements Matcher {
  readonly basePath: string;
  readonly include: readonly WerfMask[];
  readonly exclude: readonly WerfMask[];

  /** Throws UserError for a malformed mask. */
  constructor(opts: PathMatcherOptions = {}) {
    this.basePath = normalizeBasePath(opts.basePath ?? "");
    this.include = compileMasks(opts.includeGlobs ?? [], opts.label?.include ?? "includePaths");
    this.exclude = compileMasks(opts.excludeGlobs ?? [], opts.label?.exclude ?? "excludePaths");
  }

  /** `p` relative to the base path, or undefined when `p` is not the base path or below it. */
  relative(p: string): string | undefined {
    const base = this.basePath;
    if (base === "") return p;
    if (p === base) return "";
    if (p.startsWith(base) && p.charCodeAt(base.length) === 0x2f) return p.slice(base.length + 1);
    return undefined;
  }

  /** A repository-relative file path (no leading slash). */
  isPathMatched(p: string): boolean {
    const rel = this.relative(p);
    if (rel === undefined) return false;
    return this.relMatched(rel);
  }

  private relMatched(rel: string): boolean {
    if (this.include.length > 0 && !this.include.some((m) => m.matches(rel))) return false;
    return !this.exclude.some((m) => m.matches(rel));
  }

  isDirFullyMatched(dir: string): boolean {
    const rel = this.relative(dir);
    if (rel === undefined) return false;
    if (this.include.length > 0 && !this.include.some((m) => m.matches(rel))) return false;
    return !this.exclude.some((m) => m.mayMatchBelow(rel));
  }

  shouldGoThrough(dir: string): boolean {
    const base = this.basePath;
    if (base !== "" && (dir === "" || base.startsWith(dir + "/"))) return true; // leads to the base path
    const rel = this.relative(dir);
    if (rel === undefined) return false;
    if (this.exclude.some((m) => m.matches(rel))) return false; // an excluded directory excludes its contents
    return this.include.length === 0 || this.include.some((m) => m.mayMatchBelow(rel));
  }

  /** Paths the masks are written against, for messages: "/app" or "/". */
  describe(): string {
    return `/${this.basePath}`;
  }
}

/** All matchers must agree (werf's NewMultiPathMatcher): a mapping's matcher AND a stage-dependency mask. */
export class MultiPathMatcher implements Matcher {
  constructor(readonly matchers: readonly Matcher[]) {}
  isPathMatched(p: string): boolean {
    return this.matchers.every((m) => m.isPathMatched(p));
  }
  isDirFullyMatched(dir: string): boolean {
    return this.matchers.every((m) => m.isDirFullyMatched(dir));
  }
  shouldGoThrough(dir: string): boolean {
    return this.matchers.every((m) => m.shouldGoThrough(dir));
  }
}
