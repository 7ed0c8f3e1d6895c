// Which repository and commit each git mapping of werf.yaml reads, its stable id, and the commit's
// file list (listed once per repository and commit, shared by every mapping and every mask).

import path from "node:path";
import { UserError, type SourcePos } from "../diagnostics.js";
import type { GitMapping } from "../config/model.js";
import { GitRepo } from "../git/repo.js";
import { listingLowerBound, listTreeCompact, ListingRange, ListingStream, RawListing, type Listing, type TreeEntries, type TreeEntry } from "../git/tree.js";
import { checkArchiveMatches } from "../git/archive.js";
import { mappingMatcher, mappingScope, mappingTarget, type GitMappingSpec } from "../git/mapping.js";
import type { GitSource } from "./model.js";
import { shortId } from "./digest.js";
import type { ProjectCommit } from "../project/commit.js";
import { ChecksumScan, stageDependenciesChecksums, type DependenciesChecksum, type DependenciesRequest } from "../git/checksum.js";
import { findDependencies, storeDependencies } from "../cache/deps.js";
import { cachedTreeChanges, type CachedListing, type LazyListing, type ParentChanges, type TreeChanges } from "../cache/listing.js";
import { keyOf, type CacheStore } from "../cache/store.js";

/** werf's paramshash inputs (reference §2.3): what identifies a mapping, without any commit of the local repo. */
export type { ProjectCommit };

export function mappingParams(m: GitMapping, repoName: string): Record<string, unknown> {
  return {
    repo: repoName,
    as: m.as,
    add: m.add,
    to: m.to,
    includePaths: m.includePaths,
    excludePaths: m.excludePaths,
    owner: m.owner,
    group: m.group,
    branch: m.branch,
    tag: m.tag,
    commit: m.commit,
  };
}

export function toSpec(m: GitMapping): GitMappingSpec {
  return { add: m.add, to: m.to, includePaths: m.includePaths, excludePaths: m.excludePaths, owner: m.owner, group: m.group };
}

interface OpenedRepo {
  repo: GitRepo;
  commit: string;
  repoName: string;
  /** The commit's root tree id and committer time, when already read with it. */
  tree?: string;
  time?: number;
  /** The commit's changes from its first parent, when already read with it. */
  parentChanges?: ParentChanges;
}

/** Opens repositories once, lists each commit's tree once. */
export class GitSources {
  private local?: Promise<OpenedRepo | undefined>;
  private remotes = new Map<string, Promise<OpenedRepo>>();
  private trees = new Map<string, Promise<Listing>>();
  private listings = new Map<string, Promise<LazyListing>>();
  private scoped = new Map<string, Promise<TreeEntries>>();
  /** The listings git is writing now, by repository and commit: their records go to checksums as they come. */
  private streams = new Map<string, ListingStream>();
  /** stageDependencies checksums fed while their listing streamed in (prepareDependencies), by repository, commit,
   *  mapping and requests. */
  private prepared = new Map<string, { scan: ChecksumScan; stream: ListingStream }>();
  /** The same, by repository, commit and mapping. */
  private preparedByMapping = new Map<string, { scan: ChecksumScan; stream: ListingStream }[]>();

  constructor(
    private readonly dir: string,
    private readonly cacheDir: string | undefined,
    /** The project's commit when already known (HEAD, or the `--dev` commit of the work tree). */
    private readonly own?: Promise<ProjectCommit | undefined>,
    /** The persistent cache (src/cache/store.ts): listings and stageDependencies checksums by tree id. */
    readonly store?: CacheStore,
  ) {}

  /** The listing of `commit` in `repo`, through the persistent cache when there is one (then decoded only where
   *  it is looked at). */
  private list(repo: GitRepo, commit: string, tree?: string): Promise<Listing> {
    const key = `${repo.root}\0${commit}`;
    let p = this.trees.get(key);
    if (!p) {
      p = this.store ? this.lazy(repo, commit, tree).then((x) => x.load()) : listTreeCompact(repo, commit, this.stream(key));
      this.trees.set(key, p);
    }
    return p;
  }

