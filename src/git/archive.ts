// A deterministic tar of one git mapping at one commit (the content of werf's gitArchive stage).
//
// Layout: files are placed under the mapping's `to` with `add` stripped (a single-file `add` becomes
// `to` itself); include/exclude masks are applied; submodules (mode 160000) that the mapping reaches are expanded
// into their files at the recorded commit, as werf does (src/git/submodules.ts; `submodules: "skip"` leaves them
// out and reports them instead).
// Every directory from `to` down to each file is emitted (mode 0755) so permissions do not depend on
// the extracting tool; the parents of `to` are NOT emitted, so extracting at "/" never changes an
// existing directory such as /tmp or /usr.
// Entries: sorted by path; mtime fixed (default 0 = 1970-01-01, so the same files give the same
// bytes at every commit, which keeps build caches warm; pass `mtime` to use e.g. the commit time);
// uid/gid 0 and no user names unless the mapping has owner/group (a number → uid/gid, a name →
// uname/gname); git modes 100644 → 0644, 100755 → 0755, 120000 → symlink whose target is the blob.
// Blob contents come from a pipelined `git cat-file --batch` (src/git/blobs.ts BlobPipeline) and go into the tar
// through one buffer (src/git/tar.ts TarWriter, the byte format tar-stream writes); big blobs are streamed through,
// so memory stays bounded.

import { UserError } from "../diagnostics.js";
import { BlobPipeline, OidLines, type OidSource } from "./blobs.js";
import { TarWriter, type HeaderTemplate, type TarHeader } from "./tar.js";
import { mappingMatcher, mappingScope, mappingTarget, type GitMappingSpec } from "./mapping.js";
import { ListingRange, listTree, RawListing, someEntry, type TreeEntries, type TreeEntry } from "./tree.js";
import type { GitRepo } from "./repo.js";
import { listTreeWithSubmodules, type RepoTreeEntry } from "./submodules.js";
import type { SourcePos } from "../diagnostics.js";
import type { FileHandle } from "node:fs/promises";

export interface ArchiveOptions {
  /** Modification time of every entry, Unix seconds. Default 0. */
  mtime?: number;
  /** "include" (default, werf's behaviour): the files of reached submodules; "skip": leave submodules out. */
  submodules?: "include" | "skip";
  /** The mapping's werf.yaml position, for errors about missing submodules. */
  pos?: SourcePos;
  /** The mapping's `add` scope as `git ls-tree -r` lists it at `commit` (submodules not expanded), when the caller
   *  has already read it (the planner's listing): used instead of listing the tree again, unless it holds a
   *  submodule or nothing (then the tree is listed as usual). */
  entries?: TreeEntries;
  /** Fill the summary's `entries` (default true; a big archive's names are megabytes). */
  names?: boolean;
}

export interface ArchiveSummary {
  /** Entry names in archive order (directories end with "/"). */
  entries: string[];
  files: number;
  symlinks: number;
  directories: number;
  /** Repository paths of submodules that were left out. */
  skippedSubmodules: string[];
}

/** One archive entry: its name (under `to`, no leading slash, no trailing slash) and what it is. */
export type PlannedEntry =
  | { name: string; kind: "dir" }
  | { name: string; kind: "file" | "symlink"; source: TreeEntry };

/** A numeric owner/group ("1000" or 1000) is an id, anything else a name. */
export function ownership(value: string | number | undefined): { id?: number; name?: string } {
  if (value === undefined || value === "") return {};
  if (typeof value === "number") return { id: value };
  return /^\d+$/.test(value) ? { id: Number(value) } : { name: value };
}

function noFilesError(mapping: GitMappingSpec, scope: string, filtered: boolean): UserError {
  if (!filtered) {
    return new UserError({
      message: `"git.add: /${scope}" in werf.yaml matches no files. git.add requires at least one file matched by it. Fix and retry`,
      hint: "the path must exist in the commit being built (uncommitted files are not seen)",
    });
  }
  return new UserError({
    message: `git mapping add: /${scope} matches no files after includePaths ${JSON.stringify(mapping.includePaths)} and excludePaths ${JSON.stringify(mapping.excludePaths)}`,
    hint: "masks are relative to `add`; `dir` and `dir/*` match everything below dir, `*.ext` only top-level files",
  });
}

/** The checks every archive plan starts with: some file in scope, and no `to: /` for a single-file `add`.
 *  Returns whether the mapping names a single file; undefined when there are no files (and `allowEmpty`). */
function checkScope(
  entries: Iterable<TreeEntry>,
  mapping: GitMappingSpec,
  scope: string,
  target: string,
  allowEmpty: boolean | undefined,
): boolean | undefined {
  let count = 0;
  let first: TreeEntry | undefined;
  for (const e of entries) {
    if (e.type === "tree") continue;
    if (count++ === 0) first = e;
    else break;
  }
  if (count === 0) {
    if (allowEmpty) return undefined;
    throw noFilesError(mapping, scope, false);
  }
  const singleFile = scope !== "" && count === 1 && first!.path === scope;
  if (singleFile && target === "") {
    throw new UserError({
      message: `git mapping add: /${scope} is a single file, so \`to: /\` is not allowed`,
      hint: "set `to` to the file's destination path, e.g. to: /app/" + scope.split("/").pop(),
    });
  }
  return singleFile;
}

/** Fails exactly as planArchive (without allowEmpty) does when the mapping selects nothing at this listing, but
 *  stops at the first selected file: no layout is built. */
export function checkArchiveMatches(entries: Iterable<TreeEntry>, mapping: GitMappingSpec): void {
  const scope = mappingScope(mapping);
  checkScope(entries, mapping, scope, mappingTarget(mapping), false);
  const matcher = mappingMatcher(mapping);
  for (const e of entries) {
    if (e.type !== "tree" && matcher.isPathMatched(e.path)) return;
  }
  throw noFilesError(mapping, scope, true);
}

const UNSAFE_PATH = /(^|\/)\.{0,2}(\/|$)/;

/** Refuses a tree path that could leave `to` when extracted: an empty, `.` or `..` component, or a leading "/".
 *  git never writes such trees, but a crafted commit can hold one (git's fsck flags it, a push does not check). */
export function checkEntryPath(p: string): void {
  // the common case without the RegExp: no component can be empty, "." or ".." without a leading "/" or ".", a
  // trailing "/", "//" or "/."
  const first = p.charCodeAt(0);
  if (first !== 0x2e && first !== 0x2f && p.charCodeAt(p.length - 1) !== 0x2f && p.indexOf("/.") < 0 && p.indexOf("//") < 0 && p !== "") return;
  if (p === "" || UNSAFE_PATH.test(p)) {
    throw new UserError({
      message: `the git tree holds the path ${JSON.stringify(p)}, which would be written outside the mapping's \`to\``,
      hint: "git itself refuses such paths (git fsck reports them); rewrite the commit without it",
    });
  }
}

function byName(a: PlannedEntry, b: PlannedEntry): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Decides the archive's entries (sorted), without reading any blob. `allowEmpty`: no files is an empty plan,
 *  not an error (a patch towards a commit where the mapping matches nothing removes everything). */
export function planArchive(
  entries: readonly TreeEntry[],
  mapping: GitMappingSpec,
  opts: { allowEmpty?: boolean } = {},
): { planned: PlannedEntry[]; skippedSubmodules: string[] } {
  const { planned, skippedSubmodules } = planArchiveLazy(entries, mapping, opts);
  return { planned: Array.isArray(planned) ? planned : [...planned], skippedSubmodules };
}

/**
 * An archive's entries in archive order, made one by one as they are iterated (iterable any number of times):
 * the matched listing entries (already in name order) merged with the sorted directories. Holds one reference
 * per file and the directory names, not an object and a name per entry (a 300k-file archive: ~3 MB, not ~60 MB).
 */
