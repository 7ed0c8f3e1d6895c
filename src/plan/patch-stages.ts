// The digests of the stages `build` adds or moves when git files are brought up to HEAD (docs/build.md, step 4):
// gitCache and gitLatestPatch, made next to the other digests, and the stages re-chained on them.
//   gitCache:       inputs {patchSizeStep: floor(accumulated patch size / 1 MiB)} + parent
//   gitLatestPatch: inputs {mappings: [{mapping, checksum}]} (checksum: sha256 over the mapping's archive entries at
//                   HEAD — name, kind, mode, object id), sorted by mapping id, + parent

import { createHash } from "node:crypto";
import { listArchiveTree, planArchive } from "../git/archive.js";
import type { GitRepo } from "../git/repo.js";
import { DIGEST_SCHEME, stageDigest } from "./digest.js";
import { LABELS, stageLabels } from "./labels.js";
import type { GitSource, ImagePlan, StagePlan } from "./model.js";
import { stageTarget } from "./names.js";

/** werf's gitCache threshold: an accumulated patch of at least this many bytes gets a gitCache stage. */
export const MIB = 1024 * 1024;

/** The digest inputs of a gitCache stage holding a patch of `size` bytes. */
export function gitCacheInputs(size: number): Record<string, unknown> {
  return { patchSizeStep: Math.floor(size / MIB) };
}

/** A checksum of a mapping's archive entries at its commit (names, kinds, modes, object ids). */
export async function mappingTreeChecksum(repo: GitRepo, source: GitSource): Promise<string> {
  const entries = await listArchiveTree(repo, source.commit, source.mapping);
  const h = createHash("sha256");
  for (const e of planArchive(entries, source.mapping, { allowEmpty: true }).planned) {
    h.update(e.kind === "dir" ? `${e.name}\0dir\n` : `${e.name}\0${e.kind}\0${e.source.mode}\0${e.source.oid}\n`);
  }
  return h.digest("hex");
}

/** The digest inputs of a gitLatestPatch stage: each mapping's checksum, sorted by mapping id. */
export function gitLatestPatchInputs(checksums: { mapping: string; checksum: string }[]): Record<string, unknown> {
  return { mappings: [...checksums].sort((a, b) => (a.mapping < b.mapping ? -1 : a.mapping > b.mapping ? 1 : 0)) };
}

/** A gitCache or gitLatestPatch stage of `image` on top of `parent`. */
export function patchStage(
  image: ImagePlan,
  name: "gitCache" | "gitLatestPatch",
  inputs: Record<string, unknown>,
  parent: string,
  sources: GitSource[],
  project: string,
): StagePlan {
  const digest = stageDigest(name, inputs, parent);
  const labels = stageLabels(digest, DIGEST_SCHEME, project, image.name, name, sources);
  const pos = sources[0]?.mapping.pos ?? image.pos;
  return {
    name,
    target: stageTarget(image.slug, name),
    digest,
    parent,
    inputs,
    pos,
    labels,
    body: { kind: "gitPatch", stage: name, patches: [] },
  };
}

/** The first stage again with its (changed) inputs and no parent. */
export function rechainFrom(stage: StagePlan): StagePlan {
  const digest = stageDigest(stage.name, stage.inputs, undefined);
  return { ...stage, digest, labels: { ...stage.labels, [LABELS.digest]: digest } };
}

/** A stage on top of another parent. */
export function rechain(stage: StagePlan, parent: string): StagePlan {
  const digest = stageDigest(stage.name, stage.inputs, parent);
  return { ...stage, parent, digest, labels: { ...stage.labels, [LABELS.digest]: digest } };
}