  /** With the cache: the tree of `commit` and its changes from the last tree listed, its listing read when asked. */
  private lazy(repo: GitRepo, commit: string, tree?: string, parent?: ParentChanges): Promise<LazyListing> {
    const key = `${repo.root}\0${commit}`;
    let l = this.listings.get(key);
    if (!l) this.listings.set(key, (l = cachedTreeChanges(this.store!, repo, commit, tree, this.stream(key), parent)));
    return l;
  }

  private stream(key: string): ListingStream {
    const s = new ListingStream();
    this.streams.set(key, s);
    return s;
  }

  private preparedKey(source: GitSource, requests: readonly DependenciesRequest[]): string {
    return JSON.stringify([source.repoDir, source.commit, toSpec(source.mapping), requests.map((r) => [r.masks, r.label ?? ""])]);
  }

  /**
   * Starts the stageDependencies checksums of `requests` (stages with masks) over the mapping's files while git still
   * writes the listing, when it does now: the records are matched chunk by chunk as they come (ChecksumScan.scanWindow),
   * and dependenciesOf with the same requests only finishes them. Otherwise, or on any problem (a malformed mask:
   * reported by dependenciesOf), nothing.
   */
  prepareDependencies(source: GitSource, requests: readonly DependenciesRequest[]): void {
    const stream = this.streams.get(`${source.repoDir}\0${source.commit}`);
    if (!stream || !stream.started || stream.ended || stream.failed || requests.length === 0 || requests.some((r) => r.masks.length === 0)) return;
    const key = this.preparedKey(source, requests);
    if (this.prepared.has(key)) return;
    const spec = toSpec(source.mapping);
    let scan: ChecksumScan;
    try {
      scan = new ChecksumScan(spec, requests);
    } catch {
      return;
    }
    // the index ranges read are the scope's: the base path must be it (`add` does not climb)
    if (scan.base.basePath !== mappingScope(spec)) return;
    if (stream.watch((l, from, to) => scan.scanWindow(l, from, to))) {
      this.prepared.set(key, { scan, stream });
      const byMapping = JSON.stringify([source.repoDir, source.commit, spec]);
      this.preparedByMapping.set(byMapping, [...(this.preparedByMapping.get(byMapping) ?? []), { scan, stream }]);
    }
  }

  /** With the cache: the project's tree and its changes from the last tree listed (the render cache checks them),
   *  without reading the listing. */
  async ownChanges(): Promise<TreeChanges | undefined> {
    const own = await this.ownRepo();
    return own && this.store ? this.lazy(own.repo, own.commit, own.tree, own.parentChanges) : undefined;
  }

  /** The project's listing at its commit, for the render's file lookups (not decoded as a whole). */
  async ownListing(): Promise<Listing | undefined> {
    const own = await this.ownRepo();
    return own ? this.list(own.repo, own.commit, own.tree) : undefined;
  }

  /**
   * The stageDependencies checksum of `masks` over the mapping's files at the source's commit. With the cache: the
   * result stored for this tree, mapping and masks; else the one of the tree the listing was derived from, updated
   * with the changes between the two trees; else computed from the listing. Stored for the next plan.
   */
  async dependencies(source: GitSource, masks: readonly string[], label: string): Promise<DependenciesChecksum> {
    return (await this.dependenciesOf(source, [{ masks, label }]))[0];
  }

