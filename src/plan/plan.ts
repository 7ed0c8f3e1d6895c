// The planner: werf.yaml → Plan. Renders and loads the config, resolves every image's base, git
// sources (repository, commit, stageDependencies checksums) and import sources, then runs each
// image's conveyor in dependency order so an image's digest is known before the images built on it.
// Reads git objects (never the work tree, except what werf takes from it too: a Dockerfile image's contextAddFiles
// and what werf-giterminism.yaml accepts uncommitted) and nothing from the registry: every digest is known before
// anything is built.

import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { UserError, formatPos, type Diagnostic } from "../diagnostics.js";
import { ignoredChangesNotice, renderWerfConfig, type RenderedConfig } from "../template/render.js";
import { projectCommit } from "../project/commit.js";
import { PathMatcher } from "../git/pathMatcher.js";
import { type Giterminism, NO_GITERMINISM, checkHostPaths, giterminismPathAccepted, giterminismWarnings } from "../config/giterminism.js";
import { ProjectFiles, ProjectPathError } from "../project/files.js";
import { goTimeString } from "../template/werf.js";
import { noImagesWarning, type WerfConfig, type StapelImage, type DockerfileImage, type Mount } from "../config/index.js";
import type { GitMapping, ImageSpec } from "../config/model.js";
import type { Listing, TreeEntry } from "../git/tree.js";
import {
  DEFAULT_TOOLCHAIN,
  type BaseImageConfig,
  type BaseImageResolver,
  type BaseRef,
  type DependencyPlan,
  type DockerfileImagePlan,
  type ImagePlan,
  type ImportPlan,
  type MountPlan,
  type Plan,
  type PlanOptions,
  type StageName,
  STAGE_ORDER,
} from "./model.js";
import { buildConveyor, dependencyStage, mergeImageSpec, type GitStageDeps, type ImageGit } from "./conveyor.js";
import { platformInput } from "./platforms.js";
import { DIGEST_SCHEME, shortId, stageDigest } from "./digest.js";
import { GitSources, projectRelative } from "./git-sources.js";
import { selectImages, planningOrder } from "./select.js";
import { Slugs } from "./names.js";
import { listStageContexts } from "./contexts.js";
import { planProblemsCached } from "../cache/problems.js";
import { planSecrets } from "./secrets.js";
import { cacheFromEnv, type CacheStore } from "../cache/store.js";
import { loadWerfConfigCached } from "../cache/config.js";

/** Renders, loads and plans the project in `opts.dir`. */
export async function planProject(opts: PlanOptions): Promise<Plan> {
  // start listing HEAD's files while werf.yaml renders (git works in its own process); errors surface where
  // the listing is used
  const own = projectCommit(path.resolve(opts.dir), { dev: opts.dev, changes: !opts.dev });
  const git = new GitSources(path.resolve(opts.dir), opts.gitCacheDir, own, planCache(opts));
  // with the cache, the tree and its changes only: the listing is read when something the cache does not prove
  // needs it (the render's file lookups, a mapping's check, a checksum, an archive)
  const store = git.store;
  if (store) git.ownChanges().catch(() => {});
  else git.ownListing().catch(() => {});
  // the commit time (the render's and the plan's) asked while git lists, when HEAD's reading did not give it
  own.then((pc) => (pc?.commit && pc.time === undefined ? pc.repo.commitTime(pc.commit) : undefined)).catch(() => {});
  const rendered = await renderWerfConfig({
    dir: opts.dir,
    configFile: opts.configFile,
    env: opts.env,
    strictEnv: opts.strictEnv ?? false,
    environ: opts.environ ?? process.env,
    commit: (await own) ?? null,
    // read only if the render asks (a render the cache proves does not)
    get tree(): Promise<Listing | undefined> {
      return git.ownListing();
    },
    giterminismConfig: opts.giterminismConfig,
    cache: store,
    treeChanges: store ? git.ownChanges() : undefined,
    // git's status of the work tree is waited for at the end (it is only for the notice of unused changes)
    deferChanges: true,
  });
  const config = loadWerfConfigCached(rendered, git.store);
  // the stageDependenciesChecksums fed with git's listing as it comes, while the rest is checked
  prepareDependencies(config, opts, git).catch(() => {});
  checkHostPaths(config, new ProjectFiles(opts.dir), rendered.giterminism);
  const plan = await planConfig(config, opts, git, rendered.giterminism);
  plan.warnings.unshift(...rendered.warnings, ...giterminismWarnings(config, rendered.giterminism));
  if (rendered.readOutsideCommit) plan.readOutsideCommit = true;
  const none = noImagesWarning(config, rendered.unsetEnv);
  if (none) plan.warnings.unshift(none);
  if (rendered.changesLater) Object.assign(rendered, await rendered.changesLater);
  const ignored = ignoredChangesNotice([...new Set([...rendered.ignoredChanges, ...mappedChanges(config, rendered, plan)])].sort());
  if (ignored) plan.warnings.unshift({ message: ignored });
  // the cache entries written in the background are on disk when the plan is given
  await git.store?.flush();
  return plan;
}

