// The toolchain as a registry image: the deterministic rootfs tar of toolchain.ts as one uncompressed OCI layer,
// a config and a manifest made here byte for byte, so the image's digest follows from its content alone (the
// same static binaries give the same digest on every machine). `build` pushes it once into the project's repo
// (tag `toolchain-<hex>`, nothing when it is there) and the generated bake files reference it by digest
// (`docker-image://REPO@sha256:...`): every builder (docker, docker-container, remote, kubernetes) pulls it like any
// other image, none needs a set-up step. Several platforms (one static bash and busybox per architecture) make an
// OCI index over their manifests. See docs/builders.md.

import { openSync, readSync, closeSync } from "node:fs";
import { UserError } from "../diagnostics.js";
import { MEDIA_TYPES, sha256Digest, type RegistryClient } from "../registry/index.js";
import { parseImageRef } from "../registry/ref.js";
import { HOST_BASH, HOST_BUSYBOX, findStatic, toolchainRootfsTar } from "./toolchain.js";

export const LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar";
export const CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json";

/** One platform's toolchain image, as the registry stores it. */
export interface ToolchainImage {
  /** "linux/amd64", "linux/arm64". */
  platform: string;
  layer: Buffer;
  config: Buffer;
  manifest: Buffer;
  /** sha256 of `manifest`. */
  digest: string;
}

/** The binaries of one platform (default: this machine's Debian bash-static and busybox-static). */
export interface ToolchainBinaries {
  bash?: string;
  busybox?: string;
}

const ELF_ARCH: Record<number, string> = { 0x3e: "amd64", 0xb7: "arm64", 0x03: "386", 0x28: "arm", 0xf3: "riscv64", 0x16: "s390x", 0x15: "ppc64le" };

/** The GOARCH name of an ELF executable's machine (e_machine), e.g. "amd64" for x86-64. */
export function elfArch(file: string): string {
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(20);
    readSync(fd, head, 0, 20, 0);
    const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
    const arch = ELF_ARCH[machine];
    if (!arch) throw new UserError({ message: `${file}: unknown ELF machine ${machine}`, hint: "give static bash and busybox binaries for a Linux platform docker supports" });
    return arch;
  } finally {
    closeSync(fd);
  }
}

/** JSON with sorted keys and no blanks: the same object gives the same bytes. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** The toolchain image of one set of binaries; its platform is their ELF architecture. */
export async function makeToolchainImage(bin: ToolchainBinaries = {}): Promise<ToolchainImage> {
  const layer = await toolchainRootfsTar(bin);
  const bashArch = elfArch(bin.bash ?? hostBinary("bash"));
  const busyboxArch = elfArch(bin.busybox ?? hostBinary("busybox"));
  if (bashArch !== busyboxArch) {
    throw new UserError({ message: `the static bash is for ${bashArch}, the busybox for ${busyboxArch}`, hint: "give both binaries of one architecture" });
  }
  const layerDigest = sha256Digest(layer);
  const config = Buffer.from(
    canonical({
      architecture: bashArch,
      os: "linux",
      config: { Cmd: ["/.stapel/bin/bash"], Labels: { "io.stapel2docker.toolchain": "static bash and busybox under /.stapel/bin" } },
      rootfs: { type: "layers", diff_ids: [layerDigest] },
    }),
  );
  const manifest = Buffer.from(
    canonical({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: CONFIG_MEDIA_TYPE, digest: sha256Digest(config), size: config.length },
      layers: [{ mediaType: LAYER_MEDIA_TYPE, digest: layerDigest, size: layer.length }],
    }),
  );
  return { platform: `linux/${bashArch}`, layer, config, manifest, digest: sha256Digest(manifest) };
}

function hostBinary(what: "bash" | "busybox"): string {
  return findStatic(undefined, what === "bash" ? HOST_BASH : HOST_BUSYBOX, what);
}

/** The manifest (one platform) or OCI index (several, sorted by platform) that `build` references. */
export function toolchainTop(images: readonly ToolchainImage[]): { mediaType: string; body: Buffer; digest: string } {
  if (images.length === 0) throw new Error("internal: no toolchain image");
  if (images.length === 1) return { mediaType: MEDIA_TYPES.ociManifest, body: images[0].manifest, digest: images[0].digest };
  const sorted = [...images].sort((a, b) => (a.platform < b.platform ? -1 : a.platform > b.platform ? 1 : 0));
  const body = Buffer.from(
    canonical({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: sorted.map((i) => {
        const [os, architecture] = i.platform.split("/");
        return { mediaType: MEDIA_TYPES.ociManifest, digest: i.digest, size: i.manifest.length, platform: { architecture, os } };
      }),
    }),
  );
  return { mediaType: MEDIA_TYPES.ociIndex, body, digest: sha256Digest(body) };
}

