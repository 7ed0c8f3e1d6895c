// The build's own Dockerfile and bake file: only the stages to build, each image's chain starting
// `FROM <repo>:<stored stage tag>`, printed by src/emit's printer. Git patches are applied by a RUN of the
// toolchain's bash (src/git/patch.ts patchApplyScript) over a named context holding the patch files; a rebuilt
// install/beforeSetup/setup gets it as a helper build stage right before its own (`<stage>--git-patch`).

import path from "node:path";
import { PATCH_CONTEXT, patchHelperTarget } from "../plan/names.js";
import { UserError } from "../diagnostics.js";
import { COMMIT_SECRET, REPO_ARG } from "../emit/dockerfile.js";
import type { BakeFile, BakeTarget } from "../bake/model.js";
import { bakeFile, targetContexts } from "../bake/write.js";
import type { Dockerfile } from "../dockerfile/model.js";
import { dockerfileImageTargets, imageSpecFolder } from "../emit/dockerfile-image-spec.js";
import { contextsFromCommit, dockerfileContextFolder } from "../emit/dockerfile-context.js";
import { importFilterScript } from "../emit/import-filter.js";
import { lowerPlan } from "../emit/lower.js";
import { listStageContexts } from "../plan/contexts.js";
import { bakeSsh, type SshAgentSpec } from "./ssh.js";
import type { DockerfileImagePlan, GitPatchBody, ImagePlan, Plan, StageBody, StagePlan } from "../plan/model.js";
import type { ChainStage, ImageChain, StagePatch } from "../storage/resolve.js";
import { stapelBuildTimeArgs, usesRepoArg } from "../emit/dependencies.js";
import { secretEntries, targetSecrets } from "../emit/secrets.js";
import type { DependencyValues } from "./dependencies.js";

export { PATCH_CONTEXT } from "../plan/names.js";

/** A patch written to the patches folder: file names relative to it. */
export interface PatchFiles {
  tar: string;
  removals: string;
}

export interface BuildFiles {
  /** The plan holding only what is built. */
  plan: Plan;
  /** Its Dockerfile model (printed by the build). */
  model: Dockerfile;
  bake: BakeFile;
  /** digest → the bake target that pushes it. */
  targets: Map<string, string>;
}

export interface RenderBuildOptions {
  repo: string;
  /** Where the builder pulls the stored stages it builds on (--cache-repo: the first cache repo, nearer to it);
   *  default `repo`. The same tags are in both. */
  pullRepo?: string;
  /** digest → stored stage tag (every stored stage any chain uses). */
  storedTags: Map<string, string>;
  /** digest → tag the built stage is pushed as. */
  newTags: Map<string, string>;
  /** The patch files of each StagePatch. */
  patchFiles: (p: StagePatch) => PatchFiles;
  /** Absolute folder holding the patch files. */
  patchDir: string;
  /** Per bake target: its context folder (relative to the bake's working directory), the Dockerfile relative to
   *  it, and its own patch folder (absolute). buildx 0.13 with the docker driver shares one local context between
   *  the targets of a bake and fails ("failed to walk ... no such file") when their Dockerfile stages use different
   *  files of it, so each target gets a folder of its own (hard links). */
  targetDirs: (target: string) => { context: string; dockerfile: string; patches: string };
  /** commit.env, relative to the bake's working directory. */
  commitEnv?: string;
  /** Dockerfile images built by this bake (one target each, pushed as their newTags tag). */
  dockerfileImages?: DockerfileImagePlan[];
  /** Dependencies' ImageID/ImageDigest values (src/builder/dependencies.ts). */
  dependencyValues?: DependencyValues;
  /** Where the `value:` secrets are written (relative to the bake's working directory); default "secrets". */
  secretDir?: string;
  /** The folder holding the Dockerfile images' contexts read from the commit (src/emit/dockerfile-context.ts). */
  contextsDir?: string;
  /** SSH agents forwarded to every RUN of a user stage. */
  ssh?: SshAgentSpec[];
}

function patchBody(stage: StagePlan, patches: StagePatch[], files: RenderBuildOptions["patchFiles"], patchDir: string): GitPatchBody {
  return {
    kind: "gitPatch",
    stage: stage.name,
    patches: patches.map((p) => {
      const f = files(p);
      return { source: p.source, fromCommit: p.from, tar: f.tar, removals: f.removals };
    }),
    context: { name: PATCH_CONTEXT, path: patchDir },
  };
}