  /** dependencies() of several stages of one mapping: those computed from the listing in one pass over it. */
  async dependenciesOf(source: GitSource, requests: readonly { masks: readonly string[]; label: string }[]): Promise<DependenciesChecksum[]> {
    const spec = toSpec(source.mapping);
    // the plan keeps what it needs (checksum, paths); the object ids are for the cache only
    const lean = (d: DependenciesChecksum): DependenciesChecksum => ({ checksum: d.checksum, paths: d.paths, masks: d.masks });
    const out: (DependenciesChecksum | undefined)[] = requests.map((r) => (r.masks.length === 0 ? { checksum: "", paths: [], masks: [] } : undefined));
    const store = this.store;
    let listing: LazyListing | undefined;
    if (store && out.includes(undefined)) {
      // from the cache: this tree's, or the last tree's updated with the commit's changes (no listing read)
      listing = await this.lazy(await this.repoOf(source), source.commit);
      for (let r = 0; r < requests.length; r++) {
        if (!out[r]) out[r] = findDependencies(store, listing.tree, listing.base, spec, requests[r].masks, requests[r].label);
      }
    }
    const missing = requests.map((_, r) => r).filter((r) => !out[r]);
    if (missing.length) {
      // the object ids are kept for the cache only
      const asked = missing.map((r) => requests[r]);
      const scoped = await this.scopedTree(source);
      // fed while the listing streamed in (prepareDependencies): the listing it was fed is this one, whole
      const preKey = this.preparedKey(source, asked);
      const pre = this.prepared.get(preKey);
      // finished once: what it holds (matched paths, records) is not kept for the rest of the run
      if (pre) this.forget(preKey, source, pre);
      const sums =
        pre && pre.stream.ended && !pre.stream.failed && scoped instanceof ListingRange && scoped.listing instanceof RawListing
          ? pre.scan.finish(scoped.listing, { ids: store ? true : false })
          : stageDependenciesChecksums(scoped, spec, asked, { ids: store ? true : false });
      missing.forEach((r, k) => {
        out[r] = sums[k];
        if (store && listing) storeDependencies(store, listing.tree, spec, requests[r].masks, requests[r].label, sums[k]);
      });
    }
    return out.map((d) => lean(d!));
  }

  /** The project's own repository at its commit (HEAD or the dev commit), or undefined when the project is not
   *  in a git worktree. */
  ownRepo(): Promise<OpenedRepo | undefined> {
    if (this.own) {
      this.local ??= this.own.then((pc) =>
        pc && pc.commit ? { repo: pc.repo, commit: pc.commit, repoName: "own", tree: pc.dev ? undefined : pc.tree, time: pc.dev ? undefined : pc.time, parentChanges: pc.dev ? undefined : pc.parentChanges } : undefined,
      );
      return this.local;
    }
    this.local ??= (async () => {
      let repo: GitRepo;
      try {
        repo = await GitRepo.open(this.dir);
      } catch (e) {
        if (e instanceof UserError && /is not inside a git repository/.test(e.message)) return undefined;
        throw e;
      }
      return { repo, commit: await repo.resolveCommit("HEAD"), repoName: "own" };
    })();
    return this.local;
  }

  /** The repository and commit of one mapping; errors are located at the mapping. */
  async source(m: GitMapping): Promise<GitSource> {
    let opened: OpenedRepo;
    if (m.local) {
      const own = await this.ownRepo();
      if (!own) {
        throw new UserError({
          pos: m.pos,
          message: `git mapping add: ${m.add} needs a git repository, but ${this.dir} is not inside one`,
          hint: "git mappings are read from the HEAD commit: run `git init && git add -A && git commit` in the project",
        });
      }
      opened = own;
    } else {
      const key = JSON.stringify([m.url, m.branch, m.tag, m.commit]);
      let p = this.remotes.get(key);
      if (!p) {
        p = import("../git/remote.js").then(({ openRemote }) => openRemote(
          { url: m.url!, branch: m.branch, tag: m.tag, commit: m.commit, basicAuth: m.basicAuth, pos: m.pos },
          { cacheDir: this.cacheDir, projectDir: this.dir },
        ));
        this.remotes.set(key, p);
      }
      opened = await p;
    }
    return {
      id: shortId(mappingParams(m, opened.repoName)),
      mapping: m,
      repoName: opened.repoName,
      repoDir: opened.repo.root,
      commit: opened.commit,
    };
  }

  /** Every entry of the project's repository at HEAD, or undefined without a repository. */
  async ownTree(): Promise<TreeEntry[] | undefined> {
    return (await this.ownListing())?.all();
  }

  /** Every entry of `commit` (files, symlinks, submodules; no directories). */
  async tree(source: GitSource): Promise<TreeEntry[]> {
    return (await this.list(await this.repoOf(source), source.commit)).all();
  }

  /** The index range [from, to) of the mapping's `add` scope in the source's listing, when the listing is ordered. */
  private async scopeRange(source: GitSource): Promise<{ listing: Listing; from: number; to: number } | undefined> {
    const listing = await this.list(await this.repoOf(source), source.commit);
    const scope = mappingScope(toSpec(source.mapping));
    if (scope === "") return { listing, from: 0, to: listing.length };
    if (!listing.ordered()) return undefined;
    // the scope is one range, from `scope` to before `scope0` ("0" follows "/"); names such as `scope.txt` lie in it too
    const from = listingLowerBound(listing, scope);
    return { listing, from, to: listingLowerBound(listing, `${scope}0`, from) };
  }

