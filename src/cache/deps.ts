// stageDependencies checksums through the persistent cache (docs/cache.md, kind `deps2`).
//
// An entry holds exactly the bytes the checksum hashes (src/git/checksum.ts: "<path> NUL <mode> NUL <oid> LF" for
// each matched file, in path order), then which masks each file matched (a bit per mask, when there are several).
// So reading one is a file read and the store's own check, the paths are decoded with one pass, and after a commit
// the new entry is the old bytes with the changed records replaced, hashed once: no JSON, no per-file strings
// built again. A tree whose commit changed nothing the mapping selects gets an alias (the tree its bytes are
// stored under) instead of a copy.
//
// Keyed by the tree id, the mapping's add/include/exclude, the masks and the label (what the checksum depends on).

import { createHash } from "node:crypto";
import { PathMatcher, normalizeBasePath } from "../git/pathMatcher.js";
import { mappingMatcher, type GitMappingSpec } from "../git/mapping.js";
import type { DependenciesChecksum, PathChange } from "../git/checksum.js";
import { keyOf, type CacheStore } from "./store.js";

const KIND = "deps2";

/** Counts for tests: how checksums were obtained in this process. */
export const depsCounts = { cache: 0, updated: 0, unchanged: 0, computed: 0 };

interface Header {
  checksum: string;
  /** Matched files. */
  n: number;
  masks: string[];
  /** Bytes of the hashed records. */
  stream: number;
  /** Set on an alias: the tree whose entry holds the bytes. */
  alias?: string;
}

/** An entry's records and mask bits, as stored (its paths are decoded only when the plan's output asks for them). */
interface Entry {
  checksum: string;
  /** Matched files. */
  n: number;
  /** The records, in path order. */
  stream: Buffer;
  /** Bytes per record of mask bits (0: one mask, which every file matched). */
  width: number;
  bits: Buffer;
}

function byPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function keyFor(tree: string, spec: GitMappingSpec, masks: readonly string[], label: string): string {
  return keyOf(tree, spec.add, spec.includePaths, spec.excludePaths, masks, label);
}

function widthOf(masks: readonly string[]): number {
  return masks.length > 1 ? Math.ceil(masks.length / 8) : 0;
}

function readHeader(buf: Buffer, masks: readonly string[]): { h: Header; body: number } | undefined {
  const nl = buf.indexOf(10);
  if (nl < 0) return undefined;
  try {
    const h = JSON.parse(buf.toString("utf8", 0, nl)) as Header;
    const ok = typeof h.checksum === "string" && Array.isArray(h.masks) && h.masks.length === masks.length && h.masks.every((m, i) => m === masks[i]);
    if (!ok) return undefined;
    if (h.alias !== undefined) return typeof h.alias === "string" && buf.length === nl + 1 ? { h, body: nl + 1 } : undefined;
    if (!Number.isInteger(h.n) || !Number.isInteger(h.stream) || buf.length !== nl + 1 + h.stream + h.n * widthOf(masks)) return undefined;
    return { h, body: nl + 1 };
  } catch {
    return undefined;
  }
}

/** An entry (not an alias) from its bytes; undefined when they are not what its header says. */
function entryOf(buf: Buffer, masks: readonly string[]): Entry | undefined {
  const r = readHeader(buf, masks);
  if (!r || r.h.alias !== undefined) return undefined;
  const { h, body } = r;
  const stream = buf.subarray(body, body + h.stream);
  if (h.n === 0 ? stream.length !== 0 : stream[stream.length - 1] !== 10) return undefined;
  return { checksum: h.checksum, n: h.n, stream, width: widthOf(masks), bits: buf.subarray(body + h.stream) };
}

/** The paths of `n` records, from one decode of the records split at their NULs (a path holds no NUL; an id no LF);
 *  undefined when the records are not `n` well-formed ones. */
