// The files of a commit: `git ls-tree -r -z --full-tree`, streamed and parsed.

import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { UserError } from "../diagnostics.js";
import { gitMissingError, spawnGit, type GitRepo } from "./repo.js";

export type TreeEntryType = "blob" | "tree" | "commit";

export interface TreeEntry {
  /** Repository-relative path, "/"-separated, no leading slash. */
  path: string;
  /** Git mode as octal text: "100644", "100755", "120000" (symlink), "160000" (submodule), "040000" (tree). */
  mode: string;
  /** "commit" is a submodule (gitlink). */
  type: TreeEntryType;
  /** Object id (hex). */
  oid: string;
}

export interface ListTreeOptions {
  /** Also list directories (`ls-tree -t`), each before its contents. */
  directories?: boolean;
  /** Only list this repository-relative path (a directory or a file) and what is below it. "" = all. */
  scope?: string;
}

/** Parses one `ls-tree -z` record: "<mode> SP <type> SP <oid> TAB <path>". */
export function parseTreeRecord(record: string): TreeEntry {
  const tab = record.indexOf("\t");
  const [mode, type, oid] = record.slice(0, tab).split(" ");
  if (tab < 0 || !oid || (type !== "blob" && type !== "tree" && type !== "commit")) {
    throw new Error(`unexpected git ls-tree record: ${JSON.stringify(record)}`);
  }
  return { mode, type, oid, path: record.slice(tab + 1) };
}

/** Parses the record in `buf` from `start` to `end` (its NUL) without decoding the header as UTF-8. */
function parseRecordAt(buf: Buffer, start: number, end: number): TreeEntry {
  const tab = buf.indexOf(9, start);
  if (tab < 0 || tab > end) return parseTreeRecord(buf.toString("utf8", start, end)); // throws
  const sp1 = buf.indexOf(32, start);
  const sp2 = sp1 < 0 ? -1 : buf.indexOf(32, sp1 + 1);
  if (sp1 < 0 || sp2 < 0 || sp2 > tab) return parseTreeRecord(buf.toString("utf8", start, end)); // throws
  const type = recordType(buf, sp1 + 1, sp2);
  if (type === undefined) return parseTreeRecord(buf.toString("utf8", start, end));
  return {
    mode: recordMode(buf, start, sp1),
    type,
    oid: buf.toString("latin1", sp2 + 1, tab),
    path: buf.toString("utf8", tab + 1, end),
  };
}

/** The type field of a record as one of the constant strings (no string made per entry). */
function recordType(buf: Buffer, from: number, to: number): TreeEntryType | undefined {
  const len = to - from;
  if (len === 4 && buf[from] === 0x62 && buf[from + 1] === 0x6c && buf[from + 2] === 0x6f && buf[from + 3] === 0x62) return "blob";
  if (len === 4 && buf[from] === 0x74 && buf[from + 1] === 0x72 && buf[from + 2] === 0x65 && buf[from + 3] === 0x65) return "tree";
  if (len === 6 && buf.toString("latin1", from, to) === "commit") return "commit";
  return undefined;
}

const MODES = ["100644", "100755", "120000", "040000", "160000"];

/** The mode field of a record, the common ones as constant strings. */
function recordMode(buf: Buffer, from: number, to: number): string {
  if (to - from === 6) {
    for (const m of MODES) {
      let same = true;
      for (let i = 0; i < 6; i++) {
        if (buf[from + i] !== m.charCodeAt(i)) {
          same = false;
          break;
        }
      }
      if (same) return m;
    }
  }
  return buf.toString("latin1", from, to);
}

