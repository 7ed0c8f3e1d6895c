// Git archives through the persistent cache (docs/cache.md).
//
// An archive is the tar of one mapping (add, to, include/exclude, owner, group; mtime 0) at one root tree: the key.
// It is kept in the cache as a read-only file beside a small index entry (the tar's size and mtime when it was
// stored, and each entry's length). The same key again: the cached tar is hard-linked (or copied) to the output.
// A tree derived from a cached one by `git diff-tree` (src/cache/listing.ts): the new tar is written from the old
// one, every unchanged entry (same name, kind, mode and object) copied as bytes, consecutive ones in one piece, and
// only the changed blobs read from git. The index is checked by the store (sha256, key, version); the tar by its
// size and mtime (a truncated or rewritten file differs), so a tampered tar is never copied from.

import { randomBytes } from "node:crypto";
import { UserError } from "../diagnostics.js";
import fs from "node:fs";
import os from "node:os";
import { open, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { ArchivePlan, EntryLengths, lightEntries, planArchiveLazy, writePlannedArchive, writePlannedArchives, type ArchiveJob, type ArchiveSplice, type ArchiveSummary, type PlannedArchive, type PlannedEntry, type ReusableArchive } from "../git/archive.js";
import { mappingMatcher, mappingScope, mappingTarget, type GitMappingSpec } from "../git/mapping.js";
import type { GitRepo } from "../git/repo.js";
import { ListingRange, someEntry, type RawListing, type TreeEntries, type TreeEntry } from "../git/tree.js";
import type { CachedListing, TreeChange } from "./listing.js";
import { keyOf, type CacheStore } from "./store.js";
import { ownFile } from "./private-file.js";

const MODES = ["100644", "100755", "120000"];
const LITTLE_ENDIAN = os.endianness() === "LE";

/** The numbers as little-endian float64s (one copy on a little-endian machine). */
function float64LE(values: ArrayLike<number>): Buffer {
  const f = values instanceof Float64Array ? values : Float64Array.from(values);
  if (LITTLE_ENDIAN) return Buffer.from(f.buffer, f.byteOffset, f.byteLength);
  const b = Buffer.allocUnsafe(f.length * 8);
  for (let i = 0; i < f.length; i++) b.writeDoubleLE(f[i], i * 8);
  return b;
}
const DIR = 254;

/**
 * The index of a cached archive, as stored: a JSON line (tar size and mtime, entry count and kinds, object id
 * length), then per entry its length (float64), its id (a mode byte: index in MODES or DIR; then the raw
 * object id; archives with other modes are not cached), the end offset of its name (uint32), and the names (UTF-8, as the
 * summary gives them: directories end with "/"). Tables, so that nothing is decoded per entry to use it.
 */
class ArchiveIndex {
  readonly lengths: Float64Array;
  constructor(
    readonly head: { size: number; mtimeMs: number; count: number; files: number; symlinks: number; directories: number; oidLen: number },
    private readonly lengthBytes: Buffer,
    readonly ids: Buffer,
    private readonly nameEnds: Buffer,
    private readonly nameText: Buffer,
  ) {
    this.lengths = new Float64Array(head.count);
    if (LITTLE_ENDIAN) new Uint8Array(this.lengths.buffer).set(lengthBytes);
    else for (let i = 0; i < head.count; i++) this.lengths[i] = lengthBytes.readDoubleLE(i * 8);
  }

  static decode(buf: Buffer): ArchiveIndex | undefined {
    const nl = buf.indexOf(10);
    if (nl < 0) return undefined;
    let head: ArchiveIndex["head"];
    try {
      head = JSON.parse(buf.toString("utf8", 0, nl)) as ArchiveIndex["head"];
    } catch {
      return undefined;
    }
    const { count, oidLen } = head;
    if (![head.size, head.mtimeMs, count, head.files, head.symlinks, head.directories, oidLen].every((x) => typeof x === "number" && Number.isFinite(x))) return undefined;
    let o = nl + 1;
    const take = (n: number) => buf.subarray(o, (o += n));
    const lengthBytes = take(count * 8);
    const ids = take(count * (1 + oidLen));
    const nameEnds = take(count * 4);
    const nameText = buf.subarray(o);
    if (nameEnds.length !== count * 4 || (count > 0 && nameEnds.readUInt32LE((count - 1) * 4) !== nameText.length)) return undefined;
    return new ArchiveIndex(head, lengthBytes, ids, nameEnds, nameText);
  }

  /** The same index with some entries' ids and lengths replaced, and another tar size and mtime. */
  patched(size: number, mtimeMs: number, kinds: { files: number; symlinks: number }, changes: Map<number, { id: Buffer; length: number }>): Buffer[] {
    const ids = Buffer.from(this.ids);
    const lengthBytes = Buffer.from(this.lengthBytes);
    const w = 1 + this.head.oidLen;
    for (const [k, c] of changes) {
      c.id.copy(ids, k * w);
      lengthBytes.writeDoubleLE(c.length, k * 8);
    }
    const json = Buffer.from(JSON.stringify({ ...this.head, size, mtimeMs, ...kinds }) + "\n", "utf8");
    return [json, lengthBytes, ids, this.nameEnds, this.nameText];
  }

  get count(): number {
    return this.head.count;
  }

  name(i: number): string {
    const start = i === 0 ? 0 : this.nameEnds.readUInt32LE((i - 1) * 4);
    return this.nameText.toString("utf8", start, this.nameEnds.readUInt32LE(i * 4));
  }

  names(): string[] {
    const out = new Array<string>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.name(i);
    return out;
  }

  modeByte(i: number): number {
    return this.ids[i * (1 + this.head.oidLen)];
  }

  /** "<git mode> <object id>", "" for a directory. */
  id(i: number): string {
    const w = 1 + this.head.oidLen;
    const m = this.ids[i * w];
    if (m === DIR) return "";
    return `${MODES[m] ?? "?"} ${this.ids.toString("hex", i * w + 1, (i + 1) * w)}`;
  }

  /** Index of planned name `name` (no trailing "/"), or -1; names are sorted as planArchive sorts them. */
  find(name: string): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      let v = this.name(mid);
      if (v.endsWith("/")) v = v.slice(0, -1);
      if (v < name) lo = mid + 1;
      else if (v > name) hi = mid - 1;
      else return mid;
    }
    return -1;
  }
}

