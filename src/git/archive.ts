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
import { BlobPipeline, OidLines } from "./blobs.js";
import { TarWriter, type TarHeader } from "./tar.js";
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
  ) {
    this.length = fileCount + dirs.length;
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

  *[Symbol.iterator](): Iterator<PlannedEntry> {
    const { fileCount, file, nameOf } = this;
    const dirs = this.dirs.cursor();
    for (let f = 0; f < fileCount; f++) {
      const e = file(f);
      const name = nameOf(e);
      for (let d = dirs.peek(); d !== undefined && d < name; d = dirs.peek()) {
        dirs.skip();
        yield { name: d, kind: "dir" };
      }
      if (dirs.peek() === name) dirs.skip(); // a file and a directory of one name: the file (never from git)
      yield { name, kind: e.mode === "120000" ? "symlink" : "file", source: e };
    }
    for (let d = dirs.peek(); d !== undefined; d = dirs.peek()) {
      dirs.skip();
      yield { name: d, kind: "dir" };
    }
  }
}

/** Sorted directory names kept as one string, front-coded (each name: how many leading characters it shares with
 *  the one before, as one character, then the rest and a NUL), read in order with a cursor. A repository can hold
 *  as many directories as files, with longer names: 336k directories of 26 MB of names take ~5 MB so. */
class DirNames {
  readonly length: number;
  private readonly text: string;
  constructor(sorted: readonly string[]) {
    this.length = sorted.length;
    const parts: string[] = [];
    let prev = "";
    for (const name of sorted) {
      let shared = 0;
      const max = Math.min(prev.length, name.length, 255);
      while (shared < max && prev.charCodeAt(shared) === name.charCodeAt(shared)) shared++;
      parts.push(String.fromCharCode(shared), name.slice(shared), "\0");
      prev = name;
    }
    this.text = parts.join("");
  }

  cursor(): { peek(): string | undefined; skip(): void } {
    const text = this.text;
    let at = 0;
    let prev = "";
    let current: string | undefined;
    let next = 0;
    return {
      peek() {
        if (current === undefined && at < text.length) {
          const nul = text.indexOf("\0", at + 1);
          current = prev.slice(0, text.charCodeAt(at)) + text.slice(at + 1, nul);
          next = nul + 1;
        }
        return current;
      },
      skip() {
        if (current === undefined) this.peek();
        prev = current!;
        at = next;
        current = undefined;
      },
    };
  }
}

/** planArchive, the entries as an ArchivePlan when the listing gives the files in name order (always so for git's
 *  order of valid UTF-8 paths below U+E000), else sorted as an array. */