/** The entries of `commit`, a batch per chunk of git's output (one await per chunk, not per entry). */
async function* lsTreeBatches(repo: GitRepo, commit: string, opts: ListTreeOptions, raw?: Buffer[]): AsyncGenerator<TreeEntry[]> {
  const args = ["ls-tree", "-r", "-z", "--full-tree"];
  if (opts.directories) args.push("-t");
  args.push(commit);
  if (opts.scope) args.push("--", opts.scope);
  const child = spawnGit(repo.root, args);
  child.stdin!.end();
  const stderr: Buffer[] = [];
  child.stderr!.on("data", (b: Buffer) => stderr.push(b));
  const done = new Promise<number>((resolve, reject) => {
    child.on("error", (e) => reject(gitMissingError(e)));
    child.on("close", (code) => resolve(code ?? 1));
  });
  done.catch(() => {}); // observed below
  const scopePrefix = opts.scope ? `${opts.scope}/` : "";
  let pending: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
      raw?.push(chunk);
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      const batch: TreeEntry[] = [];
      let start = 0;
      for (let nul = pending.indexOf(0, start); nul >= 0; nul = pending.indexOf(0, start)) {
        const entry = parseRecordAt(pending, start, nul);
        start = nul + 1;
        // with -t, git also lists the scope and its parents: only what is below the scope counts
        if (scopePrefix && entry.type === "tree" && !entry.path.startsWith(scopePrefix)) continue;
        batch.push(entry);
      }
      pending = pending.subarray(start);
      if (batch.length > 0) yield batch;
    }
  } finally {
    if (child.exitCode === null) child.kill();
  }
  const code = await done;
  if (code !== 0) {
    throw new UserError({
      message: `cannot list the files of commit ${commit}: ${Buffer.concat(stderr).toString("utf8").trim().split("\n")[0]}`,
    });
  }
}

/** Streams the entries of `commit`, in git's order (by path, directories before their contents). */
export async function* lsTree(repo: GitRepo, commit: string, opts: ListTreeOptions = {}): AsyncGenerator<TreeEntry> {
  for await (const batch of lsTreeBatches(repo, commit, opts)) yield* batch;
}

/** All entries of `commit` (see lsTree). With `raw`, git's output is kept there too (`ls-tree -r -z` records,
 *  which parseListing reads back: the persistent cache stores them as they are). */
export async function listTree(repo: GitRepo, commit: string, opts: ListTreeOptions = {}, raw?: Buffer[]): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  for await (const batch of lsTreeBatches(repo, commit, opts, raw)) for (const e of batch) out.push(e);
  return out;
}

/** The entries of `ls-tree -r -z` output held in `buf`; undefined when it is not such output. */
export function parseListing(buf: Buffer): TreeEntry[] | undefined {
  const out: TreeEntry[] = [];
  let start = 0;
  try {
    for (let nul = buf.indexOf(0, start); nul >= 0; nul = buf.indexOf(0, start)) {
      out.push(parseRecordAt(buf, start, nul));
      start = nul + 1;
    }
  } catch {
    return undefined;
  }
  return start === buf.length ? out : undefined;
}

/** Compares paths by their UTF-8 bytes (git's order for `ls-tree -r` paths), not by UTF-16 code units. */
export function compareGitPaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // surrogates (code points above U+FFFF) sort after every other BMP unit in UTF-8
    if (x >= 0xd800) x = x < 0xe000 ? x + 0x2000 : x - 0x800;
    if (y >= 0xd800) y = y < 0xe000 ? y + 0x2000 : y - 0x800;
    return x - y;
  }
  return a.length - b.length;
}

const sortedListings = new WeakMap<readonly TreeEntry[], boolean>();

/** Whether `entries` are in compareGitPaths order (git lists valid UTF-8 paths so; a path that is not valid UTF-8
 *  is decoded with U+FFFD and may sort elsewhere): checked once per listing array. */
export function inGitOrder(entries: readonly TreeEntry[]): boolean {
  let ok = sortedListings.get(entries);
  if (ok === undefined) {
    ok = true;
    for (let i = 1; i < entries.length && ok; i++) ok = compareGitPaths(entries[i - 1].path, entries[i].path) < 0;
    sortedListings.set(entries, ok);
  }
  return ok;
}

