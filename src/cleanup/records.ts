// Build records: which image was built for which commit, and every stage tag it is made of (werf's "meta" records,
// `meta-%s_%s_%s`, reference §2.4). `cleanup` keeps an image by the commits git policies keep; the record tells it
// which stage tags (the image's whole chain, plus the chains of the images it is based on, imports from, or names
// in `dependencies`) and which final tags go with it.
//
// A record is a tag `meta-<sha256(image)[0:12]>-<commit>-<sha256(content)[0:12]>` on a tiny OCI artifact manifest
// (artifactType application/vnd.stapel2docker.build-record.v1, the empty blob `{}` as config and only layer) whose
// annotations hold the record. Its name hashes its content, so a record is
// never rewritten with another content (immutable), and `build` writes it only when the tag list it already read
// lacks it: a no-op build of an already recorded commit sends no request for it.

import { createHash } from "node:crypto";
import type { Plan } from "../plan/model.js";
import { MEDIA_TYPES, type RegistryClient } from "../registry/index.js";
import { LABEL_PREFIX } from "../plan/labels.js";

export const RECORD_PREFIX = "meta-";
const RECORD_TAG = /^meta-([0-9a-f]{12})-([0-9a-f]{40}|[0-9a-f]{64})-([0-9a-f]{12})$/;

/** The OCI empty descriptor's blob (`{}`), the config of every record manifest. */
export const EMPTY_BLOB = Buffer.from("{}");
export const EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json";
/** The OCI artifactType of a record manifest. */
export const RECORD_ARTIFACT_TYPE = "application/vnd.stapel2docker.build-record.v1";
const EMPTY_DIGEST = `sha256:${createHash("sha256").update(EMPTY_BLOB).digest("hex")}`;

export const RECORD_ANNOTATIONS = {
  kind: `${LABEL_PREFIX}record`,
  project: `${LABEL_PREFIX}project`,
  image: `${LABEL_PREFIX}image`,
  commit: `${LABEL_PREFIX}commit`,
  commitTime: `${LABEL_PREFIX}commit-time`,
  finalStage: `${LABEL_PREFIX}final-stage`,
  stages: `${LABEL_PREFIX}stages`,
  tags: `${LABEL_PREFIX}tags`,
} as const;

/** One build record: image `image` was built for `commit`, its last stage is `finalStage`. */
export interface BuildRecord {
  project: string;
  /** werf.yaml image name ("~" for the nameless image). */
  image: string;
  commit: string;
  /** The commit's committer time, Unix seconds. */
  commitTime: number;
  /** The stage tag (`<digest>-<ms>`) of the image's last stage: the image's identity (werf's stage ID). */
  finalStage: string;
  /** Every stage tag the image needs (its chain and those of the images it is built from), sorted. */
  stages: string[];
  /** The final tags written for it (tags only, without the repository), sorted. */
  tags: string[];
}

/** A record as found in the repository: its tag and content. */
export interface StoredRecord extends BuildRecord {
  tag: string;
}

export function isRecordTag(tag: string): boolean {
  return RECORD_TAG.test(tag);
}

function short(s: string): string {
  return createHash("sha256").update(s).digest("hex").slice(0, 12);
}

export function recordAnnotations(r: BuildRecord): Record<string, string> {
  return {
    [RECORD_ANNOTATIONS.kind]: "1",
    [RECORD_ANNOTATIONS.project]: r.project,
    [RECORD_ANNOTATIONS.image]: r.image,
    [RECORD_ANNOTATIONS.commit]: r.commit,
    [RECORD_ANNOTATIONS.commitTime]: String(r.commitTime),
    [RECORD_ANNOTATIONS.finalStage]: r.finalStage,
    [RECORD_ANNOTATIONS.stages]: [...r.stages].sort().join(" "),
    [RECORD_ANNOTATIONS.tags]: [...r.tags].sort().join(" "),
  };
}

/** The record's tag: names the image, the commit and the content. */
export function recordTag(r: BuildRecord): string {
  const content = JSON.stringify(Object.entries(recordAnnotations(r)).sort());
  return `${RECORD_PREFIX}${short(r.image)}-${r.commit}-${short(content)}`;
}

/** The record's manifest bytes (deterministic). */
export function recordManifest(r: BuildRecord): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: RECORD_ARTIFACT_TYPE,
      config: { mediaType: EMPTY_MEDIA_TYPE, digest: EMPTY_DIGEST, size: EMPTY_BLOB.length },
      // OCI 1.1's advice for an artifact without content: the empty descriptor as its one layer
      layers: [{ mediaType: EMPTY_MEDIA_TYPE, digest: EMPTY_DIGEST, size: EMPTY_BLOB.length }],
      annotations: recordAnnotations(r),
    }),
  );
}

