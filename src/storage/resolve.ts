// Which stages of each image are stored, which must be built, and what git patches the built ones apply.
//
// For each image, the longest prefix of its stages found in the repository's tags (`<digest>-<ms>`) is reused.
// Among several tags of one digest: for stages holding git files (they carry `io.stapel2docker.git.<id>.commit`
// labels), the oldest whose recorded commits are all ancestors of HEAD (werf's selectAncestorStageDescByGitMappings,
// reference §3.3); for other stages the oldest. A tag older than its parent's is never chosen (reference §2.4).
// Then the git files are brought up to HEAD (reference §3.4, §3.5, docs/build.md):
//   - a rebuilt install/beforeSetup/setup applies the patch from the commit the previous stage holds;
//   - gitCache holds the accumulated patch when it is >= 1 MiB (digest input: floor(size / 1 MiB));
//   - gitLatestPatch holds what is still missing (digest input: a checksum of the mapped files at HEAD).
// dockerInstructions and imageSpec follow them, so their digests are re-chained to the new parent; none of this
// happens for artifacts and `disableGitAfterPatch` images (ImagePlan.gitAfterPatch false).
// An image built `fromImage` another one is built on that image's actual last stage: its digests are re-chained
// on it when the base got patch stages.

import { diffMapping, type PatchChanges } from "../git/patch.js";
import { UserError } from "../diagnostics.js";
import type { GitRepo } from "../git/repo.js";
import { openSourceRepo } from "../plan/git-sources.js";
import type { RegistryClient } from "../registry/index.js";
import { gitCommitLabel, parseGitCommitLabel } from "../plan/labels.js";
import { MIB, gitCacheInputs, gitLatestPatchInputs, mappingTreeChecksum, patchStage, rechain, rechainFrom } from "../plan/patch-stages.js";
import type { GitSource, ImagePlan, Plan, StagePlan } from "../plan/model.js";
import type { StoredStage } from "./tags.js";
import type { LabelCache } from "./label-cache.js";

export { MIB } from "../plan/patch-stages.js";

/** One patch of one git mapping: from the commit the previous stage holds to HEAD. */
export interface StagePatch {
  source: GitSource;
  from: string;
  changes: PatchChanges;
}

export interface ChainStage {
  /** The stage (for gitCache/gitLatestPatch a stage made here; dockerInstructions re-chained). */
  stage: StagePlan;
  /** Set when the stage is reused from the repository. */
  stored?: StoredStage;
  /** mapping id → the commit whose files the stage's image holds. */
  held: Record<string, string>;
  /** Patches the stage applies (before its commands for user stages; its whole content for patch stages). */
  patches: StagePatch[];
  /** Seconds spent choosing a stored stage (registry reads included). */
  seconds: number;
}

export interface ImageChain {
  image: ImagePlan;
  stages: ChainStage[];
  /** The digest of the last stage of the chain: names the final image. */
  digest: string;
}

export interface ResolveContext {
  plan: Plan;
  repo: string;
  client: RegistryClient;
  /** digest → stored stages, oldest first. */
  tags: Map<string, StoredStage[]>;
  /** Labels of stage tags already read once (tags are immutable); none: always read the registry. */
  labelCache?: LabelCache;
  /** Tags listed but not in `repo` yet (build --print: the cache or secondary repo a build would copy them from):
   *  tag → the repository their labels are read from. */
  tagRepos?: ReadonlyMap<string, string>;
}

/** Resolves every image of the plan against the stored tags. */
export class Resolver {
  private readonly repos = new Map<string, Promise<GitRepo>>();
  private readonly configs = new Map<string, Promise<Record<string, string>>>();
  private readonly diffs = new Map<string, Promise<PatchChanges>>();
  private readonly latestSums = new Map<string, Promise<string>>();
  /** How many image configs were read from the registry. */
  configReads = 0;

  constructor(private readonly ctx: ResolveContext) {}

  private readonly chains = new Map<string, Promise<ImageChain>>();

  /** Every image of the plan, in plan order; an image built `fromImage` another is resolved after it. */
  async resolveAll(): Promise<ImageChain[]> {
    const out: ImageChain[] = [];
    for (const image of this.ctx.plan.images) out.push(await this.chainOf(image));
    return out;
  }

  private chainOf(image: ImagePlan): Promise<ImageChain> {
    let p = this.chains.get(image.name);
    if (!p) {
      p = (async () => this.resolveImage(await this.rebased(image)))();
      this.chains.set(image.name, p);
    }
    return p;
  }

