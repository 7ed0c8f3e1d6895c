// The build report in werf's format (`werf build --save-build-report`, werf's pkg/build/build_report.go), so CI
// scripts written for werf keep working: JSON (`Images.<name>.DockerImageName`, ...) or an env file
// (`WERF_<NAME>_DOCKER_IMAGE_NAME=...`). Image IDs, manifest digests and sizes are read from the registry (one
// manifest GET per stage; only when a report is asked for); the timings are those of the BuildReport.

import { UserError } from "../diagnostics.js";
import type { RegistryClient } from "../registry/client.js";
import type { BuildReport, StageReport } from "./report.js";

export { reportFormatOf, type ReportFormat } from "../build-options.js";

export interface WerfStageRecord {
  Name: string;
  DockerImageName: string;
  DockerTag: string;
  DockerImageID: string;
  DockerImageDigest: string;
  CreatedAt: number;
  Size: number;
  SourceType: string;
  BaseImagePulled: boolean;
  Rebuilt: boolean;
  BuildTime: string;
  Commit: string;
}

export interface WerfImageRecord {
  WerfImageName: string;
  ConfigType: string;
  DockerRepo: string;
  DockerTag: string;
  DockerImageID: string;
  DockerImageDigest: string;
  DockerImageName: string;
  TargetPlatform: string;
  Rebuilt: boolean;
  Final: boolean;
  Size: number;
  BuildTime: string;
  Commit: string;
  Stages: WerfStageRecord[];
}

export interface WerfReport {
  Runtime: { Backend: string; InContainer: boolean };
  Images: Record<string, WerfImageRecord>;
  ImagesByPlatform: Record<string, Record<string, WerfImageRecord>>;
}

interface ManifestFacts {
  digest: string;
  id: string;
  size: number;
}

const CONCURRENCY = 8;

/** werf's report of a build; reads each stage's manifest from the registry (digest, config digest, size). */
export async function werfReport(r: BuildReport, client: RegistryClient): Promise<WerfReport> {
  const refs = [...new Set(r.images.flatMap((i) => i.stages.map((s) => s.tag)))];
  const facts = new Map<string, ManifestFacts>();
  for (let i = 0; i < refs.length; i += CONCURRENCY) {
    await Promise.all(
      refs.slice(i, i + CONCURRENCY).map(async (ref) => {
        const m = await client.getManifest(ref);
        const j = (m.json ?? {}) as { config?: { digest?: string; size?: number }; layers?: { size?: number }[] };
        const size = (j.layers ?? []).reduce((n, l) => n + (typeof l.size === "number" ? l.size : 0), 0);
        facts.set(ref, { digest: m.digest, id: j.config?.digest ?? "", size });
      }),
    );
  }
  const commit = r.commit ?? "";
  const stageRecord = (s: StageReport): WerfStageRecord => {
    const f = facts.get(s.tag)!;
    const tag = s.tag.slice(s.tag.lastIndexOf(":") + 1);
    const ms = /-(\d+)$/.exec(tag);
    return {
      Name: s.stage,
      DockerImageName: s.tag,
      DockerTag: tag,
      DockerImageID: s.imageId ?? f.id,
      DockerImageDigest: s.manifestDigest ?? f.digest,
      CreatedAt: ms ? Number(ms[1]) * 1_000_000 : 0,
      Size: f.size,
      SourceType: "repo",
      BaseImagePulled: false,
      Rebuilt: s.status === "built",
      BuildTime: s.status === "built" ? s.seconds.toFixed(2) : "0.00",
      Commit: commit,
    };
  };
  const images: Record<string, WerfImageRecord> = {};
  for (const i of [...r.images].sort((a, b) => (a.image < b.image ? -1 : a.image > b.image ? 1 : 0))) {
    const name = i.image === "~" ? "" : i.image;
    const stages = i.stages.map(stageRecord);
    const last = stages[stages.length - 1];
    // a final image is named by its first final tag (`<repo>:<image>-<digest>`), the others by their last stage
    const ref = i.final && i.tags.length ? i.tags[0] : last.DockerImageName;
    const colon = ref.lastIndexOf(":");
    images[name] = {
      WerfImageName: name,
      ConfigType: i.configType,
      DockerRepo: ref.slice(0, colon),
      DockerTag: ref.slice(colon + 1),
      DockerImageID: last.DockerImageID,
      DockerImageDigest: last.DockerImageDigest,
      DockerImageName: ref,
      TargetPlatform: "",
      Rebuilt: stages.some((s) => s.Rebuilt),
      Final: i.final,
      Size: last.Size,
      BuildTime: i.stages.reduce((n, s) => n + (s.status === "built" ? s.seconds : 0), 0).toFixed(2),
      Commit: commit,
      Stages: stages,
    };
  }
  return { Runtime: { Backend: "docker", InContainer: false }, Images: images, ImagesByPlatform: {} };
}

/** werf's JSON (tab-indented, as Go's json.MarshalIndent(report, "", "\t")). */
export function formatWerfReportJson(w: WerfReport): string {
  return JSON.stringify(w, null, "\t") + "\n";
}

/** werf's env file: per image `WERF_<NAME>_DOCKER_IMAGE_NAME`, `..._DOCKER_IMAGE_ID`, `..._DOCKER_IMAGE_DIGEST`,
 *  `..._DOCKER_REPO`, `..._DOCKER_TAG`, `..._WERF_IMAGE_NAME`, `..._FINAL` (NAME upper-cased, `/`, `-`, `.` → `_`;
 *  the nameless image: `WERF_`). Images in name order. */
export function formatWerfReportEnv(w: WerfReport): string {
  let out = "";
  for (const [name, r] of Object.entries(w.Images)) {
    // a value is one line of printable characters: an image name from werf.yaml must not add lines (variables) to
    // a file CI reads as dotenv
    if (!/^[\x20-\x7e]*$/.test(name)) {
      throw new UserError({
        message: `image name ${JSON.stringify(name)} cannot be written to an env-file report (it holds a line break or a non-ASCII character)`,
        hint: "rename the image, or write the report as JSON (--report FILE.json)",
      });
    }
    const p = imageEnvPrefix(name);
    out += `${p}DOCKER_IMAGE_NAME=${r.DockerImageName}\n`;
    out += `${p}DOCKER_IMAGE_ID=${r.DockerImageID}\n`;
    out += `${p}DOCKER_IMAGE_DIGEST=${r.DockerImageDigest}\n`;
    out += `${p}DOCKER_REPO=${r.DockerRepo}\n`;
    out += `${p}DOCKER_TAG=${r.DockerTag}\n`;
    out += `${p}WERF_IMAGE_NAME=${r.WerfImageName}\n`;
    out += `${p}FINAL=${r.Final}\n`;
  }
  return out;
}

export function imageEnvPrefix(name: string): string {
  // werf replaces `/`, `-` and `.`; anything else that could not stand in a variable name is replaced too
  return name === "" ? "WERF_" : `WERF_${name.toUpperCase().replace(/[^A-Z0-9_]/g, "_")}_`;
}
