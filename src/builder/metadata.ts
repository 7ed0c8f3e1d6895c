// buildx's --metadata-file: per bake target, the image it pushed (`containerimage.config.digest`, the image ID, and
// `containerimage.digest`, the manifest digest in the registry when pushed). Read after each bake.

import { readFile } from "node:fs/promises";

export interface BakeMetadata {
  /** The config digest (werf's DockerImageID). */
  imageId?: string;
  /** The manifest digest (werf's DockerImageDigest). */
  manifestDigest?: string;
}

export async function readBakeMetadata(file: string): Promise<Map<string, BakeMetadata>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch {
    return new Map();
  }
  const out = new Map<string, BakeMetadata>();
  if (!raw || typeof raw !== "object") return out;
  for (const [target, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!v || typeof v !== "object") continue;
    const m = v as Record<string, unknown>;
    const imageId = typeof m["containerimage.config.digest"] === "string" ? (m["containerimage.config.digest"] as string) : undefined;
    const manifestDigest = typeof m["containerimage.digest"] === "string" ? (m["containerimage.digest"] as string) : undefined;
    out.set(target, { ...(imageId ? { imageId } : {}), ...(manifestDigest ? { manifestDigest } : {}) });
  }
  return out;
}