/** The size of the pieces an index is made in. */
const PIECE = 1 << 20;
/** Pieces of indexes already stored, for the next index (a compile's indexes are made one after another). */
const sparePieces: Buffer[] = [];

/** Drops the pieces kept for the next index (at the end of a compile's archives). */
export function releaseIndexPieces(): void {
  sparePieces.length = 0;
}

/** Bytes written into PIECE-sized buffers, taken from and given back to `sparePieces`: an index is never one big
 *  buffer doubled as it grows, and the next index reuses the memory (at 300k files the biggest index is ~60 MB; one
 *  buffer doubling, and the garbage of each index until V8 collected it, were ~100 MB of peak RSS, measured). */
class Pieces {
  private readonly done: Buffer[] = [];
  private readonly owned: Buffer[] = [];
  private cur: Buffer;
  /** Bytes used in `cur`. */
  used = 0;
  /** Bytes in all. */
  total = 0;

  constructor() {
    this.cur = this.take(PIECE);
  }

  /** `cur` with at least `n` bytes free after `used`. */
  room(n: number): Buffer {
    if (this.cur.length - this.used >= n) return this.cur;
    this.done.push(this.cur.subarray(0, this.used));
    this.cur = this.take(Math.max(n, PIECE));
    this.used = 0;
    return this.cur;
  }

  /** Records `n` more bytes written into `cur` at `used`. */
  wrote(n: number): void {
    this.used += n;
    this.total += n;
  }

  pieces(): Buffer[] {
    return [...this.done, this.cur.subarray(0, this.used)];
  }

  /** Gives the buffers back for the next index; the pieces are not to be used after. */
  release(): void {
    for (const b of this.owned) if (b.length === PIECE) sparePieces.push(b);
    this.owned.length = 0;
  }

