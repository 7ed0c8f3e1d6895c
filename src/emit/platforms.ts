// compile of images of several platforms, as `build` builds them (src/plan/platforms.ts, werf's way): each platform
// has its own stage digests, so its stages are build stages of their own, lowered from that platform's plan (the
// plan `build` bakes for it) and named `<image>--<stage>--<os>-<arch>[-<variant>]`; the image's last stage
// `<image>--<stage>` is then a FROM-only stage that picks the stage of the platform being built (BuildKit's
// TARGETOS/TARGETARCH/TARGETVARIANT), so the final target, built for every platform at once, pushes an index whose
// images carry each platform's own digests. Every stage of every platform also gets a bake target of its own that
// pushes it as `<repo>:<digest>-${STAPEL_STAGE_MS}`: the stage tags `build` looks up (build.sh sets the variable to
// the time in Unix milliseconds, as build names its tags), so a `build` after build.sh --push builds nothing.
// A project without images of several platforms compiles as it always did (none of this is written).

import { bakeVariable, type BakeTarget } from "../bake/model.js";
import { platformStageName } from "../bake/write.js";
import type { Dockerfile, Instruction, Stage } from "../dockerfile/model.js";
import type { Plan, PlanOptions } from "../plan/model.js";
import { attachPerPlatform, planPerPlatform, platformGroups, replanOthers, type PlatformGroup, type PlatformVariant } from "../plan/platforms.js";
import { UserError } from "../diagnostics.js";
import { importHelperName, importNeedsHelper } from "./lower.js";
import { dependencySources, isBuildTimeValue } from "./dependencies.js";
import type { Diagnostic } from "../diagnostics.js";
import { finalTags } from "../plan/names.js";
import { secretEntries } from "./secrets.js";
import { contextsFromCommit, dockerfileContextFolder } from "./dockerfile-context.js";
import { dockerfileImageTargets, imageSpecFolder } from "./dockerfile-image-spec.js";
import { stapelStageTarget } from "./bake.js";

export { platformStageName } from "../bake/write.js";

/** Each group of images of several platforms with its per-platform plans (planPerPlatform). */
export type PlannedPlatforms = { group: PlatformGroup; variants: PlatformVariant[] }[];

/**
 * compile's plan: the project's plan and, when images have several platforms, each of them planned per platform
 * (attached to the plan) and the other images planned as `build` builds them: what emitProject's `platforms` option
 * takes. What compile cannot write for them is a located error (platformProblems).
 */
export async function planForCompile(opts: PlanOptions, planProject: (o: PlanOptions) => Promise<Plan>): Promise<{ plan: Plan; platforms: PlannedPlatforms }> {
  const plan = await planProject(opts);
  if (platformGroups(plan).length === 0) return { plan, platforms: [] };
  const platforms = await planPerPlatform(opts, plan, planProject);
  const problems = platformProblems(platforms);
  if (problems.length) throw new UserError(problems);
  attachPerPlatform(plan, platforms);
  await replanOthers(opts, plan, platforms, planProject);
  return { plan, platforms };
}

/** The bake variable the stage tags of compile's per-platform targets end with (Unix milliseconds). */
export const STAGE_MS_VAR = "STAPEL_STAGE_MS";

const nameOf = (n: string) => (n === "" ? "~" : n);

function renamed(df: Dockerfile, rename: (n: string) => string | undefined): Stage[] {
  const r = (n: string) => rename(n) ?? n;
  return df.stages.map((s) => ({
    ...s,
    name: r(s.name),
    base: s.base.kind === "stage" ? { kind: "stage", name: r(s.base.name) } : s.base,
    instructions: s.instructions.map((i): Instruction => {
      if (i.kind === "copy" && i.from !== undefined) return { ...i, from: r(i.from) };
      if (i.kind === "run") return { ...i, mounts: i.mounts.map((m) => (m.type === "bind" && m.from !== undefined ? { ...m, from: r(m.from) } : m)) };
      return i;
    }),
  }));
}