/** The stages of a git mapping that have stageDependencies masks, and the checksum requests of their masks. */
function stageRequests(m: GitMapping): { withMasks: GitStageDeps[]; requests: { masks: readonly string[]; label: string }[] } {
  const withMasks = (["install", "beforeSetup", "setup"] as GitStageDeps[]).filter((stage) => m.stageDependencies[stage].length > 0);
  return { withMasks, requests: withMasks.map((stage) => ({ masks: m.stageDependencies[stage], label: `git.stageDependencies.${stage}` })) };
}

/** Starts the checksums of the selected images' local mappings over the project's listing while git writes it
 *  (GitSources.prepareDependencies); planConfig asks for the same ones and finds them fed. */
async function prepareDependencies(config: WerfConfig, opts: PlanOptions, git: GitSources): Promise<void> {
  const selected = selectImages(config, opts.images);
  for (const image of config.images) {
    if (!selected.has(image.name)) continue;
    for (const m of image.git) {
      if (!m.local) continue;
      const { requests } = stageRequests(m);
      if (requests.length) git.prepareDependencies(await git.source(m), requests);
    }
  }
}

/** Uncommitted changes (project-relative) to files that a local git mapping of the config selects, or that lie in a
 *  Dockerfile image's context. */
function mappedChanges(config: WerfConfig, rendered: RenderedConfig, plan: Plan): string[] {
  const pc = rendered.commit;
  if (!pc || pc.dev || rendered.worktreeChanges.length === 0) return [];
  const prefix = pc.subdir === "" ? "" : `${pc.subdir}/`;
  const matchers = config.images.flatMap((i) => i.git.filter((m) => m.local)).map((m) => new PathMatcher({ basePath: m.add, includeGlobs: m.includePaths, excludeGlobs: m.excludePaths }));
  // a Dockerfile image's context folder is read from the commit too (src/emit/dockerfile-context.ts)
  const contexts = config.dockerfileImages.map((d) => (d.context ?? ".").replace(/^\.\/+/, "").replace(/\/+$/, "")).map((c) => (c === "." || c === "" ? "" : `${c}/`));
  // what a Dockerfile image takes from the work tree (contextAddFiles, accepted Dockerfiles) is used, not ignored
  const used = plan.dockerfileImages.flatMap((d) => d.worktreeFiles.map((w) => (d.context === "." ? w : `${d.context}/${w}`)));
  const isUsed = (p: string) => used.some((u) => p === u || p.startsWith(`${u}/`));
  return rendered.worktreeChanges.filter((p) => !isUsed(p) && (matchers.some((mt) => mt.isPathMatched(prefix + p)) || contexts.some((c) => p.startsWith(c))));
}

/** The persistent cache the options ask for: theirs, none (false), or the environment's (src/cache/store.ts). */
export function planCache(opts: PlanOptions): CacheStore | undefined {
  return opts.cache === false ? undefined : (opts.cache ?? cacheFromEnv());
}

