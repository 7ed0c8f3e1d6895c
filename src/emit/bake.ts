// compile's bake file: one target per final image (its last stage), Dockerfile images as their own targets, with
// the named contexts the target's stages list, the commit secret and the final tags. Written by src/bake/write.ts.
//
// buildx 0.13 resolves a local bake file's `context`, named-context paths and secret `src` against the WORKING
// DIRECTORY (not the bake file's folder), and `dockerfile` against the target's `context` (checked on the engine:
// test/emit/engine.test.ts). So every path here is relative to the project directory, and build.sh changes there
// first.

import path from "node:path";
import type { BakeFile, BakeTarget } from "../bake/model.js";
import { bakeFile, targetContexts } from "../bake/write.js";
import type { Dockerfile } from "../dockerfile/model.js";
import type { DockerfileImagePlan, ImagePlan, Plan } from "../plan/model.js";
import { finalTags, repoOf } from "../plan/names.js";
import { COMMIT_SECRET, REPO_ARG } from "./lower.js";
import { dependencySources, dockerfileDependencyArgs, stapelBuildTimeArgs, usesRepoArg } from "./dependencies.js";
import { secretEntries, targetSecrets } from "./secrets.js";
import { contextsFromCommit, dockerfileContextFolder } from "./dockerfile-context.js";
import { dockerfileImageTargets, imageSpecFolder } from "./dockerfile-image-spec.js";
import { STAGE_MS_VAR, platformStageTargets, stageTagOf, type PlannedPlatforms } from "./platforms.js";

export type { BakeFile, BakeTarget } from "../bake/model.js";

export interface EmitOptions {
  out: string;
  repo?: string;
  tags?: string[];
  /** The images of several platforms planned per platform (compile: src/emit/platforms.ts); none: one digest per
   *  stage, as the plan has them. */
  platforms?: PlannedPlatforms;
  /** compile without --repo: the toolchain is this local image (build.sh checks it is there). */
  localToolchain?: string;
}

/** OUT relative to the project directory, POSIX ("." never: OUT is a folder of its own). */
export function outRelative(plan: Plan, out: string): string {
  const rel = path.relative(plan.dir, path.resolve(plan.dir, out)).split(path.sep).join("/");
  return rel === "" ? "." : rel;
}

/**
 * The bake target of a Dockerfile image of werf.yaml (as werf builds it: its context, Dockerfile, target, args,
 * the build arguments of its `dependencies` and its secrets). `extra.args` are set on top (dependency values
 * known once their images are built), `extra.secrets` are its secret entries.
 */
export function dockerfileImageTarget(
  plan: Plan,
  df: DockerfileImagePlan,
  context: string,
  tags: string[],
  repo: string,
  extra: { args?: Record<string, string>; secrets?: string[]; ssh?: string[] } = {},
): BakeTarget {
  const hosts = addHosts(df.image.addHost);
  return {
    context,
    // werf joins `context` and `dockerfile`; bake reads `dockerfile` relative to the target's context too
    dockerfile: df.dockerfile,
    ...(df.image.target ? { target: df.image.target } : {}),
    args: { ...df.image.args, ...dockerfileDependencyArgs(plan, df, repo).args, ...extra.args },
    secret: extra.secrets ?? [],
    // werf passes `ssh` as docker build's --ssh (compile: as written, its paths relative to the project
    // directory where build.sh runs bake; build: src/builder/render.ts resolves them)
    ssh: extra.ssh ?? (df.image.ssh !== undefined ? [df.image.ssh] : []),
    ...(df.image.network ? { network: df.image.network } : {}),
    // werf's addHost (docker build --add-host host:ip)
    ...(Object.keys(hosts).length ? { "extra-hosts": hosts } : {}),
    tags,
    platforms: [...df.platform],
  };
}

/** werf's `addHost` entries (`host:ip`, as docker's --add-host; `host=ip` too) as bake's extra-hosts map. Malformed
 *  entries are left out here: planning reports them (addHostProblems). */
