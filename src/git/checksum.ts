// Checksum of the files that a stage's `stageDependencies` masks select in one git mapping, at a commit.
//
// Computed from git's tree listing only (no blob reads): for each matched file, its path relative to
// `add`, its git mode and its object id, sorted by path, hashed with sha256. Changing a matched file's
// content, mode or name changes it; changing a file no mask selects does not. A file counts when it
// matches the mapping's include/exclude AND one of the masks (werf's multi path matcher). No masks →
// "" (werf v2: the stage does not depend on the mapping's files).

import { createHash } from "node:crypto";
import { PathMatcher, wellFormedPath, type WerfMask } from "./pathMatcher.js";
import { mappingMatcher, mappingScope, type GitMappingSpec } from "./mapping.js";
import { compareGitPaths, listingLowerBound, listTree, ListingRange, RawListing, type Listing, type TreeEntry } from "./tree.js";
import type { GitRepo } from "./repo.js";

export interface MaskFiles {
  mask: string;
  /** Matched paths, relative to `add`, sorted. */
  paths: string[];
}

export interface DependenciesChecksum {
  /** sha256 hex, or "" when there are no masks. */
  checksum: string;
  /** All matched paths (relative to `add`), sorted. */
  paths: string[];
  /** For each of `paths`, "<git mode> <object id>" (what the checksum hashes besides the path). */
  ids?: string[];
  /** Instead of `ids` when the files came from a raw listing: the very bytes the checksum hashes,
   *  "<path> NUL <mode> NUL <oid> LF" per file in path order (what the persistent cache keeps). */
  records?: Buffer;
  /** Which files each mask matched (for `plan` output); a mask with no files is worth a warning. */
  masks: MaskFiles[];
}

function byPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One stage's masks (and the setting that names them in errors). */
export interface DependenciesRequest {
  masks: readonly string[];
  label?: string;
}

export interface ChecksumOptions {
  /** Fill `ids` or `records` (what the persistent cache keeps to update the checksum later): default true. */
  ids?: boolean;
}

/** The checksum over `entries` (a commit's ls-tree listing; tree entries are ignored). */
export function stageDependenciesChecksum(
  entries: Iterable<TreeEntry> | ListingRange,
  mapping: GitMappingSpec,
  masks: readonly string[],
  label = "git.stageDependencies",
): DependenciesChecksum {
  return stageDependenciesChecksums(entries, mapping, [{ masks, label }])[0];
}

/**
 * The checksums of several stages of one mapping (each as stageDependenciesChecksum gives it), in one pass over the
 * mapping's files: each file is decoded and asked to the mapping's matcher once, whatever the number of stages. From
 * a sorted listing (ListingRange) only the ranges the masks can match are read: the prefixes their literal leading
 * segments name (`scripts/*.sh` reads `scripts/` alone), or the includePaths' when a stage mask has none.
 */
export function stageDependenciesChecksums(
  entries: Iterable<TreeEntry> | ListingRange,
  mapping: GitMappingSpec,
  requests: readonly DependenciesRequest[],
  opts: ChecksumOptions = {},
): DependenciesChecksum[] {
  // no masks: nothing is compiled (nor refused)
  if (!requests.some((r) => r.masks.length > 0)) return requests.map(() => ({ checksum: "", paths: [], masks: [] }));
  const scan = new ChecksumScan(mapping, requests);
  if (entries instanceof ListingRange) {
    const ranges = candidateRanges(entries, scan.base, scan.maskMatchers);
    // the base path's test is the scope's (both are `add` cleaned) unless `add` climbs (`..`: refused by validate)
    const sameScope = scan.base.basePath === entries.scope;
    for (const [from, to] of ranges ?? [[entries.from, entries.to]]) scan.scan(entries.listing, from, to, sameScope ? undefined : entries);
    return scan.finish(entries.listing, opts);
  }
  for (const e of entries) scan.entry(e);
  return scan.finish(undefined, opts);
}

/**
 * The work of stageDependenciesChecksums, fed listing ranges (in increasing index order, each index at most once) or
 * entries as they come, then finished: a listing's ranges can be fed while git is still writing the listing
 * (`scanWindow`), the checksums made when it is whole.
 */