/** Plans an already loaded config (tests, and `build` which reloads nothing). */
export async function planConfig(config: WerfConfig, opts: PlanOptions, sources?: GitSources, giterminism: Giterminism = NO_GITERMINISM): Promise<Plan> {
  const dir = path.resolve(opts.dir);
  const warnings: Diagnostic[] = [];
  const resolver = opts.baseImages ?? (await defaultResolver());
  const git = sources ?? new GitSources(dir, opts.gitCacheDir, undefined, planCache(opts));
  const selected = selectImages(config, opts.images);
  const slugs = new Slugs();

  const own = await git.ownRepo();
  const commit = own
    ? await (async () => {
        const timeUnix = own.time ?? (await own.repo.commitTime(own.commit));
        return { hash: own.commit, timeUnix, timeHuman: goTimeString(timeUnix) };
      })()
    : undefined;

  const ownRepo = config.dockerfileImages.length ? await git.ownRepo() : undefined;
  const ownTree = ownRepo
    ? { tree: (await git.ownTree())!, subdir: path.relative(fs.realpathSync(ownRepo.repo.root), fs.realpathSync(dir)).split(path.sep).join("/") }
    : undefined;
  const dockerfilePlans = new Map<string, DockerfileImagePlan>();
  const plans = new Map<string, ImagePlan>();
  const finalConfig = new Map<string, BaseImageConfig>();
  // Dockerfile images take their slugs first, in werf.yaml order (bake target names do not depend on the order)
  const dockerfileSlugs = new Map(config.dockerfileImages.filter((i) => selected.has(i.name)).map((i) => [i.name, slugs.take(i.name)]));
  for (const item of planningOrder(config, selected)) {
    if (item.kind === "dockerfile") {
      const img = item.image;
      // as werf: the dependent's digest depends on each dependency's digest (and on what it imports of it)
      const dependencies = img.dependencies.map((d) => {
        const dep = plans.get(d.image) ?? dockerfilePlans.get(d.image);
        if (!dep) throw new Error(`internal: dependency ${d.image} planned after ${img.name}`);
        return [d.image, dep.digest, d.imports.map((i) => [i.type, i.targetBuildArg ?? i.targetEnv ?? ""])];
      });
      const platform = opts.forcePlatform ? (opts.platform ?? []) : opts.platform?.length ? opts.platform : img.platform.length ? img.platform : (config.meta.build?.platform ?? []);
      const df = await planDockerfileImage(img, dir, dockerfileSlugs.get(img.name)!, ownTree, opts.dev ?? false, giterminism, dependencies, config.meta.build?.imageSpec, platform);
      dockerfilePlans.set(img.name, df);
      warnings.push(...dockerfileImageWarnings(df));
      continue;
    }
    const image = item.image;
    const slug = slugs.take(image.name);
    const { base, baseInput, baseConfig } = await resolveBase(image, plans, dockerfilePlans, finalConfig, resolver, warnings);

    const imageGit: ImageGit[] = [];
    for (const m of image.git) {
      const source = await git.source(m);
      await git.checkMatchesFiles(source);
      const dependencies: ImageGit["dependencies"] = {};
      // every stage's checksum in one pass over the mapping's files
      const { withMasks, requests } = stageRequests(m);
      const sums = await git.dependenciesOf(source, requests);
      for (const [k, stage] of withMasks.entries()) {
        const sum = sums[k];
        for (const mf of sum.masks) {
          if (mf.paths.length === 0) {
            warnings.push({
              pos: m.pos,
              message: `stage ${stage} dependency path ${JSON.stringify(mf.mask)} has not been found in ${source.repoName === "own" ? "the project's" : source.repoName} git at ${source.commit.slice(0, 12)}`,
              hint: "masks are relative to `add`; a mask that matches nothing never rebuilds the stage",
            });
          }
        }
        dependencies[stage] = sum;
      }
      imageGit.push({ source, dependencies });
    }

    const mounts = image.mount.map((m) => planMount(m, config.meta.project, dir));
    const imports = image.import.map((d) => ({
      ...planImport(d.source, d.external, d.stage, plans, dockerfilePlans, d.pos),
      directive: d,
      stageName: dependencyStage(d.at),
    }));
    const dependencies: (DependencyPlan & { stageName: StageName })[] = [];
    for (const d of image.dependencies) {
      if (!d.at) continue;
      const dep = plans.get(d.image) ?? dockerfilePlans.get(d.image);
      if (!dep) throw new Error(`internal: dependency ${d.image} planned after ${image.name}`);
      dependencies.push({ image: d.image, digest: dep.digest, imports: d.imports, pos: d.pos, stageName: dependencyStage(d.at) });
    }

    const spec = image.imageSpec ?? (image.final ? config.meta.build?.imageSpec : undefined);
    const unexpressible = unexpressibleImageSpec(spec);
    if (spec && image.kind === "image" && unexpressible.length) {
      warnings.push({
        pos: spec.pos,
        message: `imageSpec of image ${JSON.stringify(image.name)}: ${unexpressible.join(", ")} cannot be expressed in a Dockerfile; the compiled Dockerfile leaves them out`,
        hint: "the other imageSpec settings (labels, env, cmd, entrypoint, user, workingDir, volumes, expose, healthcheck, stopSignal) are compiled",
      });
    }
    const secrets = planSecrets(image.secrets);
    const platform = opts.forcePlatform ? (opts.platform ?? []) : opts.platform?.length ? opts.platform : image.platform.length ? image.platform : (config.meta.build?.platform ?? []);
    const stages = buildConveyor({ config, image, slug, base, baseInput, baseConfig, git: imageGit, imports, dependencies, mounts, dev: opts.dev, secrets: secrets.map((s) => s.id), platform });
    const plan: ImagePlan = {
      name: image.name,
      kind: image.kind,
      final: image.final,
      pos: image.pos,
      slug,
      stages,
      digest: stages[stages.length - 1].digest,
      platform,
      asLayers: image.asLayers,
      gitAfterPatch: image.kind === "image" && !image.disableGitAfterPatch,
      base: baseConfig,
      secrets,
    };
    plans.set(image.name, plan);
    const docker = stages.some((s) => s.name === "dockerInstructions") ? image.docker : undefined;
    finalConfig.set(image.name, {
      user: docker?.user ?? baseConfig.user,
      workdir: docker?.workdir ?? baseConfig.workdir,
      source: "image",
    });
  }

  const result: Plan = {
    scheme: DIGEST_SCHEME,
    project: config.meta.project,
    configFile: config.file,
    dir,
    commit,
    toolchain: opts.toolchain ?? DEFAULT_TOOLCHAIN,
    // dependency order (an image after the images it is built from or imports from): a Dockerfile stage must be
    // defined before a FROM or COPY --from names it; werf.yaml order otherwise
    images: [...plans.values()],
    dockerfileImages: config.dockerfileImages.filter((i) => dockerfilePlans.has(i.name)).map((i) => dockerfilePlans.get(i.name)!),
    warnings,
  };
  listStageContexts(result);
  // planning errors: whatever compile would refuse, reported now, each at its value's position
  const problems = planProblemsCached(result, git.store);
  if (problems.length) throw new UserError(problems);
  git.store?.evict();
  return result;
}

