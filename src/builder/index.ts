// `stapel2docker build`: plan, list the repository's tags once, reuse the longest stored prefix of every image,
// build the missing stages in one `docker buildx bake` (each pushed as `<repo>:<digest>-<ms>`), then write the
// final tags registry-side. See docs/build.md.

import { bakeWaves, hardLinkCopy, requireBakeKeys, runBuildx, type BuildOutput } from "./buildx.js";
import { FinalTagCache, defaultFinalTagCacheDir, writeFinalTags, type FinalTagJob } from "../storage/final-tags.js";
import { sec, type BuildReport, type ImageReport, type StageReport } from "./report.js";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { UserError, formatDiagnostic } from "../diagnostics.js";
import { renderCommitEnv, writeArchives, writeContextFiles } from "../emit/index.js";
import { writeDockerfileContexts } from "../emit/dockerfile-context.js";
import { printDockerfile } from "../dockerfile/print.js";
import { writeBakeFile } from "../bake/write.js";
import { finalTags, repoOf } from "../plan/names.js";
import { writePatch } from "../git/patch.js";
import { RegistryClient } from "../registry/index.js";
import { planProject } from "../plan/plan.js";
import type { Plan, PlanOptions } from "../plan/model.js";
import { acquireLocks, defaultLockDir, lockFile, releaseLocks } from "../storage/lock.js";
import { buildFiles, type PatchFiles } from "./render.js";
import { makeBuildPlan, type BuildPlan, type DockerfileState } from "../storage/plan.js";
import { Resolver, type ImageChain, type StagePatch } from "../storage/resolve.js";
import { openSourceRepo } from "../plan/git-sources.js";
import { indexStageTags, newStageMs, stageTag } from "../storage/tags.js";
import type { BuildHooks } from "../introspect/index.js";
import { BuildxProgress, type ProgressMode } from "./progress.js";
import { progressDisplay } from "./display.js";
import { readBakeMetadata, type BakeMetadata } from "./metadata.js";
import { LabelCache, defaultLabelCacheDir } from "../storage/label-cache.js";
import { patchHelperTarget } from "../plan/names.js";
import { locateBakeFailure } from "./bake-failure.js";
import { parseSshSpecs, sortSpecs, startSshAgent, type SshAgentSpec, type TempAgent } from "./ssh.js";
import { buildTimeSources, dependencyValues, type DependencyValues } from "./dependencies.js";
import { dependencySources } from "../emit/dependencies.js";
import { writeSecretValues } from "../emit/secrets.js";
import { localToolchain, resolveToolchain } from "../toolchain/image.js";
import { baseImageResolver, builderArgs } from "./builders.js";
import { fillCacheRepos, findInOtherRepos, normalizeRepo, takeFromOtherRepos, type OtherRepos } from "../storage/repos.js";
import { makeRecords, writeRecords } from "../cleanup/records.js";
import { StageVanished, vanishedStages } from "../storage/vanished.js";
import { attachPerPlatform, multiPlatformDigest, otherGroups, planPerPlatform, platformGroups } from "../plan/platforms.js";
import { writeIndexTags } from "../storage/platform-index.js";


export { indexStageTags, parseStageTag, stageTag, type StoredStage } from "../storage/tags.js";
export { makeBuildPlan, formatBuildPlan, type BuildPlan, type PlannedImage, type PlannedStage } from "../storage/plan.js";
export { Resolver, MIB, type ImageChain, type ChainStage, type StagePatch } from "../storage/resolve.js";
export { parseSshSpecs, startSshAgent, type SshAgentSpec, type TempAgent } from "./ssh.js";
export { formatReport, type BuildReport, type ImageReport, type StageReport } from "./report.js";
export { bakeWaves } from "./buildx.js";
export { acquireLock, acquireLocks, releaseLocks, lockFile, defaultLockDir, type HeldLock } from "../storage/lock.js";