export class ArchivePlan implements Iterable<PlannedEntry> {
  readonly length: number;
  constructor(
    private readonly fileCount: number,
    /** File k (in name order): a listing entry decoded again, or an object kept. */
    private readonly file: (k: number) => TreeEntry,
    private readonly dirs: DirNames,
    private readonly nameOf: (e: TreeEntry) => string,
    /** With a raw listing: its record indexes of the files, whose ids are copied without decoding the records. */
    private readonly raw?: { listing: RawListing; at: Uint32Array },
    /** How a file's name is made from its record's path bytes: `head` (`to/`, UTF-8) then the path without its
     *  first `skip` bytes (`add/`); absent for a single-file mapping. */
    private readonly nameBytes?: { head: Buffer; skip: number },
  ) {
    this.length = fileCount + dirs.length;
  }

  /**
   * Each entry in the plan's order, its name as UTF-8 bytes, no string made: a directory's name is `dir[0, len)`
   * (without the "/"), a file's is `head` then `buf[start, end)` and `record` its listing record. False (nothing
   * visited) unless the plan is of a raw listing whose byte order is the names' order (valid UTF-8, no character
   * above U+FFFF, no directory name from U+D000 up): then `walk` gives the same entries.
   */
  eachName(
    dir: (name: Buffer, len: number) => void,
    file: (head: Buffer, buf: Buffer, start: number, end: number, record: number) => void,
  ): boolean {
    const raw = this.raw;
    const nb = this.nameBytes;
    if (!raw || !nb || this.dirs.high || !raw.listing.bmpOnly()) return false;
    const { listing, at } = raw;
    const { head, skip } = nb;
    const buf = listing.buf;
    const d = this.dirs.byteCursor();
    const hl = head.length;
    for (let f = 0; f < this.fileCount; f++) {
      const i = at[f];
      const rs = listing.recordStart(i);
      let tab = rs + 52; // "<6-digit mode> blob <40-hex id>\t", the commonest header
      if (buf[tab] !== 9) tab = buf.indexOf(9, rs);
      const start = tab + 1 + skip;
      const end = listing.recordStart(i + 1) - 1;
      const fl = hl + end - start;
      // the directories before the file: their names compared with the file's as bytes
      for (; d.len >= 0; d.next()) {
        const c = compareDirName(d.name, d.len, head, hl, buf, start, fl);
        if (c > 0) break;
        if (c === 0) {
          d.next(); // a file and a directory of one name: the file (never from git)
          break;
        }
        dir(d.name, d.len);
      }
      file(head, buf, start, end, i);
    }
    for (; d.len >= 0; d.next()) dir(d.name, d.len);
    return true;
  }

  /** eachName as a stepper (ByteSteps), for writing the entries as they come; undefined where eachName declines. */
  byteSteps(): ByteSteps | undefined {
    const raw = this.raw;
    const nb = this.nameBytes;
    if (!raw || !nb || this.dirs.high || !raw.listing.bmpOnly()) return undefined;
    return new ByteSteps(raw.listing, raw.at, this.fileCount, nb.head, nb.skip, this.dirs.byteCursor());
  }

  /** The raw listing the files are records of (then `fileIndexes` gives which), or undefined. */
  get rawListing(): RawListing | undefined {
    return this.raw?.listing;
  }

  /** The files' record indexes in `rawListing`, ascending (git's order is the plan's). */
  get fileIndexes(): Uint32Array | undefined {
    return this.raw?.at;
  }

  /** The files' object ids, in order, as cat-file input lines, copied from a raw listing; undefined for a plan of
   *  objects or ids not all of one length. */
  oidLines(): OidLines | undefined {
    // only a listing range's (an array may hold the files of submodules, read from their own repositories)
    if (!this.raw) return undefined;
    const lines = new OidLines(this.fileCount);
    const { listing, at } = this.raw;
    for (let k = 0; k < this.fileCount; k++) if (!listing.pushOid(at[k], lines)) return undefined;
    return lines;
  }

  [Symbol.iterator](): Iterator<PlannedEntry> {
    return this.walk();
  }

  /** walk(entryAt, true) as a stepper: `next()` gives the next entry (one object per kind, refilled) or undefined at
   *  the end, without a generator's result object and resumption per entry. */
  steps(entryAt: (i: number) => TreeEntry): { next(): PlannedEntry | undefined } {
    const { fileCount, nameOf } = this;
    const at = this.raw?.at;
    const file = at ? (k: number) => entryAt(at[k]) : this.file;
    const dirs = this.dirs.cursor();
    const dirOne = { name: "", kind: "dir" as const };
    const fileOne: { name: string; kind: "file" | "symlink"; source: TreeEntry } = { name: "", kind: "file", source: { path: "", mode: "", type: "blob", oid: "" } };
    let f = 0;
    // the next file, once asked for (the directories before it come first)
    let e: TreeEntry | undefined;
    let name = "";
    return {
      next(): PlannedEntry | undefined {
        if (e === undefined) {
          if (f < fileCount) {
            e = file(f++);
            name = nameOf(e);
          } else {
            const d = dirs.peek();
            if (d === undefined) return undefined;
            dirs.skip();
            dirOne.name = d;
            return dirOne;
          }
        }
        const d = dirs.peek();
        if (d !== undefined && d < name) {
          dirs.skip();
          dirOne.name = d;
          return dirOne;
        }
        if (d === name) dirs.skip(); // a file and a directory of one name: the file (never from git)
        fileOne.name = name;
        fileOne.kind = e.mode === "120000" ? "symlink" : "file";
        fileOne.source = e;
        e = undefined;
        return fileOne;
      },
    };
  }

  /** The entries, each file of a raw listing decoded by `entryAt` (its record index) when given. With `reuse`, one
   *  object for the directories and one for the files are refilled at each step (an entry is valid until the next
   *  is asked for): at 300k files, an object per entry and archive sent V8 into tenuring them (allocation-site
   *  pretenuring), and the old space grew by ~140 MB of garbage in about half the runs (measured). */
  *walk(entryAt?: (i: number) => TreeEntry, reuse = false): Generator<PlannedEntry> {
    const { fileCount, nameOf } = this;
    const at = this.raw?.at;
    const file = entryAt && at ? (k: number) => entryAt(at[k]) : this.file;
    const dirs = this.dirs.cursor();
    const dirEntry = (name: string): PlannedEntry => {
      if (!reuse) return { name, kind: "dir" };
      dirOne.name = name;
      return dirOne;
    };
    const dirOne = { name: "", kind: "dir" as const };
    let fileOne: { name: string; kind: "file" | "symlink"; source: TreeEntry } | undefined;
    for (let f = 0; f < fileCount; f++) {
      const e = file(f);
      const name = nameOf(e);
      for (let d = dirs.peek(); d !== undefined && d < name; d = dirs.peek()) {
        dirs.skip();
        yield dirEntry(d);
      }
      if (dirs.peek() === name) dirs.skip(); // a file and a directory of one name: the file (never from git)
      const kind = e.mode === "120000" ? "symlink" : "file";
      if (!reuse) yield { name, kind, source: e };
      else if (!fileOne) yield (fileOne = { name, kind, source: e });
      else {
        fileOne.name = name;
        fileOne.kind = kind;
        fileOne.source = e;
        yield fileOne;
      }
    }
    for (let d = dirs.peek(); d !== undefined; d = dirs.peek()) {
      dirs.skip();
      yield dirEntry(d);
    }
  }
}

/**
 * An ArchivePlan's entries one by one as UTF-8 name bytes, in the order eachName gives them (see there for when that
 * is the plan's order): `next()` moves to the next entry and tells its kind; a directory's name is `dir[0, dirLen)`
 * (without the "/"), a file's is `head` then `buf[start, end)` and `record` is its listing record. The bytes stay
 * valid until the next call.
 */