export function addHosts(entries: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const m = /^([^:=\s]+)[:=](\S+)$/.exec(e);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/**
 * The bake target of a Stapel stage: `target` built from the project's Dockerfile in `<out>/context`, with the
 * named contexts that stage lists, the commit secret, the image's secrets and the repository argument when its
 * imports need it. `args` are set on top (renderBake: the build-time dependency values build.sh sets).
 */
export function stapelStageTarget(
  plan: Plan,
  image: ImagePlan,
  target: string,
  spec: { dockerfile: Dockerfile; repo: string; out: string; tags: string[]; platforms: readonly string[]; args?: Record<string, string> },
): BakeTarget {
  const { out, repo } = spec;
  return {
    context: `${out}/context`,
    dockerfile: "../Dockerfile",
    target,
    contexts: targetContexts(spec.dockerfile, target),
    args: { ...(usesRepoArg(plan, image) ? { [REPO_ARG]: repo } : {}), ...spec.args },
    secret: [...(plan.commit ? [`id=${COMMIT_SECRET},src=${out}/commit.env`] : []), ...secretEntries(targetSecrets(plan, image), `${out}/secrets`)],
    tags: spec.tags,
    platforms: [...spec.platforms],
  };
}

export function renderBake(plan: Plan, opts: EmitOptions, dockerfile: Dockerfile): BakeFile {
  const repo = repoOf(plan.project, opts.repo);
  const tags = opts.tags ?? [];
  const out = outRelative(plan, opts.out);
  const target: Record<string, BakeTarget> = {};
  const defaults: string[] = [];
  // images some dependency names get a target and their tags even when not final (ImageName points at them)
  const sources = dependencySources(plan);
  for (const image of plan.images) {
    if ((!image.final || image.kind !== "image") && !sources.has(image.name)) continue;
    const last = image.stages[image.stages.length - 1];
    // build-time dependency values are set by build.sh once their images are built
    const later = Object.fromEntries(stapelBuildTimeArgs(plan, image).map((a) => [a.arg, ""]));
    target[image.slug] = stapelStageTarget(plan, image, last.target, {
      dockerfile,
      repo,
      out,
      // an image of several platforms: named over its platforms' digests (an index, as build writes it)
      tags: finalTags(repo, image.slug, image.perPlatform?.digest ?? image.digest, tags),
      platforms: image.platform,
      args: later,
    });
    defaults.push(image.slug);
  }
  for (const df of plan.dockerfileImages) {
    if (target[df.target]) throw new Error(`bake target ${df.target} is used twice`);
    const tagged = df.image.final || sources.has(df.image.name);
    const secrets = secretEntries(df.secrets ?? [], `${out}/secrets`);
    // the context as werf gives it: the commit's files (written under OUT), else the folder as it is
    const context = contextsFromCommit(plan) ? `${out}/${dockerfileContextFolder(df)}` : df.context || ".";
    // (in a project with images of several platforms, every stage is pushed under its stage tag too: one of a
    // platform or none is this target's image)
    const stored = opts.platforms?.length && !df.perPlatform ? [stageTagOf(repo, df.digest)] : [];
    const dfTags = [...(tagged ? finalTags(repo, df.target, df.perPlatform?.digest ?? df.digest, tags) : []), ...stored];
    Object.assign(target, dockerfileImageTargets(plan, df, context, `${out}/${imageSpecFolder(df)}`, dfTags, repo, { secrets }));
    if (tagged || stored.length) defaults.push(df.target);
  }
  if (!opts.platforms?.length) return bakeFile(target, defaults);
  // every stage of every platform, pushed under its stage tag (src/emit/platforms.ts)
  const stages = platformStageTargets(plan, opts.platforms, dockerfile, repo, out);
  for (const n of Object.keys(stages)) if (target[n]) throw new Error(`bake target ${n} is used twice`);
  // a tag is pushed by one target only: stages of equal digests (the from stage of two images, an image's amd64
  // stages and those without platform) would push the same `<digest>-<ms>` at once, which the registry may refuse
  const pushed = new Set(Object.values(target).flatMap((t) => t.tags));
  for (const [n, t] of Object.entries(stages)) {
    const tags = t.tags.filter((x) => !pushed.has(x));
    for (const x of tags) pushed.add(x);
    if (tags.length) stages[n] = { ...t, tags };
    else delete stages[n];
  }
  return bakeFile({ ...target, ...stages }, [...defaults, ...Object.keys(stages)], { [STAGE_MS_VAR]: "" });
}