/** The values of the build-time dependency arguments image's stages read. */
function buildTimeArgs(plan: Plan, image: ImagePlan, values: DependencyValues | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of stapelBuildTimeArgs(plan, image)) {
    const v = values?.stapel.get(a.arg);
    if (v === undefined) throw new Error(`internal: no value for build argument ${a.arg} of image ${image.name}`);
    out[a.arg] = v;
  }
  return out;
}

/** The partial plan: per image with something to build, a chain from its last stored stage. */
export function buildFiles(plan: Plan, chains: ImageChain[], opts: RenderBuildOptions): BuildFiles {
  const images: ImagePlan[] = [];
  const rendered = new Set<string>();
  const pending: { image: ImagePlan; stage: StagePlan }[] = [];
  for (const chain of chains) {
    const first = chain.stages.findIndex((c) => !c.stored);
    if (first < 0) continue;
    const stages: StagePlan[] = [];
    if (first > 0) {
      const last = chain.stages[first - 1];
      stages.push({
        ...last.stage,
        name: "from",
        labels: {},
        body: { kind: "from", base: { kind: "external", ref: `${opts.pullRepo ?? opts.repo}:${last.stored!.tag}` } },
      });
    }
    for (const c of chain.stages.slice(first)) {
      if (c.stored) throw new Error(`internal: stored stage ${c.stage.target} after a built one`);
      stages.push(...expand(c, opts));
      pending.push({ image: chain.image, stage: c.stage });
    }
    for (const s of stages) rendered.add(s.target);
    images.push({ ...chain.image, stages });
  }
  // images with nothing to build stay in the plan without stages (the printer looks up their slugs)
  const withStages = new Set(images.map((i) => i.name));
  const all = plan.images.map((i) => (withStages.has(i.name) ? images.find((x) => x.name === i.name)! : { ...i, stages: [] }));
  // references to other images' stages that are not built here become their stored tags
  const dfBuilt = opts.dockerfileImages ?? [];
  const ref = (target: string, digest: string, what: string): string | undefined => {
    if (rendered.has(target)) return undefined;
    // a Dockerfile image built in this bake: the printer's named context `target:<its target>` (imageContexts)
    if (dfBuilt.some((d) => d.target === target && d.digest === digest)) return undefined;
    const tag = opts.storedTags.get(digest);
    if (!tag) throw new UserError({ message: `internal: ${what} (${target}) is neither stored nor built`, hint: "run the build again; if it persists, report it" });
    return `${opts.pullRepo ?? opts.repo}:${tag}`;
  };
  for (const image of images) {
    image.stages = image.stages.map((s) => ({ ...s, body: fixRefs(s.body, ref) }));
  }
  const partial: Plan = { ...plan, images: all, dockerfileImages: dfBuilt };
  // the contexts of the rewritten stages (stored references need none; patch stages read the patch folder)
  listStageContexts(partial);
  const model = lowerPlan(partial, { importFilterScript, ...(opts.ssh?.length ? { ssh: opts.ssh.map((a) => a.id) } : {}) });

  const targets = new Map<string, string>();
  const bakeTargets: Record<string, BakeTarget> = {};
  for (const { image, stage } of pending) {
    if (targets.has(stage.digest)) continue;
    const dirs = opts.targetDirs(stage.target);
    const contexts = targetContexts(model, stage.target);
    for (const [k, v] of Object.entries(contexts)) {
      if (k === PATCH_CONTEXT) contexts[k] = dirs.patches;
      else if (!v.includes("://") && !v.startsWith("target:")) contexts[k] = path.resolve(plan.dir, v);
    }
    bakeTargets[stage.target] = {
      context: dirs.context,
      dockerfile: dirs.dockerfile,
      target: stage.target,
      contexts,
      args: { ...(usesRepoArg(plan, image) ? { [REPO_ARG]: opts.repo } : {}), ...buildTimeArgs(plan, image, opts.dependencyValues) },
      secret: [
        ...(opts.commitEnv ? [`id=${COMMIT_SECRET},src=${opts.commitEnv}`] : []),
        ...secretEntries(targetSecrets(plan, image), opts.secretDir ?? "secrets", (src) => path.resolve(plan.dir, src)),
      ],
      ssh: opts.ssh?.length ? bakeSsh(opts.ssh) : [],
      tags: [`${opts.repo}:${opts.newTags.get(stage.digest)!}`],
      platforms: [...image.platform],
    };
    targets.set(stage.digest, stage.target);
  }
  const internal = new Set<string>();
  for (const df of dfBuilt) {
    if (bakeTargets[df.target]) throw new Error(`internal: bake target ${df.target} is used twice`);
    const context = contextsFromCommit(plan) && opts.contextsDir ? path.join(opts.contextsDir, dockerfileContextFolder(df)) : path.resolve(plan.dir, df.context || ".");
    const specDir = opts.contextsDir ? path.join(opts.contextsDir, imageSpecFolder(df)) : imageSpecFolder(df);
    Object.assign(
      bakeTargets,
      dockerfileImageTargets(plan, df, context, specDir, [`${opts.repo}:${opts.newTags.get(df.digest)!}`], opts.repo, {
        args: Object.fromEntries(opts.dependencyValues?.dockerfile.get(df.target) ?? []),
        secrets: secretEntries(df.secrets ?? [], opts.secretDir ?? "secrets", (src) => path.resolve(plan.dir, src)),
        ssh: dockerfileSsh(df.image.ssh, opts.ssh ?? [], plan.dir),
      }),
    );
    if (df.buildTarget) internal.add(df.buildTarget);
    targets.set(df.digest, df.target);
  }
  const names = Object.keys(bakeTargets).sort();
  const sortedTargets = Object.fromEntries(names.map((n) => [n, bakeTargets[n]]));
  // a Dockerfile build under an imageSpec stage is built as that stage's named context, never pushed by itself
  return { plan: partial, model, bake: bakeFile(sortedTargets, names.filter((n) => !internal.has(n))), targets };
}