export interface BuildOptions extends Omit<PlanOptions, "images"> {
  /** REGISTRY/PROJECT: stage storage and the final images' repository. */
  repo: string;
  images?: string[];
  /** Extra final tags (`{image}` is replaced by the image's slug), as compile's --tag. */
  addTags?: string[];
  client?: RegistryClient;
  /** The docker command (default "docker"). */
  docker?: string;
  /** Lock folder (default defaultLockDir()). */
  lockDir?: string;
  /** Progress lines ("reusing...", "waiting for..."); default: stderr. */
  log?: (line: string) => void;
  /** Where buildx's output goes (default: inherited stderr). */
  buildOutput?: BuildOutput;
  /** How buildx's progress is shown (`--progress`; default auto: tty on a terminal, else plain). */
  progress?: ProgressMode;
  /** An already made plan (tests); otherwise planProject(this). */
  plan?: Plan;
  /** Introspection and failure reporting (src/introspect): runs the bake in its stead, and sees stored stages. */
  hooks?: BuildHooks;
  /** `--ssh`: `default` (the caller's SSH_AUTH_SOCK) or `ID=PATH[,PATH]`, forwarded to the user stages. */
  ssh?: string[];
  /** `--ssh-key`: private keys loaded into a temporary ssh-agent forwarded as `default`. */
  sshKeys?: string[];
  /** Folder of the stage-labels cache (src/storage/label-cache.ts); null: no cache. Default defaultLabelCacheDir(). */
  labelCacheDir?: string | null;
  /** `--parallel N`: at most N images' missing stages are built at once (bake runs in waves of N images, in
   *  dependency order); undefined or 0: one bake, BuildKit runs whatever is ready. */
  parallel?: number;
  /** Set on the run that builds the images whose ImageID/ImageDigest others use (see src/builder/dependencies.ts):
   *  every image that some dependency names, whose `<image>-<digest>` tag is written even when not final. */
  dependencySources?: ReadonlySet<string>;
  /** `--builder NAME`: the buildx builder of the bake (default: buildx's current one, or BUILDX_BUILDER). */
  builder?: string;
  /** `--cache-repo`: read first, filled with every stage used (src/storage/repos.ts). */
  cacheRepos?: string[];
  /** `--secondary-repo`: read-only stage sources. */
  secondaryRepos?: string[];
  /** `--final-repo`: where the final tags go (default: the repo). */
  finalRepo?: string;
  /** Folder of the final-tags cache (src/storage/final-tags.ts); null: no cache. Default defaultFinalTagCacheDir(). */
  finalTagCacheDir?: string | null;
  /** The repository's tags as already listed by this process (the run that builds dependency sources first gets
   *  its caller's, so a build lists the registry once). */
  listing?: RegistryListing;
  /** Called after a successful build (not by the dependency-sources run) with what the no-op cache records
   *  (src/builder/noop-cache.ts): the plan, the listing as it stands after the build, the final tags. */
  onFinished?: (info: { plan: Plan; listed: ReadonlySet<string>; report: BuildReport; finalTags: readonly FinalTagJob[] }) => Promise<void>;
  /** Internal, set by buildPlatforms: "platform" for one platform's build of images of several platforms (no final
   *  tags), "others" for the images of one platform or none; neither writes build records (buildPlatforms does). */
  platformPass?: "platform" | "others";
  /** Internal, with platformPass: the images whose final tags this build writes; the others it builds (images of
   *  several platforms, built here for one platform) get only the `<image>-<digest>` tag a dependency names. */
  finalTagsOf?: ReadonlySet<string>;
}

/** The repository's tags as this process knows them: listed once per build, and told of every tag it pushes. */
export interface RegistryListing {
  /** Short tags. */
  tags: Set<string>;
  /** Final tags written by this process: tag → the stage reference copied. */
  written: Map<string, string>;
}

async function listRegistry(client: RegistryClient, repo: string, into?: RegistryListing): Promise<RegistryListing> {
  const tags = new Set(await client.listTags(repo));
  if (!into) return { tags, written: new Map() };
  into.tags = tags;
  return into;
}

/** The options with the base images' resolver of the builder (src/builder/builders.ts), when none is given; the
 *  registry client is the build's, so its requests are counted. */
function withBaseImages(opts: BuildOptions): BuildOptions {
  if (opts.baseImages) return opts;
  const client = opts.client ?? new RegistryClient();
  return { ...opts, client, baseImages: baseImageResolver(opts.builder, client) };
}

/** What a build would do now (nothing is built or locked): the registry is listed and the chains resolved. */
export async function planBuild(opts: BuildOptions): Promise<BuildPlan> {
  opts = withBaseImages(opts);
  const plan = opts.plan ?? (await planProject({ ...opts, images: opts.images }));
  const repo = repoOf(plan.project, opts.repo);
  const client = opts.client ?? new RegistryClient();
  const listing = await listRegistry(client, repo);
  const finalRepo = opts.finalRepo !== undefined ? normalizeRepo(opts.finalRepo, "--final-repo") : repo;
  const tagged = opts.dependencySources ?? dependencySources(plan);
  const planned = await planPerPlatform({ ...opts, images: opts.images }, plan, planProject);
  // --cache-repo, --secondary-repo: the stages the build would copy from them, shown as reused (copied from)
  const others = otherRepos(opts);
  const copied = new Map<string, string>();
  const repos = others ? { ...(others.cache.length ? { cacheRepos: [...others.cache] } : {}), ...(others.secondary.length ? { secondaryRepos: [...others.secondary] } : {}) } : {};
  const resolveFor = (p: Plan) => resolve(p, repo, client, listing, labelCacheOf(opts), peekFrom(p, client, others, copied), copied);
  if (planned.length === 0) {
    const { chains, dockerfiles } = await resolveFor(plan);
    return { ...makeBuildPlan(repo, chains, dockerfiles, opts.addTags ?? [], tagged, finalRepo, copied), ...repos };
  }
  // images of several platforms: each platform's stages (src/plan/platforms.ts); the final tags, an index over them
  const multi = new Set(planned.flatMap((g) => g.group.images));
  const nameOf = (n: string) => (n === "" ? "~" : n);
  const out: BuildPlan = { repo, ...repos, images: [], build: [] };
  // the other images by their platform, with what they need for it (as buildPlatforms builds them)
  for (const g of otherGroups(plan, multi)) {
    const gp = await planProject({ ...opts, images: g.images, platform: g.platform, forcePlatform: true });
    const r = await resolveFor(gp);
    for (const i of makeBuildPlan(repo, r.chains, r.dockerfiles, opts.addTags ?? [], tagged, finalRepo, copied).images) {
      if (multi.has(i.image) || out.images.some((x) => x.image === i.image)) continue;
      out.images.push(i);
      for (const s of i.stages) if (s.action === "build" && !out.build.includes(s.digest)) out.build.push(s.digest);
    }
  }
  attachPerPlatform(plan, planned);
  for (const { variants } of planned) {
    for (const v of variants) {
      const r = await resolveFor(v.plan);
      const p = makeBuildPlan(repo, r.chains, r.dockerfiles, [], new Set(), finalRepo, copied);
      for (const i of p.images) {
        const stapel = plan.images.find((x) => nameOf(x.name) === i.image);
        const df = plan.dockerfileImages.find((x) => x.image.name === i.image);
        const image = stapel
          ? { name: stapel.name, slug: stapel.slug, final: stapel.final && stapel.kind === "image", perPlatform: stapel.perPlatform }
          : df && { name: df.image.name, slug: df.target, final: df.image.final, perPlatform: df.perPlatform };
        const last = v === variants[variants.length - 1] && image?.perPlatform && multi.has(i.image);
        const final = image && (image.final || tagged.has(image.name));
        out.images.push({ ...i, platform: v.platform, finalTags: last && final ? finalTags(finalRepo, image.slug, image.perPlatform!.digest, opts.addTags ?? []) : [] });
      }
      for (const d of p.build) if (!out.build.includes(d)) out.build.push(d);
    }
  }
  return out;
}