export function planArchiveLazy(
  entries: TreeEntries,
  mapping: GitMappingSpec,
  opts: { allowEmpty?: boolean } = {},
): { planned: ArchivePlan | PlannedEntry[]; skippedSubmodules: string[] } {
  const scope = mappingScope(mapping);
  const target = mappingTarget(mapping);
  const singleFile = checkScope(entries, mapping, scope, target, opts.allowEmpty);
  if (singleFile === undefined) return { planned: [], skippedSubmodules: [] };
  const matcher = mappingMatcher(mapping);
  const nameOf = (e: TreeEntry): string => {
    if (singleFile) return target;
    const rel = matcher.relative(e.path)!;
    return target === "" ? rel : `${target}/${rel}`;
  };
  // the files: listing indexes when the entries are a listing range (decoded again when written), else objects
  const range = entries instanceof ListingRange ? entries : undefined;
  const files: TreeEntry[] = [];
  const indexes: number[] = [];
  // directories in the order their first file comes (parents first); a duplicate only when out of order (then the
  // fallback below drops it)
  const dirs: string[] = [];
  const fresh: string[] = [];
  const skippedSubmodules: string[] = [];
  let ordered = true;
  let last = "";
  const all: Iterable<number> | readonly TreeEntry[] = range ? range.indexes() : (entries as readonly TreeEntry[]);
  for (const x of all) {
    const e = typeof x === "number" ? range!.listing.entry(x) : x;
    if (e.type === "tree" || !matcher.isPathMatched(e.path)) continue;
    if (e.type === "commit") {
      skippedSubmodules.push(e.path);
      continue;
    }
    checkEntryPath(e.path);
    const name = nameOf(e);
    if ((files.length > 0 || indexes.length > 0) && !(last < name)) ordered = false;
    // the parents the previous file had: every directory up to where the two names part
    let common = 0;
    const max = Math.min(last.length, name.length);
    while (common < max && last.charCodeAt(common) === name.charCodeAt(common)) common++;
    last = name;
    if (range) indexes.push(x as number);
    else files.push(e);
    if (singleFile) continue;
    // every parent of `name` down to `to` itself (the parents of `to` are not emitted), but those the previous file
    // had (added with it or before: all of a file's parents are): a parent ending before `common` is one of them
    for (let slash = name.lastIndexOf("/"); slash > 0 && slash >= target.length && slash >= common; slash = name.lastIndexOf("/", slash - 1)) {
      fresh.push(name.slice(0, slash));
    }
    for (let k = fresh.length - 1; k >= 0; k--) dirs.push(fresh[k]);
    fresh.length = 0;
  }
  const fileCount = range ? indexes.length : files.length;
  if (fileCount === 0 && skippedSubmodules.length === 0 && !opts.allowEmpty) throw noFilesError(mapping, scope, true);
  // git's order puts "a/b-x" before the files of "a/b", the name order after "a/b": nearly sorted, sorted if not
  let sorted = true;
  for (let k = 1; k < dirs.length && sorted; k++) sorted = dirs[k - 1] < dirs[k];
  const dirList = sorted ? dirs : dirs.sort();
  if (ordered) {
    // the directory names as one string (a name sliced from a file's keeps that whole name alive; a repository can
    // hold as many directories as files)
    const dirNames = new DirNames(dirList);
    if (!range) return { planned: new ArchivePlan(fileCount, (k) => files[k], dirNames, nameOf), skippedSubmodules };
    const at = Uint32Array.from(indexes);
    const listing = range.listing;
    const raw = listing instanceof RawListing ? { listing, at } : undefined;
    return { planned: new ArchivePlan(fileCount, (k) => listing.entry(at[k]), dirNames, nameOf, raw), skippedSubmodules };
  }
  const planned = new Map<string, PlannedEntry>();
  for (const dir of dirList) planned.set(dir, { name: dir, kind: "dir" });
  for (const e of range ? indexes.map((i) => range.listing.entry(i)) : files) {
    const name = nameOf(e);
    planned.set(name, { name, kind: e.mode === "120000" ? "symlink" : "file", source: e });
  }
  return { planned: [...planned.values()].sort(byName), skippedSubmodules };
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
  const given = opts.entries;
  const reusable = given !== undefined && someEntry(given, () => true) && !someEntry(given, (e) => e.type === "commit");
  const entries = reusable ? given : await listArchiveTree(repo, commit, mapping, opts);
  const { planned, skippedSubmodules } = planArchiveLazy(entries, mapping);
  return writePlannedArchive(repo, planned, mapping, outFile, { mtime: opts.mtime, skippedSubmodules, names: opts.names });
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
  const skippedSubmodules = opts.skippedSubmodules ?? [];
  const mtime = new Date((opts.mtime ?? 0) * 1000);
  const owner = ownership(mapping.owner);
  const group = ownership(mapping.group);
  const common = {
    mtime,
    uid: owner.id ?? 0,
    gid: group.id ?? 0,
    ...(owner.name ? { uname: owner.name } : {}),
    ...(group.name ? { gname: group.name } : {}),
  };
  const summary: ArchiveSummary = { entries: [], files: 0, symlinks: 0, directories: 0, skippedSubmodules };
  // one pipelined `cat-file --batch` per repository (the superproject's and each submodule's), each asked for
  // its blobs in archive order up front
  const readers = new Map<GitRepo, BlobPipeline>();
  // where each entry is found in the archive to reuse (offset), or -1
  const reuseAt = opts.reuse?.at ?? new Float64Array(planned.length).fill(-1);
  const reuseLength = opts.reuse?.lengths ?? new Float64Array(planned.length);
  const lengths = opts.lengths;
  const names = opts.names !== false;
  let copyFrom = -1;
  let copyLength = 0;
  const out = await TarWriter.create(outFile, WRITE_BUFFER);
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
    // one header object, refilled for every entry (TarWriter keeps none); the writer and the readers answer
    // synchronously while their buffers allow, so most entries cost no promise
    const h: TarHeader = { ...common, name: "", type: "file", mode: 0, size: 0 };
    let start = 0;
    let r = 0;
    const ranges = opts.splice?.ranges ?? [];
    i = -1;
    for (const p of planned) {
      i++;
      if (lengths && i > 0 && reuseAt[i - 1] < 0) lengths.push(out.position - start);
      for (; r < ranges.length && ranges[r].before === i; r++) await out.copyRange(opts.splice!.file, ranges[r].offset, ranges[r].length);
      if (reuseAt[i] >= 0) {
        if (copyLength > 0 && copyFrom + copyLength === reuseAt[i]) copyLength += reuseLength[i];
        else {
          await flushCopy();
          copyFrom = reuseAt[i];
          copyLength = reuseLength[i];
        }
        lengths?.push(reuseLength[i]);
        if (names) summary.entries.push(p.kind === "dir" ? `${p.name}/` : p.name);
        if (p.kind === "dir") summary.directories++;
        else if (p.kind === "symlink") summary.symlinks++;
        else summary.files++;
        continue;
      }
      await flushCopy();
      start = out.position;
      h.linkname = undefined;
      h.size = 0;
      if (p.kind === "dir") {
        h.name = `${p.name}/`;
        h.type = "directory";
        h.mode = 0o755;
        const w = out.add(h);
        if (w) await w;
        if (names) summary.entries.push(h.name);
        summary.directories++;
        continue;
      }
      const reader = readers.get((p.source as Partial<RepoTreeEntry>).repo ?? repo)!;
      const size = reader.nextSync() ?? (await reader.next()).size;
      h.name = p.name;
      if (p.kind === "symlink") {
        h.linkname = (reader.readBodySync() ?? (await reader.readBody())).toString("utf8");
        h.type = "symlink";
        h.mode = 0o777;
        const w = out.add(h);
        if (w) await w;
        if (names) summary.entries.push(p.name);
        summary.symlinks++;
        continue;
      }
      h.type = "file";
      h.mode = (parseInt(p.source.mode, 8) & 0o111) !== 0 ? 0o755 : 0o644;
      h.size = size;
      if (size <= WHOLE_BLOB_MAX) {
        const w = out.add(h, reader.readBodySync() ?? (await reader.readBody()));
        if (w) await w;
      } else {
        await out.addStream(h, reader.bodyChunks());
      }
      if (names) summary.entries.push(p.name);
      summary.files++;
    }
    if (lengths && planned.length > 0 && reuseAt[planned.length - 1] < 0) lengths.push(out.position - start);
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

/** Blobs up to this size are read whole and copied into the tar buffer; bigger ones are streamed through. */
const WHOLE_BLOB_MAX = 1 << 20;
/** The tar writer's buffer: written to the file each time it is full. */
const WRITE_BUFFER = 1 << 20;