/**
 * A Dockerfile image's bake `ssh` entries at build time. werf passes the image's `ssh` as docker build's --ssh, and
 * without one forwards the build's own agent (`--ssh default` when it has one): here the `--ssh`/`--ssh-key`
 * agents. An id the operator forwards with `--ssh` takes the operator's socket; key or socket paths written in
 * werf.yaml are project-relative (checkHostPaths keeps them inside the project).
 */
export function dockerfileSsh(spec: string | undefined, agents: readonly SshAgentSpec[], dir: string): string[] {
  if (spec === undefined) return bakeSsh(agents);
  const eq = spec.indexOf("=");
  const id = eq < 0 ? spec : spec.slice(0, eq);
  const given = agents.find((a) => a.id === id);
  if (given) return bakeSsh([given]);
  if (eq < 0) return [id]; // buildx forwards its own $SSH_AUTH_SOCK (and says so when there is none)
  const paths = spec.slice(eq + 1).split(",").filter(Boolean).map((p) => path.resolve(dir, p));
  return [`${id}=${paths.join(",")}`];
}

function expand(c: ChainStage, opts: RenderBuildOptions): StagePlan[] {
  const s = c.stage;
  if (s.name === "gitCache" || s.name === "gitLatestPatch") {
    return [{ ...s, body: patchBody(s, c.patches, opts.patchFiles, opts.patchDir) }];
  }
  if (c.patches.length === 0) return [s];
  const helper: StagePlan = {
    ...s,
    target: patchHelperTarget(s.target),
    labels: {},
    body: patchBody(s, c.patches, opts.patchFiles, opts.patchDir),
  };
  return [helper, s];
}

function fixRefs(body: StageBody, ref: (target: string, digest: string, what: string) => string | undefined): StageBody {
  if (body.kind === "from" && body.base.kind === "image") {
    const r = ref(body.base.target, body.base.digest, `base image ${body.base.image}`);
    return r ? { kind: "from", base: { kind: "external", ref: r } } : body;
  }
  if (body.kind === "dependencies") {
    return {
      ...body,
      imports: body.imports.map((i) => {
        if (i.source.kind !== "image") return i;
        const r = ref(i.source.target, i.source.digest, `import source ${i.source.image}`);
        return r ? { ...i, source: { kind: "external", ref: r } } : i;
      }),
    };
  }
  return body;
}