function labelCacheOf(opts: BuildOptions): LabelCache | undefined {
  return opts.labelCacheDir === null || process.env.STAPEL2DOCKER_NO_LABEL_CACHE ? undefined : new LabelCache(opts.labelCacheDir ?? defaultLabelCacheDir());
}

function finalTagCacheOf(opts: BuildOptions): FinalTagCache | undefined {
  return opts.finalTagCacheDir === null || process.env.STAPEL2DOCKER_NO_FINAL_TAG_CACHE
    ? undefined
    : new FinalTagCache(opts.finalTagCacheDir ?? defaultFinalTagCacheDir());
}

/** Builds the project's images; see the file comment. A stored stage chosen for reuse that disappears before it
 *  is used (deleted by a `cleanup` running meanwhile) is built again: the build starts over, at most twice. */
export async function buildProject(opts: BuildOptions): Promise<BuildReport> {
  opts = withBaseImages(opts);
  if (!opts.platformPass) {
    const plan = opts.plan ?? (await planProject({ ...opts, images: opts.images }));
    return platformGroups(plan).length ? buildPlatforms({ ...opts, plan }) : buildRetrying({ ...opts, plan });
  }
  return buildRetrying(opts);
}

async function buildRetrying(opts: BuildOptions): Promise<BuildReport> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await buildAttempt(opts);
    } catch (e) {
      if (!(e instanceof StageVanished) || attempt >= 3) throw e instanceof StageVanished ? e.cause : e;
      (opts.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(
        `stage ${e.tags.join(", ")} disappeared from the registry after it was listed (a cleanup?): building again`,
      );
    }
  }
}

