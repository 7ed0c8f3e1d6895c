// Git patch layers: bring the files of one git mapping from commit A (what a stored stage holds) to commit B.
//
// No `git apply` (werf's v3 and Buildah way, reference §3.4). The reference computation compares the archive plans
// (src/git/archive.ts `planArchive`) of both commits, so "full archive of A + patch" is by construction the full
// archive of B: the same include/exclude masks, single-file `add` rename, submodule expansion, modes and owner/group.
// `diffMapping` gets the same answer from one `git diff-tree --raw` (only changed files are looked at) and falls
// back to the reference when a submodule or `add`'s own path or parents changed. A patch is
//   - a tar holding the entries to write, with the archive's headers: changed or added files and symlinks, and the
//     directories that did not exist (as directories) in A's archive; existing directories are not touched, so
//     their modes and owners, possibly changed by user stages, stay as they are;
//   - a NUL-separated list of absolute paths to remove first: files and symlinks deleted, and entries whose type
//     changed (file ↔ directory ↔ symlink). A directory that merely disappears is not listed (its files are, and it
//     is removed once empty); below a directory that turned into something else nothing is listed (rm -rf).
// `patchApplyScript` applies both with the toolchain's busybox and bash: rm -rf the list, extract the tar at /,
// chown the written entries when the mapping has owner/group, then remove the directories that became empty
// because of the removals, below `to` only (werf's RemoveExactPathWithEmptyParentDirs with keep=[to]).
// See docs/git-patches.md.

import { writeFile } from "node:fs/promises";
import { singleQuote } from "../shell/quote.js";
import { idLookupFunction } from "../shell/ids.js";
import { UserError } from "../diagnostics.js";
import { checkEntryPath, listArchiveTree, ownership, planArchive, writePlannedArchive, type PlannedEntry } from "./archive.js";
import { mappingMatcher, mappingScope, mappingTarget, type GitMappingSpec } from "./mapping.js";
import type { PathMatcher } from "./pathMatcher.js";
import { lsTree } from "./tree.js";
import { runGit, type GitRepo } from "./repo.js";
import type { RepoTreeEntry } from "./submodules.js";

export interface PatchChanges {
  /** Paths (archive entry names, i.e. under `to`, no leading slash) to write from commit B, sorted.
   *  Directories new in B end with "/" (as in ArchiveSummary.entries); files and symlinks do not. */
  write: string[];
  /** Paths under `to` to remove before writing (deleted, or changed type: file↔dir↔symlink), sorted. */
  remove: string[];
  /** Sum of the sizes of the blobs written (bytes): the build uses it for werf's 1 MiB gitCache rule. */
  size: number;
  /** True when nothing changed for this mapping. */
  empty: boolean;
}