function decodePaths(stream: Buffer, n: number): string[] | undefined {
  // "<path>\0<mode>\0<oid>\n<path>\0..." → [path, mode, "oid\npath", mode, ..., "oid\n"]
  const parts = n === 0 ? [""] : stream.toString("utf8").split("\0");
  if (parts.length !== 2 * n + 1) return undefined;
  const paths = new Array<string>(n);
  if (n > 0) paths[0] = parts[0];
  for (let i = 1; i < n; i++) {
    const s = parts[2 * i];
    const lf = s.indexOf("\n");
    if (lf < 0) return undefined;
    paths[i] = s.slice(lf + 1);
  }
  if (n > 0 && !parts[2 * n].endsWith("\n")) return undefined;
  return paths;
}

/**
 * An array of `length` strings made by `make()` when first looked at beyond its length: the plan carries the
 * matched paths of every mask (`plan` prints them), but a plan that is not printed (compile, build) or printed as text
 * only needs a few of them, so an entry read from the cache is not decoded until then. It is an Array (a Proxy whose
 * target is filled on first use: JSON.stringify, slice, iteration and deepEqual see the real elements).
 */
function lazyArray(length: number, make: () => string[]): string[] {
  const target: string[] = [];
  let filled = false;
  const fill = (): string[] => {
    if (!filled) {
      filled = true;
      const made = make();
      if (made.length !== length) throw new Error(`internal: a cached checksum entry decoded to ${made.length} paths, not ${length}`);
      for (let i = 0; i < made.length; i++) target[i] = made[i];
    }
    return target;
  };
  if (length === 0) return target;
  return new Proxy(target, {
    get: (_, p) => (p === "length" && !filled ? length : Reflect.get(fill(), p)),
    has: (_, p) => Reflect.has(fill(), p),
    ownKeys: () => Reflect.ownKeys(fill()),
    getOwnPropertyDescriptor: (_, p) => Reflect.getOwnPropertyDescriptor(fill(), p),
    set: (_, p, v) => Reflect.set(fill(), p, v),
    deleteProperty: (_, p) => Reflect.deleteProperty(fill(), p),
    defineProperty: (_, p, d) => Reflect.defineProperty(fill(), p, d),
  });
}

/** The plan's view of an entry: checksum, paths, and each mask's paths (decoded when first looked at). */
function view(e: Entry, masks: readonly string[]): DependenciesChecksum {
  let decoded: string[] | undefined;
  const all = () => {
    decoded ??= decodePaths(e.stream, e.n);
    if (!decoded) throw new Error("internal: a cached checksum entry's records are not what its header says");
    return decoded;
  };
  const paths = lazyArray(e.n, all);
  if (e.width === 0) return { checksum: e.checksum, paths, masks: masks.map((mask) => ({ mask, paths })) };
  // each mask's count, in one pass over the bits
  const counts = new Array<number>(masks.length).fill(0);
  for (let i = 0, at = 0; i < e.n; i++) {
    for (let b = 0; b < e.width; b++, at++) {
      for (let v = e.bits[at]; v !== 0; v &= v - 1) counts[b * 8 + (31 - Math.clz32(v & -v))]++;
    }
  }
  return {
    checksum: e.checksum,
    paths,
    masks: masks.map((mask, m) => {
      const byte = m >> 3;
      const bit = 1 << (m & 7);
      return { mask, paths: lazyArray(counts[m], () => all().filter((_, i) => (e.bits[i * e.width + byte] & bit) !== 0)) };
    }),
  };
}

/** One record's bytes, as the checksum hashes it. */
function record(path: string, mode: string, oid: string): Buffer {
  return Buffer.from(`${path}\0${mode}\0${oid}\n`, "utf8");
}

function write(store: CacheStore, key: string, masks: readonly string[], n: number, checksum: string, stream: readonly Buffer[], bits: readonly Buffer[], soon = false): void {
  const length = stream.reduce((s, b) => s + b.length, 0);
  const header = Buffer.from(JSON.stringify({ checksum, n, masks: [...masks], stream: length } satisfies Header) + "\n", "utf8");
  // an update (a re-plan) is written in the background; a computed entry (a cold plan) as before
  if (soon) store.putSoon(KIND, key, [header, ...stream, ...bits]);
  else store.put(KIND, key, [header, ...stream, ...bits]);
}