  /** An image built on another image of the plan (`fromImage`) is built on that image's actual last stage, which
   *  may be a gitLatestPatch/gitCache stage the plan does not have: then its stages are re-chained on that digest
   *  (docs/digests.md, "build"). */
  private async rebased(image: ImagePlan): Promise<ImagePlan> {
    const first = image.stages[0];
    if (!first || first.body.kind !== "from" || first.body.base.kind !== "image") return image;
    const baseName = first.body.base.image;
    const parent = this.ctx.plan.images.find((i) => i.name === baseName);
    if (!parent) return image; // a Dockerfile image: its digest is its plan digest
    const chain = await this.chainOf(parent);
    if (chain.digest === first.body.base.digest) return image;
    const last = chain.stages[chain.stages.length - 1].stage;
    const from: StagePlan = {
      ...first,
      inputs: { ...first.inputs, base: { image: chain.digest } },
      body: { kind: "from", base: { ...first.body.base, target: last.target, digest: chain.digest } },
    };
    const stages: StagePlan[] = [];
    let prev: string | undefined;
    for (const s of [from, ...image.stages.slice(1)]) {
      const r = s === from ? rechainFrom(from) : rechain(s, prev!);
      stages.push(r);
      prev = r.digest;
    }
    return { ...image, stages, digest: prev! };
  }

  repoFor(source: GitSource): Promise<GitRepo> {
    let r = this.repos.get(source.repoDir);
    if (!r) this.repos.set(source.repoDir, (r = openSourceRepo(source)));
    return r;
  }

  /** The labels of a stored stage's image config (one registry read per tag). */
  labelsOf(tag: string): Promise<Record<string, string>> {
    let p = this.configs.get(tag);
    if (!p) {
      const cache = this.ctx.labelCache;
      const repo = this.ctx.tagRepos?.get(tag) ?? this.ctx.repo;
      p = (async () => {
        const cached = await cache?.get(repo, tag);
        if (cached) return cached;
        this.configReads++;
        // a listed tag deleted since (a cleanup): no labels, so it is never chosen for its git commits
        const c = await this.ctx.client.getImageConfig(`${repo}:${tag}`).catch((e: unknown) => {
          if (e instanceof UserError && /not found/.test(e.message)) return undefined;
          throw e;
        });
        if (!c) return {};
        const labels = { ...((c.config?.config?.Labels ?? {}) as Record<string, string>) };
        await cache?.set(repo, tag, labels);
        return labels;
      })();
      this.configs.set(tag, p);
    }
    return p;
  }

  private diff(source: GitSource, from: string): Promise<PatchChanges> {
    const key = `${source.repoDir}\0${source.id}\0${from}\0${source.commit}`;
    let p = this.diffs.get(key);
    if (!p) {
      p = this.repoFor(source).then((repo) => diffMapping(repo, from, source.commit, source.mapping));
      this.diffs.set(key, p);
    }
    return p;
  }

  /** The patches that bring `held` up to HEAD, non-empty ones only. */
  async patches(sources: GitSource[], held: Record<string, string>): Promise<StagePatch[]> {
    const out: StagePatch[] = [];
    for (const s of sources) {
      const from = held[s.id];
      if (from === undefined || from === s.commit) continue;
      const changes = await this.diff(s, from);
      if (!changes.empty) out.push({ source: s, from, changes });
    }
    return out;
  }

  /** The mapping's tree checksum at HEAD (src/plan/patch-stages.ts), once per mapping. */
  private latestChecksum(source: GitSource): Promise<string> {
    const key = `${source.repoDir}\0${source.id}\0${source.commit}`;
    let p = this.latestSums.get(key);
    if (!p) {
      p = this.repoFor(source).then((repo) => mappingTreeChecksum(repo, source));
      this.latestSums.set(key, p);
    }
    return p;
  }

