// A commit's `ls-tree -r` listing through the persistent cache (docs/cache.md).
//
// A listing is keyed by its root tree id: the id is the hash of the whole tree, so the listing it names can only be
// the one stored. A per-repository pointer remembers the last tree listed; a commit whose tree is not cached yet is
// listed from that one and `git diff-tree -r` between the two trees (cost proportional to the change), else with
// `git ls-tree` as before. The changes are kept, so the planner can update results derived from the old listing
// (src/cache/mapping-results.ts) instead of recomputing them.

import { isUtf8 } from "node:buffer";
import { UserError } from "../diagnostics.js";
import { runGit, type GitRepo } from "../git/repo.js";
import { arrayListing, compareGitPaths, encodeRecord, listingLowerBound, lsTreeStreamed, parseListing, RawListing, type Listing, type ListingStream, type TreeEntry } from "../git/tree.js";

export { compareGitPaths };
import { keyOf, type CacheStore } from "./store.js";

/** One path that differs between two trees: its entry before and after (undefined: absent). */
export interface TreeChange {
  path: string;
  before?: TreeEntry;
  after?: TreeEntry;
}

/** A commit's changes from its first parent (`git log --raw`), read with the commit (src/project/commit.ts). */
export interface ParentChanges {
  /** The first parent's commit id. */
  commit: string;
  /** The tree of the commit the changes lead to. */
  tree: string;
  /** Decoded when asked; undefined when git's output is not what was expected (then diff-tree is run). */
  changes(): TreeChange[] | undefined;
}

/** A tree, and how its listing is had. */
export interface TreeChanges {
  tree: string;
  /** How it was obtained. */
  how: "cache" | "diff" | "ls-tree";
  /** With how = "diff": the tree it was derived from and the changes. */
  base?: { tree: string; changes: TreeChange[] };
}

export interface CachedListing extends TreeChanges {
  /** Decoded where it is looked at (RawListing), or all at once with `listing.all()`. */
  listing: Listing;
}

/** A tree whose listing is read (or derived) only when `load()` is called: a re-plan whose results the cache proves
 *  from the changes alone never reads the 100k-entry listing. */
export interface LazyListing extends TreeChanges {
  load(): Promise<Listing>;
}

const MODES = ["100644", "100755", "120000", "040000", "160000"];

/** `git diff-tree -r -z` from tree `from` to tree `to`: every file, link or submodule that differs.
 *  `noIndex`: a path where no file is (git reads an absent index as empty). diff-tree reads the index at start,
 *  for attributes that only a patch uses; a 100k-file index costs it ~50 ms, and in a sparse checkout git also
 *  stats the work tree for every skipped entry (~90 ms on the bench repository, against ~3 ms without). */
export async function diffTrees(repo: GitRepo, from: string, to: string, noIndex?: string): Promise<TreeChange[]> {
  const args = ["diff-tree", "-r", "-z", "--no-renames", "--full-index", from, to];
  const r = await runGit(repo.root, args, undefined, noIndex ? { GIT_INDEX_FILE: noIndex } : undefined);
  if (r.code !== 0) throw new UserError({ message: `cannot compare trees ${from} and ${to}: ${r.stderr.split("\n")[0]}` });
  return parseRawDiff(r.stdout);
}

/** git's `--raw -r -z --full-index` records (diff-tree's, or `log --raw`'s after its format line). */
export function parseRawDiff(text: Buffer): TreeChange[] {
  const out: TreeChange[] = [];
  let o = 0;
  while (o < text.length) {
    const nul = text.indexOf(0, o);
    if (nul < 0) break;
    // ":<old mode> <new mode> <old oid> <new oid> <status>"
    const [oldMode, newMode, oldOid, newOid] = text.toString("latin1", o + 1, nul).split(" ");
    const end = text.indexOf(0, nul + 1);
    // a path that is not UTF-8 would be decoded with U+FFFD: two names could become one, and a record written back
    // from it would name another file; such a commit is listed by git, never derived (a branch could otherwise
    // leave its file's content in another branch's listing)
    if (!isUtf8(text.subarray(nul + 1, end < 0 ? text.length : end))) throw new NotUtf8Path();
    const p = text.toString("utf8", nul + 1, end < 0 ? text.length : end);
    o = end < 0 ? text.length : end + 1;
    const entry = (mode: string, oid: string): TreeEntry | undefined =>
      /^0+$/.test(mode) ? undefined : { path: p, mode: MODES.find((m) => m === mode) ?? mode, type: mode === "160000" ? "commit" : mode === "040000" ? "tree" : "blob", oid };
    out.push({ path: p, before: entry(oldMode, oldOid), after: entry(newMode, newOid) });
  }
  return out;
}

