// The final tags of an image of several platforms (src/plan/platforms.ts): an OCI image index over each platform's
// last stage, written registry-side (nothing pulled), as werf joins its per-platform images into a manifest list.
// Each platform's stage was built and pushed alone; a builder may still have pushed it as an index of one image
// (plus attestations): the entry is then that index's image of the platform.

import type { RegistryClient } from "../registry/index.js";
import { MEDIA_TYPES, isIndexMediaType } from "../registry/types.js";
import { UserError } from "../diagnostics.js";
import { copyImage } from "./repos.js";

interface IndexEntry {
  mediaType: string;
  digest: string;
  size: number;
  platform: { architecture: string; os: string; variant?: string };
}

function platformOf(p: string): IndexEntry["platform"] {
  const [os, architecture, variant] = p.split("/");
  return { architecture: architecture!, os: os!, ...(variant ? { variant } : {}) };
}

/** The index entry of `platform` for the stage `ref` (`<repo>:<digest>-<ms>`). */
async function entryOf(client: RegistryClient, ref: string, platform: string): Promise<IndexEntry> {
  const m = await client.getManifest(ref);
  if (!isIndexMediaType(m.mediaType)) return { mediaType: m.mediaType, digest: m.digest, size: m.body.length, platform: platformOf(platform) };
  type Child = { mediaType?: string; digest?: string; size?: number; platform?: { os?: string; architecture?: string; variant?: string } };
  const want = platformOf(platform);
  const child = ((m.json?.manifests ?? []) as Child[]).find(
    (c) => c.platform?.os === want.os && c.platform?.architecture === want.architecture && (want.variant === undefined || c.platform?.variant === want.variant),
  );
  if (!child?.digest || typeof child.size !== "number") {
    throw new UserError({
      message: `stage ${ref} was built for ${platform} but its index has no ${platform} image`,
      hint: "the builder ignored the platform: use a builder that builds for the target platform (docs/builders.md, \"Multi-platform images\")",
    });
  }
  return { mediaType: child.mediaType ?? MEDIA_TYPES.ociManifest, digest: child.digest, size: child.size, platform: platformOf(platform) };
}

/** The OCI index over the platforms' stages, in platform order (the same bytes for the same stages). */
export async function platformIndex(client: RegistryClient, stages: readonly { platform: string; tag: string }[]): Promise<Buffer> {
  const sorted = [...stages].sort((a, b) => (a.platform < b.platform ? -1 : a.platform > b.platform ? 1 : 0));
  const manifests: IndexEntry[] = [];
  for (const s of sorted) manifests.push(await entryOf(client, s.tag, s.platform));
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests }));
}

/** Writes the index over `stages` (full stage references, all in `repo`) under `tags` (full references): PUT in
 *  `repo` under the first tag of `repo` (else `fallback`, a tag of `repo`), then copied to the others. */
export async function writeIndexTags(
  client: RegistryClient,
  repo: string,
  stages: readonly { platform: string; tag: string }[],
  tags: readonly string[],
  fallback: string,
  docker?: string,
): Promise<string> {
  const body = await platformIndex(client, stages);
  const home = tags.find((t) => t.startsWith(`${repo}:`)) ?? fallback;
  const digest = await client.putManifest(home, { mediaType: MEDIA_TYPES.ociIndex, body });
  for (const t of tags) if (t !== home) await copyImage(client, home, t, docker);
  return digest;
}
