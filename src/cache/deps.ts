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
import { PathMatcher } from "../git/pathMatcher.js";
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

/** A decoded entry: the plan's view and what an update needs. */
interface Entry {
  checksum: string;
  paths: string[];
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

/** Decodes a whole entry (not an alias); undefined when its records are not what its header says. The paths come
 *  from one decode of the records split at their NULs (a path holds no NUL; an id no LF). */
function decode(buf: Buffer, masks: readonly string[]): Entry | undefined {
  const r = readHeader(buf, masks);
  if (!r || r.h.alias !== undefined) return undefined;
  const { h, body } = r;
  const stream = buf.subarray(body, body + h.stream);
  // "<path>\0<mode>\0<oid>\n<path>\0..." → [path, mode, "oid\npath", mode, ..., "oid\n"]
  const parts = h.n === 0 ? [""] : stream.toString("utf8").split("\0");
  if (parts.length !== 2 * h.n + 1) return undefined;
  const paths = new Array<string>(h.n);
  if (h.n > 0) paths[0] = parts[0];
  for (let i = 1; i < h.n; i++) {
    const s = parts[2 * i];
    const lf = s.indexOf("\n");
    if (lf < 0) return undefined;
    paths[i] = s.slice(lf + 1);
  }
  if (h.n > 0 && !parts[2 * h.n].endsWith("\n")) return undefined;
  const width = widthOf(masks);
  return { checksum: h.checksum, paths, stream, width, bits: buf.subarray(body + h.stream) };
}

/** Where each record of `e` starts (and the end), found when an entry is updated. */
function startsOf(e: Entry): Uint32Array {
  const starts = new Uint32Array(e.paths.length + 1);
  let at = 0;
  for (let i = 0; i < e.paths.length; i++) {
    starts[i] = at;
    const nul = e.stream.indexOf(0, at);
    at = e.stream.indexOf(10, e.stream.indexOf(0, nul + 1) + 1) + 1;
  }
  starts[e.paths.length] = at;
  return starts;
}

/** The plan's view of an entry: checksum, paths, and each mask's paths. */
function view(e: Entry, masks: readonly string[]): DependenciesChecksum {
  if (e.width === 0) return { checksum: e.checksum, paths: e.paths, masks: masks.map((mask) => ({ mask, paths: e.paths })) };
  return {
    checksum: e.checksum,
    paths: e.paths,
    masks: masks.map((mask, m) => ({ mask, paths: e.paths.filter((_, i) => (e.bits[i * e.width + (m >> 3)] & (1 << (m & 7))) !== 0) })),
  };
}

/** One record's bytes, as the checksum hashes it. */
function record(path: string, mode: string, oid: string): Buffer {
  return Buffer.from(`${path}\0${mode}\0${oid}\n`, "utf8");
}

function write(store: CacheStore, key: string, masks: readonly string[], n: number, checksum: string, stream: readonly Buffer[], bits: readonly Buffer[]): void {
  const length = stream.reduce((s, b) => s + b.length, 0);
  const header = Buffer.from(JSON.stringify({ checksum, n, masks: [...masks], stream: length } satisfies Header) + "\n", "utf8");
  store.put(KIND, key, [header, ...stream, ...bits]);
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

/** Index of the first path of sorted `paths` (from `lo`) not before `p`. */
function lowerBound(paths: readonly string[], p: string, lo: number): number {
  let hi = paths.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (paths[mid] < p) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The entry `changes` make of `old` (the same mapping and masks at the tree the changes start from), stored under
 * `key`; undefined when no change is a file the mapping selects (the caller stores an alias). Gives what
 * stageDependenciesChecksum gives on the new listing (test/cache/deps.test.ts compares them).
 */
function update(store: CacheStore, key: string, old: Entry, changes: readonly PathChange[], spec: GitMappingSpec, masks: readonly string[], label: string): DependenciesChecksum | undefined {
  const base = mappingMatcher(spec);
  let maskMatchers: { matches(p: string): boolean }[] | undefined;
  // each selected path the commit touched → its new record (null: gone or no longer matched)
  const edits = new Map<string, { rec: Buffer; bits: Buffer } | null>();
  for (const c of changes) {
    if (!base.isPathMatched(c.path)) continue;
    const rel = base.relative(c.path)!;
    const e = c.after;
    if (!e || e.type === "tree") {
      edits.set(rel, null);
      continue;
    }
    maskMatchers ??= masks.map((mask) => new PathMatcher({ basePath: spec.add, includeGlobs: [mask], label: { include: label } }).include[0]);
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
  const pieces: string[][] = [];
  const starts = startsOf(old);
  let from = 0;
  const take = (to: number) => {
    if (to <= from) return;
    stream.push(old.stream.subarray(starts[from], starts[to]));
    if (old.width) bits.push(old.bits.subarray(from * old.width, to * old.width));
    pieces.push(old.paths.slice(from, to));
  };
  for (const rel of [...edits.keys()].sort(byPath)) {
    const i = lowerBound(old.paths, rel, from);
    take(i);
    from = i < old.paths.length && old.paths[i] === rel ? i + 1 : i;
    const edit = edits.get(rel);
    if (edit) {
      stream.push(edit.rec);
      if (old.width) bits.push(edit.bits);
      pieces.push([rel]);
    }
  }
  take(old.paths.length);
  const paths = ([] as string[]).concat(...pieces);
  const hash = createHash("sha256");
  for (const b of stream) hash.update(b);
  const checksum = hash.digest("hex");
  write(store, key, masks, paths.length, checksum, stream, bits);
  const merged = Buffer.concat(bits);
  return view({ checksum, paths, stream: Buffer.alloc(0), width: old.width, bits: merged }, masks);
}

/** The whole entry stored for `tree` (following an alias), or undefined. */
function readEntry(store: CacheStore, tree: string, spec: GitMappingSpec, masks: readonly string[], label: string): { entry: Entry; tree: string } | undefined {
  const buf = store.get(KIND, keyFor(tree, spec, masks, label));
  if (!buf) return undefined;
  const r = readHeader(buf, masks);
  if (!r) return undefined;
  if (r.h.alias === undefined) {
    const entry = decode(buf, masks);
    return entry ? { entry, tree } : undefined;
  }
  const target = store.get(KIND, keyFor(r.h.alias, spec, masks, label));
  const entry = target ? decode(target, masks) : undefined;
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
  const updated = update(store, key, prev.entry, base!.changes, spec, masks, label);
  if (updated) {
    depsCounts.updated++;
    return updated;
  }
  // nothing the mapping selects changed: the same bytes, named by the tree that holds them
  depsCounts.unchanged++;
  store.put(KIND, key, JSON.stringify({ checksum: prev.entry.checksum, n: 0, masks: [...masks], stream: 0, alias: prev.tree } satisfies Header) + "\n");
  return view(prev.entry, masks);
}

/** Stores a checksum computed from the listing (with its `ids`) for `tree`. */
export function storeDependencies(store: CacheStore, tree: string, spec: GitMappingSpec, masks: readonly string[], label: string, sum: DependenciesChecksum): void {
  depsCounts.computed++;
  storeComputed(store, keyFor(tree, spec, masks, label), masks, sum);
}

/** findDependencies, else `compute()` stored. */
export async function cachedDependencies(
  store: CacheStore,
  tree: string,
  base: { tree: string; changes: readonly PathChange[] } | undefined,
  spec: GitMappingSpec,
  masks: readonly string[],
  label: string,
  compute: () => Promise<DependenciesChecksum>,
): Promise<DependenciesChecksum> {
  const found = findDependencies(store, tree, base, spec, masks, label);
  if (found) return found;
  const sum = await compute();
  storeDependencies(store, tree, spec, masks, label, sum);
  return { checksum: sum.checksum, paths: sum.paths, masks: sum.masks };
}