export class ChecksumScan {
  /** werf's MultiPathMatcher(mapping, mask) for each mask: the mapping's matcher is asked once per file, then each
   *  mask alone, on the path relative to `add` (both matchers share the base path). */
  readonly base: PathMatcher;
  readonly maskMatchers: WerfMask[][];
  private readonly perMask: string[][][];
  private readonly matchedRel: string[][];
  private readonly matchedId: (number | TreeEntry)[][];
  /** Every distinct mask (include, exclude, stage) tested at most once per path: a stage mask is often an include too. */
  private readonly memo = new MaskMemo();
  private readonly include: number[];
  private readonly exclude: number[];
  private readonly stageMasks: number[][];
  /** Per request, the records of its files read from a raw listing, as hashed (undefined: some file came otherwise). */
  private recs?: RecordBytes[];
  /** The repository paths whose ranges hold every file a stage mask can match (undefined: the whole scope). */
  private prefixes?: string[] | null;
  /** Whether scanWindow reads every index of the scope (no prefix ranges). */
  private wholeScope = false;
  /** The listing index of the first file fed that the mapping selects (-1: none yet). */
  private first = -1;

  constructor(
    readonly mapping: GitMappingSpec,
    readonly requests: readonly DependenciesRequest[],
  ) {
    this.base = mappingMatcher(mapping);
    this.maskMatchers = requests.map((r) =>
      r.masks.map((mask) => new PathMatcher({ basePath: mapping.add, includeGlobs: [mask], label: { include: r.label ?? "git.stageDependencies" } }).include[0]),
    );
    this.perMask = requests.map((r) => r.masks.map(() => []));
    this.matchedRel = requests.map(() => []);
    this.matchedId = requests.map(() => []);
    this.include = this.base.include.map((m) => this.memo.add(m));
    this.exclude = this.base.exclude.map((m) => this.memo.add(m));
    this.stageMasks = this.maskMatchers.map((ms) => ms.map((m) => this.memo.add(m)));
    this.memo.seal();
  }

  /** The mapping's include/exclude on the path memo.start was given. */
  private selected(): boolean {
    const memo = this.memo;
    const include = this.include;
    if (include.length > 0) {
      let any = false;
      for (let k = 0; k < include.length && !any; k++) any = memo.test(include[k]);
      if (!any) return false;
    }
    const exclude = this.exclude;
    for (let k = 0; k < exclude.length; k++) if (memo.test(exclude[k])) return false;
    return true;
  }

  private visit(rel: string, id: number | TreeEntry, raw?: RawListing): void {
    const memo = this.memo;
    for (let r = 0; r < this.stageMasks.length; r++) {
      const ms = this.stageMasks[r];
      let any = false;
      for (let i = 0; i < ms.length; i++) {
        if (memo.test(ms[i])) {
          this.perMask[r][i].push(rel);
          any = true;
        }
      }
      if (any) {
        this.matchedRel[r].push(rel);
        this.matchedId[r].push(id);
        if (raw) this.recs?.[r].add(raw, id as number);
      }
    }
  }

  /** One entry (entries fed as objects; tree entries are ignored). */
  entry(e: TreeEntry): void {
    if (e.type === "tree") return;
    const rel = this.base.relative(e.path);
    if (rel === undefined) return;
    this.memo.start(rel);
    this.recs = undefined;
    if (this.selected()) this.visit(rel, e);
  }

  /** Listing indexes [from, to), the path alone decoded (mode and id only for matched files); `scope`: test each
   *  index against it (when the base path is not the scope's). */
  scan(l: Listing, from: number, to: number, scope?: ListingRange): void {
    const raw = l instanceof RawListing ? l : undefined;
    if (!raw) this.recs = undefined;
    else if (this.matchedId.every((m) => m.length === 0) && !this.recs) {
      const skip = this.base.basePath === "" ? 0 : Buffer.byteLength(this.base.basePath, "utf8") + 1;
      this.recs = this.requests.map(() => new RecordBytes(skip));
    }
    for (let i = from; i < to; i++) {
      if (scope && !scope.inScope(i)) continue;
      const rel = this.base.relative(l.path(i));
      if (rel === undefined) continue;
      this.memo.start(rel);
      if (!this.selected()) continue;
      if (raw ? raw.isTree(i) : l.entry(i).type === "tree") continue;
      if (this.first < 0) this.first = i;
      this.visit(rel, i, raw);
    }
  }

