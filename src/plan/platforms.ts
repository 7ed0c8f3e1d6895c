// Target platforms in the digests, as werf (pkg/build/build_phase.go calculateDigest, pkg/build/image/
// multiplatform_image.go; reference §2.2):
//   - a stage is planned per platform: the platform is an input of the `from` stage's digest (so of every stage
//     after it), except linux/amd64, which is left out as werf leaves it out ("for compatibility with currently built
//     stages"): a build with no platform, or `--platform linux/amd64`, has the digests it always had, and an
//     amd64-only build reuses the amd64 stages of an amd64+arm64 build;
//   - an image of several platforms is one single-platform plan per platform (`planPerPlatform`), each stored under
//     its own `<digest>-<ms>` tags; its final tags are an image index over the platforms' last stages, named by
//     `multiPlatformDigest` (werf: Sha3_224 over the platforms' last stage ids; here over their digests, so it is
//     known before anything is built and `plan` can print it).
// compile writes the same per-platform stages and digests (src/emit/platforms.ts). The plan of the whole list (the
// `from` stage hashing every platform) is only what planPerPlatform starts from: no file or tag uses its digests.

import { createHash } from "node:crypto";
import type { Plan, PlanOptions } from "./model.js";

/** What the `from` stage's digest takes from the image's platform list (undefined: nothing, the digest of old). */
export function platformInput(list: readonly string[]): string | string[] | undefined {
  if (list.length === 0) return undefined;
  if (list.length === 1) return list[0] === "linux/amd64" ? undefined : list[0];
  return [...list];
}

/** The name of a multi-platform image: sha3-224 over `platform=digest` of each platform's last stage, in platform order. */
export function multiPlatformDigest(perPlatform: readonly { platform: string; digest: string }[]): string {
  const parts = [...perPlatform].sort((a, b) => (a.platform < b.platform ? -1 : a.platform > b.platform ? 1 : 0)).map((p) => `${p.platform}=${p.digest}`);
  return createHash("sha3-224").update(parts.join(":::"), "utf8").digest("hex");
}

/** Images of the plan that have several platforms, grouped by their platform list (order of first appearance). */
export interface PlatformGroup {
  platforms: string[];
  /** Image names as `--images` takes them ("~" for the nameless image). */
  images: string[];
}

export function platformGroups(plan: Plan): PlatformGroup[] {
  const groups = new Map<string, PlatformGroup>();
  const images = [...plan.images.map((i) => ({ name: i.name, platform: i.platform })), ...plan.dockerfileImages.map((d) => ({ name: d.image.name, platform: d.platform }))];
  for (const image of images) {
    if (image.platform.length < 2) continue;
    const key = image.platform.join(",");
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { platforms: [...image.platform], images: [] }));
    g.images.push(image.name === "" ? "~" : image.name);
  }
  return [...groups.values()];
}

/** One image of several platforms, planned for each platform alone. */
export interface PlatformVariant {
  platform: string;
  /** The single-platform plan of the group's images (and what they need), every image forced to `platform`. */
  plan: Plan;
}

/** Each multi-platform group planned once per platform (`--platform P` over the group's images). */
export async function planPerPlatform(
  opts: PlanOptions,
  plan: Plan,
  planProject: (o: PlanOptions) => Promise<Plan>,
): Promise<{ group: PlatformGroup; variants: PlatformVariant[] }[]> {
  const out: { group: PlatformGroup; variants: PlatformVariant[] }[] = [];
  for (const group of platformGroups(plan)) {
    const variants: PlatformVariant[] = [];
    for (const platform of group.platforms) variants.push({ platform, plan: await planProject({ ...opts, images: group.images, platform: [platform] }) });
    out.push({ group, variants });
  }
  return out;
}

/** Sets `perPlatform` on each multi-platform image of `plan` from its per-platform plans. */
export function attachPerPlatform(plan: Plan, planned: { group: PlatformGroup; variants: PlatformVariant[] }[]): void {
  for (const { variants } of planned) {
    for (const image of plan.images) {
      const platforms = variants.flatMap((v) => {
        const i = v.plan.images.find((x) => x.name === image.name);
        return i ? [{ platform: v.platform, digest: i.digest, stages: i.stages.map((s) => ({ name: s.name, digest: s.digest })) }] : [];
      });
      if (image.platform.length > 1 && platforms.length === variants.length && image.platform.join() === variants.map((v) => v.platform).join()) {
        image.perPlatform = { digest: multiPlatformDigest(platforms), platforms };
      }
    }
    for (const df of plan.dockerfileImages) {
      const platforms = variants.flatMap((v) => {
        const d = v.plan.dockerfileImages.find((x) => x.image.name === df.image.name);
        return d ? [{ platform: v.platform, digest: d.digest }] : [];
      });
      if (df.platform.length > 1 && platforms.length === variants.length && df.platform.join() === variants.map((v) => v.platform).join()) {
        df.perPlatform = { digest: multiPlatformDigest(platforms), platforms };
      }
    }
  }
}

/** The images of a plan with one platform or none (not in `multi`), grouped by platform. */
export function otherGroups(plan: Plan, multi: ReadonlySet<string>): { platform: string[]; images: string[] }[] {
  const groups = new Map<string, { platform: string[]; images: string[] }>();
  const all = [
    ...plan.images.map((x) => ({ name: x.name === "" ? "~" : x.name, platform: x.platform })),
    ...plan.dockerfileImages.map((d) => ({ name: d.image.name, platform: d.platform })),
  ];
  for (const i of all) {
    if (multi.has(i.name)) continue;
    const key = i.platform.join(",");
    if (!groups.has(key)) groups.set(key, { platform: i.platform, images: [] });
    groups.get(key)!.images.push(i.name);
  }
  return [...groups.values()];
}

/** `plan` of a project with images of several platforms: the other images as `build` builds them, each group of one
 *  platform or none planned with what it needs for that platform (an image of several platforms it is built on,
 *  for that platform only), in place of their entries of `plan`. */
export async function replanOthers(opts: PlanOptions, plan: Plan, planned: { group: PlatformGroup }[], planProject: (o: PlanOptions) => Promise<Plan>): Promise<void> {
  const multi = new Set(planned.flatMap((g) => g.group.images));
  if (multi.size === 0) return;
  for (const g of otherGroups(plan, multi)) {
    const gp = await planProject({ ...opts, images: g.images, platform: g.platform, forcePlatform: true });
    const names = new Set(g.images);
    plan.images = plan.images.map((i) => (names.has(i.name === "" ? "~" : i.name) ? (gp.images.find((x) => x.name === i.name) ?? i) : i));
    plan.dockerfileImages = plan.dockerfileImages.map((d) => (names.has(d.image.name) ? (gp.dockerfileImages.find((x) => x.image.name === d.image.name) ?? d) : d));
  }
}
