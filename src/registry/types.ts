// OCI distribution types and digests: media types, manifests, image configs (docs/registry.md).

import { createHash } from "node:crypto";

export const MEDIA_TYPES = {
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
} as const;

/** The Accept header of manifest requests: every type we understand. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest,
].join(", ");

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerManifestList;
}

export interface ManifestInfo {
  digest: string;
  mediaType: string;
  size: number;
}

export interface Manifest {
  digest: string;
  mediaType: string;
  body: Buffer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface ImageConfigResult {
  /** The config blob's digest (the image id). */
  digest: string;
  /** The OCI image config JSON ({architecture, os, config: {Labels, User, ...}, rootfs, history}). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  config: any;
  /** The digest of the (platform) image manifest that names this config. */
  manifestDigest: string;
}

export function sha256Digest(body: Buffer): string {
  return `sha256:${createHash("sha256").update(body).digest("hex")}`;
}

export function digestOf(body: Buffer, algorithmOf?: string): string | undefined {
  const alg = algorithmOf ? algorithmOf.slice(0, algorithmOf.indexOf(":")) : "sha256";
  if (alg === "sha256") return sha256Digest(body);
  if (alg === "sha512") return `sha512:${createHash("sha512").update(body).digest("hex")}`;
  return undefined;
}

export function mediaTypeOf(contentType: string | null): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