export class ByteSteps {
  static readonly END = 0;
  static readonly DIR = 1;
  static readonly FILE = 2;
  readonly buf: Buffer;
  dir: Buffer;
  dirLen = -1;
  start = 0;
  end = 0;
  record = -1;
  private f = 0;
  /** Whether the file `f` has been located (start, end, record). */
  private located = false;
  /** Whether the cursor is to move past the directory handed out last. */
  private dirTaken = false;

  constructor(
    readonly listing: RawListing,
    private readonly at: Uint32Array,
    private readonly fileCount: number,
    readonly head: Buffer,
    private readonly skip: number,
    private readonly d: { name: Buffer; len: number; next(): void },
  ) {
    this.buf = listing.buf;
    this.dir = d.name;
  }

  /** The next entry's kind (END after the last). */
  next(): number {
    const d = this.d;
    if (this.dirTaken) {
      d.next();
      this.dirTaken = false;
    }
    if (this.f >= this.fileCount) {
      if (d.len < 0) return ByteSteps.END;
      this.dirLen = d.len;
      this.dirTaken = true;
      return ByteSteps.DIR;
    }
    const head = this.head;
    const hl = head.length;
    if (!this.located) {
      const listing = this.listing;
      const i = this.at[this.f];
      const rs = listing.recordStart(i);
      const buf = this.buf;
      let tab = rs + 52; // "<6-digit mode> blob <40-hex id>\t", the commonest header
      if (buf[tab] !== 9) tab = buf.indexOf(9, rs);
      this.start = tab + 1 + this.skip;
      this.end = listing.recordStart(i + 1) - 1;
      this.record = i;
      this.located = true;
    }
    if (d.len >= 0) {
      // the directory before the file, or the file first: the names compared as bytes
      const c = compareDirName(d.name, d.len, head, hl, this.buf, this.start, hl + this.end - this.start);
      if (c < 0) {
        this.dirLen = d.len;
        this.dirTaken = true;
        return ByteSteps.DIR;
      }
      if (c === 0) d.next(); // a file and a directory of one name: the file (never from git)
    }
    this.f++;
    this.located = false;
    return ByteSteps.FILE;
  }
}

/** Directory names as found, UTF-8 in one growing buffer (not a string each: 336k directories as strings, each
 *  keeping the file name it was sliced from alive, were ~40 MB of garbage per archive at 300k files). */
class DirBytes {
  buf = Buffer.allocUnsafe(1 << 16);
  /** Name i is buf[ends[i - 1] (0 for the first), ends[i]). */
  ends = new Uint32Array(1024);
  length = 0;
  /** Whether a name holds a character from U+D000 up (lead byte 0xED or more), where UTF-16's order (JS strings')
   *  and UTF-8's byte order part (at the surrogates). */
  high = false;

  /** Room for one more name of at most `bytes` bytes after `start`. */
  private reserve(start: number, bytes: number): void {
    if (start + bytes > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, start + bytes));
      this.buf.copy(bigger, 0, 0, start);
      this.buf = bigger;
    }
    if (this.length === this.ends.length) {
      const bigger = new Uint32Array(this.ends.length * 2);
      bigger.set(this.ends);
      this.ends = bigger;
    }
  }

  add(name: string): void {
    const start = this.start(this.length);
    this.reserve(start, name.length * 3);
    const n = this.buf.write(name, start, "utf8");
    if (n !== name.length && !this.high) for (let k = start; k < start + n && !this.high; k++) this.high = this.buf[k] >= 0xed;
    this.ends[this.length++] = start + n;
  }

  /** add() of the name `head` (UTF-8) then `src[from, to)` (ASCII: `head` is checked by the caller for `high`). */
  addBytes(head: Buffer, src: Buffer, from: number, to: number): void {
    const start = this.start(this.length);
    const n = head.length + to - from;
    this.reserve(start, n);
    // (a loop: Buffer#copy's call costs more than copying a name's few dozen bytes)
    const buf = this.buf;
    let at = start;
    for (let k = 0; k < head.length; k++) buf[at++] = head[k];
    for (let k = from; k < to; k++) buf[at++] = src[k];
    this.ends[this.length++] = start + n;
  }

  name(i: number): string {
    return this.buf.toString("utf8", this.start(i), this.ends[i]);
  }

  start(i: number): number {
    return i === 0 ? 0 : this.ends[i - 1];
  }

  /** The names sorted as JS strings compare (`<`), front-coded. Found in git's order, they are sorted unless a
   *  directory "a/b" comes after "a/b-x" (git sorts a tree as "a/b/"): checked while front-coding, sorted then
   *  (TimSort: nearly sorted input costs ~n comparisons), by bytes or, with `high` names, as strings. */
  sorted(): DirNames {
    const inOrder = DirNames.build(this, null);
    if (inOrder) return inOrder;
    const { buf, ends } = this;
    const order = Array.from({ length: this.length }, (_, k) => k);
    if (!this.high) order.sort((i, j) => buf.compare(buf, this.start(j), ends[j], this.start(i), ends[i]));
    else {
      const names = order.map((k) => this.name(k));
      order.sort((i, j) => (names[i] < names[j] ? -1 : names[i] > names[j] ? 1 : 0));
    }
    return DirNames.build(this, order)!;
  }
}

/** Sorted directory names front-coded in one buffer (each name: how many leading bytes it shares with the one
 *  before, as one byte, then the rest and a NUL), read in order with a cursor. A repository can hold as many
 *  directories as files, with longer names: 336k directories of 13 MB of UTF-8 take ~3 MB so. */
class DirNames {
  private constructor(
    readonly length: number,
    private readonly text: Buffer,
    private readonly longest: number,
    /** Whether a name holds a character from U+D000 up (DirBytes.high). */
    readonly high: boolean,
  ) {}

  /** The names in order as bytes: `name[0, len)` is the current one, `len` -1 after the last; `next` moves on. */
  byteCursor(): { name: Buffer; len: number; next(): void } {
    const text = this.text;
    let at = 0;
    const c = {
      name: Buffer.allocUnsafe(Math.max(this.longest, 1)),
      len: -1,
      next() {
        if (at >= text.length) {
          c.len = -1;
          return;
        }
        // (a loop: Buffer#copy's and indexOf's calls cost more than a name's few dozen bytes)
        const name = c.name;
        let len = text[at++];
        for (let b = text[at++]; b !== 0; b = text[at++]) name[len++] = b;
        c.len = len;
      },
    };
    c.next();
    return c;
  }

  /** The names of `dirs` in `order` (null: as found); undefined when `order` is null and they are not sorted. */
  static build(dirs: DirBytes, order: readonly number[] | null): DirNames | undefined {
    const { buf, ends, length } = dirs;
    const text = Buffer.allocUnsafe(dirs.start(length) + 2 * length);
    let at = 0;
    let longest = 0;
    let prevStart = 0;
    let prevEnd = 0;
    for (let k = 0; k < length; k++) {
      const i = order ? order[k] : k;
      const start = dirs.start(i);
      const end = ends[i];
      const len = end - start;
      const prevLen = prevEnd - prevStart;
      let shared = 0;
      const max = Math.min(prevLen, len);
      while (shared < max && buf[prevStart + shared] === buf[start + shared]) shared++;
      // in order when the previous name is before this one (a byte order check is a string order check unless `high`)
      if (!order && k > 0 && (dirs.high || !(shared < max ? buf[prevStart + shared] < buf[start + shared] : prevLen < len))) {
        if (!dirs.high || !(dirs.name(k - 1) < dirs.name(k))) return undefined;
      }
      if (shared > 255) shared = 255;
      text[at++] = shared;
      for (let b = start + shared; b < end; b++) text[at++] = buf[b];
      text[at++] = 0;
      if (len > longest) longest = len;
      prevStart = start;
      prevEnd = end;
    }
    return new DirNames(length, Buffer.from(text.subarray(0, at)), longest, dirs.high); // its own memory, the size it needs
  }

