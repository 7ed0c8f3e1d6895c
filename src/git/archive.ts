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
// Blob contents are streamed from `git cat-file --batch` straight into the file: memory stays bounded.

import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { UserError } from "../diagnostics.js";
import { BlobReader } from "./blobs.js";
import { mappingMatcher, mappingScope, mappingTarget, type GitMappingSpec } from "./mapping.js";
import { listTree, type TreeEntry } from "./tree.js";
import type { GitRepo } from "./repo.js";
import { listTreeWithSubmodules, type RepoTreeEntry } from "./submodules.js";
import type { SourcePos } from "../diagnostics.js";

export interface ArchiveOptions {
  /** Modification time of every entry, Unix seconds. Default 0. */
  mtime?: number;
  /** "include" (default, werf's behaviour): the files of reached submodules; "skip": leave submodules out. */
  submodules?: "include" | "skip";
  /** The mapping's werf.yaml position, for errors about missing submodules. */
  pos?: SourcePos;
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

/** Decides the archive's entries (sorted), without reading any blob. `allowEmpty`: no files is an empty plan,
 *  not an error (a patch towards a commit where the mapping matches nothing removes everything). */
export function planArchive(
  entries: readonly TreeEntry[],
  mapping: GitMappingSpec,
  opts: { allowEmpty?: boolean } = {},
): { planned: PlannedEntry[]; skippedSubmodules: string[] } {
  const scope = mappingScope(mapping);
  const target = mappingTarget(mapping);
  const files = entries.filter((e) => e.type !== "tree");
  if (files.length === 0) {
    if (opts.allowEmpty) return { planned: [], skippedSubmodules: [] };
    throw noFilesError(mapping, scope, false);
  }
  const singleFile = scope !== "" && files.length === 1 && files[0].path === scope;
  if (singleFile && target === "") {
    throw new UserError({
      message: `git mapping add: /${scope} is a single file, so \`to: /\` is not allowed`,
      hint: "set `to` to the file's destination path, e.g. to: /app/" + scope.split("/").pop(),
    });
  }
  const matcher = mappingMatcher(mapping);
  const planned = new Map<string, PlannedEntry>();
  const skippedSubmodules: string[] = [];
  const addDirs = (name: string) => {
    const parts = name.split("/");
    const first = target === "" ? 1 : target.split("/").length;
    for (let n = first; n < parts.length; n++) {
      const dir = parts.slice(0, n).join("/");
      if (!planned.has(dir)) planned.set(dir, { name: dir, kind: "dir" });
    }
  };
  for (const e of files) {
    if (!matcher.isPathMatched(e.path)) continue;
    if (e.type === "commit") {
      skippedSubmodules.push(e.path);
      continue;
    }
    const rel = matcher.relative(e.path)!;
    const name = singleFile ? target : target === "" ? rel : `${target}/${rel}`;
    planned.set(name, { name, kind: e.mode === "120000" ? "symlink" : "file", source: e });
    if (!singleFile) addDirs(name);
  }
  if (planned.size === 0 && skippedSubmodules.length === 0 && !opts.allowEmpty) throw noFilesError(mapping, scope, true);
  const sorted = [...planned.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { planned: sorted, skippedSubmodules };
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
  const entries = await listArchiveTree(repo, commit, mapping, opts);
  const { planned, skippedSubmodules } = planArchive(entries, mapping);
  return writePlannedArchive(repo, planned, mapping, outFile, { ...opts, skippedSubmodules });
}

/** Writes the given planned entries (sorted, as planArchive gives them, or a subset) as a tar: the archive's
 *  headers (modes, owner/group, mtime) and blob contents. `repo` holds the objects of entries without their own. */
export async function writePlannedArchive(
  repo: GitRepo,
  planned: readonly PlannedEntry[],
  mapping: GitMappingSpec,
  outFile: string,
  opts: { mtime?: number; skippedSubmodules?: string[] } = {},
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
  const pack = tar.pack();
  const written = pipeline(pack, createWriteStream(outFile));
  written.catch(() => {}); // awaited below
  // one `cat-file --batch` per repository (the superproject's and each submodule's)
  const readers = new Map<GitRepo, BlobReader>();
  const readerFor = (e: TreeEntry): BlobReader => {
    const r = (e as Partial<RepoTreeEntry>).repo ?? repo;
    let reader = readers.get(r);
    if (!reader) readers.set(r, (reader = new BlobReader(r)));
    return reader;
  };
  const summary: ArchiveSummary = { entries: [], files: 0, symlinks: 0, directories: 0, skippedSubmodules };
  try {
    for (const p of planned) {
      if (p.kind === "dir") {
        await addEntry(pack, { ...common, name: `${p.name}/`, type: "directory", mode: 0o755 });
        summary.entries.push(`${p.name}/`);
        summary.directories++;
      } else if (p.kind === "symlink") {
        const linkname = (await readerFor(p.source).read(p.source.oid)).toString("utf8");
        await addEntry(pack, { ...common, name: p.name, type: "symlink", linkname, mode: 0o777 });
        summary.entries.push(p.name);
        summary.symlinks++;
      } else {
        const blob = await readerFor(p.source).open(p.source.oid);
        const mode = (parseInt(p.source.mode, 8) & 0o111) !== 0 ? 0o755 : 0o644;
        const sink = pack.entry({ ...common, name: p.name, type: "file", mode, size: blob.size });
        await pipeline(blob.body, sink);
        summary.entries.push(p.name);
        summary.files++;
      }
    }
    pack.finalize();
    await written;
  } catch (e) {
    pack.destroy(e instanceof Error ? e : undefined);
    throw e;
  } finally {
    for (const reader of readers.values()) reader.close();
  }
  return summary;
}

function addEntry(pack: tar.Pack, header: Partial<tar.Header> & { name: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header as tar.Header, (err) => (err ? reject(err) : resolve()));
  });
}