/** A record read back from its annotations; undefined when they are not a record's. */
export function parseRecord(tag: string, annotations: Record<string, string> | undefined): StoredRecord | undefined {
  const a = annotations ?? {};
  if (a[RECORD_ANNOTATIONS.kind] !== "1" || !isRecordTag(tag)) return undefined;
  const commit = a[RECORD_ANNOTATIONS.commit] ?? "";
  const time = Number(a[RECORD_ANNOTATIONS.commitTime]);
  const finalStage = a[RECORD_ANNOTATIONS.finalStage] ?? "";
  if (!/^[0-9a-f]{40,64}$/.test(commit) || !Number.isFinite(time) || !finalStage) return undefined;
  const list = (k: string) => (a[k] ?? "").split(" ").filter((x) => x !== "");
  return {
    tag,
    project: a[RECORD_ANNOTATIONS.project] ?? "",
    image: a[RECORD_ANNOTATIONS.image] ?? "",
    commit,
    commitTime: time,
    finalStage,
    stages: list(RECORD_ANNOTATIONS.stages),
    tags: list(RECORD_ANNOTATIONS.tags),
  };
}

/** What a build reports per image: enough to make the records (src/builder/report.ts ImageReport). */
export interface BuiltImage {
  image: string;
  /** Final tags, full references. */
  tags: string[];
  /** Stage tags of the chain, full references, in chain order. */
  stages: { tag: string }[];
}

/**
 * The records of a build: one per image that has final tags and is published (final Stapel images and final
 * Dockerfile images), holding the stage tags of every image it needs. None without a commit.
 */
export function makeRecords(plan: Plan, repo: string, built: readonly BuiltImage[]): BuildRecord[] {
  if (!plan.commit) return [];
  const byName = new Map(built.map((b) => [b.image, b]));
  const tagOf = (ref: string) => (ref.startsWith(`${repo}:`) ? ref.slice(repo.length + 1) : ref);
  const out: BuildRecord[] = [];
  const finals = [
    ...plan.images.filter((i) => i.final && i.kind === "image").map((i) => (i.name === "" ? "~" : i.name)),
    ...plan.dockerfileImages.filter((d) => d.image.final).map((d) => d.image.name),
  ];
  for (const name of finals) {
    const own = byName.get(name);
    if (!own || own.stages.length === 0) continue;
    const stages = new Set<string>();
    const tags = new Set<string>();
    for (const n of neededImages(plan, name)) {
      const b = byName.get(n);
      if (!b) continue;
      for (const s of b.stages) stages.add(tagOf(s.tag));
      for (const t of b.tags) tags.add(tagOf(t));
    }
    out.push({
      project: plan.project,
      image: name,
      commit: plan.commit.hash,
      commitTime: plan.commit.timeUnix,
      finalStage: tagOf(own.stages[own.stages.length - 1].tag),
      stages: [...stages].sort(),
      tags: [...tags].sort(),
    });
  }
  return out;
}

/** The image and every image it needs (built from, imports from, names in `dependencies`), by report name. */
export function neededImages(plan: Plan, name: string): string[] {
  const out = new Set<string>();
  const visit = (n: string) => {
    if (out.has(n)) return;
    out.add(n);
    const img = plan.images.find((i) => (i.name === "" ? "~" : i.name) === n);
    if (!img) return; // a Dockerfile image needs nothing of the plan
    for (const s of img.stages) {
      const b = s.body;
      if (b.kind === "from" && b.base.kind === "image") visit(b.base.image === "" ? "~" : b.base.image);
      if (b.kind !== "dependencies") continue;
      for (const i of b.imports) if (i.source.kind === "image") visit(i.source.image === "" ? "~" : i.source.image);
      for (const d of b.dependencies) visit(d.image);
    }
  };
  visit(name);
  return [...out];
}

/**
 * Writes the records the tag list (read by the build) does not hold yet. A record manifest references the empty
 * blob `{}`: when the registry lacks it, it is uploaded once and the manifest sent again.
 */
export async function writeRecords(client: RegistryClient, repo: string, records: readonly BuildRecord[], listed: ReadonlySet<string>): Promise<string[]> {
  const written: string[] = [];
  for (const r of records) {
    const tag = recordTag(r);
    if (listed.has(tag)) continue;
    const manifest = { mediaType: MEDIA_TYPES.ociManifest, body: recordManifest(r) };
    try {
      await client.putManifest(`${repo}:${tag}`, manifest);
    } catch (e) {
      if (!/lacks a blob|BLOB_UNKNOWN/.test(e instanceof Error ? e.message : "")) throw e;
      await client.pushBlob(repo, EMPTY_BLOB);
      await client.putManifest(`${repo}:${tag}`, manifest);
    }
    written.push(tag);
  }
  return written;
}