/** Encodes a computed checksum (with its ids) and stores it. */
function storeComputed(store: CacheStore, key: string, masks: readonly string[], sum: DependenciesChecksum): void {
  // the records as hashed, when the checksum kept them (src/git/checksum.ts), else made from the ids
  const ids = sum.ids ?? [];
  const parts: string[] = [];
  for (let i = 0; i < sum.paths.length && !sum.records; i++) {
    const sp = ids[i].indexOf(" ");
    parts.push(`${sum.paths[i]}\0${ids[i].slice(0, sp)}\0${ids[i].slice(sp + 1)}\n`);
  }
  const width = widthOf(masks);
  const bits = Buffer.alloc(sum.paths.length * width);
  if (width > 0) {
    const index = new Map(sum.paths.map((p, i) => [p, i]));
    sum.masks.forEach((m, k) => {
      for (const p of m.paths) bits[index.get(p)! * width + (k >> 3)] |= 1 << (k & 7);
    });
  }
  write(store, key, masks, sum.paths.length, sum.checksum, [sum.records ?? Buffer.from(parts.join(""), "utf8")], [bits]);
}

/**
 * The records of an entry as byte ranges, found without decoding them: a record is `<path> NUL <mode> NUL <oid> LF`,
 * every oid of a repository has the same length L, and a path holds no NUL, so an LF ends a record exactly when the
 * byte L + 1 before it is a NUL (an LF inside a path has path bytes, or the previous record's oid, there). A search
 * probes O(log n) records; each probe decodes one path. Thrown Malformed: the caller decodes the whole entry instead.
 */
class Records {
  private readonly oid: number;

  constructor(readonly stream: Buffer) {
    const nul = stream.indexOf(0);
    const nul2 = nul < 0 ? -1 : stream.indexOf(0, nul + 1);
    const lf = nul2 < 0 ? -1 : stream.indexOf(10, nul2 + 1);
    if (lf < 0) throw new Malformed();
    this.oid = lf - nul2 - 1;
  }

  /** The end of the record starting at `r` (where the next one starts). */
  end(r: number): number {
    const nul = this.stream.indexOf(0, r);
    const nul2 = nul < 0 ? -1 : this.stream.indexOf(0, nul + 1);
    const end = nul2 < 0 ? -1 : nul2 + this.oid + 2;
    if (end < 0 || end > this.stream.length || this.stream[end - 1] !== 10) throw new Malformed();
    return end;
  }

  path(r: number): string {
    return this.stream.toString("utf8", r, this.stream.indexOf(0, r));
  }

  /** The first record start at or after `p`. */
  startFrom(p: number): number {
    if (p <= 0) return 0;
    for (let j = p - 1; ; j++) {
      j = this.stream.indexOf(10, j);
      if (j < 0) return this.stream.length;
      if (j - this.oid - 1 >= 0 && this.stream[j - this.oid - 1] === 0) return j + 1;
    }
  }

  /** The start of the first record from `lo` (a record start) whose path is not before `rel` (the end: none). */
  lowerBound(rel: string, lo: number): number {
    let hi = this.stream.length;
    while (lo < hi) {
      const mid = lo + ((hi - lo) >> 1);
      const s = this.startFrom(mid);
      if (s >= hi) {
        // no record starts in [mid, hi): the few from lo, in order
        let r = lo;
        while (r < hi && this.path(r) < rel) r = this.end(r);
        return r;
      }
      if (this.path(s) < rel) lo = this.end(s);
      else hi = s;
    }
    return lo;
  }
}

class Malformed extends Error {}