  private take(n: number): Buffer {
    const b = (n === PIECE ? sparePieces.pop() : undefined) ?? Buffer.allocUnsafe(n);
    this.owned.push(b);
    return b;
  }
}

/** An archive's index made entry by entry (names are never all kept as strings). */
class IndexBuilder {
  private readonly w: number;
  private readonly ids = new Pieces();
  private readonly nameEnds = new Pieces();
  private readonly text = new Pieces();
  private i = 0;

  constructor(
    private readonly count: number,
    private readonly oidLen: number,
  ) {
    this.w = 1 + oidLen;
  }

  /** With `raw` (the record of a file entry in a raw listing), the object id is copied from the record's hex digits
   *  (p.source.oid is not read). */
  add(p: PlannedEntry, raw?: { listing: RawListing; record: number }): void {
    const ids = this.ids.room(this.w);
    const at = this.ids.used;
    const text = this.text.room(p.name.length * 3 + 1);
    let n = text.write(p.name, this.text.used, "utf8");
    if (p.kind === "dir") {
      ids[at] = DIR;
      ids.fill(0, at + 1, at + this.w);
      text[this.text.used + n++] = 0x2f;
    } else {
      ids[at] = MODES.indexOf(p.source.mode);
      if (raw) hexOid(raw.listing, raw.record, ids, at + 1, this.w - 1);
      else ids.write(p.source.oid, at + 1, this.w - 1, "hex");
    }
    this.ids.wrote(this.w);
    this.text.wrote(n);
    this.nameEnds.room(4).writeUInt32LE(this.text.total, this.nameEnds.used);
    this.nameEnds.wrote(4);
    this.i++;
  }

  /** add() of a directory whose name is `name[0, len)` (UTF-8, without the "/"). */
  addDirBytes(name: Buffer, len: number): void {
    const ids = this.ids.room(this.w);
    const at = this.ids.used;
    ids[at] = DIR;
    for (let k = at + 1; k < at + this.w; k++) ids[k] = 0;
    this.ids.wrote(this.w);
    const text = this.text.room(len + 1);
    const o = this.text.used;
    // (loops: Buffer#copy's call costs more than copying a name's few dozen bytes)
    for (let k = 0; k < len; k++) text[o + k] = name[k];
    text[o + len] = 0x2f;
    this.text.wrote(len + 1);
    this.ended();
  }

  /** add() of the file of `listing`'s record `record`, whose name is `head` then `buf[start, end)` (UTF-8). */
  addFileBytes(head: Buffer, buf: Buffer, start: number, end: number, listing: RawListing, record: number): void {
    const ids = this.ids.room(this.w);
    const at = this.ids.used;
    ids[at] = MODES.indexOf(listing.mode(record));
    hexOid(listing, record, ids, at + 1, this.w - 1);
    this.ids.wrote(this.w);
    const n = head.length + end - start;
    const text = this.text.room(n);
    let o = this.text.used;
    for (let k = 0; k < head.length; k++) text[o++] = head[k];
    for (let k = start; k < end; k++) text[o++] = buf[k];
    this.text.wrote(n);
    this.ended();
  }

  private ended(): void {
    this.nameEnds.room(4).writeUInt32LE(this.text.total, this.nameEnds.used);
    this.nameEnds.wrote(4);
    this.i++;
  }

  /** Entries added so far. */
  get added(): number {
    return this.i;
  }

  finish(head: Omit<ArchiveIndex["head"], "count" | "oidLen">, lengths: ArrayLike<number>): Buffer[] {
    if (this.i !== this.count) throw new Error(`internal: archive index of ${this.i} entries, ${this.count} planned`);
    const json = Buffer.from(JSON.stringify({ ...head, count: this.count, oidLen: this.oidLen }) + "\n", "utf8");
    return [json, float64LE(lengths), ...this.ids.pieces(), ...this.nameEnds.pieces(), ...this.text.pieces()];
  }

