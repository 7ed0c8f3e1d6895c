// The cleanup plan, as a pure function of what was read (tags, their manifests, the records, git references and
// history, the time): every tag of the repository with keep or delete and why, and the manifests to delete.
//
//   - A record (meta- tag) is kept when a selected reference keeps its image through its commit (policy), or when
//     its image's last stage was built within keepImagesBuiltWithinLastNHours.
//   - A stage tag (`<digest>-<ms>`) is kept when a kept record lists it (the image's whole chain: its stages, git
//     patch stages, and the stages of the images it is built from, imports from or depends on), or when it was
//     built within the time limit.
//   - A final tag (`<image>-<digest>`, or a tag a record lists) is kept when a kept record lists it, or when a
//     stage of its digest was built within the time limit.
//   - Any other tag (another tool's, another project's record, a `-rejected` twin...) is never deleted.
//   - The registry deletes manifests, not tags: a manifest is deleted only when every tag on it is to be deleted;
//     otherwise those tags are kept, "sharing the manifest of" the kept tag.

import { parseStageTag } from "../plan/names.js";
import type { CleanupConfig, CommitNode, GitRef } from "./policy.js";
import { describePolicy, imagesKeptByReference, selectReferences, type SelectedRef } from "./policy.js";
import { isRecordTag, type StoredRecord } from "./records.js";

export type TagKind = "stage" | "final" | "record" | "other";

export interface TagDecision {
  tag: string;
  kind: TagKind;
  action: "keep" | "delete";
  reason: string;
  /** Its manifest's digest (when known). */
  digest?: string;
}

export interface ManifestFacts {
  /** Bytes of the manifest itself. */
  size: number;
  /** Blobs it references (config and layers, those of an index's images too): digest → size. */
  blobs: Record<string, number>;
}

export interface CleanupInput {
  repo: string;
  project: string;
  nowMs: number;
  config: CleanupConfig;
  tags: readonly string[];
  /** Parsed records of the repository (tags that are not records, or unreadable ones, are absent). */
  records: readonly StoredRecord[];
  refs: readonly GitRef[];
  commits: ReadonlyMap<string, CommitNode>;
  /** tag → manifest digest (tags missing here are kept: their manifest is unknown). */
  digests: ReadonlyMap<string, string>;
  /** digest → sizes. */
  manifests: ReadonlyMap<string, ManifestFacts>;
  /** Stage tag → the project its image config names (io.stapel2docker.project), for the tags to delete. */
  stageProjects?: ReadonlyMap<string, string | undefined>;
}

export interface ReferenceReport {
  ref: string;
  kind: "branch" | "tag";
  commit: string;
  policies: string[];
  /** image name → kept final stages. */
  images: Record<string, string[]>;
}

export interface CleanupPlan {
  repo: string;
  project: string;
  policies: string[];
  defaults: boolean;
  keepHours?: number;
  references: ReferenceReport[];
  tags: TagDecision[];
  /** Manifests to delete, with every tag on them. */
  delete: { digest: string; tags: string[] }[];
  totals: { tags: number; deleteTags: number; keepTags: number; manifests: number; bytes: number };
}

const FINAL_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]*-([0-9a-f]{56})$/;