/**
 * The Dockerfile of a plan with images of several platforms: `model` (the plan lowered as it is) with each such
 * image's stages replaced by every platform's (lowered from its plan by `lower`, renamed per platform) and a stage
 * picking the platform's last stage under the image's last stage name (what the other images are built on).
 */
export function lowerPlatforms(plan: Plan, model: Dockerfile, planned: PlannedPlatforms, lower: (p: Plan) => Dockerfile): Dockerfile {
  let stages = [...model.stages];
  const files = new Map((model.files ?? []).map((f) => [f.path, f.content]));
  for (const { group, variants } of planned) {
    const images = plan.images.filter((i) => group.images.includes(nameOf(i.name)));
    if (images.length === 0) continue; // Dockerfile images only: their targets are in the bake file
    // the build stages of these images: their stages and their imports' filtering helpers
    const own = new Set(
      images.flatMap((i) =>
        i.stages.flatMap((s) => [s.target, ...(s.body.kind === "dependencies" ? s.body.imports.flatMap((imp, n) => (importNeedsHelper(imp) ? [importHelperName(s, n)] : [])) : [])]),
      ),
    );
    const block: Stage[] = [];
    for (const v of variants) {
      const vm = lower(v.plan);
      for (const f of vm.files ?? []) files.set(f.path, f.content);
      const names = new Set(vm.stages.map((s) => s.name));
      const vs = renamed(vm, (n) => (names.has(n) ? platformStageName(n, v.platform) : undefined));
      if (vs.length) {
        vs[0] = {
          ...vs[0],
          before: [
            { kind: "blank" },
            { kind: "rule" },
            { kind: "comment", text: `platform ${v.platform}: ${group.images.join(", ")} and what they need, with this platform's digests (the stages build bakes for it)` },
            { kind: "rule" },
            ...vs[0].before,
          ],
        };
      }
      block.push(...vs);
    }
    for (const image of images) {
      const last = image.stages[image.stages.length - 1].target;
      block.push({
        name: last,
        base: { kind: "platform", prefix: last, platforms: [...group.platforms] },
        before: [
          { kind: "blank" },
          {
            kind: "comment",
            text: `${nameOf(image.name)}: the last stage of the platform being built (${group.platforms.join(", ")}); final image ${image.perPlatform?.digest ?? image.digest}`,
          },
        ],
        instructions: [],
        pos: image.pos,
      });
    }
    const at = stages.findIndex((s) => own.has(s.name));
    const kept = stages.filter((s) => !own.has(s.name));
    const before = stages.slice(0, at).filter((s) => !own.has(s.name)).length;
    stages = [...kept.slice(0, before), ...block, ...kept.slice(before)];
  }
  return {
    header: [...model.header, "Images of several platforms: a build stage `<image>--<stage>--<os>-<arch>` per platform (its own digest), picked by `<image>--<stage>`."],
    stages,
    ...(files.size ? { files: [...files].sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, content]) => ({ path, content })) } : {}),
  };
}

/**
 * What compile cannot write for the images of several platforms: a dependency's ImageID or ImageDigest (each
 * platform's value is known once that platform's dependency is built, and the image's final target builds every
 * platform at once, with one value per argument). `build` passes them; ImageName, ImageTag and ImageRepo are known.
 */
export function platformProblems(planned: PlannedPlatforms): Diagnostic[] {
  const out = new Map<string, Diagnostic>();
  for (const { variants } of planned) {
    for (const v of variants) {
      const deps = [
        ...v.plan.images.flatMap((i) => i.stages.flatMap((s) => (s.body.kind === "dependencies" ? s.body.dependencies.map((d) => ({ d, image: nameOf(i.name), values: d.imports.filter((x) => x.targetEnv && isBuildTimeValue(x.type)) })) : []))),
        ...v.plan.dockerfileImages.flatMap((df) => df.image.dependencies.map((d) => ({ d, image: df.image.name, values: d.imports.filter((x) => x.targetBuildArg && isBuildTimeValue(x.type)) }))),
      ];
      for (const { d, image, values } of deps) {
        if (values.length === 0) continue;
        const key = `${d.pos.file}:${d.pos.line}:${d.pos.col}`;
        out.set(key, {
          pos: d.pos,
          message: `image ${image} is built for several platforms (${variants.map((x) => x.platform).join(", ")}) and uses ${[...new Set(values.map((x) => x.type))].join(" and ")} of image ${d.image}: compile cannot pass each platform's value`,
          hint: "build it with `stapel2docker build` (which passes each platform's value), or compile it for one platform (--platform)",
        });
      }
    }
  }
  return [...out.values()];
}