async function buildAttempt(opts: BuildOptions): Promise<BuildReport> {
  const t0 = performance.now();
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const plan = opts.plan ?? (await planProject({ ...opts, images: opts.images }));
  // (a build of several platforms said its plan's warnings once)
  if (!opts.platformPass) for (const w of plan.warnings) log(`warning: ${formatDiagnostic(w)}`);
  const repo = repoOf(plan.project, opts.repo);
  const sshSpecs = parseSshSpecs(opts.ssh ?? [], opts.environ ?? process.env);
  // env secrets are read by buildx from this process's environment: a missing one is the config's problem
  const unsetSecrets = [...plan.images.flatMap((i) => i.secrets ?? []), ...plan.dockerfileImages.flatMap((d) => d.secrets ?? [])].filter(
    (s) => s.source === "env" && process.env[s.env!] === undefined,
  );
  if (unsetSecrets.length) {
    throw new UserError(
      unsetSecrets.map((s) => ({
        pos: s.pos,
        message: `secret ${JSON.stringify(s.id)}: the environment variable ${s.env} is not set`,
        hint: `set ${s.env} in the environment of stapel2docker build (the secret's value is read from it)`,
      })),
    );
  }
  if (opts.sshKeys?.length && sshSpecs.some((s) => s.id === "default")) {
    throw new UserError({ message: "--ssh default and --ssh-key both name the default agent", hint: "use one of them, or forward your agent under another id: --ssh ID=$SSH_AUTH_SOCK" });
  }
  const client = opts.client ?? new RegistryClient();
  const addTags = opts.addTags ?? [];
  const others = otherRepos(opts);
  const finalRepo = opts.finalRepo !== undefined ? normalizeRepo(opts.finalRepo, "--final-repo") : repo;
  // validate the final tags before anything is built
  for (const image of plan.images) if (image.final && image.kind === "image") finalTags(finalRepo, image.slug, image.digest, addTags);
  for (const df of plan.dockerfileImages) if (df.image.final) finalTags(finalRepo, df.target, df.digest, addTags);
  const take = others && takeFrom(plan, repo, client, others, opts, log);

  const labelCache = labelCacheOf(opts);
  // images that give others their ImageID/ImageDigest are built (or found) first, in a run of their own
  const tagged = opts.dependencySources ?? dependencySources(plan);
  // (a source that itself needs another's values is built the same way, one level further down)
  const first = buildTimeSources(plan);
  // the registry is listed once: the run of the dependency sources shares the listing (and adds what it pushes)
  const tList = performance.now();
  const listing = opts.listing ?? (await listRegistry(client, repo));
  const listSecs = secsSince(tList);
  if (first.length) {
    log(`building ${first.map((n) => JSON.stringify(n)).join(", ")} first: other images use their ImageID or ImageDigest`);
    await buildProject({ ...opts, plan: undefined, images: first, client, dependencySources: tagged, listing, onFinished: undefined });
  }
  let { chains, dockerfiles } = await resolve(plan, repo, client, listing, labelCache, take);
  {
    const todo = missing(chains, dockerfiles).size;
    const reused = chains.reduce((n, c) => n + c.stages.filter((s) => s.stored).length, 0) + dockerfiles.filter((d) => d.stored).length;
    log(`stapel2docker: listed ${listing.tags.size} tag(s) of ${repo} in ${listSecs}: ${reused} stage(s) stored, ${todo} to build`);
  }
  let built = new Map<string, BuiltStage>();
  let bakeRan = false;
  if (missing(chains, dockerfiles).size) {
    const lockDir = opts.lockDir ?? defaultLockDir();
    const want = missing(chains, dockerfiles);
    const locks = await acquireLocks([...want].map((d) => lockFile(lockDir, repo, d)), () =>
      log(`waiting for another build of the same stages (lock in ${lockDir})`),
    );
    try {
      // another process may have built them meanwhile: list again
      ({ chains, dockerfiles } = await resolve(plan, repo, client, await listRegistry(client, repo, listing), labelCache, take));
      const now = missing(chains, dockerfiles);
      const unlocked = [...now].filter((d) => !want.has(d));
      if (unlocked.length) {
        await releaseLocks(locks.splice(0));
        locks.push(...(await acquireLocks([...now].map((d) => lockFile(lockDir, repo, d)))));
        ({ chains, dockerfiles } = await resolve(plan, repo, client, await listRegistry(client, repo, listing), labelCache, take));
      }
      if (missing(chains, dockerfiles).size) {
        const values = first.length ? await dependencyValues(plan, repo, chains, dockerfiles, client) : undefined;
        // the toolchain every RUN mounts, by digest from a registry (pushed into the repo when it is not there)
        const platforms = [...new Set(plan.images.flatMap((i) => i.platform))];
        // (set on the plan itself: introspection shells mount the same toolchain)
        plan.toolchain = await resolveToolchain({ given: opts.toolchain, repo, client, platforms });
        built = await vanishedStages(client, repo, chains, dockerfiles, () =>
          withSsh(sshSpecs, opts.sshKeys ?? [], (ssh) => bake(plan, repo, chains, dockerfiles, opts, log, ssh, values)));
        bakeRan = true;
        for (const b of built.values()) listing.tags.add(b.tag);
      } else {
        log("reusing the stages another build pushed meanwhile");
      }
    } finally {
      await releaseLocks(locks);
    }
  }

  if (!bakeRan) await opts.hooks?.allStored(chains, repo);
  // Final tags are always written: `<image>-<digest>` does not name its content (digests leave out the commit;
  // a rebuild at another commit gives the same digest), so a listed one may point at an older stage image.
  // the final tags are those of the build plan of the chains built
  const buildPlan = makeBuildPlan(repo, chains, dockerfiles, addTags, tagged, finalRepo);
  const images: ImageReport[] = [];
  const tagJobs: FinalTagJob[] = [];
  for (const [n, chain] of chains.entries()) {
    const stages: StageReport[] = chain.stages.map((c) => {
      const b = built.get(c.stage.digest);
      const tag = c.stored ? c.stored.tag : b?.tag;
      if (!tag) throw new Error(`internal: stage ${c.stage.target} was neither stored nor built`);
      return {
        stage: c.stage.name,
        digest: c.stage.digest,
        tag: `${repo}:${tag}`,
        status: c.stored ? "reused" : "built",
        seconds: c.stored ? sec(c.seconds * 1000) : b!.seconds,
        ...(b?.imageId ? { imageId: b.imageId } : {}),
        ...(b?.manifestDigest ? { manifestDigest: b.manifestDigest } : {}),
      };
    });
    const tags = buildPlan.images[n].finalTags;
    for (const t of tags) {
      const own = t === `${finalRepo}:${chain.image.slug}-${chain.digest}`;
      // one platform's build: only the `<image>-<digest>` tags of the images a dependency names (their ImageName
      // values are this platform's); the final tags are buildPlatforms' index
      if (opts.finalTagsOf && !opts.finalTagsOf.has(chain.image.name === "" ? "~" : chain.image.name) && !(own && tagged.has(chain.image.name))) continue;
      tagJobs.push({ src: stages[stages.length - 1].tag, tag: t, ...(t === `${repo}:${chain.image.slug}-${chain.digest}` ? { digest: chain.digest } : {}) });
    }
    images.push({ image: chain.image.name === "" ? "~" : chain.image.name, configType: "stapel", final: chain.image.final, digest: chain.digest, tags, stages });
  }
  for (const [n, d] of dockerfiles.entries()) {
    const b = built.get(d.plan.digest);
    const tag = d.stored ? d.stored.tag : b?.tag;
    if (!tag) throw new Error(`internal: Dockerfile image ${d.plan.image.name} was neither stored nor built`);
    const stage: StageReport = {
      stage: "dockerfile",
      digest: d.plan.digest,
      tag: `${repo}:${tag}`,
      status: d.stored ? "reused" : "built",
      seconds: d.stored ? 0 : b!.seconds,
      ...(b?.imageId ? { imageId: b.imageId } : {}),
      ...(b?.manifestDigest ? { manifestDigest: b.manifestDigest } : {}),
    };
    const tags = buildPlan.images[chains.length + n].finalTags;
    for (const t of tags) {
      if (opts.finalTagsOf && !opts.finalTagsOf.has(d.plan.image.name) && !(t === `${finalRepo}:${d.plan.target}-${d.plan.digest}` && tagged.has(d.plan.image.name))) continue;
      tagJobs.push({ src: stage.tag, tag: t, ...(t === `${repo}:${d.plan.target}-${d.plan.digest}` ? { digest: d.plan.digest } : {}) });
    }
    images.push({ image: d.plan.image.name, configType: "dockerfile", final: d.plan.image.final, digest: d.plan.digest, tags, stages: [stage] });
  }
  // a final tag already in place (proved by the listing and this host's final-tags cache) is not written again:
  // a no-op build is then the one tag listing
  const tTags = performance.now();
  const finalState = { listed: listing.tags, stages: indexStageTags(listing.tags), written: listing.written, cache: finalTagCacheOf(opts) };
  await vanishedStages(client, repo, chains, dockerfiles, () => writeFinalTags(client, tagJobs, finalState, opts.docker));
  if (tagJobs.length) log(`stapel2docker: final tags: ${tagJobs.length} in place or written in ${secsSince(tTags)}`);
  if (others?.cache.length) {
    const used = images.flatMap((i) => i.stages.map((st) => st.tag.slice(repo.length + 1)));
    await fillCacheRepos({ client, primary: repo, tags: used, cache: others.cache, docker: opts.docker });
  }
  if (!opts.platformPass) await writeRecords(client, repo, makeRecords(plan, repo, images), listing.tags).catch((e: unknown) => {
    // the images are built and tagged: a registry refusing the record manifest should not fail the build
    log(`warning: the build records could not be written (${e instanceof Error ? e.message.split("\n")[0] : String(e)}): cleanup cannot keep these images by their commit`);
  });
  const report: BuildReport = {
    repo,
    images,
    built: new Set([...built.keys()]).size,
    bake: bakeRan,
    registryRequests: client.requestCount,
    seconds: sec(performance.now() - t0),
    ...(plan.commit ? { commit: plan.commit.hash } : {}),
  };
  await opts.onFinished?.({ plan, listed: listing.tags, report, finalTags: tagJobs });
  return report;
}