  /**
   * Feeds the records [from, to) of a listing that git is still writing (`l` holds the records so far, in git's
   * order, all valid UTF-8: the order binary search compares with): the parts of it that lie in the ranges
   * stageDependenciesChecksums would read. Windows are fed in order, each record once, so the result is the same.
   */
  scanWindow(l: RawListing, from: number, to: number): void {
    if (this.prefixes === undefined) {
      const b = this.base.basePath;
      const found = literalPrefixes(this.maskMatchers.flat()) ?? (this.base.include.length > 0 ? literalPrefixes(this.base.include) : undefined);
      this.prefixes = found ? found.map((p) => (b === "" ? p : `${b}/${p}`)) : b === "" ? null : [b];
      this.wholeScope = !found && from === 0;
    }
    if (this.prefixes === null) return this.scan(l, from, to);
    const found: [number, number][] = [];
    for (const full of this.prefixes) {
      const lo = lowerBoundIn(l, full, from, to);
      const hi = lowerBoundIn(l, `${full}0`, lo, to);
      if (lo < hi) found.push([lo, hi]);
    }
    for (const [lo, hi] of mergeRanges(found)) this.scan(l, lo, hi);
  }

  /**
   * When the whole listing was fed through scanWindow and the scan read every index of the mapping's scope: the index
   * of the first file the mapping selects (what `matcher.isPathMatched` finds first; -1: none). Otherwise undefined.
   */
  firstSelected(): number | undefined {
    return this.wholeScope ? this.first : undefined;
  }

  /** The checksums of what was fed; `listing`: the whole listing the indexes fed are of. */
  finish(listing: Listing | undefined, opts: ChecksumOptions = {}): DependenciesChecksum[] {
    const { requests, matchedRel, matchedId, perMask, base } = this;
    // read in git's order, which is already JavaScript's unless a path holds characters above U+FFFF
    const gitOrderIsOurs = listing instanceof RawListing && listing.bmpOnly();
    const sorted = (list: string[]) => (gitOrderIsOurs || sortedByPath(list) ? list : list.sort(byPath));
    return requests.map((req, r) => {
      if (req.masks.length === 0) return { checksum: "", paths: [], masks: [] };
      const rels = matchedRel[r];
      const inOrder = gitOrderIsOurs || sortedByPath(rels);
      const order = rels.map((_, i) => i);
      if (!inOrder) order.sort((a, b) => byPath(rels[a], rels[b]));
      const paths = order.map((i) => rels[i]);
      const at = order.map((i) => matchedId[r][i]);
      // git's order is the paths' order: the records' bytes as they were read (when they are git's valid UTF-8, the
      // same bytes as the strings would encode to)
      const recs = this.recs?.[r];
      if (gitOrderIsOurs && recs && recs.count === rels.length && listing.utf8()) {
        const records = recs.bytes();
        return {
          checksum: createHash("sha256").update(records).digest("hex"),
          paths: rels,
          ...(opts.ids === false ? {} : { records }),
          masks: req.masks.map((mask, i) => ({ mask, paths: perMask[r][i] })),
        };
      }
      const raw = listing instanceof RawListing && listing.utf8() && at.every((id) => typeof id === "number") ? listing : undefined;
      const ids = opts.ids === false ? undefined : at.map((id) => (typeof id === "number" ? idOf(listing!, id) : `${id.mode} ${id.oid}`));
      const checksum = raw ? hashRecords(raw, at as number[], base.basePath) : hashMatched(paths, ids ?? at.map((id) => (typeof id === "number" ? idOf(listing!, id) : `${id.mode} ${id.oid}`)));
      return {
        checksum,
        paths,
        ...(ids ? { ids } : {}),
        masks: req.masks.map((mask, i) => ({ mask, paths: sorted(perMask[r][i]) })),
      };
    });
  }
}