/** Where each record of `e` starts (and the end), for an entry with mask bits (a record's bits are by its index). */
function startsOf(e: Entry): Uint32Array | undefined {
  const records = new Records(e.stream);
  const starts = new Uint32Array(e.n + 1);
  let at = 0;
  for (let i = 0; i < e.n; i++) {
    starts[i] = at;
    at = records.end(at);
  }
  starts[e.n] = at;
  return at === e.stream.length ? starts : undefined;
}

/** The mapping's matcher and the masks' (compiled once per process: a re-plan asks for them for each stage). */
const matchers = new Map<string, { matches(p: string): boolean } | PathMatcher>();

function mappingMatcherOf(spec: GitMappingSpec): PathMatcher {
  const key = JSON.stringify([spec.add, spec.includePaths, spec.excludePaths]);
  let m = matchers.get(key) as PathMatcher | undefined;
  if (!m) matchers.set(key, (m = mappingMatcher(spec)));
  return m;
}

function maskMatcherOf(add: string, mask: string, label: string): { matches(p: string): boolean } {
  const key = JSON.stringify([add, mask, label]);
  let m = matchers.get(key);
  if (!m) matchers.set(key, (m = new PathMatcher({ basePath: add, includeGlobs: [mask], label: { include: label } }).include[0]));
  return m as { matches(p: string): boolean };
}

/**
 * The entry `changes` make of `old` (the same mapping and masks at the tree the changes start from), stored under
 * `key`; undefined when no change is a file the mapping selects (the caller stores an alias). Gives what
 * stageDependenciesChecksum gives on the new listing (test/cache/deps.test.ts compares them). The unchanged records
 * are copied as bytes: the changed paths are found by a binary search of the old records (their mask bits by the
 * record's index, when there are several masks), nothing else decoded.
 */