  cursor(): { peek(): string | undefined; skip(): void } {
    const text = this.text;
    // the current name's bytes
    const name = Buffer.allocUnsafe(this.longest);
    let at = 0;
    let current: string | undefined;
    let next = 0;
    return {
      peek() {
        if (current === undefined && at < text.length) {
          const shared = text[at];
          const nul = text.indexOf(0, at + 1);
          const len = shared + text.copy(name, shared, at + 1, nul);
          current = name.toString("utf8", 0, len);
          next = nul + 1;
        }
        return current;
      },
      skip() {
        if (current === undefined) this.peek();
        at = next;
        current = undefined;
      },
    };
  }
}

/** What planning an archive gives. */
export interface PlannedArchive {
  planned: ArchivePlan | PlannedEntry[];
  skippedSubmodules: string[];
}

/** planArchive, the entries as an ArchivePlan when the listing gives the files in name order (always so for git's
 *  order of valid UTF-8 paths below U+E000), else sorted as an array. */
export function planArchiveLazy(entries: TreeEntries, mapping: GitMappingSpec, opts: { allowEmpty?: boolean } = {}): PlannedArchive {
  const planner = new ArchivePlanner(entries, mapping, opts);
  if (planner.empty) return { planned: [], skippedSubmodules: [] };
  const range = entries instanceof ListingRange ? entries : undefined;
  const raw = range && range.listing instanceof RawListing ? range.listing : undefined;
  if (raw) {
    // (a raw listing's range walked by index, each record's path decoded once: its scope checked on that string)
    for (let i = range!.from; i < range!.to; i++) if (!raw.isTree(i)) planner.record(i, raw.path(i));
  } else if (range) {
    for (const i of range.indexes()) planner.entry(i, range.listing.entry(i));
  } else {
    for (const e of entries as readonly TreeEntry[]) planner.entry(e, e);
  }
  return planner.finish();
}

/**
 * planArchiveLazy of several mappings over ranges of raw listings, in one pass over each listing: a record is decoded
 * once (its path) for every archive whose range holds it, instead of once per archive (the bench project's 11
 * archives read its 100k records ~4 times over: two take the whole repository, four are parts of a fifth). Each
 * result is what planArchiveLazy gives for that item, or the error it throws.
 */
export function planArchivesTogether(items: readonly { entries: ListingRange; mapping: GitMappingSpec }[]): (PlannedArchive | { error: unknown })[] {
  const out: (PlannedArchive | { error: unknown } | undefined)[] = items.map(() => undefined);
  const planners: (ArchivePlanner | undefined)[] = items.map((item, k) => {
    try {
      const p = new ArchivePlanner(item.entries, item.mapping, {});
      if (p.empty) out[k] = { planned: [], skippedSubmodules: [] };
      else return p;
    } catch (error) {
      out[k] = { error };
    }
    return undefined;
  });
  const byListing = new Map<RawListing, number[]>();
  items.forEach((item, k) => {
    const l = item.entries.listing;
    if (!planners[k]) return;
    if (!(l instanceof RawListing)) {
      out[k] = (() => {
        try {
          return planArchiveLazy(item.entries, item.mapping);
        } catch (error) {
          return { error };
        }
      })();
      planners[k] = undefined;
      return;
    }
    const ks = byListing.get(l);
    if (ks) ks.push(k);
    else byListing.set(l, [k]);
  });
  for (const [raw, ks] of byListing) {
    const from = ks.map((k) => items[k].entries.from);
    const to = ks.map((k) => items[k].entries.to);
    const live = ks.map((k) => planners[k]);
    const lo = Math.min(...from);
    const hi = Math.max(...to);
    for (let i = lo; i < hi; i++) {
      let path: string | undefined;
      for (let n = 0; n < ks.length; n++) {
        const p = live[n];
        if (p === undefined || i < from[n] || i >= to[n]) continue;
        if (path === undefined) {
          if (raw.isTree(i)) break;
          path = raw.path(i);
        }
        try {
          p.record(i, path);
        } catch (error) {
          out[ks[n]] = { error };
          live[n] = undefined;
        }
      }
    }
    ks.forEach((k, n) => {
      const p = live[n];
      if (!p) return;
      try {
        out[k] = p.finish();
      } catch (error) {
        out[k] = { error };
      }
    });
  }
  return out as (PlannedArchive | { error: unknown })[];
}

/** planArchiveLazy's work, record by record: `record` (raw listings) or `entry` for each entry in listing order,
 *  then `finish`. */
class ArchivePlanner {
  /** No file in scope (allowEmpty): the plan is empty, no record is to be given. */
  readonly empty: boolean;
  private readonly scope: string;
  private readonly target: string;
  private readonly singleFile: boolean;
  private readonly matcher: ReturnType<typeof mappingMatcher>;
  private readonly range: ListingRange | undefined;
  private readonly raw: RawListing | undefined;
  private readonly rangeScope: string;
  // the files: listing indexes when the entries are a listing range (decoded again when written), else objects
  private readonly files: TreeEntry[] = [];
  private indexes: Uint32Array;
  private indexCount = 0;
  // directories in the order their first file comes (parents first); a duplicate only when out of order (then the
  // fallback in finish drops it)
  private readonly dirs = new DirBytes();
  private readonly fresh: string[] = [];
  // or where they end in the path, when it is ASCII
  private readonly freshEnds: number[] = [];
  private readonly headBytes: Buffer;
  private readonly skippedSubmodules: string[] = [];
  private ordered = true;
  // the previous file's path: names are `to` + the path below `add`, so two names compare as their paths do and
  // share as many more characters as the paths share beyond `add/` (compared on the listing's flat strings, not on
  // the names made by concatenation)
  private last = "";
  private lastDirEnd = 0;
  private first = true;
  private readonly scopeLen: number;

  constructor(
    entries: TreeEntries,
    private readonly mapping: GitMappingSpec,
    private readonly opts: { allowEmpty?: boolean },
  ) {
    this.scope = mappingScope(mapping);
    this.target = mappingTarget(mapping);
    const singleFile = checkScope(entries, mapping, this.scope, this.target, opts.allowEmpty);
    this.empty = singleFile === undefined;
    this.singleFile = singleFile === true;
    this.matcher = mappingMatcher(mapping);
    this.range = entries instanceof ListingRange ? entries : undefined;
    // a raw listing's records are not decoded for their ids (only the path and the mode are looked at)
    this.raw = this.range && this.range.listing instanceof RawListing ? this.range.listing : undefined;
    this.rangeScope = this.range?.scope ?? "";
    this.indexes = new Uint32Array(this.range ? 1024 : 0);
    this.headBytes = Buffer.from(this.target === "" ? "" : `${this.target}/`, "utf8");
    if (this.headBytes.some((b) => b >= 0xed)) this.dirs.high = true;
    this.scopeLen = this.matcher.basePath === "" ? 0 : this.matcher.basePath.length + 1; // as matcher.relative slices
  }

  /** Record i of the raw listing (not a tree), whose path is `path`; records outside the range's scope are skipped. */
  record(i: number, path: string): void {
    const rangeScope = this.rangeScope;
    if (rangeScope !== "" && path !== rangeScope && !(path.length > rangeScope.length && path.startsWith(rangeScope) && path.charCodeAt(rangeScope.length) === 0x2f)) return;
    if (!this.matcher.isPathMatched(path)) return;
    if (this.raw!.mode(i) === "160000") {
      this.skippedSubmodules.push(path);
      return;
    }
    this.take(i, path);
  }