/** What an entry is, for comparison: directories by kind only, files by content and executable bit, symlinks by target. */
function signature(p: PlannedEntry): string {
  if (p.kind === "dir") return "dir";
  if (p.kind === "symlink") return `symlink ${p.source.oid}`;
  return `file ${(parseInt(p.source.mode, 8) & 0o111) !== 0 ? "755" : "644"} ${p.source.oid}`;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
/** Entry names sort as the archive sorts them: by name without the directory slash. */
const byEntry = (a: string, b: string): number => byName(a.replace(/\/$/, ""), b.replace(/\/$/, ""));

/** The written entries of diffMapping results, so writePatch need not list commit B again. */
const planCache = new WeakMap<PatchChanges, { commit: string; mapping: GitMappingSpec; written: PlannedEntry[] }>();

async function planAt(repo: GitRepo, commit: string, mapping: GitMappingSpec): Promise<PlannedEntry[]> {
  const entries = await listArchiveTree(repo, commit, mapping);
  return planArchive(entries, mapping, { allowEmpty: true }).planned;
}

interface RawChange {
  path: string;
  oldMode: string;
  newMode: string;
  oldOid: string;
  newOid: string;
}

const NO_MODE = "000000";

/**
 * What changed between the commits for the mapping: one `git diff-tree --raw` restricted to `add` and its parent
 * paths (a parent that is a submodule, or turned from a directory into a file, changes what `add` holds).
 */
async function rawDiff(repo: GitRepo, from: string, to: string, mapping: GitMappingSpec): Promise<{ records: RawChange[]; parents: Set<string> }> {
  const scope = mappingScope(mapping);
  const args = ["diff-tree", "-r", "-z", "--no-renames", "--raw", "--full-index", from, to];
  const parents = new Set<string>();
  if (scope !== "") {
    const parts = scope.split("/");
    for (let n = 1; n < parts.length; n++) parents.add(parts.slice(0, n).join("/"));
    args.push("--", ...[scope, ...parents].map((p) => `:(literal)${p}`));
  }
  const r = await runGit(repo.root, args);
  if (r.code !== 0) {
    throw new UserError({
      message: `cannot compare commits ${from} and ${to}: ${r.stderr.split("\n")[0] || `git exit code ${r.code}`}`,
      hint: "both commits must exist in the repository (a stored stage whose commit is gone is not reused)",
    });
  }
  const fields = r.stdout.toString("utf8").split("\0");
  const records: RawChange[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [oldMode, newMode, oldOid, newOid] = fields[i].replace(/^:/, "").split(" ");
    const path = fields[i + 1];
    if (scope === "" || path === scope || path.startsWith(`${scope}/`) || parents.has(path)) {
      records.push({ path, oldMode, newMode, oldOid, newOid });
    }
  }
  return { records, parents };
}

/** Sums the sizes of the given blobs, asking each repository (superproject or submodule) once. */
async function blobSizes(defaultRepo: GitRepo, entries: readonly PlannedEntry[]): Promise<number> {
  const byRepo = new Map<GitRepo, Set<string>>();
  for (const e of entries) {
    if (e.kind === "dir") continue;
    const r = (e.source as Partial<RepoTreeEntry>).repo ?? defaultRepo;
    let set = byRepo.get(r);
    if (!set) byRepo.set(r, (set = new Set()));
    set.add(e.source.oid);
  }
  const sizes = new Map<string, number>();
  for (const [r, oids] of byRepo) {
    const out = await runGit(r.root, ["cat-file", "--batch-check=%(objectname) %(objectsize)"], [...oids].join("\n") + "\n");
    if (out.code !== 0) throw new UserError({ message: `git cat-file --batch-check failed in ${r.root}: ${out.stderr}` });
    for (const line of out.stdout.toString("utf8").split("\n")) {
      const [oid, size] = line.split(" ");
      if (oid && size !== undefined && /^\d+$/.test(size)) sizes.set(oid, Number(size));
    }
  }
  let total = 0;
  for (const e of entries) {
    if (e.kind === "dir") continue;
    const s = sizes.get(e.source.oid);
    if (s === undefined) throw new UserError({ message: `git object ${e.source.oid} (${e.name}) is missing from the repository` });
    total += s;
  }
  return total;
}

function finish(written: PlannedEntry[], removed: string[]): { write: string[]; remove: string[] } {
  // a removed directory takes its contents with it: list only the topmost removed paths
  removed.sort(byName);
  const remove: string[] = [];
  for (const name of removed) {
    const last = remove[remove.length - 1];
    if (last !== undefined && name.startsWith(`${last}/`)) continue;
    remove.push(name);
  }
  const write = written.map((p) => (p.kind === "dir" ? `${p.name}/` : p.name)).sort(byEntry);
  return { write, remove };
}

/**
 * The reference: compares the full archive plans of both commits. Used when the quick path cannot decide alone
 * (a submodule changed, `add` or a parent of it changed type, a single-file `add`); exported for tests.
 */
export async function diffMappingByPlans(repo: GitRepo, from: string, to: string, mapping: GitMappingSpec): Promise<PatchChanges> {
  const [before, after] = await Promise.all([planAt(repo, from, mapping), planAt(repo, to, mapping)]);
  const old = new Map(before.map((p) => [p.name, p] as const));
  const next = new Map(after.map((p) => [p.name, p] as const));
  const removed: string[] = [];
  for (const p of before) {
    const n = next.get(p.name);
    // a directory that is simply gone is not removed as a whole: its files are, then it goes if left empty (files
    // that user stages put there stay, as with werf); one that turned into a file or symlink must go
    if (p.kind === "dir" ? n !== undefined && n.kind !== "dir" : !n || n.kind !== p.kind) removed.push(p.name);
  }
  const written: PlannedEntry[] = [];
  for (const p of after) {
    const o = old.get(p.name);
    if (!o || signature(o) !== signature(p)) written.push(p);
  }
  return result(repo, to, mapping, written, removed);
}

async function result(repo: GitRepo, to: string, mapping: GitMappingSpec, written: PlannedEntry[], removed: string[]): Promise<PatchChanges> {
  const { write, remove } = finish(written, removed);
  const changes: PatchChanges = { write, remove, size: await blobSizes(repo, written), empty: write.length === 0 && remove.length === 0 };
  planCache.set(changes, { commit: to, mapping, written });
  return changes;
}

/** Whether commit `commit` has a file the mapping matches strictly below repository directory `dir`. */
async function hasMatchedBelow(repo: GitRepo, commit: string, dir: string, matcher: PathMatcher): Promise<boolean> {
  for await (const e of lsTree(repo, commit, { scope: dir })) {
    if (e.type !== "tree" && (dir === "" || e.path.startsWith(`${dir}/`)) && matcher.isPathMatched(e.path)) return true;
  }
  return false;
}

/** The changes that bring the archive of `mapping` at commit `from` to its archive at commit `to`. */
export async function diffMapping(repo: GitRepo, from: string, to: string, mapping: GitMappingSpec): Promise<PatchChanges> {
  const empty: PatchChanges = { write: [], remove: [], size: 0, empty: true };
  if (from === to) return empty;
  const scope = mappingScope(mapping);
  const { records, parents } = await rawDiff(repo, from, to, mapping);
  if (records.length === 0) return empty;
  if (records.some((r) => r.oldMode === "160000" || r.newMode === "160000" || r.path === scope || parents.has(r.path))) {
    return diffMappingByPlans(repo, from, to, mapping);
  }
  // The quick path: only the changed files are looked at. The same matcher and naming as planArchive.
  const matcher = mappingMatcher(mapping);
  const target = mappingTarget(mapping);
  const nameOf = (p: string) => {
    const rel = matcher.relative(p)!;
    return target === "" ? rel : `${target}/${rel}`;
  };
  const entry = (path: string, mode: string, oid: string): PlannedEntry => ({
    name: nameOf(path),
    kind: mode === "120000" ? "symlink" : "file",
    source: { path, mode, type: "blob", oid },
  });
  const old = new Map<string, PlannedEntry>();
  const next = new Map<string, PlannedEntry>();
  for (const r of records) {
    if (!matcher.isPathMatched(r.path)) continue;
    checkEntryPath(r.path);
    if (r.oldMode !== NO_MODE) old.set(nameOf(r.path), entry(r.path, r.oldMode, r.oldOid));
    if (r.newMode !== NO_MODE) next.set(nameOf(r.path), entry(r.path, r.newMode, r.newOid));
  }
  // directories of A's archive known from the changed files (every file below a directory that turned into a
  // file is deleted, so it is among them)
  const oldDirs = new Set<string>();
  const dirsOf = (name: string, into: Set<string>) => {
    const parts = name.split("/");
    const first = target === "" ? 1 : target.split("/").length;
    for (let n = first; n < parts.length; n++) into.add(parts.slice(0, n).join("/"));
  };
  for (const name of old.keys()) dirsOf(name, oldDirs);
  const removed: string[] = [];
  for (const [name, o] of old) {
    const n = next.get(name);
    if (!n || n.kind !== o.kind) removed.push(name);
  }
  const written: PlannedEntry[] = [];
  const newDirs = new Set<string>();
  for (const [name, n] of next) {
    if (oldDirs.has(name)) removed.push(name); // a directory turned into a file or symlink
    const o = old.get(name);
    if (!o || signature(o) !== signature(n)) written.push(n);
    dirsOf(name, newDirs);
  }
  // B's directories that A's archive may not have had: ask commit A, shallowest first
  const repoPath = (dirName: string) => {
    const rel = target === "" ? dirName : dirName === target ? "" : dirName.slice(target.length + 1);
    return scope === "" ? rel : rel === "" ? scope : `${scope}/${rel}`;
  };
  const absent = new Set<string>();
  for (const d of [...newDirs].sort(byName)) {
    if (oldDirs.has(d)) continue;
    const parent = d.includes("/") ? d.slice(0, d.lastIndexOf("/")) : undefined;
    const existed = !(parent !== undefined && absent.has(parent)) && (await hasMatchedBelow(repo, from, repoPath(d), matcher));
    if (!existed) {
      absent.add(d);
      written.push({ name: d, kind: "dir" });
    }
  }
  return result(repo, to, mapping, written, removed);
}

/**
 * Writes the patch: `tarFile` holds the `write` entries of commit `to` with the archive's headers (see
 * writeGitArchive), `removeListFile` the `remove` paths as absolute paths, each followed by a NUL.
 * UserError when the mapping has owner/group and a written name holds a newline (the apply script lists the tar
 * by lines to chown it).
 */
export async function writePatch(
  repo: GitRepo,
  to: string,
  mapping: GitMappingSpec,
  changes: PatchChanges,
  tarFile: string,
  removeListFile: string,
): Promise<void> {
  const cached = planCache.get(changes);
  const planned = cached && cached.commit === to && cached.mapping === mapping ? cached.written : await planAt(repo, to, mapping);
  const byEntryName = new Map(planned.map((p) => [p.kind === "dir" ? `${p.name}/` : p.name, p] as const));
  const selected: PlannedEntry[] = [];
  for (const name of changes.write) {
    const p = byEntryName.get(name);
    if (!p) throw new Error(`patch entry ${JSON.stringify(name)} is not in the archive of commit ${to}`);
    selected.push(p);
  }
  if (mapping.owner !== undefined || mapping.group !== undefined) {
    const bad = selected.find((p) => p.name.includes("\n"));
    if (bad) {
      throw new UserError({
        message: `git file ${JSON.stringify(bad.name)} has a newline in its name, which git patches with owner/group do not support`,
        hint: "rename the file, or drop owner/group from the git mapping",
      });
    }
  }
  selected.sort((a, b) => byName(a.name, b.name));
  await writePlannedArchive(repo, selected, mapping, tarFile);
  await writeFile(removeListFile, changes.remove.map((n) => `/${n}\0`).join(""));
}


/**
 * The bash body (no shebang; run by `/.stapel/bin/bash -e` with the toolchain mounted at /.stapel) that applies a
 * patch written by writePatch. Runs in a subshell with PATH=/.stapel/bin, so the caller's environment is untouched.
 */
export function patchApplyScript(tarPath: string, removeListPath: string, mapping: GitMappingSpec): string {
  const target = mappingTarget(mapping);
  const top = target === "" ? "" : `/${target}`;
  const owner = ownership(mapping.owner);
  const group = ownership(mapping.group);
  const chown = mapping.owner !== undefined || mapping.group !== undefined;
  const lines = [
    "( # stapel2docker: git patch",
    "PATH=/.stapel/bin",
    "umask 022",
    "export EXTRACT_UNSAFE_SYMLINKS=1 # some busybox builds skip symlinks to absolute or ../ targets without it",
    `patch_tar=${singleQuote(tarPath)}`,
    `patch_removals=${singleQuote(removeListPath)}`,
    `patch_top=${singleQuote(top)}`,
  ];
  if (chown) {
    lines.push(
      ...idLookupFunction("patch_id"),
      `patch_uid=$(patch_id /etc/passwd ${singleQuote(owner.name ?? (owner.id !== undefined ? String(owner.id) : ""))} owner)`,
      `patch_gid=$(patch_id /etc/group ${singleQuote(group.name ?? (group.id !== undefined ? String(group.id) : ""))} group)`,
    );
  }
  lines.push(
    "mapfile -d '' -t patch_removed < \"$patch_removals\"",
    'if [ "${#patch_removed[@]}" -gt 0 ]; then printf \'%s\\0\' "${patch_removed[@]}" | xargs -0 rm -rf --; fi',
    'tar -xf "$patch_tar" -C /',
  );
  if (chown) {
    lines.push(`cd / && tar -tf "$patch_tar" | tr '\\n' '\\0' | xargs -0 -r chown -h "$patch_uid:$patch_gid" --`);
  }
  lines.push(
    "# directories left empty by the removals, strictly below `to`, deepest first",
    "declare -A patch_dirs=()",
    'for p in "${patch_removed[@]}"; do',
    "  d=${p%/*}",
    '  while [[ $d == "$patch_top"/* && -z ${patch_dirs[$d]+x} ]]; do patch_dirs[$d]=1; d=${d%/*}; done',
    "done",
    'if [ "${#patch_dirs[@]}" -gt 0 ]; then printf \'%s\\0\' "${!patch_dirs[@]}" | sort -rz | xargs -0 rmdir -- 2>/dev/null || true; fi',
    ")",
  );
  return lines.join("\n") + "\n";
}