  /** The entries of the mapping's `add` scope (sorted as git lists them); listed and filtered once per
   *  repository, commit and scope. The emitter reuses it for the source's archive (plannedTree). */
  scopedTree(source: GitSource): Promise<TreeEntries> {
    const scope = mappingScope(toSpec(source.mapping));
    const key = `${source.repoDir}\0${source.commit}\0${scope}`;
    this.register(source);
    let p = this.scoped.get(key);
    if (!p) {
      p = (async () => {
        const prefix = `${scope}/`;
        const inScope = (e: TreeEntry) => e.path === scope || e.path.startsWith(prefix);
        const range = await this.scopeRange(source);
        if (!range) return (await this.tree(source)).filter(inScope);
        // decoded where used (the listing stays one buffer: no object per file for the whole run)
        return new ListingRange(range.listing, range.from, range.to, scope);
      })();
      this.scoped.set(key, p);
    }
    return p;
  }

  /** Registers the source for the emitter: its scope's entries, made when it asks (plannedTree), and with the cache,
   *  the cached listing (plannedListing). */
  private register(source: GitSource): void {
    if (plannedTrees.has(source)) return;
    let p: Promise<TreeEntries> | undefined;
    plannedTrees.set(source, () => (p ??= this.scopedTree(source)));
    if (this.store) {
      const store = this.store;
      // read when the emitter asks (a plan alone does not read the listing the cache proves it needs not)
      let made: Promise<CachedListing> | undefined;
      const make = () =>
        (made ??= (async () => {
          const l = await this.lazy(await this.repoOf(source), source.commit);
          return { tree: l.tree, how: l.how, ...(l.base ? { base: l.base } : {}), listing: await l.load() };
        })());
      plannedListings.set(source, {
        store,
        get listing() {
          return make();
        },
      });
    }
  }

  /** Fails like werf when the mapping selects no file at its commit (located at the mapping). */
  async checkMatchesFiles(source: GitSource): Promise<void> {
    this.register(source);
    const spec = toSpec(source.mapping);
    // with the cache: a file the mapping selected at this tree, or at the tree the commit changed when the commit
    // did not remove it, proves the check passes (a selected file in scope: not empty, not a single file with
    // `to: /`, since that failed at the old tree); the listing is not read
    let prove: ((witness: string) => void) | undefined;
    if (this.store) {
      const store = this.store;
      const l = await this.lazy(await this.repoOf(source), source.commit);
      const key = (tree: string) => keyOf(tree, spec.add, mappingTarget(spec), spec.includePaths, spec.excludePaths);
      if (store.get("matches", key(l.tree)) !== undefined) return;
      const old = l.base ? store.get("matches", key(l.base.tree))?.toString("utf8") : undefined;
      if (old !== undefined && old !== "" && !l.base!.changes.some((c) => c.path === old && !c.after)) {
        store.putSoon("matches", key(l.tree), old);
        return;
      }
      prove = (witness) => store.put("matches", key(l.tree), witness);
    }
    // entry by entry from the listing: the check stops at the first selected file
    const range = await this.scopeRange(source);
    const scope = mappingScope(toSpec(source.mapping));
    // the first selected file is known when a checksum of this mapping read its whole scope as git listed it: then
    // the scope's first two files (whether it is empty or a single file) and that one give the same answer
    const first = range ? this.firstSelected(source, spec) : undefined;
    const entries: Iterable<TreeEntry> = range && first !== undefined && first >= 0
      ? firstEntries(range, scope, first)
      : range
      ? {
          *[Symbol.iterator]() {
            for (let i = range.from; i < range.to; i++) {
              const e = range.listing.entry(i);
              if (scope === "" || e.path === scope || e.path.startsWith(`${scope}/`)) yield e;
            }
          },
        }
      : await this.scopedTree(source);
    try {
      checkArchiveMatches(entries, spec);
    } catch (e) {
      if (e instanceof UserError && e.diagnostics.every((d) => !d.pos)) throw locate(e, source.mapping.pos);
      throw e;
    }
    if (prove) {
      const matcher = mappingMatcher(spec);
      for (const e of entries) {
        if (e.type !== "tree" && matcher.isPathMatched(e.path)) return prove(e.path);
      }
    }
  }