function update(store: CacheStore, key: string, old: Entry, changes: readonly PathChange[], spec: GitMappingSpec, masks: readonly string[], label: string): DependenciesChecksum | undefined {
  // a path outside `add` is never matched (PathMatcher.relative): most commits touch no file of most mappings
  const scope = normalizeBasePath(spec.add);
  const inScope = (p: string) => scope === "" || p === scope || p.startsWith(`${scope}/`);
  let base: PathMatcher | undefined;
  let maskMatchers: { matches(p: string): boolean }[] | undefined;
  // each selected path the commit touched → its new record (null: gone or no longer matched)
  const edits = new Map<string, { rec: Buffer; bits: Buffer } | null>();
  for (const c of changes) {
    if (!inScope(c.path)) continue;
    base ??= mappingMatcherOf(spec);
    if (!base.isPathMatched(c.path)) continue;
    const rel = base.relative(c.path)!;
    const e = c.after;
    if (!e || e.type === "tree") {
      edits.set(rel, null);
      continue;
    }
    maskMatchers ??= masks.map((mask) => maskMatcherOf(spec.add, mask, label));
    const bits = Buffer.alloc(old.width);
    let any = false;
    for (let i = 0; i < maskMatchers.length; i++) {
      if (!maskMatchers[i].matches(rel)) continue;
      any = true;
      if (old.width) bits[i >> 3] |= 1 << (i & 7);
    }
    edits.set(rel, any ? { rec: record(rel, e.mode, e.oid), bits } : null);
  }
  if (edits.size === 0) return undefined;
  const stream: Buffer[] = [];
  const bits: Buffer[] = [];
  let n = 0;
  if (old.n > 0) {
    const records = new Records(old.stream);
    const starts = old.width ? startsOf(old) : undefined;
    if (old.width && !starts) throw new Malformed();
    // a record's index from its start, for its bits: by binary search of the starts
    const indexOf = (at: number) => {
      let lo = 0;
      let hi = old.n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (starts![mid] < at) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    let from = 0;
    const take = (to: number) => {
      if (to <= from) return;
      stream.push(old.stream.subarray(from, to));
      if (old.width) bits.push(old.bits.subarray(indexOf(from) * old.width, indexOf(to) * old.width));
    };
    n = old.n;
    for (const rel of [...edits.keys()].sort(byPath)) {
      const at = records.lowerBound(rel, from);
      take(at);
      from = at;
      if (at < old.stream.length && records.path(at) === rel) {
        from = records.end(at);
        n--;
      }
      const edit = edits.get(rel);
      if (edit) {
        stream.push(edit.rec);
        if (old.width) bits.push(edit.bits);
        n++;
      }
    }
    take(old.stream.length);
  } else {
    for (const rel of [...edits.keys()].sort(byPath)) {
      const edit = edits.get(rel);
      if (!edit) continue;
      stream.push(edit.rec);
      if (old.width) bits.push(edit.bits);
      n++;
    }
  }
  const hash = createHash("sha256");
  for (const b of stream) hash.update(b);
  const checksum = hash.digest("hex");
  write(store, key, masks, n, checksum, stream, bits, true);
  // the records joined only if the plan's paths are looked at
  let joined: Buffer | undefined;
  const entry: Entry = { checksum, n, width: old.width, bits: Buffer.concat(bits), get stream() { return (joined ??= Buffer.concat(stream)); } };
  return view(entry, masks);
}

/** The whole entry stored for `tree` (following an alias), or undefined. */
function readEntry(store: CacheStore, tree: string, spec: GitMappingSpec, masks: readonly string[], label: string): { entry: Entry; tree: string } | undefined {
  const buf = store.get(KIND, keyFor(tree, spec, masks, label));
  if (!buf) return undefined;
  const r = readHeader(buf, masks);
  if (!r) return undefined;
  if (r.h.alias === undefined) {
    const entry = entryOf(buf, masks);
    return entry ? { entry, tree } : undefined;
  }
  const target = store.get(KIND, keyFor(r.h.alias, spec, masks, label));
  const entry = target ? entryOf(target, masks) : undefined;
  return entry && entry.checksum === r.h.checksum ? { entry, tree: r.h.alias } : undefined;
}

/**
 * The stageDependencies checksum of `masks` over the mapping's files at `tree` from the cache: the one stored for this
 * tree; else the one stored for `base.tree` updated with `base.changes` (the diff between the two trees), stored. The
 * plan's view (checksum, paths, each mask's paths), or undefined (then computed and given to storeDependencies).
 */
export function findDependencies(
  store: CacheStore,
  tree: string,
  base: { tree: string; changes: readonly PathChange[] } | undefined,
  spec: GitMappingSpec,
  masks: readonly string[],
  label: string,
): DependenciesChecksum | undefined {
  const key = keyFor(tree, spec, masks, label);
  const hit = readEntry(store, tree, spec, masks, label);
  if (hit) {
    depsCounts.cache++;
    return view(hit.entry, masks);
  }
  const prev = base ? readEntry(store, base.tree, spec, masks, label) : undefined;
  if (!prev) return undefined;
  let updated: DependenciesChecksum | undefined;
  try {
    updated = update(store, key, prev.entry, base!.changes, spec, masks, label);
  } catch (e) {
    // records that are not what their header says: computed from the listing instead
    if (e instanceof Malformed) return undefined;
    throw e;
  }
  if (updated) {
    depsCounts.updated++;
    return updated;
  }
  // nothing the mapping selects changed: the same bytes, named by the tree that holds them
  depsCounts.unchanged++;
  store.putSoon(KIND, key, JSON.stringify({ checksum: prev.entry.checksum, n: 0, masks: [...masks], stream: 0, alias: prev.tree } satisfies Header) + "\n");
  return view(prev.entry, masks);
}

/** Stores a checksum computed from the listing (with its `ids`) for `tree`. */
export function storeDependencies(store: CacheStore, tree: string, spec: GitMappingSpec, masks: readonly string[], label: string, sum: DependenciesChecksum): void {
  depsCounts.computed++;
  storeComputed(store, keyFor(tree, spec, masks, label), masks, sum);
}