/** The bake target of each stage of the other images (one platform or none), pushed as its stage tag. */
function otherStageTargets(plan: Plan, multi: ReadonlySet<string>, dockerfile: Dockerfile, repo: string, out: string): Record<string, BakeTarget> {
  const target: Record<string, BakeTarget> = {};
  for (const image of plan.images) {
    if (multi.has(nameOf(image.name))) continue;
    for (const s of image.stages) {
      target[s.target] = stapelStageTarget(plan, image, s.target, { dockerfile, repo, out, tags: [stageTagOf(repo, s.digest)], platforms: image.platform });
    }
  }
  return target;
}

/** `<repo>:<digest>-${STAPEL_STAGE_MS}`. */
export function stageTagOf(repo: string, digest: string): string {
  return `${repo}:${digest}-${bakeVariable(STAGE_MS_VAR)}`;
}

/** The bake targets that push every stage under its stage tag `<repo>:<digest>-${STAPEL_STAGE_MS}`: one per stage of
 *  every platform's plan (its Stapel stages and Dockerfile images, built for that platform alone), and one per
 *  stage of the project's other Stapel images (their Dockerfile images' targets get the tag: renderBake). */
export function platformStageTargets(plan: Plan, planned: PlannedPlatforms, dockerfile: Dockerfile, repo: string, out: string): Record<string, BakeTarget> {
  const multi = new Set(planned.flatMap((g) => g.group.images));
  const target: Record<string, BakeTarget> = otherStageTargets(plan, multi, dockerfile, repo, out);
  const stageTag = (digest: string) => stageTagOf(repo, digest);
  for (const { variants } of planned) {
    for (const v of variants) {
      const p = v.plan;
      // (an image a dependency names: its last stage is also `<image>-<digest>` with this platform's digest, the
      // ImageName this platform's dependents get, as build writes it)
      const named = dependencySources(p);
      for (const image of p.images) {
        const last = image.stages[image.stages.length - 1];
        for (const s of image.stages) {
          const tags = [stageTag(s.digest), ...(s === last && named.has(image.name) ? finalTags(repo, image.slug, image.digest, []) : [])];
          target[platformStageName(s.target, v.platform)] = stapelStageTarget(p, image, platformStageName(s.target, v.platform), { dockerfile, repo, out, tags, platforms: [v.platform] });
        }
      }
      for (const df of p.dockerfileImages) {
        const context = contextsFromCommit(p) ? `${out}/${dockerfileContextFolder(df)}` : df.context || ".";
        const tags = [stageTag(df.digest), ...(named.has(df.image.name) ? finalTags(repo, df.target, df.digest, []) : [])];
        const ts = dockerfileImageTargets(p, df, context, `${out}/${imageSpecFolder(df)}`, tags, repo, { secrets: secretEntries(df.secrets ?? [], `${out}/secrets`) });
        const names = new Set(Object.keys(ts));
        for (const [n, t] of Object.entries(ts)) {
          const contexts = t.contexts && Object.fromEntries(Object.entries(t.contexts).map(([k, c]) => [k, c.startsWith("target:") && names.has(c.slice(7)) ? `target:${platformStageName(c.slice(7), v.platform)}` : c]));
          target[platformStageName(n, v.platform)] = { ...t, ...(contexts ? { contexts } : {}), platforms: [v.platform] };
        }
      }
    }
  }
  return target;
}