async function defaultResolver(): Promise<BaseImageResolver> {
  const { defaultImageConfigResolver } = await import("../docker/image-config.js");
  return defaultImageConfigResolver();
}

async function resolveBase(
  image: StapelImage,
  plans: Map<string, ImagePlan>,
  dockerfilePlans: Map<string, DockerfileImagePlan>,
  finalConfig: Map<string, BaseImageConfig>,
  resolver: BaseImageResolver,
  warnings: Diagnostic[],
): Promise<{ base: BaseRef; baseInput: Record<string, unknown>; baseConfig: BaseImageConfig }> {
  const other = image.fromImage ?? image.fromArtifact;
  if (other !== undefined) {
    const p = plans.get(other);
    if (p) {
      const last = p.stages[p.stages.length - 1];
      return {
        base: { kind: "image", image: other, target: last.target, digest: p.digest },
        baseInput: { image: p.digest },
        baseConfig: finalConfig.get(other)!,
      };
    }
    const d = dockerfilePlans.get(other);
    if (!d) throw new Error(`internal: base image ${other} planned after ${image.name}`);
    // an imageSpec that sets the user (and workingDir) says what the Dockerfile image ends with
    const spec = d.imageSpec?.config;
    const user = spec?.user ?? (spec?.clearUser ? "0" : undefined);
    const workdir = spec?.workingDir ?? (spec?.clearWorkingDir ? "/" : undefined);
    if (user === undefined) {
      warnings.push({
        pos: image.basePos ?? image.pos,
        message: `the USER of Dockerfile image ${JSON.stringify(other)} is not known before it is built: compile assumes root`,
        hint: `if its Dockerfile ends with a USER, set the same \`imageSpec.config.user\` on ${JSON.stringify(other)} so the build's commands restore it`,
      });
    }
    return {
      base: { kind: "image", image: other, target: d.target, digest: d.digest },
      baseInput: { image: d.digest },
      baseConfig: { user: user ?? "", workdir: workdir ?? "", source: user === undefined ? "assumed" : "image" },
    };
  }
  const ref = image.from;
  if (ref === undefined || ref === "scratch") {
    return { base: { kind: "scratch" }, baseInput: { scratch: true }, baseConfig: { user: "", workdir: "", source: "scratch" } };
  }
  const baseConfig = await resolver.resolve(ref);
  if (baseConfig.source === "assumed") {
    warnings.push({
      pos: image.basePos ?? image.pos,
      message: `the config of base image ${ref} could not be read${baseConfig.reason ? ` (${baseConfig.reason})` : ""}: compile assumes it runs as root in /`,
      hint: `if ${ref} sets USER, ${makeAvailable(ref)} so its USER is restored after the build's commands`,
    });
  }
  if (image.fromLatest && baseConfig.id === undefined) {
    warnings.push({
      pos: image.basePos ?? image.pos,
      message: `fromLatest: the id of ${ref} is unknown, so a new ${ref} will not rebuild the image`,
      hint: `${makeAvailable(ref)} so its id is part of the digest`,
    });
  }
  return { base: { kind: "external", ref }, baseInput: { ref }, baseConfig };
}