export function makeCleanupPlan(input: CleanupInput): CleanupPlan {
  const { config, nowMs } = input;
  const limitMs = config.keepHours === undefined ? undefined : nowMs - config.keepHours * 3600_000;
  const young = (ms: number) => limitMs !== undefined && ms >= limitMs;
  const within = `built within the last ${config.keepHours} hour(s) (keepImagesBuiltWithinLastNHours)`;

  const ours = input.records.filter((r) => r.project === input.project);
  const recordByTag = new Map(input.records.map((r) => [r.tag, r]));

  // ---- git history: which records the selected references keep
  const keptRecords = new Map<string, string>(); // record tag → reason
  const references: ReferenceReport[] = [];
  const selected: SelectedRef[] = config.gitHistory ? selectReferences(input.refs, config.keepPolicies, nowMs) : [];
  const byImage = new Map<string, StoredRecord[]>();
  for (const r of ours) byImage.set(r.image, [...(byImage.get(r.image) ?? []), r]);
  for (const sel of selected) {
    const rep: ReferenceReport = { ref: sel.ref.name, kind: sel.ref.kind, commit: sel.ref.commit, policies: sel.policies, images: {} };
    for (const [image, recs] of [...byImage].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const kept = imagesKeptByReference(sel, recs.map((r) => ({ stage: r.finalStage, commit: r.commit })), input.commits, nowMs);
      if (kept.length) rep.images[image] = kept.map((k) => k.stage);
      for (const k of kept) {
        for (const r of recs) {
          if (r.finalStage === k.stage && k.commits.includes(r.commit) && !keptRecords.has(r.tag)) {
            keptRecords.set(r.tag, `image ${image} of commit ${r.commit.slice(0, 12)}, kept by ${sel.ref.kind} ${sel.ref.name} (${sel.policies.join(", ")})`);
          }
        }
      }
    }
    references.push(rep);
  }
  for (const r of ours) {
    if (keptRecords.has(r.tag)) continue;
    const last = parseStageTag(r.finalStage);
    if (last && young(last.ms)) keptRecords.set(r.tag, `image ${r.image} of commit ${r.commit.slice(0, 12)}, ${within}`);
  }

  // ---- what each kept record protects
  const stageReason = new Map<string, string>();
  const finalReason = new Map<string, string>();
  for (const [tag, why] of keptRecords) {
    const r = recordByTag.get(tag)!;
    for (const s of r.stages) if (!stageReason.has(s)) stageReason.set(s, `part of ${why}`);
    for (const t of r.tags) if (!finalReason.has(t)) finalReason.set(t, `final tag of ${why}`);
  }
  const recordFinals = new Set(ours.flatMap((r) => r.tags));
  const youngDigests = new Set<string>();
  for (const t of input.tags) {
    const s = parseStageTag(t);
    if (s && young(s.ms)) youngDigests.add(s.digest);
  }

  // ---- per tag
  const decisions: TagDecision[] = [];
  for (const tag of [...input.tags].sort()) {
    const digest = input.digests.get(tag);
    const d = (kind: TagKind, action: "keep" | "delete", reason: string): TagDecision => ({ tag, kind, action, reason, ...(digest ? { digest } : {}) });
    const stage = parseStageTag(tag);
    let dec: TagDecision;
    if (stage) {
      const project = input.stageProjects?.get(tag);
      if (stageReason.has(tag)) dec = d("stage", "keep", stageReason.get(tag)!);
      else if (young(stage.ms)) dec = d("stage", "keep", within);
      else if (project !== undefined && project !== input.project) dec = d("other", "keep", `a stage of project ${JSON.stringify(project)}, not ${JSON.stringify(input.project)}`);
      else dec = d("stage", "delete", "no kept image needs it");
    } else if (isRecordTag(tag)) {
      const r = recordByTag.get(tag);
      if (!r) dec = d("other", "keep", "a meta- tag that is not a readable stapel2docker record");
      else if (r.project !== input.project) dec = d("other", "keep", `a record of project ${JSON.stringify(r.project)}`);
      else if (keptRecords.has(tag)) dec = d("record", "keep", keptRecords.get(tag)!);
      else dec = d("record", "delete", `image ${r.image} of commit ${r.commit.slice(0, 12)}: no policy keeps it`);
    } else if (FINAL_TAG.test(tag) || recordFinals.has(tag)) {
      const m = FINAL_TAG.exec(tag);
      if (finalReason.has(tag)) dec = d("final", "keep", finalReason.get(tag)!);
      else if (m && youngDigests.has(m[1])) dec = d("final", "keep", `its stage was ${within}`);
      else dec = d("final", "delete", "no kept image has this final tag");
    } else if (/^toolchain-[0-9a-f]{64}$/.test(tag)) {
      // src/toolchain/image.ts: content-addressed, shared by every build of the repo (pushed again when missing)
      dec = d("other", "keep", "the toolchain image the builds mount (content-addressed; a build pushes it again when it is missing)");
    } else {
      dec = d("other", "keep", "not made by stapel2docker build (another tool's tag)");
    }
    if (dec.action === "delete" && !digest) dec = { ...dec, action: "keep", reason: "its manifest could not be read (it vanished or is unreadable): left alone" };
    decisions.push(dec);
  }

  // ---- manifests: deleted only when no kept tag is on them
  const keptOn = new Map<string, string>();
  for (const x of decisions) if (x.action === "keep" && x.digest && !keptOn.has(x.digest)) keptOn.set(x.digest, x.tag);
  for (const [i, x] of decisions.entries()) {
    if (x.action === "delete" && keptOn.has(x.digest!)) {
      decisions[i] = { ...x, action: "keep", reason: `${x.reason}, but it shares its manifest with the kept tag ${keptOn.get(x.digest!)}` };
    }
  }
  const del = new Map<string, string[]>();
  for (const x of decisions) if (x.action === "delete") del.set(x.digest!, [...(del.get(x.digest!) ?? []), x.tag]);
  const deleteList = [...del].map(([digest, tags]) => ({ digest, tags })).sort((a, b) => (a.tags[0] < b.tags[0] ? -1 : 1));

  // ---- bytes: the deleted manifests, and the blobs no kept manifest references
  const keptBlobs = new Set<string>();
  for (const digest of new Set(decisions.filter((x) => x.action === "keep" && x.digest).map((x) => x.digest!))) {
    for (const b of Object.keys(input.manifests.get(digest)?.blobs ?? {})) keptBlobs.add(b);
  }
  const freed = new Map<string, number>();
  let bytes = 0;
  for (const { digest } of deleteList) {
    const m = input.manifests.get(digest);
    if (!m) continue;
    bytes += m.size;
    for (const [b, n] of Object.entries(m.blobs)) if (!keptBlobs.has(b)) freed.set(b, n);
  }
  for (const n of freed.values()) bytes += n;

  const deleteTags = decisions.filter((x) => x.action === "delete").length;
  return {
    repo: input.repo,
    project: input.project,
    policies: config.keepPolicies.map(describePolicy),
    defaults: config.defaults,
    ...(config.keepHours !== undefined ? { keepHours: config.keepHours } : {}),
    references,
    tags: decisions,
    delete: deleteList,
    totals: { tags: decisions.length, deleteTags, keepTags: decisions.length - deleteTags, manifests: deleteList.length, bytes },
  };
}