  private forget(key: string, source: GitSource, pre: { scan: ChecksumScan; stream: ListingStream }): void {
    this.prepared.delete(key);
    const byMapping = JSON.stringify([source.repoDir, source.commit, toSpec(source.mapping)]);
    const left = (this.preparedByMapping.get(byMapping) ?? []).filter((p) => p !== pre);
    if (left.length) this.preparedByMapping.set(byMapping, left);
    else this.preparedByMapping.delete(byMapping);
  }

  /** The listing index of the first file the mapping selects, from a checksum fed with its whole scope (-1: none);
   *  undefined when no such checksum was made. */
  private firstSelected(source: GitSource, spec: GitMappingSpec): number | undefined {
    for (const p of this.preparedByMapping.get(JSON.stringify([source.repoDir, source.commit, spec])) ?? []) {
      if (!p.stream.ended || p.stream.failed) continue;
      const f = p.scan.firstSelected();
      if (f !== undefined) return f;
    }
    return undefined;
  }

  async repoOf(source: GitSource): Promise<GitRepo> {
    if (source.mapping.local) return (await this.ownRepo())!.repo;
    const key = JSON.stringify([source.mapping.url, source.mapping.branch, source.mapping.tag, source.mapping.commit]);
    return (await this.remotes.get(key)!).repo;
  }
}

/** The entries of `range` in the mapping's scope up to its second file, then the entry at index `first` when after them:
 *  what checkArchiveMatches reads of the scope when `first` is its first selected file. */
function firstEntries(range: { listing: Listing; from: number; to: number }, scope: string, first: number): TreeEntry[] {
  const out: TreeEntry[] = [];
  let files = 0;
  let last = range.from - 1;
  for (let i = range.from; i < range.to && files < 2; i++) {
    last = i;
    const e = range.listing.entry(i);
    if (scope !== "" && e.path !== scope && !e.path.startsWith(`${scope}/`)) continue;
    out.push(e);
    if (e.type !== "tree") files++;
  }
  if (first > last) out.push(range.listing.entry(first));
  return out;
}

/** Runtime-only side channel from the planner to the emitter (never part of the Plan JSON): the scoped tree
 *  listing the planner read for a GitSource object of this process's plan. */
const plannedTrees = new WeakMap<GitSource, () => Promise<TreeEntries>>();

const plannedListings = new WeakMap<GitSource, { store: CacheStore; listing: Promise<CachedListing> }>();

/** The cache and the cached listing (tree id, changes from the tree it was derived from) of the source's commit, when
 *  the planner of this process read it through the persistent cache (src/cache/archives.ts). */
export function plannedListing(source: GitSource): { store: CacheStore; listing: Promise<CachedListing> } | undefined {
  return plannedListings.get(source);
}

/** The `add` scope listing (at the source's commit, submodules not expanded) the planner already read for this
 *  very GitSource object, or undefined (a plan from elsewhere, e.g. parsed from JSON). */
export function plannedTree(source: GitSource): Promise<TreeEntries> | undefined {
  return plannedTrees.get(source)?.();
}

/** plannedTree, not listed until the returned function is called. */
export function plannedTreeLater(source: GitSource): (() => Promise<TreeEntries>) | undefined {
  return plannedTrees.get(source);
}

/** Adds a position to a UserError's unlocated diagnostics. */
export function locate(e: UserError, pos: SourcePos): UserError {
  return new UserError(e.diagnostics.map((d) => (d.pos ? d : { ...d, pos })));
}

/** `p` relative to `base` when inside it (POSIX), else absolute. */
export function projectRelative(base: string, p: string): string {
  const rel = path.relative(base, p);
  if (rel === "") return ".";
  if (rel.startsWith("..") || path.isAbsolute(rel)) return p.split(path.sep).join("/");
  return rel.split(path.sep).join("/");
}

/** Opens the repository a GitSource reads: the project's worktree, or a remote's bare cache clone. */
export function openSourceRepo(source: GitSource): Promise<GitRepo> {
  return source.mapping.local ? GitRepo.open(source.repoDir) : GitRepo.openGitDir(source.repoDir);
}