  /** Gives its memory to the next index; what finish returned is not to be used after. */
  release(): void {
    this.ids.release();
    this.nameEnds.release();
    this.text.release();
  }
}

/** Value of each hex digit's byte, -1 for any other byte. */
const HEX = new Int8Array(256).fill(-1);
for (let d = 0; d < 16; d++) HEX["0123456789abcdef".charCodeAt(d)] = HEX["0123456789ABCDEF".charCodeAt(d)] = d;

/** Writes the object id of `listing`'s record `record` as `len` raw bytes at `to[at]` (the hex digits of the record
 *  decoded in place, as Buffer's "hex" write would decode them: up to the first byte that is not a digit pair;
 *  the rest zero). */
function hexOid(listing: RawListing, record: number, to: Buffer, at: number, len: number): void {
  const buf = listing.buf;
  const start = listing.recordStart(record);
  let tab = start + 52; // "<6-digit mode> blob <40-hex id>\t", the commonest header
  if (buf[tab] !== 9) tab = buf.indexOf(9, start);
  const from = buf.lastIndexOf(32, tab) + 1;
  let k = 0;
  for (; k < len && from + 2 * k + 1 < tab; k++) {
    const hi = HEX[buf[from + 2 * k]];
    const lo = HEX[buf[from + 2 * k + 1]];
    if (hi < 0 || lo < 0) break;
    to[at + k] = (hi << 4) | lo;
  }
  for (; k < len; k++) to[at + k] = 0;
}

/** The id bytes of a file or link entry (mode byte + raw object id); undefined for a mode the index does not hold. */
function idBytes(e: TreeEntry, oidLen: number): Buffer | undefined {
  const m = MODES.indexOf(e.mode);
  if (m < 0 || e.oid.length !== oidLen * 2) return undefined;
  const b = Buffer.allocUnsafe(1 + oidLen);
  b[0] = m;
  b.write(e.oid, 1, "hex");
  return b;
}

function archiveKey(tree: string, m: GitMappingSpec): string {
  return keyOf("archive", tree, m.add, m.to, m.includePaths, m.excludePaths, m.owner ?? null, m.group ?? null, 0);
}

/** Whether the archive of `mapping` at `listing` is sure to be planned and written cold (prepareCachedArchive): no
 *  cache entry for it, nor for it at the tree the listing was derived from. Only looks whether the entries exist. */
export function archivePlannedCold(store: CacheStore, listing: CachedListing, mapping: GitMappingSpec): boolean {
  if (store.has("archive", archiveKey(listing.tree, mapping))) return false;
  return !(listing.base && store.has("archive", archiveKey(listing.base.tree, mapping)));
}

function readIndex(store: CacheStore, key: string): { index: ArchiveIndex; tar: string } | undefined {
  const buf = store.get("archive", key);
  const index = buf ? ArchiveIndex.decode(buf) : undefined;
  if (!index) return undefined;
  const tar = `${store.file("archive", key)}.tar`;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(tar);
  } catch {
    return undefined;
  }
  // the tar the store wrote (a read-only file of this user), never a link to something else
  if (!ownFile(st, 0o444) || st.size !== index.head.size || st.mtimeMs !== index.head.mtimeMs) {
    fs.rmSync(tar, { force: true }); // rewritten or truncated: never read, and made again
    return undefined;
  }
  return { index, tar };
}

/** When every change the mapping sees modifies a file or link in place (same path before and after, a mode the
 *  index holds), the entries to write again (index in the old archive → new entry); otherwise undefined. */
function modifiedInPlace(changes: readonly TreeChange[], mapping: GitMappingSpec, old: ArchiveIndex): Map<number, TreeEntry> | undefined {
  const matcher = mappingMatcher(mapping);
  const scope = mappingScope(mapping);
  const target = mappingTarget(mapping);
  const modified = new Map<number, TreeEntry>();
  for (const c of changes) {
    if (!matcher.isPathMatched(c.path)) continue;
    if (!c.before || !c.after || c.before.type !== "blob" || c.after.type !== "blob" || !MODES.includes(c.after.mode)) return undefined;
    if (c.after.oid.length !== old.head.oidLen * 2) return undefined;
    const rel = matcher.relative(c.path)!;
    const name = scope !== "" && c.path === scope ? target : target === "" ? rel : `${target}/${rel}`;
    const k = old.find(name);
    if (k < 0 || old.modeByte(k) === DIR) return undefined;
    modified.set(k, c.after);
  }
  return modified;
}