/** The plan as text: the references kept, each tag kept or deleted and why, totals. */
export function formatCleanupPlan(p: CleanupPlan, opts: { dryRun: boolean }): string {
  const lines: string[] = [];
  lines.push(`repository ${p.repo}, project ${p.project}`);
  lines.push(`keep policies${p.defaults ? " (werf's defaults: werf.yaml has none)" : ""}:`);
  for (const [i, x] of p.policies.entries()) lines.push(`  policy ${i + 1}: ${x}`);
  lines.push(p.keepHours === undefined ? "images built recently: not kept (disableBuiltWithinLastNHoursPolicy)" : `images built within the last ${p.keepHours} hour(s): kept`);
  lines.push(`references kept (${p.references.length}):`);
  for (const r of p.references) {
    const imgs = Object.entries(r.images).map(([i, s]) => `${i}: ${s.length} image(s)`).join(", ");
    lines.push(`  ${r.kind} ${r.ref} ${r.commit.slice(0, 12)} (${r.policies.join(", ")})${imgs ? ` → ${imgs}` : " → no image"}`);
  }
  const verb = opts.dryRun ? "would delete" : "delete";
  for (const t of p.tags.filter((x) => x.action === "keep")) lines.push(`keep   ${t.tag}: ${t.reason}`);
  for (const t of p.tags.filter((x) => x.action === "delete")) lines.push(`${opts.dryRun ? "delete?" : "delete "} ${t.tag}: ${t.reason}`);
  lines.push(
    `${opts.dryRun ? "dry run: " : ""}${verb} ${p.totals.deleteTags} tag(s) in ${p.totals.manifests} manifest(s), ${formatBytes(p.totals.bytes)}; keep ${p.totals.keepTags} tag(s)`,
  );
  return lines.join("\n") + "\n";
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]} (${n} bytes)`;
}
