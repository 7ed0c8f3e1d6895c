// What a build did, per image and stage (reused or built, seconds), and its table on stdout.

export interface StageReport {
  stage: string;
  digest: string;
  /** `<repo>:<digest>-<ms>`. */
  tag: string;
  status: "reused" | "built";
  /** The stage's platform, in a build of several platforms (each platform's stages are stored apart). */
  platform?: string;
  /** reused: time to choose it; built: the sum of its BuildKit steps' times (src/builder/progress.ts, from buildx's
   *  rawjson); a Dockerfile image: the wall time of the bake. */
  seconds: number;
  /** Built stages: the config digest (image ID) and manifest digest buildx's --metadata-file gives. */
  imageId?: string;
  manifestDigest?: string;
}

export interface ImageReport {
  /** The image's name, "~" for the nameless image. */
  image: string;
  /** "stapel" or "dockerfile" (werf's ConfigType). */
  configType: "stapel" | "dockerfile";
  /** Published (gets final tags); artifacts and `final: false` images are not. */
  final: boolean;
  digest: string;
  /** Final tags written (final images only). */
  tags: string[];
  stages: StageReport[];
  /** An image of several platforms: them (its final tags are an index over their last stages). */
  platforms?: string[];
}

export interface BuildReport {
  repo: string;
  images: ImageReport[];
  /** Stages built by this run (0 on a no-op build). */
  built: number;
  /** Whether `docker buildx bake` ran. */
  bake: boolean;
  registryRequests: number;
  seconds: number;
  /** HEAD of the project's repository, when it is one. */
  commit?: string;
}

export function sec(ms: number): number {
  return Math.round(ms) / 1000;
}

/** The table printed after a build: per image and stage, reused or built, seconds. */
export function formatReport(r: BuildReport): string {
  const rows: string[][] = [["IMAGE", "STAGE", "STATUS", "SECONDS", "TAG"]];
  for (const i of r.images) {
    for (const s of i.stages) rows.push([i.image, s.platform ? `${s.stage} (${s.platform})` : s.stage, s.status, s.seconds.toFixed(3), s.tag.slice(s.tag.lastIndexOf(":") + 1)]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const lines = rows.map((row) => row.map((v, c) => (c === row.length - 1 ? v : v.padEnd(widths[c]))).join("  "));
  for (const i of r.images) for (const t of i.tags) lines.push(`${i.image}: ${t}`);
  lines.push(`${r.built} stage(s) built, ${r.images.reduce((n, i) => n + i.stages.filter((s) => s.status === "reused").length, 0)} reused, ${r.registryRequests} registry request(s), ${r.seconds.toFixed(3)} s`);
  return lines.join("\n") + "\n";
}