/** How to get a base image into the local daemon: `docker pull`, except the project's own local images
 *  (stapel2docker/base-*, made by scripts/stack/up.sh with `docker import`), which no registry has. */
function makeAvailable(ref: string): string {
  if (/^stapel2docker\/base-[a-z]+(:latest)?$/.test(ref)) {
    return `make it first: it is a local image of stapel2docker's test stack, in no registry (sudo bash scripts/stack/up.sh makes it; docs/stack.md)`;
  }
  return `pull it first (docker pull ${ref})`;
}

/** Picks the stage an import copies from: the named user stage, or the last stage at or before it. */
function planImport(
  source: string,
  external: boolean,
  stage: string | undefined,
  plans: Map<string, ImagePlan>,
  dockerfilePlans: Map<string, DockerfileImagePlan>,
  pos: Diagnostic["pos"],
): Pick<ImportPlan, "source"> {
  if (external) return { source: { kind: "external", ref: source } };
  const p = plans.get(source);
  if (p) {
    let chosen = p.stages[p.stages.length - 1];
    if (stage) {
      const limit = STAGE_ORDER.indexOf(stage as StageName);
      const upTo = p.stages.filter((s) => STAGE_ORDER.indexOf(s.name) <= limit);
      chosen = upTo[upTo.length - 1] ?? p.stages[0];
    }
    return { source: { kind: "image", image: source, target: chosen.target, digest: chosen.digest } };
  }
  const d = dockerfilePlans.get(source);
  if (d) return { source: { kind: "image", image: source, target: d.target, digest: d.digest } };
  throw new UserError({ pos, message: `import source ${JSON.stringify(source)} is not an image of this werf.yaml` });
}