/** The first index in [from, to) of ordered `l` whose path is not before `p` (`to` when none). */
function lowerBoundIn(l: Listing, p: string, from: number, to: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareGitPaths(l.path(mid), p) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Sorted, disjoint union of index ranges. */
function mergeRanges(found: [number, number][]): [number, number][] {
  found.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const r of found) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

/** Distinct masks, each tested at most once per path (the path given to start). */
class MaskMemo {
  private readonly masks: WerfMask[] = [];
  private readonly index = new Map<string, number>();
  private values = new Uint8Array(0);
  private stamps = new Uint32Array(0);
  private gen = 0;
  private rel = "";
  private wellFormed = false;

  add(m: WerfMask): number {
    let k = this.index.get(m.mask);
    if (k === undefined) {
      k = this.masks.length;
      this.masks.push(m);
      this.index.set(m.mask, k);
    }
    return k;
  }

  seal(): void {
    this.values = new Uint8Array(this.masks.length);
    this.stamps = new Uint32Array(this.masks.length);
  }

  start(rel: string): void {
    this.rel = rel;
    // one check for the masks' fast paths, not one per mask
    this.wellFormed = wellFormedPath(rel);
    this.gen++;
  }

  test(k: number): boolean {
    if (this.stamps[k] !== this.gen) {
      this.stamps[k] = this.gen;
      const m = this.masks[k];
      this.values[k] = (this.wellFormed ? m.matchesWellFormed(this.rel) : m.matches(this.rel)) ? 1 : 0;
    }
    return this.values[k] === 1;
  }
}

function sortedByPath(list: readonly string[]): boolean {
  for (let i = 1; i < list.length; i++) if (!(list[i - 1] < list[i])) return false;
  return true;
}

/** "<mode> <oid>" of listing entry i (a raw record's bytes, nothing else decoded). */
function idOf(l: Listing, i: number): string {
  if (l instanceof RawListing) return l.modeAndOid(i);
  const e = l.entry(i);
  return `${e.mode} ${e.oid}`;
}

/** Each mask's literal leading segments (`scripts/*.sh` → `scripts`); undefined when one mask has none. */
function literalPrefixes(masks: readonly WerfMask[]): string[] | undefined {
  const out: string[] = [];
  for (const m of masks) {
    const p = m.literalPrefix();
    if (p === "") return undefined;
    out.push(p);
  }
  return out;
}

/**
 * The index ranges of `range` (sorted, disjoint) that hold every file a stage mask can match: the union of the masks'
 * literal prefixes, else of the mapping's includePaths' prefixes; undefined (the whole range) when neither is known or
 * the listing is not in git's order.
 */
function candidateRanges(range: ListingRange, base: PathMatcher, maskMatchers: readonly (readonly WerfMask[])[]): [number, number][] | undefined {
  const l = range.listing;
  if (!l.ordered()) return undefined;
  const prefixes = literalPrefixes(maskMatchers.flat()) ?? (base.include.length > 0 ? literalPrefixes(base.include) : undefined);
  if (!prefixes) return undefined;
  const found: [number, number][] = [];
  for (const p of prefixes) {
    const full = base.basePath === "" ? p : `${base.basePath}/${p}`;
    // the path itself, then what sorts between it and its contents ("p.txt": skipped by the matchers), then below it
    const from = listingLowerBound(l, full, range.from);
    const to = Math.min(range.to, listingLowerBound(l, `${full}0`, from));
    if (from < to) found.push([from, to]);
  }
  return mergeRanges(found);
}

/** The records of matched files as the checksum hashes them, appended as they are matched. */
class RecordBytes {
  private buf = Buffer.allocUnsafe(16384);
  private n = 0;
  count = 0;

  /** `skip`: the bytes of the base path and its "/" (cut from each path). */
  constructor(private readonly skip: number) {}

  add(l: RawListing, i: number): void {
    const buf = l.buf;
    const start = l.recordStart(i);
    const end = l.recordEnd(i);
    // "<6-digit mode> blob <40-hex id>\t": the commonest header's fields found without a search (a tab at +52 is
    // after a 40-digit id; a space at +6 and +11 after a 6-digit mode and a 4-letter type)
    let sp1 = start + 6;
    let sp2 = start + 11;
    let tab = start + 52;
    if (buf[sp1] !== 32 || buf[sp2] !== 32 || buf[tab] !== 9) {
      sp1 = buf.indexOf(32, start);
      tab = buf.indexOf(9, sp1);
      sp2 = buf.lastIndexOf(32, tab);
    }
    const from = Math.min(tab + 1 + this.skip, end); // the base itself (a mapping of one file): ""
    const need = end - from + (sp1 - start) + (tab - sp2 - 1) + 3;
    if (this.n + need > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + need));
      this.buf.copy(grown, 0, 0, this.n);
      this.buf = grown;
    }
    const out = this.buf;
    let o = copyBytes(buf, from, end, out, this.n);
    out[o++] = 0;
    o = copyBytes(buf, start, sp1, out, o);
    out[o++] = 0;
    o = copyBytes(buf, sp2 + 1, tab, out, o);
    out[o++] = 10;
    this.n = o;
    this.count++;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.n);
  }
}