/** Puts the cached tar at `outFile`: a hard link, or a copy across file systems. */
function place(tar: string, outFile: string): void {
  fs.rmSync(outFile, { force: true });
  try {
    fs.linkSync(tar, outFile);
  } catch {
    fs.copyFileSync(tar, outFile);
  }
}

/** How many archives this process served each way (for the tests and the bench). */
export const archiveCounts = { cache: 0, modified: 0, spliced: 0, written: 0 };

export interface CachedArchiveStats {
  how?: "cache" | "modified" | "spliced" | "written";
}

/**
 * Writes the archive of `mapping` over `scoped` (the mapping's `add` scope of `listing`, without submodules) to
 * `outFile` through the cache; undefined when the cache cannot serve it (submodules in scope, cache not writable):
 * the caller then writes the archive itself. Same bytes as writeGitArchive. The summary's `entries` are filled only
 * with `names` (a cached archive does not read them otherwise).
 */
export async function writeCachedArchive(
  store: CacheStore,
  repo: GitRepo,
  listing: CachedListing,
  scopedLater: () => Promise<TreeEntries>,
  mapping: GitMappingSpec,
  outFile: string,
  opts: { names?: boolean; stats?: CachedArchiveStats } = {},
): Promise<ArchiveSummary | undefined> {
  const r = await prepareCachedArchive(store, repo, listing, scopedLater, mapping, outFile, opts);
  if (!r || "summary" in r) return r?.summary;
  let summary: ArchiveSummary;
  try {
    [summary] = await writePlannedArchives(repo, [r.pending.job]);
  } catch (e) {
    r.pending.abort();
    if (e instanceof UserError) throw e;
    return undefined;
  }
  return r.pending.finish(summary);
}

/** A cold archive that prepareCachedArchive planned and left to the caller to write (`job`, into the cache's temp
 *  file), with others of the same listing (writePlannedArchives); then `finish` (stores it, puts it at `outFile`;
 *  undefined when the cache could not take it: the caller writes it without the cache), or `abort` after a failure. */
export interface PendingArchive {
  job: ArchiveJob;
  finish(summary: ArchiveSummary): ArchiveSummary | undefined;
  abort(): void;
}

/**
 * writeCachedArchive up to the point of writing a cold archive planned over a raw listing: that one is returned as
 * `pending`, for the caller to write together with the other archives of the listing (each blob read once); an
 * archive served or written here is `summary`; undefined as writeCachedArchive.
 */