function planMount(m: Mount, project: string, dir: string): MountPlan {
  if (m.type === "tmp_dir") return { mount: m };
  if (m.type === "build_dir") return { mount: m, cacheId: `stapel2docker-${project}-build-dir-${shortId(m.to)}` };
  const from = m.fromPath!.startsWith("~") ? path.join(os.homedir(), m.fromPath!.slice(1)) : path.resolve(dir, m.fromPath!);
  return { mount: m, contextName: `mount-${shortId(m.fromPath)}`, contextPath: projectRelative(dir, from) };
}

async function planDockerfileImage(
  img: DockerfileImage,
  dir: string,
  target: string,
  own: { tree: TreeEntry[]; subdir: string } | undefined,
  dev: boolean,
  giterminism: Giterminism,
  dependencies: unknown[],
  globalSpec: ImageSpec | undefined,
  platform: string[],
): Promise<DockerfileImagePlan> {
  // werf applies the image's imageSpec (merged with the global one for final images) in a stage after the build
  const spec = mergeImageSpec(img.final ? globalSpec : undefined, img.imageSpec);
  const { pos: _pos, at: _at, ...specInputs } = spec ?? { pos: undefined, at: undefined };
  const context = (img.context ?? ".").replace(/^\.\/+/, "").replace(/\/+$/, "") || ".";
  // the tree's paths are the repository's: the context folder is below the project's own folder in it
  const prefix = [own?.subdir, context === "." ? "" : context].filter(Boolean).map((p) => `${p}/`).join("");
  const files = own ? own.tree.filter((e) => prefix === "" || e.path.startsWith(prefix)).map((e) => [e.path, e.mode, e.oid]) : null;
  const worktree = own ? worktreeContextFiles(img, context, dir, giterminism) : [];
  const inputs = {
    dockerfile: img.dockerfile,
    context,
    contextAddFiles: img.contextAddFiles.length ? img.contextAddFiles : undefined,
    target: img.target,
    args: Object.keys(img.args).length ? Object.keys(img.args).sort().map((k) => [k, img.args[k]]) : undefined,
    addHost: img.addHost.length ? img.addHost : undefined,
    network: img.network,
    ssh: img.ssh,
    cacheVersion: img.cacheVersion,
    dependencies: dependencies.length ? dependencies : undefined,
    imageSpec: spec ? specInputs : undefined,
    contextFiles: files ? shortId(files) : undefined,
    // what is taken from the work tree over the commit's files: its content makes the digest, as in werf
    worktreeFiles: worktree.length ? shortId(worktree.map((w) => [w.path, w.content])) : undefined,
    dev: dev ? true : undefined,
    // as a Stapel image's from stage (src/plan/platforms.ts): none and linux/amd64 leave the digest as it was
    platform: platformInput(platform),
  };
  void dir;
  const secrets = planSecrets(img.secrets);
  // the plan is printed (`plan --json`): the config's secrets go without their values
  const image: DockerfileImage = { ...img, secrets: img.secrets.map(({ value: _value, ...s }) => s) };
  return {
    image,
    target,
    context,
    dockerfile: img.dockerfile,
    digest: stageDigest("dockerfile", inputs, undefined),
    platform,
    secrets,
    worktreeFiles: worktree.map((w) => w.path),
    ...(spec ? { imageSpec: spec, buildTarget: `${target}--dockerfile` } : {}),
  };
}

/** What a Dockerfile image asks for that the build cannot do, each at its werf.yaml position: `staged` (werf builds
 *  the Dockerfile instruction by instruction into stages; here it is one BuildKit build, the same image), and the
 *  imageSpec settings no Dockerfile instruction can express (the rest is applied: src/emit/dockerfile-image-spec.ts). */