/** A changed path that is not valid UTF-8 (the changes cannot be applied to a listing exactly). */
class NotUtf8Path extends Error {}

/** `entries` (sorted as git lists them) with `changes` applied, in the same order. */
export function applyChanges(entries: readonly TreeEntry[], changes: readonly TreeChange[]): TreeEntry[] {
  const out = entries.slice();
  // few changes: each placed by binary search (git's order is UTF-8 byte order of the paths)
  for (const c of [...changes].sort((x, y) => compareGitPaths(x.path, y.path))) {
    let lo = 0;
    let hi = out.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareGitPaths(out[mid].path, c.path) < 0) lo = mid + 1;
      else hi = mid;
    }
    const present = lo < out.length && out[lo].path === c.path;
    if (c.after) {
      if (present) out[lo] = c.after;
      else out.splice(lo, 0, c.after);
    } else if (present) {
      out.splice(lo, 1);
    }
  }
  return out;
}

/** The listing `changes` make of `old`: the unchanged records' bytes copied, the changed ones written; cost
 *  proportional to the changes (and one copy of the bytes). */
export function applyRawChanges(old: RawListing, changes: readonly TreeChange[]): RawListing {
  if (!old.ordered()) {
    const entries = applyChanges(old.all(), changes);
    return RawListing.parse(Buffer.from(entries.map(encodeRecord).join(""), "utf8"))!;
  }
  const pieces: Buffer[] = [];
  let from = 0;
  for (const c of [...changes].sort((x, y) => compareGitPaths(x.path, y.path))) {
    const i = listingLowerBound(old, c.path, from);
    pieces.push(old.slice(from, i));
    if (c.after) pieces.push(Buffer.from(encodeRecord(c.after), "utf8"));
    from = i < old.length && old.path(i) === c.path ? i + 1 : i;
  }
  pieces.push(old.slice(from, old.length));
  return RawListing.parse(Buffer.concat(pieces))!;
}

/** The root tree id of `commit`. */
export async function rootTree(repo: GitRepo, commit: string): Promise<string> {
  return (await repo.git(["rev-parse", "--verify", `${commit}^{tree}`], "resolving the commit's tree")).toString("utf8").trim();
}

/** How many listings in a row are stored as changes to the one before (then a whole listing again). */
const MAX_DELTAS = 16;

interface Delta {
  base: string;
  depth: number;
  changes: TreeChange[];
}

function readDelta(store: CacheStore, tree: string): Delta | undefined {
  const buf = store.get("listing-delta", tree);
  if (!buf) return undefined;
  try {
    const d = JSON.parse(buf.toString("utf8")) as Delta;
    return typeof d.base === "string" && typeof d.depth === "number" && Array.isArray(d.changes) ? d : undefined;
  } catch {
    return undefined;
  }
}

/** The listing of `tree`: stored whole, or as changes to another stored listing. */
function readListing(store: CacheStore, tree: string, depth = 0): { listing: RawListing; depth: number } | undefined {
  const buf = store.get("listing", tree);
  const whole = buf ? RawListing.parse(buf) : undefined;
  if (whole) return { listing: whole, depth: 0 };
  const delta = depth < MAX_DELTAS ? readDelta(store, tree) : undefined;
  const base = delta ? readListing(store, delta.base, depth + 1) : undefined;
  // a listing with a path that is not UTF-8 is decoded with U+FFFD: changes are never applied to it (listed again)
  if (base && !base.listing.utf8()) return undefined;
  return delta && base ? { listing: applyRawChanges(base.listing, delta.changes), depth: base.depth + 1 } : undefined;
}

/** Deltas larger than this are stored as a whole listing. */
const MAX_DELTA_CHANGES = 4096;