export async function prepareCachedArchive(
  store: CacheStore,
  repo: GitRepo,
  listing: CachedListing,
  scopedLater: () => Promise<TreeEntries>,
  mapping: GitMappingSpec,
  outFile: string,
  opts: {
    names?: boolean;
    stats?: CachedArchiveStats;
    /** Plans the scope's entries (planArchiveLazy's result, e.g. made with other archives: planArchivesTogether). */
    plan?: (entries: TreeEntries) => Promise<PlannedArchive>;
  } = {},
): Promise<{ summary: ArchiveSummary } | { pending: PendingArchive } | undefined> {
  // an archive is cached only when its scope holds no submodule and only modes the index holds: a cached one (and
  // one made from it by changes that only modify files in place) needs no listing of the scope
  const key = archiveKey(listing.tree, mapping);
  const tar = `${store.file("archive", key)}.tar`;
  const summaryOf = (index: ArchiveIndex, kinds?: { files: number; symlinks: number }): ArchiveSummary => ({
    entries: opts.names ? index.names() : [],
    files: kinds?.files ?? index.head.files,
    symlinks: kinds?.symlinks ?? index.head.symlinks,
    directories: index.head.directories,
    skippedSubmodules: [],
  });
  const hit = readIndex(store, key);
  if (hit) {
    try {
      place(hit.tar, outFile);
      archiveCounts.cache++;
      if (opts.stats) opts.stats.how = "cache";
      return { summary: summaryOf(hit.index) };
    } catch {
      // evicted by another process meanwhile: made again below
    }
  }
  const old = listing.base ? readIndex(store, archiveKey(listing.base.tree, mapping)) : undefined;
  const modified = old ? modifiedInPlace(listing.base!.changes, mapping, old.index) : undefined;
  try {
    fs.mkdirSync(path.dirname(tar), { recursive: true, mode: 0o700 });
    if (old && modified && modified.size === 0) {
      // nothing the mapping sees changed: the same archive under the new tree's key
      fs.rmSync(tar, { force: true });
      fs.linkSync(old.tar, tar);
      const st = fs.statSync(tar);
      store.put("archive", key, old.index.patched(st.size, st.mtimeMs, old.index.head, new Map()));
      place(tar, outFile);
      archiveCounts.cache++;
      if (opts.stats) opts.stats.how = "cache";
      return { summary: summaryOf(old.index) };
    }
  } catch {
    return undefined;
  }
  const scoped: TreeEntries = old && modified ? [] : await scopedLater();
  let first: TreeEntry | undefined;
  for (const e of scoped) {
    first = e;
    break;
  }
  // (ls-tree -r lists no trees: a submodule is mode 160000, which MODES does not hold)
  const cacheable = scoped instanceof ListingRange ? scoped.everyMode(MODES) : !someEntry(scoped, (e) => e.type === "commit" || !MODES.includes(e.mode));
  if (!(old && modified) && (!first || !cacheable)) return undefined;
  const oidLen = old && modified ? old.index.head.oidLen : first!.oid.length / 2;
  const tmp = `${tar}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  let oldFile: FileHandle | undefined;
  let index: BuiltIndex;
  let summary: ArchiveSummary;
  let how: CachedArchiveStats["how"];
  try {
    if (old && modified) {
      // write the modified entries again, copy everything between them
      how = "modified";
      oldFile = await open(old.tar, "r");
      const order = [...modified.keys()].sort((a, b) => a - b);
      const offsets = new Float64Array(old.index.count + 1);
      for (let i = 0; i < old.index.count; i++) offsets[i + 1] = offsets[i] + old.index.lengths[i];
      const planned: PlannedEntry[] = [];
      const ranges: ArchiveSplice["ranges"] = [];
      let from = 0;
      order.forEach((k, n) => {
        if (offsets[k] > offsets[from]) ranges.push({ before: n, offset: offsets[from], length: offsets[k] - offsets[from] });
        const e = modified.get(k)!;
        planned.push({ name: old.index.name(k), kind: e.mode === "120000" ? "symlink" : "file", source: e });
        from = k + 1;
      });
      const end = old.index.count;
      if (offsets[end] > offsets[from]) ranges.push({ before: planned.length, offset: offsets[from], length: offsets[end] - offsets[from] });
      const lengths: number[] = [];
      await writePlannedArchive(repo, planned, mapping, tmp, { splice: { file: oldFile, ranges }, lengths });
      const kinds = { files: old.index.head.files, symlinks: old.index.head.symlinks };
      const changes = new Map<number, { id: Buffer; length: number }>();
      order.forEach((k, n) => {
        const wasLink = old.index.modeByte(k) === MODES.indexOf("120000");
        const isLink = planned[n].kind === "symlink";
        if (wasLink !== isLink) {
          kinds.files += wasLink ? 1 : -1;
          kinds.symlinks += wasLink ? -1 : 1;
        }
        changes.set(k, { id: idBytes(modified.get(k)!, oidLen)!, length: lengths[n] });
      });
      fs.chmodSync(tmp, 0o444);
      fs.renameSync(tmp, tar);
      const st = fs.statSync(tar);
      index = { parts: old.index.patched(st.size, st.mtimeMs, kinds, changes) };
      summary = summaryOf(old.index, kinds); // the same names
    } else {
      const { planned: lazy } = opts.plan ? await opts.plan(scoped) : planArchiveLazy(scoped, mapping);
      if (!(old && old.index.head.oidLen === oidLen) && lazy instanceof ArchivePlan && lazy.rawListing) {
        // cold, over a raw listing: written by the caller with the other archives of the listing
        return { pending: pendingArchive(lazy, mapping, tmp, tar, oidLen, opts.names === true, (index, summary) => complete(index, summary, "written")) };
      }
      // an archive to copy from is matched entry by entry (an array); a cold one is planned without objects
      const planned = old && old.index.head.oidLen === oidLen && !Array.isArray(lazy) ? [...lazy] : lazy;
      let reuse: ReusableArchive | undefined;
      how = "written";
      if (old && old.index.head.oidLen === oidLen) {
        // entries equal to the old archive's (same name and id) are copied from it
        how = "spliced";
        const oldNames = old.index.names();
        const at = new Float64Array(planned.length).fill(-1);
        const lengths = new Float64Array(planned.length);
        let j = 0;
        let offset = 0;
        for (let i = 0; i < planned.length; i++) {
          const p = (planned as readonly PlannedEntry[])[i];
          const bare = (n: string) => (n.endsWith("/") ? n.slice(0, -1) : n);
          while (j < oldNames.length && bare(oldNames[j]) < p.name) offset += old.index.lengths[j++];
          const name = p.kind === "dir" ? `${p.name}/` : p.name;
          if (j < oldNames.length && oldNames[j] === name && old.index.id(j) === (p.kind === "dir" ? "" : `${p.source.mode} ${p.source.oid}`)) {
            at[i] = offset;
            lengths[i] = old.index.lengths[j];
          }
        }
        oldFile = await open(old.tar, "r");
        reuse = { file: oldFile, at, lengths };
      }
      const lengths: number[] = [];
      summary = await writePlannedArchive(repo, planned, mapping, tmp, { reuse, lengths, names: opts.names === true });
      fs.chmodSync(tmp, 0o444);
      fs.renameSync(tmp, tar);
      index = buildIndex(planned, oidLen, fs.statSync(tar), summary, lengths);
    }
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    if (e instanceof UserError) throw e;
    return undefined; // the cache folder is not writable, or the old archive went away: written without the cache
  } finally {
    await oldFile?.close();
  }
  const done = complete(index, summary, how);
  return done && { summary: done };

  /** Stores the index of the tar now at `tar` and puts it at `outFile`. */
  function complete(index: BuiltIndex, summary: ArchiveSummary, how: NonNullable<CachedArchiveStats["how"]>): ArchiveSummary | undefined {
    store.put("archive", key, index.parts);
    index.release?.();
    try {
      place(tar, outFile);
    } catch {
      return undefined; // evicted by another process meanwhile: written without the cache
    }
    archiveCounts[how]++;
    if (opts.stats) opts.stats.how = how;
    return summary;
  }
}

/** A cold archive of `planned` to write into `tmp`, then moved to the cache's `tar`, its index made by `complete`. */
function pendingArchive(
  planned: ArchivePlan,
  mapping: GitMappingSpec,
  tmp: string,
  tar: string,
  oidLen: number,
  names: boolean,
  complete: (index: BuiltIndex, summary: ArchiveSummary) => ArchiveSummary | undefined,
): PendingArchive {
  const lengths = new EntryLengths(planned.length);
  // the index made beside the tar as its entries are written (no pass after it), while the indexes in flight stay
  // under INDEX_IN_FLIGHT; the others are made after their tar, one at a time
  const estimate = planned.length * (1 + oidLen + 4 + INDEX_NAME_ESTIMATE);
  let builder: IndexBuilder | undefined;
  if (planned.rawListing!.length <= IN_FLIGHT_MAX_RECORDS && indexInFlight + estimate <= INDEX_IN_FLIGHT && planned.byteSteps() !== undefined) {
    indexInFlight += estimate;
    builder = new IndexBuilder(planned.length, oidLen);
  }
  const done = () => {
    if (!builder) return;
    builder = undefined;
    indexInFlight -= estimate;
  };
  return {
    job: { planned, mapping, outFile: tmp, names, lengths, ...(builder ? { index: builder } : {}) },
    finish(summary) {
      let index: BuiltIndex;
      try {
        fs.chmodSync(tmp, 0o444);
        fs.renameSync(tmp, tar);
        const st = fs.statSync(tar);
        if (lengths.length !== planned.length) throw new Error(`internal: ${lengths.length} entry lengths, ${planned.length} planned`);
        const made = builder;
        if (made && made.added === planned.length) {
          const parts = made.finish({ size: st.size, mtimeMs: st.mtimeMs, files: summary.files, symlinks: summary.symlinks, directories: summary.directories }, lengths.values);
          index = { parts, release: () => (made.release(), done()) };
        } else {
          made?.release();
          done();
          index = buildIndex(planned, oidLen, st, summary, lengths.values);
        }
      } catch {
        builder?.release();
        done();
        fs.rmSync(tmp, { force: true });
        return undefined;
      }
      return complete(index, summary);
    },
    abort() {
      builder?.release();
      done();
      fs.rmSync(tmp, { force: true });
    },
  };
}

/** The bytes the indexes made beside their tars (pendingArchive) may take in all, estimated. At 300k files a compile's
 *  indexes are ~150 MB: made one after another after the tars, they are never all alive at once. */
const INDEX_IN_FLIGHT = 48 << 20;
/** Indexes are made beside their tars only for listings of at most this many records: the rest of a compile's memory
 *  grows with the listing, and at 300k files (a peak of ~275 MB without them) the indexes in flight added 15–30 MB
 *  even under a 24 MiB bound (each index takes 1 MiB pieces of three kinds), over the 300 MB target (measured). At
 *  100k files they save the pass after the tar (~0.1 s of CPU) for ~30 MB of peak RSS. */
const IN_FLIGHT_MAX_RECORDS = 200_000;
/** The name bytes of an index entry, estimated. */
const INDEX_NAME_ESTIMATE = 64;
/** The estimated bytes of the indexes in flight. */
let indexInFlight = 0;

/** The index of an archive written from `planned`: built after the tar, not beside it (two big archives' indexes in
 *  flight for their whole write cost ~100 MB of peak RSS at 300k files, measured; one more pass over the plan ~0.1 s). */
function buildIndex(planned: Iterable<PlannedEntry> & { length: number }, oidLen: number, st: fs.Stats, summary: ArchiveSummary, lengths: ArrayLike<number>): BuiltIndex {
  const builder = new IndexBuilder(planned.length, oidLen);
  const listing = planned instanceof ArchivePlan ? planned.rawListing : undefined;
  const bytes =
    listing !== undefined &&
    (planned as ArchivePlan).eachName(
      (name, len) => builder.addDirBytes(name, len),
      (head, buf, start, end, record) => builder.addFileBytes(head, buf, start, end, listing, record),
    );
  if (bytes) {
    // every name copied as bytes from the plan's directories and the listing's records
  } else if (listing) {
    // the files' paths and modes decoded, their ids copied from the records
    const light = lightEntries(listing);
    const raw = { listing, record: -1 };
    const entryAt = (i: number): TreeEntry => {
      raw.record = i;
      return light(i);
    };
    // (a walk asks for a file's record before yielding the directories that come before that file)
    for (const p of (planned as ArchivePlan).walk(entryAt, true)) builder.add(p, p.kind === "dir" ? undefined : raw);
  } else for (const p of planned instanceof ArchivePlan ? planned.walk(undefined, true) : planned) builder.add(p);
  const parts = builder.finish({ size: st.size, mtimeMs: st.mtimeMs, files: summary.files, symlinks: summary.symlinks, directories: summary.directories }, lengths);
  return { parts, release: () => builder.release() };
}

/** An index as stored (its parts), and what gives its memory back once stored. */
interface BuiltIndex {
  parts: Buffer[];
  release?: () => void;
}
