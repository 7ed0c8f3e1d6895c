// werf's `dependencies` (`imports: [{type, targetEnv | targetBuildArg}]`) as build data. ImageName, ImageTag
// and ImageRepo come from the tags stapel2docker gives the dependency (`<repo>:<slug>-<digest>`), known when
// the Dockerfile is written. ImageID (the config digest) and ImageDigest (the manifest digest) exist only once
// the dependency is built: they reach the dependent image as build arguments, which build.sh sets after
// building the dependency first (the build is split into waves in dependency order).

import type { DockerfileImagePlan, ImagePlan, Plan } from "../plan/model.js";

export type DependencyValueType = "ImageName" | "ImageTag" | "ImageRepo" | "ImageID" | "ImageDigest";

/** A dependency value that exists only after the dependency image is built. */
export function isBuildTimeValue(type: string): type is "ImageID" | "ImageDigest" {
  return type === "ImageID" || type === "ImageDigest";
}

/** A value to set on a bake target once its dependency is built. */
export interface BuildTimeArg {
  /** The build argument of the dependent target. */
  arg: string;
  /** The bake target of the dependency image. */
  source: string;
  type: "ImageID" | "ImageDigest";
}

/** The bake target of a plan image: a Stapel image's slug or a Dockerfile image's target. */
export function targetOf(plan: Plan, image: string): string | undefined {
  return plan.images.find((x) => x.name === image)?.slug ?? plan.dockerfileImages.find((x) => x.image.name === image)?.target;
}

/**
 * The build argument a Stapel stage reads a dependency's ImageID/ImageDigest from: `STAPEL_DEP_<TARGET>_IMAGE_ID`.
 * The target (a slug: [a-z0-9._-]) is upper-cased, `-` becomes `_`, and `_` and `.` become `_5f` and `_2e`: the
 * lower-case escapes cannot come from an upper-cased slug, so two targets never share an argument.
 */
export function dependencyArg(target: string, type: "ImageID" | "ImageDigest"): string {
  const name = [...target]
    .map((c) => (c === "-" ? "_" : c === "_" || c === "." ? `_${c.charCodeAt(0).toString(16)}` : c.toUpperCase()))
    .join("");
  return `STAPEL_DEP_${name}_${type === "ImageID" ? "IMAGE_ID" : "IMAGE_DIGEST"}`;
}

/** Stapel images a target's stages come from: the image, the images it is based on, and the images it imports
 *  from (their stages are in the same Dockerfile build). */
export function chainImages(plan: Plan, image: ImagePlan): ImagePlan[] {
  const out: ImagePlan[] = [];
  const visit = (img: ImagePlan) => {
    if (out.includes(img)) return;
    out.push(img);
    for (const s of img.stages) {
      const b = s.body;
      if (b.kind === "from" && b.base.kind === "image") {
        const base = plan.images.find((x) => x.name === (b.base as { image: string }).image);
        if (base) visit(base);
      }
      if (b.kind === "dependencies") {
        for (const i of b.imports) {
          if (i.source.kind !== "image") continue;
          const src = plan.images.find((x) => x.name === (i.source as { image: string }).image);
          if (src) visit(src);
        }
      }
    }
  };
  visit(image);
  return out;
}

/** Whether the bake target of Stapel image `image` needs the repository argument (STAPEL_REPO): some stage of its
 *  chain sets a dependency's ImageName or ImageRepo in an env (lower.ts declares the ARG only then). */
export function usesRepoArg(plan: Plan, image: ImagePlan): boolean {
  return chainImages(plan, image).some((img) =>
    img.stages.some(
      (s) =>
        s.body.kind === "dependencies" &&
        s.body.dependencies.some((d) => d.imports.some((i) => i.targetEnv && (i.type === "ImageName" || i.type === "ImageRepo"))),
    ),
  );
}

/** The build-time values the bake target of Stapel image `image` needs (its whole chain), sorted by arg. */
export function stapelBuildTimeArgs(plan: Plan, image: ImagePlan): BuildTimeArg[] {
  const args = new Map<string, BuildTimeArg>();
  for (const img of chainImages(plan, image)) {
    for (const s of img.stages) {
      if (s.body.kind !== "dependencies") continue;
      for (const dep of s.body.dependencies) {
        const source = targetOf(plan, dep.image);
        if (source === undefined) continue;
        for (const imp of dep.imports) {
          if (!imp.targetEnv || !isBuildTimeValue(imp.type)) continue;
          const arg = dependencyArg(source, imp.type);
          args.set(arg, { arg, source, type: imp.type });
        }
      }
    }
  }
  return [...args.values()].sort((a, b) => (a.arg < b.arg ? -1 : a.arg > b.arg ? 1 : 0));
}

/** The build arguments of a Dockerfile image's `dependencies` (`targetBuildArg`): values known now, and the
 *  build-time ones. */
export function dockerfileDependencyArgs(
  plan: Plan,
  df: DockerfileImagePlan,
  repo: string,
): { args: Record<string, string>; buildTime: BuildTimeArg[] } {
  const args: Record<string, string> = {};
  const buildTime: BuildTimeArg[] = [];
  for (const dep of df.image.dependencies) {
    const source = targetOf(plan, dep.image);
    const digest = plan.images.find((x) => x.name === dep.image)?.digest ?? plan.dockerfileImages.find((x) => x.image.name === dep.image)?.digest;
    if (source === undefined || digest === undefined) continue;
    for (const imp of dep.imports) {
      if (!imp.targetBuildArg) continue;
      if (isBuildTimeValue(imp.type)) {
        args[imp.targetBuildArg] = "";
        buildTime.push({ arg: imp.targetBuildArg, source, type: imp.type });
      } else args[imp.targetBuildArg] = knownValue(imp.type as Exclude<DependencyValueType, "ImageID" | "ImageDigest">, repo, source, digest);
    }
  }
  return { args, buildTime };
}

/** ImageName, ImageTag or ImageRepo of a dependency whose tag is `<repo>:<target>-<digest>`. */
export function knownValue(type: Exclude<DependencyValueType, "ImageID" | "ImageDigest">, repo: string, target: string, digest: string): string {
  const tag = `${target}-${digest}`;
  return type === "ImageTag" ? tag : type === "ImageRepo" ? repo : `${repo}:${tag}`;
}

/** Images that some dependency names: they get a bake target and tags even when not final. */
export function dependencySources(plan: Plan): Set<string> {
  const names = new Set<string>();
  for (const img of plan.images) for (const s of img.stages) if (s.body.kind === "dependencies") for (const d of s.body.dependencies) names.add(d.image);
  for (const df of plan.dockerfileImages) for (const d of df.image.dependencies) names.add(d.image);
  return names;
}

/**
 * Targets in build order: each wave after the waves holding the targets whose built values it needs; a
 * target that needs nothing is in the first wave. `needs` maps a target to the targets it waits for.
 */
export function buildWaves(targets: readonly string[], needs: ReadonlyMap<string, readonly string[]>): string[][] {
  const level = new Map<string, number>();
  const depth = (t: string, path: string[]): number => {
    const known = level.get(t);
    if (known !== undefined) return known;
    if (path.includes(t)) throw new Error(`internal: dependency cycle ${[...path, t].join(" -> ")}`);
    const l = Math.max(-1, ...(needs.get(t) ?? []).filter((s) => targets.includes(s)).map((s) => depth(s, [...path, t]))) + 1;
    level.set(t, l);
    return l;
  };
  const waves: string[][] = [];
  for (const t of targets) (waves[depth(t, [])] ??= []).push(t);
  return waves.filter((w) => w.length > 0);
}