  /** The oldest suitable stored stage of `stage`, or undefined. */
  async select(stage: StagePlan, parentMs: number, sources: GitSource[]): Promise<{ stored: StoredStage; commits?: Record<string, string> } | undefined> {
    const candidates = (this.ctx.tags.get(stage.digest) ?? []).filter((c) => c.ms >= parentMs);
    const gitIds = Object.keys(stage.labels).map(parseGitCommitLabel).filter((x): x is string => x !== undefined);
    if (gitIds.length === 0) return candidates.length ? { stored: candidates[0] } : undefined;
    for (const c of candidates) {
      const labels = await this.labelsOf(c.tag);
      const commits: Record<string, string> = {};
      let ok = true;
      for (const id of gitIds) {
        const recorded = labels[gitCommitLabel(id)];
        const source = sources.find((s) => s.id === id);
        if (!recorded || !source || !/^[0-9a-f]{40,64}$/.test(recorded)) {
          ok = false;
          break;
        }
        const repo = await this.repoFor(source);
        if (!(await repo.isAncestor(recorded, source.commit))) {
          ok = false;
          break;
        }
        commits[id] = recorded;
      }
      if (ok) return { stored: c, commits };
    }
    return undefined;
  }

  async resolveImage(image: ImagePlan): Promise<ImageChain> {
    const sources = gitSourcesOf(image);
    const chain: ChainStage[] = [];
    let storing = true;
    let parentMs = 0;
    let held: Record<string, string> = {};
    const head = () => Object.fromEntries(sources.map((s) => [s.id, s.commit]));

    const place = async (stage: StagePlan, build: () => Promise<StagePatch[]>, after?: (c: ChainStage) => void) => {
      const t0 = performance.now();
      if (storing) {
        const sel = await this.select(stage, parentMs, sources);
        if (sel) {
          if (sel.commits) held = { ...held, ...sel.commits };
          parentMs = sel.stored.ms;
          chain.push({ stage, stored: sel.stored, held, patches: [], seconds: (performance.now() - t0) / 1000 });
          return;
        }
        storing = false;
        // the commits the last stored stage really holds (its image inherits the labels of the git stages before it)
        const last = chain[chain.length - 1];
        if (last && sources.length && Object.keys(last.held).length && !hasGitLabels(last.stage)) {
          const labels = await this.labelsOf(last.stored!.tag);
          for (const s of sources) {
            const c = labels[gitCommitLabel(s.id)];
            if (c && held[s.id] !== undefined) held = { ...held, [s.id]: c };
          }
          last.held = held;
        }
      }
      const patches = await build();
      const c: ChainStage = { stage, held, patches, seconds: 0 };
      after?.(c);
      held = c.held;
      chain.push(c);
    };

    const tail = (n: string) => n === "dockerInstructions" || n === "imageSpec";
    const core = image.stages.filter((s) => !tail(s.name));
    for (const s of core) {
      await place(s, async () => {
        if (s.body.kind === "user" && s.body.git.length) return this.patches(s.body.git, held);
        return [];
      }, (c) => {
        if (s.body.kind === "gitArchive" || (s.body.kind === "user" && s.body.git.length)) c.held = head();
      });
    }

    let parent = chain.length ? chain[chain.length - 1].stage.digest : undefined;
    if (image.kind === "image" && image.gitAfterPatch && sources.length) {
      const pending = await this.patches(sources, held);
      const size = pending.reduce((n, p) => n + p.changes.size, 0);
      if (pending.length && size >= MIB) {
        const stage = patchStage(image, "gitCache", gitCacheInputs(size), parent!, sources, this.ctx.plan.project);
        await place(stage, () => this.patches(sources, held), (c) => (c.held = head()));
        parent = stage.digest;
      }
      const rest = await this.patches(sources, held);
      if (rest.length) {
        const checksums = [];
        for (const s of sources) checksums.push({ mapping: s.id, checksum: await this.latestChecksum(s) });
        const stage = patchStage(image, "gitLatestPatch", gitLatestPatchInputs(checksums), parent!, sources, this.ctx.plan.project);
        await place(stage, () => this.patches(sources, held), (c) => (c.held = head()));
        parent = stage.digest;
      }
    }
    // dockerInstructions and imageSpec follow, re-chained on the patch stages
    for (const s of image.stages.filter((x) => tail(x.name))) {
      const stage = s.parent === parent ? s : rechain(s, parent!);
      await place(stage, async () => []);
      parent = stage.digest;
    }
    return { image, stages: chain, digest: chain[chain.length - 1].stage.digest };
  }
}

function hasGitLabels(s: StagePlan): boolean {
  return Object.keys(s.labels).some((k) => parseGitCommitLabel(k) !== undefined);
}

/** The git sources of an image (its gitArchive's), in werf.yaml order. */
export function gitSourcesOf(image: ImagePlan): GitSource[] {
  for (const s of image.stages) if (s.body.kind === "gitArchive") return s.body.archives.map((a) => a.source);
  return [];
}