  /** An entry given as an object: `x` its listing index (a range) or itself (an array). */
  entry(x: number | TreeEntry, e: TreeEntry): void {
    if (e.type === "tree" || !this.matcher.isPathMatched(e.path)) return;
    if (e.type === "commit") {
      this.skippedSubmodules.push(e.path);
      return;
    }
    if (!this.range) this.files.push(e);
    this.take(x, e.path);
  }

  private take(x: number | TreeEntry, path: string): void {
    checkEntryPath(path);
    if (this.range) {
      if (this.indexCount === this.indexes.length) {
        const bigger = new Uint32Array(this.indexes.length * 2);
        bigger.set(this.indexes);
        this.indexes = bigger;
      }
      this.indexes[this.indexCount++] = x as number;
    }
    if (this.singleFile) return;
    const { last, first, target, scopeLen, dirs, raw, fresh, freshEnds } = this;
    if (!first && !(last < path)) this.ordered = false;
    // the parents the previous file had: every directory whose slash comes before where the two paths part (found by
    // comparing characters from the start: no string sliced per file)
    let common = 0;
    if (!first) {
      const n = Math.min(this.lastDirEnd, path.length);
      let p = 0;
      while (p < n && last.charCodeAt(p) === path.charCodeAt(p)) p++;
      common = p === 0 ? 0 : last.lastIndexOf("/", p - 1) + 1;
    }
    this.last = path;
    const lastSlash = path.lastIndexOf("/");
    this.lastDirEnd = lastSlash + 1;
    // every parent of the file's name down to `to` itself (the parents of `to` are not emitted), but those the
    // previous file had (added with it or before: all of a file's parents are): each slash of the path below `add`
    // ends one (`to`/ and the path up to it), and `to` itself
    // (a record whose path is ASCII: its bytes are the string's characters, the names copied from the listing)
    let from = -1;
    if (raw) {
      const rs = raw.recordStart(x as number);
      let tab = rs + 52; // "<6-digit mode> blob <40-hex id>\t", the commonest header
      if (raw.buf[tab] !== 9) tab = raw.buf.indexOf(9, rs);
      if (raw.recordStart((x as number) + 1) - 2 - tab === path.length) from = tab + 1;
    }
    if (target !== "" && first) dirs.add(target); // (the paths share at least `add/`: only the first file's)
    for (let slash = lastSlash; slash >= scopeLen && slash >= common; slash = path.lastIndexOf("/", slash - 1)) {
      if (from >= 0) freshEnds.push(slash);
      else fresh.push(target === "" ? path.slice(scopeLen, slash) : `${target}/${path.slice(scopeLen, slash)}`);
    }
    this.first = false;
    for (let k = freshEnds.length - 1; k >= 0; k--) dirs.addBytes(this.headBytes, raw!.buf, from + scopeLen, from + freshEnds[k]);
    if (fresh.length > 0) {
      for (let k = fresh.length - 1; k >= 0; k--) dirs.add(fresh[k]);
      fresh.length = 0;
    }
    if (freshEnds.length > 0) freshEnds.length = 0;
  }

  finish(): PlannedArchive {
    const { range, files, singleFile, target, matcher, dirs, skippedSubmodules } = this;
    const nameOf = (e: TreeEntry): string => {
      if (singleFile) return target;
      const rel = matcher.relative(e.path)!;
      return target === "" ? rel : `${target}/${rel}`;
    };
    const fileCount = range ? this.indexCount : files.length;
    if (fileCount === 0 && skippedSubmodules.length === 0 && !this.opts.allowEmpty) throw noFilesError(this.mapping, this.scope, true);
    const at = this.indexes.slice(0, this.indexCount);
    if (this.ordered) {
      // the directory names sorted, front-coded in one buffer (a repository can hold as many directories as files)
      const dirNames = dirs.sorted();
      if (!range) return { planned: new ArchivePlan(fileCount, (k) => files[k], dirNames, nameOf), skippedSubmodules };
      const listing = range.listing;
      const raw = listing instanceof RawListing ? { listing, at } : undefined;
      const nameBytes = singleFile ? undefined : { head: this.headBytes, skip: matcher.basePath === "" ? 0 : Buffer.byteLength(matcher.basePath) + 1 };
      return { planned: new ArchivePlan(fileCount, (k) => listing.entry(at[k]), dirNames, nameOf, raw, nameBytes), skippedSubmodules };
    }
    const planned = new Map<string, PlannedEntry>();
    const dirList: string[] = [];
    for (let k = 0; k < dirs.length; k++) dirList.push(dirs.name(k));
    for (const dir of dirList.sort()) planned.set(dir, { name: dir, kind: "dir" });
    for (const e of range ? Array.from(at, (i) => range.listing.entry(i)) : files) {
      const name = nameOf(e);
      planned.set(name, { name, kind: e.mode === "120000" ? "symlink" : "file", source: e });
    }
    return { planned: [...planned.values()].sort(byName), skippedSubmodules };
  }
}

/** The tree entries of `commit` that the archive of `mapping` is planned from (submodules expanded unless "skip"). */
export async function listArchiveTree(
  repo: GitRepo,
  commit: string,
  mapping: GitMappingSpec,
  opts: Pick<ArchiveOptions, "submodules" | "pos"> = {},
): Promise<TreeEntry[]> {
  const scope = mappingScope(mapping);
  if (opts.submodules === "skip") return listTree(repo, commit, { scope });
  const matcher = mappingMatcher(mapping);
  return listTreeWithSubmodules(repo, commit, {
    scope,
    descend: (p) => matcher.isPathMatched(p) || matcher.shouldGoThrough(p),
    ...(opts.pos ? { pos: opts.pos } : {}),
  });
}

/** Writes the archive of `mapping` at `commit` to `outFile`. */
export async function writeGitArchive(
  repo: GitRepo,
  commit: string,
  mapping: GitMappingSpec,
  outFile: string,
  opts: ArchiveOptions = {},
): Promise<ArchiveSummary> {
  const { planned, skippedSubmodules } = await planGitArchive(repo, commit, mapping, opts);
  return writePlannedArchive(repo, planned, mapping, outFile, { mtime: opts.mtime, skippedSubmodules, names: opts.names });
}

/** Whether `entries` hold a submodule (mode 160000); a raw listing's records are not decoded for it. */
function holdsSubmodule(entries: TreeEntries): boolean {
  if (entries instanceof ListingRange && entries.listing instanceof RawListing) {
    const l = entries.listing;
    for (let i = entries.from; i < entries.to; i++) if (l.mode(i) === "160000" && entries.inScope(i)) return true;
    return false;
  }
  return someEntry(entries, (e) => e.type === "commit");
}

/** What writeGitArchive writes (planArchiveLazy over the listing given or read), without writing it: an ArchivePlan
 *  over a raw listing can be written with others of that listing (writePlannedArchives). */
export async function planGitArchive(
  repo: GitRepo,
  commit: string,
  mapping: GitMappingSpec,
  opts: Pick<ArchiveOptions, "submodules" | "pos" | "entries"> & {
    /** Plans the given entries (planArchiveLazy's result, e.g. made with other archives: planArchivesTogether). */
    plan?: (entries: TreeEntries) => Promise<PlannedArchive>;
  } = {},
): Promise<PlannedArchive> {
  const given = opts.entries;
  const reusable = given !== undefined && someEntry(given, () => true) && !holdsSubmodule(given);
  if (reusable && opts.plan) return opts.plan(given);
  const entries = reusable ? given : await listArchiveTree(repo, commit, mapping, opts);
  return planArchiveLazy(entries, mapping);
}

