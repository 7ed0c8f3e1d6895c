// werf's `dependencies` ImageID/ImageDigest in `build`: the values of the dependency's last stage in the
// registry (its config digest and its manifest digest), read once that stage is stored. Images whose values
// others need are built first, in a run of their own (src/builder/index.ts), so that the dependents' bake gets
// them as build arguments (src/emit/dependencies.ts names the arguments).

import type { RegistryClient } from "../registry/client.js";
import type { Plan } from "../plan/model.js";
import { dependencyArg, isBuildTimeValue, targetOf } from "../emit/dependencies.js";
import type { ImageChain } from "../storage/resolve.js";
import type { DockerfileState } from "./index.js";

/** Images of the plan whose ImageID or ImageDigest an image of the plan uses, in plan order. */
export function buildTimeSources(plan: Plan): string[] {
  const names = new Set<string>();
  for (const img of plan.images) {
    for (const s of img.stages) {
      if (s.body.kind !== "dependencies") continue;
      for (const d of s.body.dependencies) if (d.imports.some((i) => i.targetEnv && isBuildTimeValue(i.type))) names.add(d.image);
    }
  }
  for (const df of plan.dockerfileImages) {
    for (const d of df.image.dependencies) if (d.imports.some((i) => i.targetBuildArg && isBuildTimeValue(i.type))) names.add(d.image);
  }
  return [...plan.images.map((i) => i.name), ...plan.dockerfileImages.map((d) => d.image.name)].filter((n) => names.has(n));
}

/** Build-time dependency values: Stapel arguments (shared by every target), and per Dockerfile-image target. */
export interface DependencyValues {
  stapel: Map<string, string>;
  dockerfile: Map<string, Map<string, string>>;
}

/**
 * Every build-time dependency argument of the plan (Stapel `STAPEL_DEP_*` arguments and Dockerfile images'
 * `targetBuildArg`s) → its value, read from the registry. The source images must be stored.
 */
export async function dependencyValues(
  plan: Plan,
  repo: string,
  chains: readonly ImageChain[],
  dockerfiles: readonly DockerfileState[],
  client: RegistryClient,
): Promise<DependencyValues> {
  const refs = new Map<string, string>();
  const refOf = (image: string): string => {
    let ref = refs.get(image);
    if (ref) return ref;
    const chain = chains.find((c) => c.image.name === image);
    const df = dockerfiles.find((d) => d.plan.image.name === image);
    const tag = chain ? chain.stages[chain.stages.length - 1]?.stored?.tag : df?.stored?.tag;
    if (!tag) throw new Error(`internal: dependency image ${image} is not stored before its dependents are built`);
    ref = `${repo}:${tag}`;
    refs.set(image, ref);
    return ref;
  };
  const value = async (image: string, type: "ImageID" | "ImageDigest"): Promise<string> => {
    const ref = refOf(image);
    if (type === "ImageDigest") return (await client.getManifest(ref)).digest;
    return (await client.getImageConfig(ref)).digest;
  };
  const stapel = new Map<string, string>();
  for (const img of plan.images) {
    for (const s of img.stages) {
      if (s.body.kind !== "dependencies") continue;
      for (const d of s.body.dependencies) {
        const target = targetOf(plan, d.image);
        if (!target) continue;
        for (const i of d.imports) {
          if (!i.targetEnv || !isBuildTimeValue(i.type)) continue;
          const arg = dependencyArg(target, i.type);
          if (!stapel.has(arg)) stapel.set(arg, await value(d.image, i.type));
        }
      }
    }
  }
  const dockerfile = new Map<string, Map<string, string>>();
  for (const df of plan.dockerfileImages) {
    const args = new Map<string, string>();
    for (const d of df.image.dependencies) {
      for (const i of d.imports) if (i.targetBuildArg && isBuildTimeValue(i.type)) args.set(i.targetBuildArg, await value(d.image, i.type));
    }
    if (args.size) dockerfile.set(df.target, args);
  }
  return { stapel, dockerfile };
}
