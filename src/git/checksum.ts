// Checksum of the files that a stage's `stageDependencies` masks select in one git mapping, at a commit.
//
// Computed from git's tree listing only (no blob reads): for each matched file, its path relative to
// `add`, its git mode and its object id, sorted by path, hashed with sha256. Changing a matched file's
// content, mode or name changes it; changing a file no mask selects does not. A file counts when it
// matches the mapping's include/exclude AND one of the masks (werf's multi path matcher). No masks →
// "" (werf v2: the stage does not depend on the mapping's files).

import { createHash } from "node:crypto";
import { PathMatcher } from "./pathMatcher.js";
import { mappingMatcher, mappingScope, type GitMappingSpec } from "./mapping.js";
import { listTree, type TreeEntry } from "./tree.js";
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
  /** Which files each mask matched (for `plan` output); a mask with no files is worth a warning. */
  masks: MaskFiles[];
}

function byPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The files of `entries` that the mapping's include/exclude select, with their paths relative to `add`; kept per
 *  listing array and mapping, so the stages of one mapping ask the mapping's matcher once per file (a listing
 *  array is never changed after it is made). */
const selectedCache = new WeakMap<object, Map<string, { rel: string; entry: TreeEntry }[]>>();

function selectedFiles(entries: Iterable<TreeEntry>, mapping: GitMappingSpec): Iterable<{ rel: string; entry: TreeEntry }> {
  // a listing decoded as it is read (ListingRange) is matched as it goes: no object per file kept
  if (!Array.isArray(entries)) return selectedStream(entries, mapping);
  const key = JSON.stringify([mapping.add, mapping.includePaths, mapping.excludePaths]);
  const byMapping = Array.isArray(entries) ? (selectedCache.get(entries) ?? new Map()) : undefined;
  const cached = byMapping?.get(key);
  if (cached) return cached;
  const base = mappingMatcher(mapping);
  const out: { rel: string; entry: TreeEntry }[] = [];
  for (const e of entries) {
    if (e.type === "tree" || !base.isPathMatched(e.path)) continue;
    out.push({ rel: base.relative(e.path)!, entry: e });
  }
  if (byMapping) {
    byMapping.set(key, out);
    selectedCache.set(entries as object, byMapping);
  }
  return out;
}

function* selectedStream(entries: Iterable<TreeEntry>, mapping: GitMappingSpec): Generator<{ rel: string; entry: TreeEntry }> {
  const base = mappingMatcher(mapping);
  for (const e of entries) {
    if (e.type === "tree" || !base.isPathMatched(e.path)) continue;
    yield { rel: base.relative(e.path)!, entry: e };
  }
}

/** The checksum over `entries` (a commit's ls-tree listing; tree entries are ignored). */
export function stageDependenciesChecksum(
  entries: Iterable<TreeEntry>,
  mapping: GitMappingSpec,
  masks: readonly string[],
  label = "git.stageDependencies",
): DependenciesChecksum {
  if (masks.length === 0) return { checksum: "", paths: [], masks: [] };
  // werf's MultiPathMatcher(mapping, mask) for each mask: the mapping's matcher is asked once per file,
  // then each mask alone, on the path relative to `add` (both matchers share the base path)
  const selected = selectedFiles(entries, mapping);
  const maskMatchers = masks.map(
    (mask) => new PathMatcher({ basePath: mapping.add, includeGlobs: [mask], label: { include: label } }).include[0],
  );
  const perMask: string[][] = masks.map(() => []);
  const matched = new Map<string, TreeEntry>();
  for (const { rel: relPath, entry: e } of selected) {
    let any = false;
    for (let i = 0; i < maskMatchers.length; i++) {
      if (maskMatchers[i].matches(relPath)) {
        perMask[i].push(relPath);
        any = true;
      }
    }
    if (any) matched.set(relPath, e);
  }
  const paths = [...matched.keys()].sort(byPath);
  const ids: string[] = paths.map((p) => {
    const e = matched.get(p)!;
    return `${e.mode} ${e.oid}`;
  });
  return {
    checksum: hashMatched(paths, ids),
    paths,
    ids,
    masks: masks.map((mask, i) => ({ mask, paths: perMask[i].sort(byPath) })),
  };
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

/** Index of `p` in sorted `list`, or -(insertion point) - 1. */
function search(list: readonly string[], p: string): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = list[mid];
    if (v < p) lo = mid + 1;
    else if (v > p) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}

/** The checksum of the listing that `changes` make of the one `prev` was computed on (same mapping, masks and
 *  label): cost proportional to the changes and the matched files, not to the repository. Gives exactly what
 *  stageDependenciesChecksum gives on the new listing. `prev` needs its `ids`. */
export function updateStageDependencies(
  prev: DependenciesChecksum,
  changes: readonly PathChange[],
  mapping: GitMappingSpec,
  masks: readonly string[],
  label = "git.stageDependencies",
): DependenciesChecksum {
  if (masks.length === 0) return { checksum: "", paths: [], masks: [] };
  if (!prev.ids || prev.masks.length !== masks.length) throw new Error("updateStageDependencies: previous result without ids");
  const base = mappingMatcher(mapping);
  let maskMatchers: { matches(p: string): boolean }[] | undefined;
  const paths = [...prev.paths];
  const ids = [...prev.ids];
  const perMask = prev.masks.map((m) => [...m.paths]);
  let touched = false;
  for (const c of changes) {
    if (!base.isPathMatched(c.path)) continue;
    const rel = base.relative(c.path)!;
    touched = true;
    const at = search(paths, rel);
    if (at >= 0) {
      paths.splice(at, 1);
      ids.splice(at, 1);
      for (const list of perMask) {
        const i = search(list, rel);
        if (i >= 0) list.splice(i, 1);
      }
    }
    const e = c.after;
    if (!e || e.type === "tree") continue;
    maskMatchers ??= masks.map(
      (mask) => new PathMatcher({ basePath: mapping.add, includeGlobs: [mask], label: { include: label } }).include[0],
    );
    let any = false;
    for (let i = 0; i < maskMatchers.length; i++) {
      if (!maskMatchers[i].matches(rel)) continue;
      any = true;
      const j = search(perMask[i], rel);
      if (j < 0) perMask[i].splice(-j - 1, 0, rel);
    }
    if (any) {
      const j = search(paths, rel);
      if (j < 0) {
        paths.splice(-j - 1, 0, rel);
        ids.splice(-j - 1, 0, `${e.mode} ${e.oid}`);
      }
    }
  }
  if (!touched) return prev;
  return {
    checksum: hashMatched(paths, ids),
    paths,
    ids,
    masks: masks.map((mask, i) => ({ mask, paths: perMask[i] })),
  };
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