/** An archive written earlier by writePlannedArchive with the same mapping and mtime, some of whose entries are
 *  copied as they are (src/cache/archives.ts). */
export interface ReusableArchive {
  /** The archive, open for reading. */
  file: FileHandle;
  /** For each planned entry: its offset in that archive when it is to be copied from there, else -1. */
  at: Float64Array;
  /** For each planned entry copied: its length there (header, pax records, body, padding). */
  lengths: Float64Array;
}

/** Byte ranges of an earlier archive (whole entries) to put between the planned entries: the range with
 *  `before: i` goes right before planned entry i (`planned.length`: after the last one). Sorted by `before`. */
export interface ArchiveSplice {
  file: FileHandle;
  ranges: { before: number; offset: number; length: number }[];
}

/** Writes the given planned entries (sorted, as planArchive gives them, or a subset) as a tar: the archive's
 *  headers (modes, owner/group, mtime) and blob contents. `repo` holds the objects of entries without their own.
 *  With `reuse`, the entries it points at are copied from that archive, consecutive ones in one piece, and only
 *  the other blobs are read from git. `lengths` receives each entry's length. */
export async function writePlannedArchive(
  repo: GitRepo,
  planned: readonly PlannedEntry[] | ArchivePlan,
  mapping: GitMappingSpec,
  outFile: string,
  opts: {
    mtime?: number;
    skippedSubmodules?: string[];
    reuse?: ReusableArchive;
    lengths?: number[];
    splice?: ArchiveSplice;
    names?: boolean;
  } = {},
): Promise<ArchiveSummary> {
  // one pipelined `cat-file --batch` per repository (the superproject's and each submodule's), each asked for
  // its blobs in archive order up front
  const readers = new Map<GitRepo, BlobPipeline>();
  // where each entry is found in the archive to reuse (offset), or -1
  const reuseAt = opts.reuse?.at ?? new Float64Array(planned.length).fill(-1);
  const reuseLength = opts.reuse?.lengths ?? new Float64Array(planned.length);
  const lengths = opts.lengths;
  let copyFrom = -1;
  let copyLength = 0;
  const out = await TarWriter.create(outFile, WRITE_BUFFER);
  const sink = new ArchiveSink(out, mapping, opts);
  const summary = sink.summary;
  const flushCopy = async () => {
    if (copyLength > 0) await out.copyRange(opts.reuse!.file, copyFrom, copyLength);
    copyLength = 0;
  };
  try {
    // the ids as lines of one buffer per repository (strings when their lengths differ, which git never gives)
    const wanted = new Map<GitRepo, OidLines | string[]>();
    // a planned archive of one repository, nothing reused: the ids copied from the listing as they are
    const lines = planned instanceof ArchivePlan && !opts.reuse ? planned.oidLines() : undefined;
    if (lines) wanted.set(repo, lines);
    let i = -1;
    for (const p of lines ? [] : planned) {
      i++;
      if (p.kind === "dir" || reuseAt[i] >= 0) continue;
      const r = (p.source as Partial<RepoTreeEntry>).repo ?? repo;
      let list = wanted.get(r);
      if (!list) wanted.set(r, (list = new OidLines(r === repo ? planned.length : 64)));
      if (list instanceof OidLines && !list.push(p.source.oid)) {
        const strings: string[] = [];
        for (let k = 0; k < list.length; k++) strings.push(list.at(k));
        wanted.set(r, (list = strings));
      }
      if (Array.isArray(list)) list.push(p.source.oid);
    }
    for (const [r, oids] of wanted) readers.set(r, new BlobPipeline(r, oids));
    // the writer and the readers answer synchronously while their buffers allow, so most entries cost no promise
    let r = 0;
    const ranges = opts.splice?.ranges ?? [];
    i = -1;
    for (const p of planned) {
      i++;
      for (; r < ranges.length && ranges[r].before === i; r++) await out.copyRange(opts.splice!.file, ranges[r].offset, ranges[r].length);
      if (reuseAt[i] >= 0) {
        if (copyLength > 0 && copyFrom + copyLength === reuseAt[i]) copyLength += reuseLength[i];
        else {
          await flushCopy();
          copyFrom = reuseAt[i];
          copyLength = reuseLength[i];
        }
        lengths?.push(reuseLength[i]);
        sink.counted(p);
        continue;
      }
      await flushCopy();
      if (p.kind === "dir") {
        const w = sink.dir(p.name);
        if (w) await w;
        continue;
      }
      const reader = readers.get((p.source as Partial<RepoTreeEntry>).repo ?? repo)!;
      const size = reader.nextSync() ?? (await reader.next()).size;
      if (size <= WHOLE_BLOB_MAX || p.kind === "symlink") {
        const w = sink.entry(p, reader.readBodySync() ?? (await reader.readBody()));
        if (w) await w;
      } else {
        await sink.startFile(p, size);
        for await (const piece of reader.bodyChunks()) await out.append(piece);
        await sink.endFile(size);
      }
    }
    await flushCopy();
    for (; r < ranges.length; r++) await out.copyRange(opts.splice!.file, ranges[r].offset, ranges[r].length);
    await out.finish();
  } catch (e) {
    await out.abort();
    throw e;
  } finally {
    for (const reader of readers.values()) reader.close();
  }
  return summary;
}

/** Where an archive's entry lengths go, one after another. */
export interface LengthSink {
  push(length: number): unknown;
}

/** Entry lengths of an archive whose entry count is known, in a Float64Array (not a growing array of numbers: two of
 *  636k lengths at 300k files, reallocated as they grow, were tens of MB of garbage V8 kept in its old space). */
export class EntryLengths implements LengthSink {
  readonly values: Float64Array;
  length = 0;
  constructor(count: number) {
    this.values = new Float64Array(count);
  }

  push(length: number): void {
    this.values[this.length++] = length;
  }
}

/** An archive written by writePlannedArchives. */
export interface ArchiveJob {
  /** Planned over a raw listing (`rawListing`), the same for every job written together. */
  planned: ArchivePlan;
  mapping: GitMappingSpec;
  outFile: string;
  mtime?: number;
  skippedSubmodules?: string[];
  /** Fill the summary's `entries`. */
  names?: boolean;
  /** Receives each entry's length. */
  lengths?: LengthSink;
  /** Receives each entry as it is written, when the plan's names are written as bytes (ArchivePlan.byteSteps):
   *  every entry or none. */
  index?: EntryBytesSink;
}

/** Archives writePlannedArchives takes in one pass (one bit each of a record's membership word). */
const JOBS_PER_PASS = 32;

/**
 * Writes several archives planned over one raw listing (ArchivePlan.rawListing) of `repo`, reading each blob once:
 * the union of their files, in git's order, from one `cat-file --batch`, each body written into every archive that
 * takes it (with its own name, mode and owner). The archives are the bytes writePlannedArchive writes for each alone.
 * On a failure every archive is left unfinished (the caller removes them).
 */
export async function writePlannedArchives(repo: GitRepo, jobs: readonly ArchiveJob[]): Promise<ArchiveSummary[]> {
  const out: ArchiveSummary[] = [];
  for (let from = 0; from < jobs.length; from += JOBS_PER_PASS) out.push(...(await writeTogether(repo, jobs.slice(from, from + JOBS_PER_PASS))));
  return out;
}