/** The listing of `tree` (at `commit` of `repo`), from the cache when it holds it, else derived from the last
 *  listing of this repository with `git diff-tree` (and stored as those changes), else listed (and stored whole, as
 *  git wrote it). */
export async function cachedListTree(store: CacheStore, repo: GitRepo, commit: string, tree?: string): Promise<CachedListing> {
  const lazy = await cachedTreeChanges(store, repo, commit, tree);
  const listing = await lazy.load();
  await store.flush();
  return { tree: lazy.tree, how: lazy.how, ...(lazy.base ? { base: lazy.base } : {}), listing };
}

/** The depth of the stored listing of `tree` (0: whole; n: n deltas from a whole one), or undefined when none is
 *  stored (a whole listing is only checked to be there: it is read, and checked, when loaded). */
function storedDepth(store: CacheStore, tree: string): number | undefined {
  if (store.has("listing", tree)) return 0;
  return readDelta(store, tree)?.depth;
}

/**
 * cachedListTree without reading the listing: the tree id, how it is had and, for a new tree, the `diff-tree`
 * changes from the last tree listed here (stored as a delta). `load()` reads it (once). A listing that cannot be
 * read back (an entry removed or garbled since) is listed with `git ls-tree` and stored whole.
 */
export async function cachedTreeChanges(store: CacheStore, repo: GitRepo, commit: string, tree?: string, stream?: ListingStream, parent?: ParentChanges): Promise<LazyListing> {
  const id = tree ?? (await rootTree(repo, commit));
  const lastKey = keyOf("last-tree", repo.root);
  // "<tree> <commit>": the last tree listed here, and the commit it was listed for
  const [last, lastCommit] = (store.get("pointer", lastKey)?.toString("utf8") ?? "").split(" ");
  const listed = async (): Promise<Listing> => {
    // indexed and hashed as git writes it
    const { buf: raw, listing, sha256 } = await lsTreeStreamed(repo, commit, { hash: true, stream });
    store.put("listing", id, raw, sha256);
    return listing ?? arrayListing(parseListing(raw) ?? []);
  };
  const once = (f: () => Promise<Listing>) => {
    let p: Promise<Listing> | undefined;
    return () => (p ??= f());
  };
  if (storedDepth(store, id) !== undefined) {
    if (last !== id || lastCommit !== commit) store.putSoon("pointer", lastKey, `${id} ${commit}`);
    return { tree: id, how: "cache", load: once(async () => readListing(store, id)?.listing ?? (await listed())) };
  }
  const lastDepth = last && /^[0-9a-f]{40,64}$/.test(last) && last !== id ? storedDepth(store, last) : undefined;
  if (last && lastDepth !== undefined) {
    let changes: TreeChange[] | undefined;
    // the commit's changes from its first parent, when git gave them with the commit and the last tree listed here is
    // that parent's (a commit id names its tree): no diff-tree to wait for
    if (parent && parent.commit === lastCommit && parent.tree === id && /^[0-9a-f]{40,64}$/.test(lastCommit)) changes = parent.changes();
    if (!changes) {
      try {
        changes = await diffTrees(repo, last, id, store.absentFile());
      } catch {
        changes = undefined; // the old tree is gone from this repository (gc): list it
      }
    }
    if (changes) {
      const base = { tree: last, changes };
      const load = once(async () => {
        const old = readListing(store, last);
        return old && old.listing.utf8() ? applyRawChanges(old.listing, changes) : await listed();
      });
      if (lastDepth < MAX_DELTAS - 1 && changes.length <= MAX_DELTA_CHANGES) {
        store.putSoon("listing-delta", id, JSON.stringify({ base: last, depth: lastDepth + 1, changes } satisfies Delta));
      } else {
        const l = await load();
        if (l instanceof RawListing) store.put("listing", id, l.buf);
      }
      store.putSoon("pointer", lastKey, `${id} ${commit}`);
      return { tree: id, how: "diff", base, load };
    }
  }
  // git's bytes kept as one buffer, decoded where looked at, and stored as they are; the tree is answered at once
  // (a render need not wait for git to list), the listing's errors where it is loaded
  const listing = listed();
  listing.then(() => store.put("pointer", lastKey, `${id} ${commit}`), () => {});
  return { tree: id, how: "ls-tree", load: () => listing };
}