/** The tag the toolchain is kept under in a repository (content-addressed: the digest's hex). */
export function toolchainTag(digest: string): string {
  return `toolchain-${digest.replace(/^sha256:/, "")}`;
}

/**
 * Pushes the toolchain into `repo` unless it is there already (one HEAD when it is), and returns its digest-pinned
 * reference `repo@sha256:...`.
 */
export async function pushToolchain(client: RegistryClient, repo: string, images: readonly ToolchainImage[]): Promise<string> {
  const top = toolchainTop(images);
  const ref = `${repo}@${top.digest}`;
  if (await client.headManifest(ref)) return ref;
  for (const i of images) {
    for (const blob of [i.layer, i.config]) if (!(await client.hasBlob(repo, sha256Digest(blob)))) await client.pushBlob(repo, blob);
    if (images.length > 1) await client.putManifest(`${repo}@${i.digest}`, { mediaType: MEDIA_TYPES.ociManifest, body: i.manifest });
  }
  try {
    await client.putManifest(`${repo}:${toolchainTag(top.digest)}`, { mediaType: top.mediaType, body: top.body });
  } catch (e) {
    // another host pushing the same toolchain at the same moment can make the registry fail this PUT (a tag
    // written twice at once); the content is the same, so theirs is as good as ours
    await new Promise((r) => setTimeout(r, 300));
    if (!(await client.headManifest(ref))) throw e;
  }
  return ref;
}

/** The binaries unpacked from Debian's bash-static and busybox-static packages under `dir` (bin/bash-static, bin/busybox). */
export function debianBinaries(dir: string): ToolchainBinaries {
  return { bash: `${dir}/bin/bash-static`, busybox: `${dir}/bin/busybox` };
}

/** Whether a reference names its image by digest (`...@sha256:<64 hex>`). */
export function isPinned(ref: string): boolean {
  return /@sha256:[0-9a-f]{64}$/.test(ref);
}

/**
 * The toolchain reference a build uses: `given` as it is when pinned by digest; a tag is pinned through the
 * registry (a builder elsewhere must pull exactly this content); none: this machine's toolchain, pushed into `repo`.
 */
export async function resolveToolchain(opts: {
  given?: string;
  repo: string;
  client: RegistryClient;
  binaries?: ToolchainBinaries[];
  /** The build's target platforms: this machine's toolchain must have each ("os/arch[/variant]"). */
  platforms?: readonly string[];
}): Promise<string> {
  if (opts.given !== undefined) {
    if (isPinned(opts.given)) return opts.given;
    const r = parseImageRef(opts.given);
    let info;
    try {
      info = await opts.client.headManifest(opts.given);
    } catch (e) {
      throw new UserError({
        message: `--toolchain ${opts.given}: cannot read it from the registry ${r.registry} (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`,
        hint: "every builder pulls the toolchain from a registry: push it there (stapel2docker toolchain --push REPO) and give that reference, or leave out --toolchain to push this machine's into --repo",
      });
    }
    if (!info) {
      throw new UserError({
        message: `--toolchain ${opts.given}: no such image in the registry ${r.registry}`,
        hint: "push it first (stapel2docker toolchain --push REPO prints the reference to give), or leave out --toolchain to push this machine's into --repo",
      });
    }
    return `${r.registry}/${r.repository}@${info.digest}`;
  }
  return pushToolchain(opts.client, opts.repo, await localToolchain(opts.binaries, opts.platforms));
}

/** This machine's toolchain images (`binaries`, default Debian's), checked to cover `platforms`. */
export async function localToolchain(binaries: ToolchainBinaries[] | undefined, platforms: readonly string[] = []): Promise<ToolchainImage[]> {
  const images = [];
  for (const b of binaries ?? [{}]) images.push(await makeToolchainImage(b));
  const have = new Set(images.map((i) => i.platform));
  const lacking = [...new Set(platforms.map((p) => p.split("/").slice(0, 2).join("/")))].filter((p) => !have.has(p));
  if (lacking.length) {
    throw new UserError({
      message: `the build targets ${lacking.join(", ")}, but this machine's toolchain is for ${[...have].join(", ")} only`,
      hint:
        "push a toolchain for every platform once, with the static binaries of each (Debian's bash-static and busybox-static, " +
        "e.g. unpacked from `apt-get download bash-static:arm64 busybox-static:arm64`): stapel2docker toolchain --push REPO --also DIR " +
        "(DIR holding bin/bash-static and bin/busybox), then build --toolchain with the reference it prints",
    });
  }
  return images;
}