async function writeTogether(repo: GitRepo, jobs: readonly ArchiveJob[]): Promise<ArchiveSummary[]> {
  const listing = jobs[0]?.planned.rawListing;
  if (!listing) return [];
  // which archives take record x: bit j for jobs[j]
  const member = new Uint32Array(listing.length);
  let count = 0;
  jobs.forEach((job, j) => {
    const at = job.planned.fileIndexes;
    if (job.planned.rawListing !== listing || !at) throw new Error("internal: archives written together must be planned over one raw listing");
    for (let k = 0; k < at.length; k++) {
      if (member[at[k]] === 0) count++;
      member[at[k]] |= 1 << j;
    }
  });
  const union = new Uint32Array(count);
  for (let x = 0, n = 0; x < member.length; x++) if (member[x] !== 0) union[n++] = x;
  const writers: TarWriter[] = [];
  let reader: BlobPipeline | undefined;
  try {
    for (const job of jobs) writers.push(await TarWriter.create(job.outFile, WRITE_BUFFER));
    const sinks = jobs.map((job, j) => new ArchiveSink(writers[j], job.mapping, job));
    // each archive's entries, walked as the blobs come: its directories are written on the way to its next file;
    // by their names' bytes where the plan allows (ByteWalk), else as PlannedEntry objects (StringWalk), where a
    // record taken by several archives is decoded once, its path and mode only (the blob comes from cat-file), into
    // one object refilled per record: every archive's walk asks for the record being written, and is done with it
    // before the next (lightEntries)
    let entryAt: ((i: number) => TreeEntry) | undefined;
    const walks: JobWalk[] = jobs.map((job, j) => {
      const steps = job.planned.byteSteps();
      if (steps) return new ByteWalk(steps, sinks[j], job.index);
      return new StringWalk(job.planned.steps((entryAt ??= lightEntries(listing))), sinks[j]);
    });
    reader = new BlobPipeline(repo, new ListingOids(listing, union));
    for (let n = 0; n < union.length; n++) {
      const x = union[n];
      const takers = member[x];
      const size = reader.nextSync() ?? (await reader.next()).size;
      if (size <= WHOLE_BLOB_MAX || listing.mode(x) === "120000") {
        const body = reader.readBodySync() ?? (await reader.readBody());
        for (let j = 0; j < jobs.length; j++) {
          if ((takers & (1 << j)) === 0) continue;
          const walk = walks[j];
          const f = walk.toFile();
          if (f) await f;
          const w = walk.file(body);
          if (w) await w;
        }
        continue;
      }
      // a big blob: its pieces go to every archive as they come
      const started: number[] = [];
      for (let j = 0; j < jobs.length; j++) {
        if ((takers & (1 << j)) === 0) continue;
        await walks[j].toFile();
        await walks[j].startFile(size);
        started.push(j);
      }
      for await (const piece of reader.bodyChunks()) for (const j of started) await writers[j].append(piece);
      for (const j of started) await sinks[j].endFile(size);
    }
    // the directories after each archive's last file, the end blocks
    for (let j = 0; j < jobs.length; j++) {
      await walks[j].rest();
      await writers[j].finish();
    }
    return sinks.map((s) => s.summary);
  } catch (e) {
    for (const w of writers) await w.abort();
    throw e;
  } finally {
    reader?.close();
  }
}

/** Where the entries of an archive written together go as they are written, as bytes (src/cache/archives.ts's index
 *  of the archive, made beside it instead of in a pass after it): a directory named `name[0, len)`, a file named
 *  `head` then `buf[start, end)` of `listing`'s record `record`. */
export interface EntryBytesSink {
  addDirBytes(name: Buffer, len: number): void;
  addFileBytes(head: Buffer, buf: Buffer, start: number, end: number, listing: RawListing, record: number): void;
}

/** One archive's side of writeTogether. Each method returns a promise only when the writer had to wait. */
interface JobWalk {
  /** Writes the directories before the archive's next file and moves to that file. */
  toFile(): Promise<void> | undefined;
  /** Writes that file with its whole body (a symlink's: its target). */
  file(body: Buffer): Promise<void> | undefined;
  /** Starts that file, whose `size` bytes the caller appends to the writer, then calls the sink's endFile. */
  startFile(size: number): Promise<void>;
  /** Writes the directories after the last file. */
  rest(): Promise<void>;
}

/** A JobWalk over the plan's entries as objects (ArchivePlan.steps). */
class StringWalk implements JobWalk {
  private current: (PlannedEntry & { kind: "file" | "symlink" }) | undefined;
  constructor(
    private readonly steps: { next(): PlannedEntry | undefined },
    private readonly sink: ArchiveSink,
  ) {}

  toFile(): Promise<void> | undefined {
    for (;;) {
      const p = this.steps.next();
      if (!p) throw new Error("internal: an archive's plan ended before its files");
      if (p.kind !== "dir") {
        this.current = p;
        return undefined;
      }
      const w = this.sink.dir(p.name);
      if (w) return w.then(() => this.toFile());
    }
  }

  file(body: Buffer): Promise<void> | undefined {
    return this.sink.entry(this.current!, body);
  }

  startFile(size: number): Promise<void> {
    return this.sink.startFile(this.current!, size);
  }

  async rest(): Promise<void> {
    for (let p = this.steps.next(); p; p = this.steps.next()) {
      if (p.kind !== "dir") throw new Error("internal: an archive's file was not in the union of the files");
      const w = this.sink.dir(p.name);
      if (w) await w;
    }
  }
}

/** A JobWalk over the plan's entries as name bytes (ArchivePlan.byteSteps): no string per entry; each entry also
 *  given to `index` when there is one. */
class ByteWalk implements JobWalk {
  constructor(
    private readonly steps: ByteSteps,
    private readonly sink: ArchiveSink,
    private readonly index: EntryBytesSink | undefined,
  ) {}

  toFile(): Promise<void> | undefined {
    const s = this.steps;
    for (;;) {
      const kind = s.next();
      if (kind === ByteSteps.FILE) return undefined;
      if (kind === ByteSteps.END) throw new Error("internal: an archive's plan ended before its files");
      this.index?.addDirBytes(s.dir, s.dirLen);
      const w = this.sink.dirBytes(s.dir, s.dirLen);
      if (w) return w.then(() => this.toFile());
    }
  }

  file(body: Buffer): Promise<void> | undefined {
    const s = this.steps;
    this.index?.addFileBytes(s.head, s.buf, s.start, s.end, s.listing, s.record);
    return this.sink.fileBytes(s.head, s.buf, s.start, s.end, s.listing.mode(s.record), body);
  }

  startFile(size: number): Promise<void> {
    const s = this.steps;
    this.index?.addFileBytes(s.head, s.buf, s.start, s.end, s.listing, s.record);
    return this.sink.startFile(bytesEntry(s.head, s.buf, s.start, s.end, s.listing.mode(s.record)), size);
  }

  async rest(): Promise<void> {
    const s = this.steps;
    for (let kind = s.next(); kind !== ByteSteps.END; kind = s.next()) {
      if (kind !== ByteSteps.DIR) throw new Error("internal: an archive's file was not in the union of the files");
      this.index?.addDirBytes(s.dir, s.dirLen);
      const w = this.sink.dirBytes(s.dir, s.dirLen);
      if (w) await w;
    }
  }
}

/** The file entry named `head` then `buf[start, end)` (UTF-8), of git mode `mode`, as an object (the slow paths). */
function bytesEntry(head: Buffer, buf: Buffer, start: number, end: number, mode: string): PlannedEntry & { kind: "file" | "symlink" } {
  const name = head.toString("utf8") + buf.toString("utf8", start, end);
  return { name, kind: mode === "120000" ? "symlink" : "file", source: { path: "", mode, type: "blob", oid: "" } };
}

/** Record i of `listing` as a TreeEntry with its path and mode only (no object id, type "blob"), in one object
 *  refilled when another record is asked for: for walks that use an entry before asking for the next. */
export function lightEntries(listing: RawListing): (i: number) => TreeEntry {
  let current = -1;
  const one: TreeEntry = { path: "", mode: "", type: "blob", oid: "" };
  return (i) => {
    if (i !== current) {
      one.path = listing.path(i);
      one.mode = listing.mode(i);
      current = i;
    }
    return one;
  };
}