/** The first index of sorted (inGitOrder) `entries` whose path is not before `p`. */
export function lowerBound(entries: readonly TreeEntry[], p: string, from = 0): number {
  let lo = from;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareGitPaths(entries[mid].path, p) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A commit's listing in git's order, read entry by entry: an array of entries, or `ls-tree -r -z` bytes decoded only
 * where they are looked at (a 100k-entry listing costs ~0.1–0.3 s to turn into objects; a lookup needs a few).
 */
export interface Listing {
  readonly length: number;
  path(i: number): string;
  entry(i: number): TreeEntry;
  /** Every entry as an object (made once). */
  all(): TreeEntry[];
  /** Whether the paths are in compareGitPaths order (binary search and prefix ranges work). */
  ordered(): boolean;
}

export function arrayListing(entries: TreeEntry[]): Listing {
  return {
    length: entries.length,
    path: (i) => entries[i].path,
    entry: (i) => entries[i],
    all: () => entries,
    ordered: () => inGitOrder(entries),
  };
}

/** Buffer's own UTF-8 decoder when node has it (what `toString("utf8", …)` calls after checking its arguments). */
const utf8Slice: (this: Buffer, start: number, end: number) => string =
  (Buffer.prototype as unknown as { utf8Slice?: (this: Buffer, start: number, end: number) => string }).utf8Slice ??
  function (this: Buffer, start: number, end: number) {
    return this.toString("utf8", start, end);
  };

/** `ls-tree -r -z` output, decoded on demand. */
export class RawListing implements Listing {
  /** Record i is buf[starts[i], starts[i + 1] - 1) (its NUL at starts[i + 1] - 1). */
  private readonly starts: Uint32Array;
  private objects?: TreeEntry[];
  private isOrdered?: boolean;
  readonly length: number;

  /** Undefined when `buf` is not whole `ls-tree -r -z` records. `objects`: its entries, when already parsed. */
  static parse(buf: Buffer, objects?: TreeEntry[]): RawListing | undefined {
    const starts = new RecordStarts();
    starts.scan(buf, 0);
    return RawListing.indexed(buf, starts.done(), objects);
  }

  /** The listing of `buf` whose record starts (0, then each NUL's offset + 1) are already known. */
  static indexed(buf: Buffer, starts: Uint32Array, objects?: TreeEntry[]): RawListing | undefined {
    if (starts.length === 0 || starts[starts.length - 1] !== buf.length || buf.length > 0xffffffff) return undefined;
    const l = new RawListing(buf, starts);
    if (objects && objects.length === l.length) l.objects = objects;
    // a record that does not parse makes the whole listing unusable (checked on the first and last ones; every
    // record is parsed when used, and the store's checksum vouches for the bytes)
    try {
      if (l.length > 0) {
        l.entry(0);
        l.entry(l.length - 1);
      }
    } catch {
      return undefined;
    }
    return l;
  }

  private constructor(
    readonly buf: Buffer,
    starts: Uint32Array,
  ) {
    this.starts = starts;
    this.length = starts.length - 1;
  }

  path(i: number): string {
    if (this.objects) return this.objects[i].path;
    const start = this.starts[i];
    // "<6-digit mode> blob <40-hex id>\t": the tab of the commonest header found without a search (no header is
    // shorter, and none holds a tab before its own)
    let tab = start + 52;
    if (this.buf[tab] !== 9) tab = this.buf.indexOf(9, start);
    return utf8Slice.call(this.buf, tab + 1, this.starts[i + 1] - 1);
  }

  entry(i: number): TreeEntry {
    return this.objects ? this.objects[i] : parseRecordAt(this.buf, this.starts[i], this.starts[i + 1] - 1);
  }

  all(): TreeEntry[] {
    if (!this.objects) {
      const out = new Array<TreeEntry>(this.length);
      for (let i = 0; i < this.length; i++) out[i] = parseRecordAt(this.buf, this.starts[i], this.starts[i + 1] - 1);
      this.objects = out;
    }
    return this.objects;
  }

  /** git lists paths in byte order; when every path is valid UTF-8 that is compareGitPaths order. */
  ordered(): boolean {
    this.isOrdered ??= this.utf8() || inGitOrder(this.all());
    return this.isOrdered;
  }

  /** Whether record i is a directory (mode 040000), read from its first bytes. */
  isTree(i: number): boolean {
    if (this.objects) return this.objects[i].type === "tree";
    const b = this.buf;
    const s = this.starts[i];
    return b[s] === 0x30 && b[s + 1] === 0x34 && b[s + 2] === 0x30 && b[s + 3] === 0x30 && b[s + 4] === 0x30 && b[s + 5] === 0x30 && b[s + 6] === 0x20;
  }

  /** Record i's mode field (a constant string for the common modes; nothing else decoded). */
  mode(i: number): string {
    if (this.objects) return this.objects[i].mode;
    const start = this.starts[i];
    return recordMode(this.buf, start, this.buf.indexOf(32, start));
  }

  /** Offset of record i in `buf` (its mode field). */
  recordStart(i: number): number {
    return this.starts[i];
  }

  /** Offset of record i's NUL in `buf` (the end of its path). */
  recordEnd(i: number): number {
    return this.starts[i + 1] - 1;
  }

  /** Whether every byte of the listing is valid UTF-8 (then each path's string encodes back to its bytes). */
  utf8(): boolean {
    this.isUtf8 ??= isUtf8(this.buf);
    return this.isUtf8;
  }

  private isUtf8?: boolean;
  private isBmp?: boolean;

  /** Valid UTF-8 without 4-byte sequences: no path holds a character above U+FFFF, so the listing's order (UTF-8
   *  bytes) is also the order of JavaScript's string comparison (UTF-16 units). */
  bmpOnly(): boolean {
    this.isBmp ??= this.utf8() && [0xf0, 0xf1, 0xf2, 0xf3, 0xf4].every((b) => this.buf.indexOf(b) < 0);
    return this.isBmp;
  }

  /** Record i's "<mode> <oid>" (the header's fields with the type left out), decoded alone. */
  modeAndOid(i: number): string {
    if (this.objects) return `${this.objects[i].mode} ${this.objects[i].oid}`;
    const start = this.starts[i];
    const sp1 = this.buf.indexOf(32, start);
    const tab = this.buf.indexOf(9, sp1);
    const sp2 = this.buf.lastIndexOf(32, tab);
    return `${recordMode(this.buf, start, sp1)} ${this.buf.toString("latin1", sp2 + 1, tab)}`;
  }

  /** Adds record i's object id to `lines` (its bytes copied, nothing decoded); false as OidLines.push. */
  pushOid(i: number, lines: { pushBytes(src: Buffer, start: number, end: number): boolean }): boolean {
    if (this.objects) {
      const oid = this.objects[i].oid;
      const b = Buffer.from(oid, "latin1");
      return lines.pushBytes(b, 0, b.length);
    }
    const tab = this.buf.indexOf(9, this.starts[i]);
    const sp = this.buf.lastIndexOf(32, tab);
    return lines.pushBytes(this.buf, sp + 1, tab);
  }

  /** The bytes of records [from, to). */
  slice(from: number, to: number): Buffer {
    return this.buf.subarray(this.starts[from], this.starts[to]);
  }
}

/** One `ls-tree -r -z` record. */
export function encodeRecord(e: TreeEntry): string {
  return `${e.mode} ${e.type} ${e.oid}\t${e.path}\0`;
}

/** The first index of ordered `listing` whose path is not before `p`. */
export function listingLowerBound(listing: Listing, p: string, from = 0): number {
  let lo = from;
  let hi = listing.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareGitPaths(listing.path(mid), p) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}


/** The record starts of a listing (0, then each NUL's offset + 1), found chunk by chunk. */
class RecordStarts {
  private starts = new Uint32Array(4096);
  private n = 1; // starts[0] = 0

  /** Adds the NULs of `chunk`, which lies at `offset` of the whole. */
  scan(chunk: Buffer, offset: number): void {
    for (let nul = chunk.indexOf(0); nul >= 0; nul = chunk.indexOf(0, nul + 1)) {
      if (this.n === this.starts.length) {
        const grown = new Uint32Array(this.starts.length * 2);
        grown.set(this.starts);
        this.starts = grown;
      }
      this.starts[this.n++] = offset + nul + 1;
    }
  }

  done(): Uint32Array {
    return this.starts.subarray(0, this.n);
  }
}

/** A listing from git as it streams in: the record starts found and the bytes hashed while git is still listing. */
export interface StreamedListing {
  buf: Buffer;
  /** Undefined when the output is not whole `ls-tree -r -z` records. */
  listing?: RawListing;
  /** sha256 (hex) of `buf`, when asked for. */
  sha256?: string;
}

/**
 * Who wants a listing's records while git is still writing them (lsTreeStreamed's `stream`): each watcher is given
 * the records so far as a RawListing and the window [from, to) of those it has not seen, window after window in
 * order, the first one from 0. Only a listing whose bytes are all valid UTF-8 (so in the order binary search
 * compares with) is streamed: at the first other record the watchers are dropped (`failed`), and what they wanted is
 * made from the whole listing as before.
 */
export class ListingStream {
  private watchers: ((l: RawListing, from: number, to: number) => void)[] = [];
  private view?: RawListing;
  /** Whether git was started for it (a listing from the cache is not streamed). */
  started = false;
  /** Whether git is done (or failed): no more windows. */
  ended = false;
  failed = false;

  /** Calls `f` with every window, the ones already in at once; false when the stream has ended or failed. */
  watch(f: (l: RawListing, from: number, to: number) => void): boolean {
    if (this.ended || this.failed) return false;
    if (this.view && this.view.length > 0) f(this.view, 0, this.view.length);
    this.watchers.push(f);
    return true;
  }

  /** Records [from, to) are in, `l` holding every record so far. */
  feed(l: RawListing, from: number, to: number): void {
    this.view = l;
    for (const w of this.watchers) w(l, from, to);
  }

  fail(): void {
    this.failed = true;
    this.watchers = [];
    this.view = undefined;
  }

  end(): void {
    this.ended = true;
    this.watchers = [];
    this.view = undefined;
  }
}

/** `git ls-tree -r -z --full-tree <commit>` as git wrote it, not parsed (RawListing reads it where needed). */
export async function lsTreeRaw(repo: GitRepo, commit: string): Promise<Buffer> {
  return (await lsTreeStreamed(repo, commit, { index: false })).buf;
}

/**
 * lsTreeRaw, with the work that is proportional to the listing done on each chunk as git writes it (node works while
 * git lists): the record starts of a RawListing and, with `hash`, the sha256 the persistent cache stores it with;
 * with `stream`, the records so far handed to its watchers chunk by chunk.
 */
export async function lsTreeStreamed(
  repo: GitRepo,
  commit: string,
  opts: { index?: boolean; hash?: boolean; stream?: ListingStream; windowBytes?: number } = {},
): Promise<StreamedListing> {
  const child = spawnGit(repo.root, ["ls-tree", "-r", "-z", "--full-tree", commit]);
  child.stdin!.end();
  const stderr: Buffer[] = [];
  child.stderr!.on("data", (b: Buffer) => stderr.push(b));
  const done = new Promise<number>((resolve, reject) => {
    child.on("error", (e) => reject(gitMissingError(e)));
    child.on("close", (code) => resolve(code ?? 1));
  });
  done.catch(() => {}); // awaited below, unless the output failed first
  const stream = opts.index === false ? undefined : opts.stream;
  if (stream) stream.started = true;
  const starts = opts.index === false ? undefined : new RecordStarts();
  const hash = opts.hash ? createHash("sha256") : undefined;
  // the bytes so far in one buffer (grown by doubling): the records in so far are a RawListing at any time
  let all = Buffer.allocUnsafe(1 << 20);
  let size = 0;
  let fed = 0;
  let fedBytes = 0;
  let hashed = 0;
  const window = opts.windowBytes ?? STREAM_WINDOW;
  /** Hashes the bytes not hashed yet and hands the new records to the stream (a watcher's failure drops them all). */
  const flush = () => {
    hash?.update(all.subarray(hashed, size));
    hashed = size;
    if (!stream || stream.failed || !starts) return;
    try {
      feedStream(stream, all, starts, fed, (n) => (fed = n));
    } catch {
      stream.fail();
    }
    fedBytes = size;
  };
  const out = child.stdout!;
  try {
    // 'data' rather than an async iterator: git writes ~12 KiB at a time, ~850 chunks for 100k files
    await new Promise<void>((resolve, reject) => {
      out.on("data", (chunk: Buffer) => {
        try {
          take(chunk);
        } catch (e) {
          // never thrown from an event handler: the listing fails, as it would have from a loop
          out.destroy();
          reject(e);
        }
      });
      out.on("end", resolve);
      out.on("error", reject);
      child.on("error", (e) => reject(gitMissingError(e)));
    });
    flush();
  } finally {
    stream?.end();
  }
  /** One chunk of git's output: copied after the others, its records indexed, the hash and watchers fed per window. */
  function take(chunk: Buffer): void {
    if (size + chunk.length > all.length) {
      const grown = Buffer.allocUnsafe(Math.max(all.length * 2, size + chunk.length));
      all.copy(grown, 0, 0, size);
      all = grown;
    }
    chunk.copy(all, size);
    starts?.scan(chunk, size);
    size += chunk.length;
    // the hash and the watchers in windows of 256 KiB or more: each window costs the watchers a few binary searches
    if (size - fedBytes >= window) flush();
  }
  const code = await done;
  if (code !== 0) {
    throw new UserError({
      message: `cannot list the files of commit ${commit}: ${Buffer.concat(stderr).toString("utf8").trim().split("\n")[0]}`,
    });
  }
  const buf = all.subarray(0, size);
  return { buf, listing: starts ? RawListing.indexed(buf, starts.done()) : undefined, sha256: hash?.digest("hex") };
}

/** The least bytes of new records handed to a ListingStream's watchers at once (but the last ones). */
const STREAM_WINDOW = 256 * 1024;

/** Hands the records that came in since record `fed` to the stream's watchers (see ListingStream). */
function feedStream(stream: ListingStream, all: Buffer, starts: RecordStarts, fed: number, setFed: (n: number) => void): void {
  const s = starts.done();
  const n = s.length - 1;
  if (n <= fed) return;
  const end = s[n];
  // NUL never lies inside a UTF-8 sequence: the new records are valid alone or not at all
  if (!isUtf8(all.subarray(s[fed], end))) return stream.fail();
  const view = RawListing.indexed(all.subarray(0, end), s.subarray(0, n + 1));
  if (!view) return stream.fail();
  setFed(n);
  stream.feed(view, fed, n);
}

/** A commit's listing read whole from git as one buffer (RawListing), else (not `ls-tree` records) as objects. */
export async function listTreeCompact(repo: GitRepo, commit: string, stream?: ListingStream): Promise<Listing> {
  const { buf, listing } = await lsTreeStreamed(repo, commit, { stream });
  return listing ?? arrayListing(parseListing(buf) ?? []);
}

/**
 * The entries of a listing's index range [from, to) whose path is `scope` or below it (all with scope ""), decoded
 * one at a time as they are iterated: a mapping's files without an object per file kept.
 */
export class ListingRange implements Iterable<TreeEntry> {
  constructor(
    readonly listing: Listing,
    readonly from: number,
    readonly to: number,
    readonly scope: string,
  ) {}

  inScope(i: number): boolean {
    if (this.scope === "") return true;
    const p = this.listing.path(i);
    return p === this.scope || (p.length > this.scope.length && p.startsWith(this.scope) && p.charCodeAt(this.scope.length) === 0x2f);
  }

  /** The listing indexes of the entries, in order. */
  *indexes(): Generator<number> {
    for (let i = this.from; i < this.to; i++) if (this.inScope(i)) yield i;
  }

  *[Symbol.iterator](): Iterator<TreeEntry> {
    for (let i = this.from; i < this.to; i++) if (this.inScope(i)) yield this.listing.entry(i);
  }

  /** Whether every entry's mode is one of `modes` (a raw listing's records are not decoded for it). */
  everyMode(modes: readonly string[]): boolean {
    const l = this.listing;
    if (!(l instanceof RawListing)) return !someEntry(this, (e) => !modes.includes(e.mode));
    for (let i = this.from; i < this.to; i++) if (!modes.includes(l.mode(i)) && this.inScope(i)) return false;
    return true;
  }
}

/** Entries as an array or a listing range. */
export type TreeEntries = readonly TreeEntry[] | ListingRange;

/** Whether some entry satisfies `pred`. */
export function someEntry(entries: TreeEntries, pred: (e: TreeEntry) => boolean): boolean {
  for (const e of entries) if (pred(e)) return true;
  return false;
}