function dockerfileImageWarnings(df: DockerfileImagePlan): Diagnostic[] {
  const out: Diagnostic[] = [];
  const name = JSON.stringify(df.image.name);
  if (df.image.staged) {
    out.push({
      pos: df.image.pos,
      message: `staged of image ${name}: the Dockerfile is built as one BuildKit build, not as werf's per-instruction stages`,
      hint: "the image is the same; BuildKit's own cache takes the place of werf's stages, so a no-op build reuses the whole image only",
    });
  }
  const spec = df.imageSpec;
  const unexpressible = unexpressibleImageSpec(spec);
  if (spec && unexpressible.length) {
    out.push({
      pos: spec.pos,
      message: `imageSpec of image ${name}: ${unexpressible.join(", ")} cannot be expressed in a Dockerfile; the image is built without them`,
      hint: "the other imageSpec settings (labels, env, cmd, entrypoint, user, workingDir, volumes, expose, healthcheck, stopSignal) are applied in a stage over the Dockerfile's result",
    });
  }
  return out;
}

/**
 * The context-relative paths of a Dockerfile image that werf takes from the work tree rather than the commit:
 * `contextAddFiles`, the Dockerfile when config.dockerfile.allowUncommitted accepts it, and `.dockerignore` /
 * `<dockerfile>.dockerignore` when config.dockerfile.allowUncommittedDockerignoreFiles accepts them (werf's
 * build_context_archive.go and createDockerIgnorePathMatcher); each with a hash of its content (a folder: of every
 * file in it). Reads are confined to the project; a missing contextAddFiles path is a located error.
 */
function worktreeContextFiles(img: DockerfileImage, context: string, dir: string, g: Giterminism): { path: string; content: string }[] {
  const files = new ProjectFiles(dir);
  const inProject = (rel: string) => (context === "." ? rel : `${context}/${rel}`);
  const out: { path: string; content: string }[] = [];
  const add = (rel: string, required: boolean, what: string) => {
    let r;
    try {
      r = files.resolve(inProject(rel));
    } catch (e) {
      if (!(e instanceof ProjectPathError)) throw e;
      // an accepted .dockerignore missing from the work tree: none is used (werf reads it from the work tree)
      if (!required && e.problem === "missing") return void out.push({ path: path.posix.normalize(rel), content: "absent" });
      throw new UserError({ pos: img.pos, message: `${what} ${JSON.stringify(rel)}: ${e.message}`, hint: "the path is relative to the context folder and must exist in the work tree" });
    }
    const hash = createHash("sha256");
    const list = r.stat.isDirectory() ? files.listFiles(inProject(rel)) : [inProject(rel)];
    for (const f of list) hash.update(`${f}\0`).update(files.readFile(f)).update("\0");
    out.push({ path: path.posix.normalize(rel), content: hash.digest("hex") });
  };
  for (const rel of img.contextAddFiles) add(rel, true, "contextAddFiles");
  const dockerfile = path.posix.normalize(img.dockerfile);
  if (giterminismPathAccepted(g.dockerfileAllowUncommitted, inProject(dockerfile)) && !out.some((o) => o.path === dockerfile)) add(dockerfile, true, "dockerfile (config.dockerfile.allowUncommitted)");
  for (const ignore of [`${dockerfile}.dockerignore`, ".dockerignore"]) {
    if (giterminismPathAccepted(g.dockerfileAllowUncommittedDockerignoreFiles, inProject(ignore)) && !out.some((o) => o.path === ignore)) add(ignore, false, "config.dockerfile.allowUncommittedDockerignoreFiles");
  }
  return out;
}

/** For messages: "werf.yaml:12". */
export function where(pos: Diagnostic["pos"]): string {
  return pos ? formatPos(pos) : "werf.yaml";
}

/** The imageSpec keys no Dockerfile instruction can express (a Dockerfile cannot remove or rewrite history). */
function unexpressibleImageSpec(spec: ImageSpec | undefined): string[] {
  const c = spec?.config;
  return [
    spec?.author !== undefined ? "author" : "",
    spec?.clearHistory ? "clearHistory" : "",
    c?.removeLabels.length ? "removeLabels" : "",
    c?.removeEnv.length ? "removeEnv" : "",
    c?.removeVolumes.length ? "removeVolumes" : "",
    c?.clearWerfLabels ? "clearWerfLabels" : "",
  ].filter(Boolean);
}