/** The object ids of some records of a raw listing, as cat-file input lines made piece by piece (not all at once). */
class ListingOids implements OidSource {
  readonly length: number;
  constructor(
    private readonly listing: RawListing,
    private readonly records: Uint32Array,
  ) {
    this.length = records.length;
  }

  lines(from: number, to: number): Buffer {
    const lines = new OidLines(to - from);
    for (let k = from; k < to; k++) {
      if (!this.listing.pushOid(this.records[k], lines)) {
        throw new UserError({ message: `git object ids of different lengths in one tree (${this.at(from)}, ${this.at(k)})` });
      }
    }
    return lines.lines(0, lines.length);
  }

  at(i: number): string {
    return this.listing.entry(this.records[i]).oid;
  }
}

/**
 * The entries of one archive as tar headers (mode, owner, group, mtime from the mapping) with their bodies, counted
 * in its summary; each entry's length pushed to `lengths` when given. One header object, refilled for every entry
 * (TarWriter keeps none). A method returns a promise only when the writer had to write its buffer out first.
 */
class ArchiveSink {
  readonly summary: ArchiveSummary;
  private readonly h: TarHeader;
  private readonly names: boolean;
  private readonly lengths?: LengthSink;
  private start = 0;

  constructor(
    private readonly out: TarWriter,
    mapping: GitMappingSpec,
    opts: { mtime?: number; skippedSubmodules?: string[]; names?: boolean; lengths?: LengthSink },
  ) {
    const owner = ownership(mapping.owner);
    const group = ownership(mapping.group);
    this.h = {
      mtime: new Date((opts.mtime ?? 0) * 1000),
      uid: owner.id ?? 0,
      gid: group.id ?? 0,
      ...(owner.name ? { uname: owner.name } : {}),
      ...(group.name ? { gname: group.name } : {}),
      name: "",
      type: "file",
      mode: 0,
      size: 0,
    };
    this.names = opts.names !== false;
    this.lengths = opts.lengths;
    this.summary = { entries: [], files: 0, symlinks: 0, directories: 0, skippedSubmodules: opts.skippedSubmodules ?? [] };
  }

  /** Counts an entry written by other means (copied from an earlier archive). */
  counted(p: PlannedEntry): void {
    if (this.names) this.summary.entries.push(p.kind === "dir" ? `${p.name}/` : p.name);
    if (p.kind === "dir") this.summary.directories++;
    else if (p.kind === "symlink") this.summary.symlinks++;
    else this.summary.files++;
  }

  dir(name: string): Promise<void> | undefined {
    const h = this.begin(`${name}/`);
    h.type = "directory";
    h.mode = 0o755;
    this.summary.directories++;
    return this.end(this.out.add(h));
  }

  /** dir() of the name `name[0, len)` (UTF-8): its bytes copied into the header when they can be (TarWriter.addNamed). */
  dirBytes(name: Buffer, len: number): Promise<void> | undefined {
    const t = (this.tDir ??= this.templateOf("directory", 0o755));
    if (t === null) return this.dir(name.toString("utf8", 0, len));
    const start = this.out.position;
    if (!this.out.addNamed(t, EMPTY, name, 0, len, true)) return this.dir(name.toString("utf8", 0, len));
    this.start = start;
    this.summary.directories++;
    if (this.names) this.summary.entries.push(`${name.toString("utf8", 0, len)}/`);
    return this.ended();
  }

  /** entry() of the file or symlink of git mode `mode` named `head` then `buf[start, end)` (UTF-8), as dirBytes. */
  fileBytes(head: Buffer, buf: Buffer, start: number, end: number, mode: string, body: Buffer): Promise<void> | undefined {
    const exec = mode === "100755" ? true : mode === "100644" ? false : mode === "120000" ? undefined : (parseInt(mode, 8) & 0o111) !== 0;
    const t = exec === undefined ? null : exec ? (this.tExec ??= this.templateOf("file", 0o755)) : (this.tFile ??= this.templateOf("file", 0o644));
    const at = this.out.position;
    if (t === null || !this.out.addNamed(t, head, buf, start, end, false, body)) return this.entry(bytesEntry(head, buf, start, end, mode), body);
    this.start = at;
    this.summary.files++;
    if (this.names) this.summary.entries.push(head.toString("utf8") + buf.toString("utf8", start, end));
    return this.ended();
  }

  /** The writer's header template of this archive's entries of `type` and `mode`; null when there is none. */
  private templateOf(type: "file" | "directory", mode: number): HeaderTemplate | null {
    const h = this.h;
    h.type = type;
    h.mode = mode;
    h.linkname = undefined;
    return this.out.template(h) ?? null;
  }

  private tDir: HeaderTemplate | null | undefined;
  private tFile: HeaderTemplate | null | undefined;
  private tExec: HeaderTemplate | null | undefined;

  /** A file or symlink entry with its whole body (a symlink's is its target). */
  entry(p: PlannedEntry & { kind: "file" | "symlink" }, body: Buffer): Promise<void> | undefined {
    const h = this.begin(p.name);
    if (p.kind === "symlink") {
      h.linkname = body.toString("utf8");
      h.type = "symlink";
      h.mode = 0o777;
      this.summary.symlinks++;
      return this.end(this.out.add(h));
    }
    this.file(h, p);
    h.size = body.length;
    return this.end(this.out.add(h, body));
  }

  /** A file entry whose `size` bytes of body the caller appends to the writer, then calls endFile. */
  async startFile(p: PlannedEntry & { kind: "file" | "symlink" }, size: number): Promise<void> {
    if (p.kind === "symlink") throw new Error("internal: a symlink's target is written whole");
    const h = this.begin(p.name);
    this.file(h, p);
    h.size = size;
    await this.out.startEntry(h);
  }

  async endFile(size: number): Promise<void> {
    await this.out.endEntry(size);
    this.ended();
  }

  private begin(name: string): TarHeader {
    this.start = this.out.position;
    const h = this.h;
    h.name = name;
    h.linkname = undefined;
    h.size = 0;
    if (this.names) this.summary.entries.push(name);
    return h;
  }

  private file(h: TarHeader, p: PlannedEntry & { kind: "file" | "symlink" }): void {
    h.type = "file";
    h.mode = (parseInt(p.source.mode, 8) & 0o111) !== 0 ? 0o755 : 0o644;
    this.summary.files++;
  }

  private end(w: Promise<void> | undefined): Promise<void> | undefined {
    if (!w) return this.ended();
    return w.then(() => this.ended());
  }

  private ended(): undefined {
    this.lengths?.push(this.out.position - this.start);
    return undefined;
  }
}

const EMPTY = Buffer.alloc(0);

/** Blobs up to this size are read whole and copied into the tar buffer; bigger ones are streamed through. */
const WHOLE_BLOB_MAX = 1 << 20;
/** The tar writer's buffer: written to the file each time it is full. */
const WRITE_BUFFER = 1 << 20;

/** A directory's name (its first `len` bytes of `name`) against a file's, `head` (its first `hl` bytes) then
 *  `buf` from `start`, `fl` bytes in all, compared as bytes: < 0, 0 or > 0 as the directory sorts before, equal or
 *  after. */
function compareDirName(name: Uint8Array, len: number, head: Uint8Array, hl: number, buf: Uint8Array, start: number, fl: number): number {
  const n = Math.min(len, fl);
  let k = 0;
  let c = 0;
  for (; k < n && k < hl; k++) if ((c = name[k] - head[k]) !== 0) return c;
  for (; k < n; k++) if ((c = name[k] - buf[start + k - hl]) !== 0) return c;
  return len - fl;
}