/** Copies src[from, to) to dst at `at`; the new end. A short field byte by byte (Buffer#copy costs more per call
 *  than a path's bytes). */
function copyBytes(src: Buffer, from: number, to: number, dst: Buffer, at: number): number {
  if (to - from > 128) return at + src.copy(dst, at, from, to);
  for (let j = from; j < to; j++) dst[at++] = src[j];
  return at;
}

/** hashMatched of listing records `at` (in path order), their bytes copied: the path after `base` + "/", the mode, the
 *  object id. */
function hashRecords(l: RawListing, at: readonly number[], base: string): string {
  const hash = createHash("sha256");
  const buf = l.buf;
  const skip = base === "" ? 0 : Buffer.byteLength(base, "utf8") + 1;
  const out = Buffer.allocUnsafe(65536);
  let o = 0;
  for (const i of at) {
    const start = l.recordStart(i);
    const sp1 = buf.indexOf(32, start);
    const tab = buf.indexOf(9, sp1);
    const sp2 = buf.lastIndexOf(32, tab);
    const end = buf.indexOf(0, tab);
    const from = Math.min(tab + 1 + skip, end); // the base itself (a mapping of one file): ""
    const need = end - from + (sp1 - start) + (tab - sp2 - 1) + 3;
    if (o + need > out.length) {
      hash.update(out.subarray(0, o));
      o = 0;
      if (need > out.length) {
        // a path longer than the buffer (git allows 4 KiB and more)
        hash.update(Buffer.concat([buf.subarray(from, end), Buffer.from([0]), buf.subarray(start, sp1), Buffer.from([0]), buf.subarray(sp2 + 1, tab), Buffer.from([10])]));
        continue;
      }
    }
    o = copyBytes(buf, from, end, out, o);
    out[o++] = 0;
    o = copyBytes(buf, start, sp1, out, o);
    out[o++] = 0;
    o = copyBytes(buf, sp2 + 1, tab, out, o);
    out[o++] = 10;
  }
  hash.update(out.subarray(0, o));
  return hash.digest("hex");
}

/** sha256 over "<path> NUL <mode> NUL <oid> LF" of each matched file, in path order. */
function hashMatched(paths: readonly string[], ids: readonly string[]): string {
  const hash = createHash("sha256");
  let chunk = "";
  for (let i = 0; i < paths.length; i++) {
    const sp = ids[i].indexOf(" ");
    chunk += `${paths[i]}\0${ids[i].slice(0, sp)}\0${ids[i].slice(sp + 1)}\n`;
    if (chunk.length > 65536) {
      hash.update(chunk);
      chunk = "";
    }
  }
  hash.update(chunk);
  return hash.digest("hex");
}

/** A change of one repository path between two listings (undefined: absent on that side). */
export interface PathChange {
  path: string;
  before?: TreeEntry;
  after?: TreeEntry;
}

/** Lists the mapping's part of `commit` and computes the checksum. */
export async function computeStageDependencies(
  repo: GitRepo,
  commit: string,
  mapping: GitMappingSpec,
  masks: readonly string[],
): Promise<DependenciesChecksum> {
  if (masks.length === 0) return { checksum: "", paths: [], masks: [] };
  const entries = await listTree(repo, commit, { scope: mappingScope(mapping) });
  return stageDependenciesChecksum(entries, mapping, masks);
}