export type { DockerfileState } from "../storage/plan.js";

function secsSince(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(3)} s`;
}

/** A stage the bake built: its new tag, seconds, and what buildx's metadata file says of its image. */
interface BuiltStage extends BakeMetadata {
  tag: string;
  seconds: number;
}

async function resolve(
  plan: Plan,
  repo: string,
  client: RegistryClient,
  listing: RegistryListing,
  labelCache?: LabelCache,
  take?: (list: string[]) => Promise<string[]>,
  tagRepos?: ReadonlyMap<string, string>,
): Promise<{ chains: ImageChain[]; dockerfiles: DockerfileState[] }> {
  // stages the primary repo lacks are copied in from the cache and secondary repos first
  if (take) for (const t of await take([...listing.tags])) listing.tags.add(t);
  const tags = indexStageTags(listing.tags);
  const dockerfiles = plan.dockerfileImages.map((d) => ({ plan: d, stored: tags.get(d.digest)?.[0] }));
  return { chains: await new Resolver({ plan, repo, client, tags, labelCache, ...(tagRepos?.size ? { tagRepos } : {}) }).resolveAll(), dockerfiles };
}

/** The cache and secondary repos of the options, normalized; undefined when there are none. */
function otherRepos(opts: BuildOptions): OtherRepos | undefined {
  const cache = (opts.cacheRepos ?? []).map((r) => normalizeRepo(r, "--cache-repo"));
  const secondary = (opts.secondaryRepos ?? []).map((r) => normalizeRepo(r, "--secondary-repo"));
  return cache.length + secondary.length ? { cache, secondary } : undefined;
}

/** Copies the plan's stages that the primary repo lacks from the cache and secondary repos (src/storage/repos.ts). */
function takeFrom(plan: Plan, repo: string, client: RegistryClient, repos: OtherRepos, opts: BuildOptions, log: (l: string) => void) {
  const digests = planDigests(plan);
  return (list: string[]) => takeFromOtherRepos({ client, primary: repo, primaryTags: list, digests, repos, docker: opts.docker, log });
}

function planDigests(plan: Plan): Set<string> {
  return new Set([...plan.images.flatMap((i) => i.stages.map((st) => st.digest)), ...plan.dockerfileImages.map((d) => d.digest)]);
}

/** build --print: the stages takeFrom would copy from the cache and secondary repos, listed as if copied (nothing is
 *  copied); `copied` gets tag → the repo they come from. */
function peekFrom(plan: Plan, client: RegistryClient, repos: OtherRepos | undefined, copied: Map<string, string>) {
  if (!repos) return undefined;
  const digests = planDigests(plan);
  return async (list: string[]) => {
    const found = await findInOtherRepos({ client, primaryTags: list, digests, repos });
    for (const [t, r] of found) copied.set(t, r);
    return [...found.keys()];
  };
}

function missing(chains: ImageChain[], dockerfiles: DockerfileState[] = []): Set<string> {
  const out = new Set<string>();
  for (const c of chains) for (const s of c.stages) if (!s.stored) out.add(s.stage.digest);
  for (const d of dockerfiles) if (!d.stored) out.add(d.plan.digest);
  return out;
}

/** Writes the patches, the Dockerfile and the bake file in a temp dir and runs one bake that pushes every missing stage. */
async function bake(
  plan: Plan,
  repo: string,
  chains: ImageChain[],
  dockerfiles: DockerfileState[],
  opts: BuildOptions,
  log: (l: string) => void,
  ssh: SshAgentSpec[] = [],
  dependencyValues?: DependencyValues,
): Promise<Map<string, BuiltStage>> {
  const work = await mkdtemp(path.join(os.tmpdir(), "stapel2docker-build-"));
  try {
    const patchDir = path.join(work, "patches");
    const contextDir = path.join(work, "context");
    await mkdir(patchDir);
    await mkdir(contextDir);
    // patch files, one pair per (mapping, from, to)
    const tPatches = performance.now();
    const written = new Map<string, PatchFiles>();
    const filesOf = new Map<StagePatch, PatchFiles>();
    for (const chain of chains) {
      for (const c of chain.stages) {
        for (const p of c.patches) {
          const key = `${p.source.id}-${p.from.slice(0, 16)}-${p.source.commit.slice(0, 16)}`;
          let f = written.get(key);
          if (!f) {
            f = { tar: `${key}.tar`, removals: `${key}.removals` };
            const repoObj = await openSourceRepo(p.source);
            await writePatch(repoObj, p.source.commit, p.source.mapping, p.changes, path.join(patchDir, f.tar), path.join(patchDir, f.removals));
            written.set(key, f);
          }
          filesOf.set(p, f);
        }
      }
    }
    if (written.size) log(`stapel2docker: wrote ${written.size} git patch(es) in ${secsSince(tPatches)}`);
    const storedTags = new Map<string, string>();
    const newTags = new Map<string, string>();
    const ms = newStageMs();
    for (const chain of chains) {
      for (const c of chain.stages) {
        if (c.stored) storedTags.set(c.stage.digest, c.stored.tag);
        else newTags.set(c.stage.digest, stageTag(c.stage.digest, ms));
      }
    }
    for (const d of dockerfiles) {
      if (d.stored) storedTags.set(d.plan.digest, d.stored.tag);
      else newTags.set(d.plan.digest, stageTag(d.plan.digest, ms));
    }
    // --cache-repo: the builder pulls the stored stages from the first cache repo (copied there first when missing)
    const cacheRepo = opts.cacheRepos?.length ? normalizeRepo(opts.cacheRepos[0], "--cache-repo") : undefined;
    if (cacheRepo) await fillCacheRepos({ client: opts.client ?? new RegistryClient(), primary: repo, tags: [...storedTags.values()], cache: [cacheRepo], docker: opts.docker });
    const commitEnv = renderCommitEnv(plan);
    if (commitEnv !== undefined) await writeFile(path.join(work, "commit.env"), commitEnv, { mode: 0o600 });
    await writeSecretValues(plan, path.join(work, "secrets"));
    const files = buildFiles(plan, chains, {
      repo,
      ...(cacheRepo ? { pullRepo: cacheRepo } : {}),
      storedTags,
      newTags,
      patchFiles: (p) => filesOf.get(p)!,
      patchDir,
      targetDirs: (t) => ({ context: `targets/${t}/context`, dockerfile: "../../../Dockerfile", patches: path.join(work, "targets", t, "patches") }),
      commitEnv: commitEnv !== undefined ? "commit.env" : undefined,
      dockerfileImages: dockerfiles.filter((d) => !d.stored).map((d) => d.plan),
      dependencyValues,
      contextsDir: work,
      ssh,
    });
    // the git archives of rebuilt gitArchive stages (as compile writes them)
    await writeArchives(files.plan, contextDir);
    await writeContextFiles(files.model, contextDir);
    await writeDockerfileContexts(files.plan, work);
    const dfTargets = new Set(dockerfiles.map((d) => d.plan.target));
    for (const t of files.targets.values()) {
      if (dfTargets.has(t)) continue;
      await mkdir(path.join(work, "targets", t), { recursive: true });
      await hardLinkCopy(contextDir, path.join(work, "targets", t, "context"));
      await hardLinkCopy(patchDir, path.join(work, "targets", t, "patches"));
    }
    await requireBakeKeys(opts.docker ?? "docker", files.bake, (t) => dockerfiles.find((d) => d.plan.target === t || d.plan.buildTarget === t)?.plan.image.name ?? t);
    const dockerfile = printDockerfile(files.model);
    await writeFile(path.join(work, "Dockerfile"), dockerfile.text);
    await writeBakeFile(path.join(work, "docker-bake.json"), files.bake);
    if (process.env.STAPEL2DOCKER_KEEP_BUILD_DIR) log(`build files kept in ${work}`);
    log(`stapel2docker: building ${files.targets.size} stage(s) with docker buildx bake: ${[...files.targets.values()].join(", ")}`);
    const t0 = performance.now();
    // buildx always writes rawjson: the stage times come from it, and it is shown as --progress asks
    const progress = new BuildxProgress();
    const metadata = new Map<string, BakeMetadata>();
    // a failed bake is located through the Dockerfile's line map: the failed werf.yaml command and stage
    const runBake = async (targets: string[] = [], tap?: (b: Buffer) => void) => {
      const display = progressDisplay(opts);
      const shown = new BuildxProgress({
        plain: (s) => {
          tap?.(Buffer.from(s));
          display.plain(s);
        },
        text: (s) => display.text(s),
      });
      display.attach(shown);
      const metaFile = path.join(work, "metadata.json");
      await rm(metaFile, { force: true });
      try {
        await runBuildx(
          opts.docker ?? "docker",
          ["buildx", "bake", ...builderArgs(opts.builder), "--progress=rawjson", "--push", "--metadata-file", metaFile, "-f", "docker-bake.json", ...targets],
          work,
          (b: Buffer) => {
            progress.feed(b);
            shown.feed(b);
            display.raw(b);
          },
          log,
          () => shown.failureText() || shown.plainText(),
        );
      } catch (e) {
        shown.end();
        display.stop();
        throw e instanceof UserError ? locateBakeFailure(e, shown.plainText(), dockerfile, files.plan) : e;
      }
      shown.end();
      display.stop();
      for (const [t, m] of await readBakeMetadata(metaFile)) metadata.set(t, m);
    };
    if (opts.hooks) await opts.hooks.bake({ work, plan: files.plan, dockerfile, bake: files.bake, targets: files.targets, chains, repo, newTags, run: runBake });
    else if (opts.parallel && opts.parallel > 0) {
      const ws = bakeWaves(chains, dockerfiles, files.targets, opts.parallel);
      for (const [i, w] of ws.entries()) {
        log(`bake wave ${i + 1}/${ws.length} (--parallel ${opts.parallel}): ${w.join(", ")}`);
        await runBake(w);
      }
    } else await runBake();
    progress.end();
    const seconds = sec(performance.now() - t0);
    // per stage: its vertices' times (and its git patch helper's); a Dockerfile image: the whole bake's wall time
    return new Map([...files.targets.entries()].map(([d, t]) => [
      d,
      {
        tag: newTags.get(d)!,
        seconds: dfTargets.has(t) ? seconds : sec((progress.of(t) + progress.of(patchHelperTarget(t))) * 1000),
        ...(metadata.get(t) ?? {}),
      },
    ]));
  } finally {
    if (!process.env.STAPEL2DOCKER_KEEP_BUILD_DIR) await rm(work, { recursive: true, force: true });
  }
}

/** Runs `fn` with the agents to forward: the --ssh ones, plus a temporary agent for --ssh-key (stopped after). */
async function withSsh<T>(specs: SshAgentSpec[], keys: string[], fn: (ssh: SshAgentSpec[]) => Promise<T>): Promise<T> {
  if (keys.length === 0) return fn(specs);
  const agent: TempAgent = await startSshAgent(keys);
  try {
    return await fn(sortSpecs([...specs, { id: "default", paths: [agent.socket] }]));
  } finally {
    await agent.stop();
  }
}


/**
 * A build with images of several platforms (src/plan/platforms.ts), as werf: each platform of such an image is
 * planned, resolved and built on its own (its own digests, its own `<digest>-<ms>` tags, a bake for that platform
 * alone), so a build of fewer platforms reuses the stages of the platforms it shares with an earlier one; then the
 * final tags are written as an image index over the platforms' last stages, named by `multiPlatformDigest`. The
 * other images (one platform or none, Dockerfile images) are built first, as always. A build that built nothing
 * records the no-op cache's entry (its final indexes proved by their platforms' last stages).
 */
async function buildPlatforms(opts: BuildOptions & { plan: Plan }): Promise<BuildReport> {
  const t0 = performance.now();
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const plan = opts.plan;
  for (const w of plan.warnings) log(`warning: ${formatDiagnostic(w)}`);
  const client = opts.client ?? new RegistryClient();
  const repo = repoOf(plan.project, opts.repo);
  const finalRepo = opts.finalRepo !== undefined ? normalizeRepo(opts.finalRepo, "--final-repo") : repo;
  const addTags = opts.addTags ?? [];
  const tagged = opts.dependencySources ?? dependencySources(plan);
  const planned = await planPerPlatform({ ...opts, images: opts.images }, plan, planProject);
  // this machine's toolchain must cover every platform: said before any platform is built
  if (opts.toolchain === undefined) await localToolchain(undefined, [...new Set(planned.flatMap((g) => g.group.platforms))]);
  const nameOf = (n: string) => (n === "" ? "~" : n);
  const multi = new Set(planned.flatMap((g) => g.group.images));
  // the final tags every pass writes (or finds in place), for the no-op cache's entry
  const jobs: FinalTagJob[] = [];
  const collect = async (info: { finalTags: readonly FinalTagJob[] }) => {
    jobs.push(...info.finalTags);
  };
  const base = { ...opts, client, onFinished: opts.onFinished ? collect : undefined, plan: undefined };
  const reports: BuildReport[] = [];
  // the other images, by their platform (one or none): each built with what it needs for that platform (an image
  // of several platforms that one of them is built on, for its platform only), as werf builds an image's tree
  for (const g of otherGroups(plan, multi)) reports.push(await buildProject({ ...base, images: g.images, platform: g.platform, forcePlatform: true, platformPass: "others", finalTagsOf: new Set(g.images) }));
  // image name → per platform: its report in that platform's build
  const perImage = new Map<string, { platform: string; report: ImageReport }[]>();
  for (const { group, variants } of planned) {
    for (const v of variants) {
      log(`platform ${v.platform}: ${group.images.join(", ")}`);
      const r = await buildProject({
        ...base,
        plan: v.plan,
        images: group.images,
        platform: [v.platform],
        platformPass: "platform",
        finalTagsOf: new Set(),
        log: (l) => log(`[${v.platform}] ${l}`),
      });
      reports.push({ ...r, images: [] });
      for (const i of r.images) {
        let list = perImage.get(i.image);
        if (!list) perImage.set(i.image, (list = []));
        list.push({ platform: v.platform, report: i });
      }
    }
  }
  // one entry per image: an image in several builds (one that others of other platforms are built on) gets the
  // stages of each (the build records keep them with it)
  const images: ImageReport[] = [];
  for (const i of reports.flatMap((r) => r.images)) {
    const seen = images.find((x) => x.image === i.image);
    if (!seen) images.push({ ...i, stages: [...i.stages], tags: [...i.tags] });
    else {
      for (const s of i.stages) if (!seen.stages.some((x) => x.tag === s.tag)) seen.stages.push(s);
      for (const t of i.tags) if (!seen.tags.includes(t)) seen.tags.push(t);
    }
  }
  // the tags as they stand after the builds: the final indexes already in place are not written again (below), the
  // build records already there neither
  const listed = new Set(await client.listTags(repo));
  const stored = indexStageTags(listed);
  const cache = finalTagCacheOf(opts);
  for (const [name, list] of perImage) {
    const stapel = plan.images.find((i) => nameOf(i.name) === name);
    const df = plan.dockerfileImages.find((d) => d.image.name === name);
    const image = stapel
      ? { name: stapel.name, slug: stapel.slug, final: stapel.final && stapel.kind === "image" }
      : df && { name: df.image.name, slug: df.target, final: df.image.final };
    const platforms = list.map((x) => x.platform);
    const digest = multiPlatformDigest(list.map((x) => ({ platform: x.platform, digest: x.report.digest })));
    const stages: StageReport[] = list.flatMap((x) => x.report.stages.map((s) => ({ ...s, platform: x.platform })));
    const single = images.find((i) => i.image === name);
    if (single && !multi.has(name)) {
      // an image of one platform or none that a multi-platform image is built on: its own build's entry gets the
      // stages of each platform's build too (the build records keep them with it)
      for (const s of stages) if (!single.stages.some((x) => x.tag === s.tag)) single.stages.push(s);
      continue;
    }
    if (single) {
      // a multi-platform image that an image of one platform or none is built on, built for it too: one entry
      images.splice(images.indexOf(single), 1);
      for (const s of single.stages) if (!stages.some((x) => x.tag === s.tag)) stages.push(s);
    }
    let tags: string[] = [];
    if (image && multi.has(name) && (image.final || tagged.has(image.name))) {
      tags = finalTags(finalRepo, image.slug, digest, addTags);
      const last = list.map((x) => ({ platform: x.platform, tag: x.report.stages[x.report.stages.length - 1].tag, digest: x.report.digest }));
      // as a single image's final tag (src/storage/final-tags.ts): skipped when listed, written from these same
      // stages by this host, and each stage the only one of its digest (no other writer can have moved it since)
      const src = last.map((x) => x.tag).join(",");
      let proven = cache !== undefined && addTags.length === 0 && finalRepo === repo;
      for (const t of tags) if (proven) proven = listed.has(t.slice(repo.length + 1)) && (await cache!.source(t)) === src;
      if (proven) proven = last.every((x) => (stored.get(x.digest) ?? []).length === 1 && `${repo}:${stored.get(x.digest)![0].tag}` === x.tag);
      if (!proven) {
        await writeIndexTags(client, repo, last, tags, `${repo}:${image.slug}-${digest}`, opts.docker);
        for (const t of tags) await cache?.set(t, src);
      }
      for (const t of tags) jobs.push({ src, tag: t, digest });
    }
    images.push({ image: name, configType: list[0].report.configType, final: list[0].report.final, digest, tags, stages, platforms });
  }
  await writeRecords(client, repo, makeRecords(plan, repo, images), listed).catch((e: unknown) => {
    log(`warning: the build records could not be written (${e instanceof Error ? e.message.split("\n")[0] : String(e)}): cleanup cannot keep these images by their commit`);
  });
  const report: BuildReport = {
    repo,
    images,
    built: reports.reduce((n, r) => n + r.built, 0),
    bake: reports.some((r) => r.bake),
    registryRequests: client.requestCount,
    seconds: sec(performance.now() - t0),
  };
  // the no-op cache's entry (src/builder/noop-cache.ts): recorded by a build that built nothing, so the next one is a
  // single tag listing
  await opts.onFinished?.({ plan, listed, report, finalTags: jobs });
  return report;
}

