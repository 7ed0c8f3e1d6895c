// The build plan: what `build` will do against the registry, as plain data made in one place (makeBuildPlan) from
// the resolved chains (src/storage/resolve.ts): per image which stages are reused and from which stored tag, which
// are built, which git patches the built ones apply (with the patch stages' digests, made in
// src/plan/patch-stages.ts), and which final tags are written. `stapel2docker build --print [--json]` prints it
// without building; the build itself writes the final tags it lists.

import type { Plan, StageName } from "../plan/model.js";
import { finalTags } from "../plan/names.js";
import type { ImageChain } from "./resolve.js";
import type { StoredStage } from "./tags.js";

export interface PlannedPatch {
  /** The git mapping's id, `add` and `to`. */
  mapping: string;
  add: string;
  to: string;
  /** The commit the previous stage holds, and HEAD. */
  fromCommit: string;
  toCommit: string;
  /** Bytes written by the patch. */
  size: number;
}

export interface PlannedStage {
  stage: StageName | "dockerfile";
  digest: string;
  /** The Dockerfile build stage (bake target when built). */
  target: string;
  action: "reuse" | "build";
  /** reuse: the stored `<repo>:<digest>-<ms>` taken; build: undefined (pushed as `<digest>-<ms>` at build time). */
  tag?: string;
  /** reuse of a stage the repo lacks: the cache or secondary repo it is copied from first (--cache-repo,
   *  --secondary-repo). */
  copiedFrom?: string;
  /** Git patches applied (before a user stage's commands; the whole content of gitCache/gitLatestPatch). */
  patches: PlannedPatch[];
}

export interface PlannedImage {
  /** "~" for the nameless image. */
  image: string;
  kind: "image" | "artifact" | "dockerfile";
  /** The digest of the image's last stage (its final tags name it). */
  digest: string;
  stages: PlannedStage[];
  /** The final tags written after the build (final images only); an image of several platforms: an index over its
   *  platforms' last stages, listed with its last platform. */
  finalTags: string[];
  /** The platform of these stages, for an image of several platforms (each platform is planned and stored apart). */
  platform?: string;
}

export interface BuildPlan {
  repo: string;
  /** --cache-repo: read first (stages copied from them), the stored stages the builder builds on pulled from the
   *  first, filled with every stage used after the build. */
  cacheRepos?: string[];
  /** --secondary-repo: stages the repo and cache repos lack are copied from them. */
  secondaryRepos?: string[];
  images: PlannedImage[];
  /** Digests of the stages to build, in plan order (empty: nothing is built, buildx is not started). */
  build: string[];
}

/** A Dockerfile image of werf.yaml with its stored tag, if any. */
export interface DockerfileState {
  plan: Plan["dockerfileImages"][number];
  /** The oldest stored tag of its digest. */
  stored?: StoredStage;
}

/** `tagged`: images that get their `<image>-<digest>` tag although not final (dependencies name them); `finalRepo`:
 *  the repository of the final tags (--final-repo; default the stages' repo). */
export function makeBuildPlan(
  repo: string,
  chains: ImageChain[],
  dockerfiles: DockerfileState[],
  addTags: readonly string[],
  tagged: ReadonlySet<string> = new Set(),
  finalRepo: string = repo,
  copiedFrom: ReadonlyMap<string, string> = new Map(),
): BuildPlan {
  const images: PlannedImage[] = [];
  const build: string[] = [];
  const add = (digest: string) => {
    if (!build.includes(digest)) build.push(digest);
  };
  for (const chain of chains) {
    const stages = chain.stages.map((c): PlannedStage => {
      if (!c.stored) add(c.stage.digest);
      return {
        stage: c.stage.name,
        digest: c.stage.digest,
        target: c.stage.target,
        action: c.stored ? "reuse" : "build",
        ...(c.stored ? { tag: `${repo}:${c.stored.tag}` } : {}),
        ...(c.stored && copiedFrom.has(c.stored.tag) ? { copiedFrom: copiedFrom.get(c.stored.tag) } : {}),
        patches: c.patches.map((p) => ({
          mapping: p.source.id,
          add: p.source.mapping.add,
          to: p.source.mapping.to,
          fromCommit: p.from,
          toCommit: p.source.commit,
          size: p.changes.size,
        })),
      };
    });
    const final = (chain.image.final && chain.image.kind === "image") || tagged.has(chain.image.name);
    images.push({
      image: chain.image.name === "" ? "~" : chain.image.name,
      kind: chain.image.kind,
      digest: chain.digest,
      stages,
      finalTags: final ? finalTags(finalRepo, chain.image.slug, chain.digest, addTags) : [],
    });
  }
  for (const d of dockerfiles) {
    if (!d.stored) add(d.plan.digest);
    images.push({
      image: d.plan.image.name,
      kind: "dockerfile",
      digest: d.plan.digest,
      stages: [{
        stage: "dockerfile",
        digest: d.plan.digest,
        target: d.plan.target,
        action: d.stored ? "reuse" : "build",
        ...(d.stored ? { tag: `${repo}:${d.stored.tag}` } : {}),
        ...(d.stored && copiedFrom.has(d.stored.tag) ? { copiedFrom: copiedFrom.get(d.stored.tag) } : {}),
        patches: [],
      }],
      finalTags: d.plan.image.final || tagged.has(d.plan.image.name) ? finalTags(finalRepo, d.plan.target, d.plan.digest, addTags) : [],
    });
  }
  return { repo, images, build };
}

/** The build plan as text: per image, each stage reused (from which tag) or built (with its patches). */
export function formatBuildPlan(p: BuildPlan): string {
  const lines: string[] = [`repository ${p.repo}: ${p.build.length ? `${p.build.length} stage(s) to build` : "nothing to build"}`];
  if (p.cacheRepos?.length) lines.push(`cache repos ${p.cacheRepos.join(", ")}: read first; the builder pulls stored stages from ${p.cacheRepos[0]}; each gets every stage used`);
  if (p.secondaryRepos?.length) lines.push(`secondary repos ${p.secondaryRepos.join(", ")}: read only`);
  for (const i of p.images) {
    lines.push("", `${i.kind} ${i.image}${i.platform ? ` (${i.platform})` : ""} ${i.digest}`);
    for (const s of i.stages) {
      lines.push(`  ${s.stage.padEnd(26)} ${s.action === "reuse" ? `reuse ${s.tag}${s.copiedFrom ? ` (copied from ${s.copiedFrom})` : ""}` : `build ${s.digest}`}`);
      for (const x of s.patches) lines.push(`    git patch ${x.add} → ${x.to}: ${x.fromCommit.slice(0, 12)}..${x.toCommit.slice(0, 12)} (${x.size} bytes)`);
    }
    for (const t of i.finalTags) lines.push(`  tag ${t}`);
  }
  return lines.join("\n") + "\n";
}
