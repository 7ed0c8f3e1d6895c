// A client for the OCI distribution API (docs/registry.md): tags list (paginated), manifest HEAD/GET/PUT (Docker
// v2 and OCI manifests and indexes), config blobs, tag copies (manifest GET + PUT, no pull). HTTP, auth and retries
// are the transport's (transport.ts), messages the errors module's (errors.ts), media types in types.ts.

import { UserError } from "../diagnostics.js";
import { deleteScope, repositoryScope } from "./auth.js";
import { deletionRefused, opError, statusError, type Operation } from "./errors.js";
import { formatImageRef, parseImageRef, parseRepository, type ImageRef } from "./ref.js";
import { RegistryTransport, nextLink, type RegistryClientOptions } from "./transport.js";
import { MANIFEST_ACCEPT, digestOf, isIndexMediaType, mediaTypeOf, sha256Digest, type ImageConfigResult, type Manifest, type ManifestInfo } from "./types.js";

export { MEDIA_TYPES, MANIFEST_ACCEPT, isIndexMediaType, sha256Digest, type ImageConfigResult, type Manifest, type ManifestInfo } from "./types.js";
export { nextLink, retryAfterMs, type RegistryClientOptions } from "./transport.js";
export { networkErrorCode } from "./errors.js";

export class RegistryClient {
  private readonly t: RegistryTransport;

  constructor(opts: RegistryClientOptions = {}) {
    this.t = new RegistryTransport(opts);
  }

  /** HTTP requests sent (token requests and retries included): for the build's figures. */
  get requestCount(): number {
    return this.t.requestCount;
  }

  /** "http://host:port" or "https://host". */
  baseUrl(registry: string): string {
    return this.t.baseUrl(registry);
  }

  // ---------------------------------------------------------------- public API

  /** Every tag of a repository ("registry/path"), following Link rel="next" pages; [] when it does not exist. */
  async listTags(repo: string, opts: { pageSize?: number } = {}): Promise<string[]> {
    const r = parseRepository(repo);
    const op: Operation = { what: `listing tags of ${r.registry}/${r.repository}`, registry: r.registry, repository: r.repository, push: false };
    const base = this.t.baseUrl(r.registry);
    let url: string | undefined = `${base}/v2/${r.repository}/tags/list${opts.pageSize ? `?n=${opts.pageSize}` : ""}`;
    const tags = new Set<string>();
    const seen = new Set<string>();
    let first = true;
    while (url !== undefined) {
      if (seen.has(url)) throw opError(op, `the registry's pagination loops (${url} again)`, "report this registry bug; listing stopped");
      seen.add(url);
      const res = await this.t.send(op, url, { method: "GET", headers: { Accept: "application/json" }, scopes: [repositoryScope(r.repository, false)] });
      if (res.status === 404 && first) {
        await res.body?.cancel();
        return [];
      }
      const body = await this.t.readBody(op, res);
      if (res.status !== 200) throw statusError(this.t, op, res, body);
      let page: { tags?: unknown };
      try {
        page = JSON.parse(body.toString("utf8")) as { tags?: unknown };
      } catch {
        throw opError(op, "the tags list is not JSON", "is this a container registry?");
      }
      if (Array.isArray(page.tags)) for (const t of page.tags) if (typeof t === "string") tags.add(t);
      const next = nextLink(res.headers.get("link"));
      url = next === undefined ? undefined : new URL(next, url).toString();
      first = false;
    }
    return [...tags].sort();
  }

  /** The manifest's digest, media type and size without its body; undefined when the tag or digest is unknown. */
  async headManifest(ref: string): Promise<ManifestInfo | undefined> {
    const r = this.parseRef(ref);
    const op = this.op(`checking manifest ${formatImageRef(r)}`, r, false);
    const res = await this.t.send(op, this.manifestUrl(r), { method: "HEAD", headers: { Accept: MANIFEST_ACCEPT }, scopes: [repositoryScope(r.repository, false)] });
    await res.body?.cancel();
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw statusError(this.t, op, res, Buffer.alloc(0));
    const digest = res.headers.get("docker-content-digest");
    const mediaType = mediaTypeOf(res.headers.get("content-type"));
    const size = Number(res.headers.get("content-length") ?? NaN);
    if (!digest || !mediaType || !Number.isFinite(size)) {
      // Some registries leave headers out of HEAD answers: the body tells.
      const m = await this.getManifest(ref);
      return { digest: m.digest, mediaType: m.mediaType, size: m.body.length };
    }
    return { digest, mediaType, size };
  }

  /** The manifest's exact bytes, parsed JSON, media type and digest (sha256 of the bytes, checked). */
  async getManifest(ref: string): Promise<Manifest> {
    const r = this.parseRef(ref);
    return this.fetchManifest(r, `reading manifest ${formatImageRef(r)}`);
  }

  /**
   * The image config of `ref`; an index is resolved to `platform` ("os/arch[/variant]", default linux/amd64, or the
   * only image when there is one).
   */
  async getImageConfig(ref: string, platform?: string): Promise<ImageConfigResult> {
    const r = this.parseRef(ref);
    const what = `reading the image config of ${formatImageRef(r)}`;
    let m = await this.fetchManifest(r, what);
    if (isIndexMediaType(m.mediaType)) {
      const child = this.pickPlatform(this.op(what, r, false), m, platform);
      m = await this.fetchManifest({ registry: r.registry, repository: r.repository, digest: child }, what);
    }
    const op = this.op(what, r, false);
    if (m.json?.schemaVersion === 1) {
      throw opError(op, "it is a schema 1 manifest, which has no config blob", "push the image again with a current docker");
    }
    const desc = m.json?.config as { digest?: unknown } | undefined;
    if (!desc || typeof desc.digest !== "string") throw opError(op, `the manifest (${m.mediaType || "no media type"}) names no config blob`);
    const blob = await this.fetchBlob(op, r, desc.digest);
    let config: unknown;
    try {
      config = JSON.parse(blob.toString("utf8"));
    } catch {
      throw opError(op, `the config blob ${desc.digest} is not JSON`);
    }
    return { digest: desc.digest, config, manifestDigest: m.digest };
  }

  /** A blob's bytes, digest checked. `repo` is "registry/path". */
  async getBlob(repo: string, digest: string): Promise<Buffer> {
    const r = parseRepository(repo);
    return this.fetchBlob(this.op(`reading blob ${digest} of ${r.registry}/${r.repository}`, r, false), r, digest);
  }

  /** Whether the repository holds the blob (HEAD). `repo` is "registry/path". */
  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const r = parseRepository(repo);
    const op = this.op(`checking blob ${digest} of ${r.registry}/${r.repository}`, r, false);
    const res = await this.t.send(op, `${this.t.baseUrl(r.registry)}/v2/${r.repository}/blobs/${digest}`, { method: "HEAD", scopes: [repositoryScope(r.repository, false)] });
    await res.body?.cancel();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw statusError(this.t, op, res, Buffer.alloc(0));
  }

  /** PUTs a manifest under `ref`'s tag (or digest); returns its digest (sha256 of the body). */
  async putManifest(ref: string, manifest: { mediaType: string; body: Buffer }): Promise<string> {
    const r = this.parseRef(ref);
    return this.storeManifest(r, manifest, `pushing manifest ${formatImageRef(r)}`);
  }

  /**
   * Tags `src` as `dstTag` registry-side (manifest GET + PUT, nothing pulled). `dstTag` is a tag of the same
   * repository ("final-1") or a full reference; in another repository of the same registry the blobs (and an
   * index's manifests) are mounted from the source first. Returns the digest, the same as the source's.
   */
  async copyTag(src: string, dstTag: string): Promise<string> {
    const s = this.parseRef(src);
    const d: ImageRef = dstTag.includes("/") || dstTag.includes("@")
      ? parseImageRef(dstTag)
      : parseImageRef(`${s.registry}/${s.repository}:${dstTag}`);
    if (d.tag === undefined || d.digest !== undefined) {
      throw new UserError({
        message: `cannot tag ${formatImageRef(s)} as ${JSON.stringify(dstTag)}: the destination needs a tag and no digest`,
        hint: 'give a tag ("final") or a reference with a tag ("REGISTRY/PATH:TAG")',
      });
    }
    const what = `tagging ${formatImageRef(s)} as ${formatImageRef(d)}`;
    if (d.registry !== s.registry) {
      throw new UserError({
        message: `${what}: copying between registries is not supported (only manifests are copied, registry-side)`,
        hint: `copy the image with: docker buildx imagetools create --tag ${formatImageRef(d)} ${formatImageRef(s)}`,
      });
    }
    const m = await this.fetchManifest(s, what);
    if (d.repository !== s.repository) await this.mountReferenced(what, s, d, m);
    return this.storeManifest(d, m, what);
  }

  /**
   * Deletes the manifest `ref` names by digest (every tag on it goes with it: the distribution API deletes
   * manifests, not tags). Returns false when it was already gone (404). A registry that refuses deletion (405
   * UNSUPPORTED, as docker-registry without `storage.delete.enabled`, or hosted registries that delete through
   * their own API) gets an error naming it and what to enable.
   */
  async deleteManifest(ref: string): Promise<boolean> {
    const r = this.parseRef(ref);
    if (r.digest === undefined) {
      throw new UserError({ message: `cannot delete ${ref}: manifests are deleted by digest`, hint: `resolve the tag first: ${ref}@sha256:...` });
    }
    const op = this.op(`deleting manifest ${formatImageRef(r)}`, r, true);
    const res = await this.t.send(op, this.manifestUrl(r), { method: "DELETE", scopes: [deleteScope(r.repository)] });
    const body = await this.t.readBody(op, res);
    if (res.status === 202 || res.status === 200 || res.status === 204) return true;
    if (res.status === 404) return false;
    if (res.status === 405 || (res.status === 400 && /UNSUPPORTED/.test(body.toString("utf8")))) throw deletionRefused(op, res.status, body);
    throw statusError(this.t, op, res, body, r);
  }

  /** Uploads `data` as a blob of `repo` ("registry/path") in one request pair (POST, then PUT with the digest);
   *  returns its digest. */
  async pushBlob(repo: string, data: Buffer): Promise<string> {
    const r = parseRepository(repo);
    const digest = sha256Digest(data);
    const op = this.op(`pushing blob ${digest} to ${r.registry}/${r.repository}`, r, true);
    const start = `${this.t.baseUrl(r.registry)}/v2/${r.repository}/blobs/uploads/`;
    const res = await this.t.send(op, start, { method: "POST", headers: { "Content-Length": "0" }, scopes: [repositoryScope(r.repository, true)] });
    const body = await this.t.readBody(op, res);
    const location = res.headers.get("location");
    if (res.status !== 202 || !location) throw statusError(this.t, op, res, body);
    const url = new URL(location, start);
    url.searchParams.set("digest", digest);
    const put = await this.t.send(op, url.toString(), {
      method: "PUT",
      headers: { "Content-Type": "application/octet-stream" },
      body: data,
      scopes: [repositoryScope(r.repository, true)],
    });
    const putBody = await this.t.readBody(op, put);
    if (put.status !== 201 && put.status !== 204 && put.status !== 200) throw statusError(this.t, op, put, putBody);
    return digest;
  }

  // ---------------------------------------------------------------- manifests and blobs

  private parseRef(ref: string): ImageRef {
    const r = parseImageRef(ref);
    if (r.tag === undefined && r.digest === undefined) {
      throw new UserError({
        message: `the image reference ${JSON.stringify(ref)} has neither a tag nor a digest`,
        hint: `add one: "${ref}:TAG" or "${ref}@sha256:..."`,
      });
    }
    return r;
  }

  private op(what: string, r: ImageRef, push: boolean): Operation {
    return { what, registry: r.registry, repository: r.repository, push };
  }

  private manifestUrl(r: ImageRef): string {
    return `${this.t.baseUrl(r.registry)}/v2/${r.repository}/manifests/${r.digest ?? r.tag!}`;
  }

  private async fetchManifest(r: ImageRef, what: string): Promise<Manifest> {
    const op = this.op(what, r, false);
    const res = await this.t.send(op, this.manifestUrl(r), { method: "GET", headers: { Accept: MANIFEST_ACCEPT }, scopes: [repositoryScope(r.repository, false)] });
    const body = await this.t.readBody(op, res);
    if (res.status !== 200) throw statusError(this.t, op, res, body, r);
    const said = res.headers.get("docker-content-digest") ?? undefined;
    const digest = digestOf(body, r.digest ?? said) ?? (r.digest ?? said)!;
    if (r.digest !== undefined && digest !== r.digest) {
      throw opError(op, `the manifest's content has digest ${digest}, not the ${r.digest} asked for`, "the registry returned corrupt or wrong data; try again, or report it to the registry's operators");
    }
    if (said !== undefined && digestOf(body, said) !== undefined && digestOf(body, said) !== said) {
      throw opError(op, `the manifest's content does not match its Docker-Content-Digest ${said}`, "the registry returned corrupt data; try again");
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let json: any;
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch {
      throw opError(op, "the manifest is not JSON");
    }
    let mediaType = mediaTypeOf(res.headers.get("content-type"));
    if ((!mediaType || mediaType === "application/json" || mediaType === "application/octet-stream") && typeof json?.mediaType === "string") {
      mediaType = json.mediaType as string;
    }
    return { digest, mediaType, body, json };
  }

  private async storeManifest(r: ImageRef, m: { mediaType: string; body: Buffer }, what: string): Promise<string> {
    const op = this.op(what, r, true);
    const digest = sha256Digest(m.body);
    if (r.digest !== undefined && r.digest !== digest) {
      throw new UserError({ message: `${what}: the manifest's digest is ${digest}, not ${r.digest}` });
    }
    const res = await this.t.send(op, this.manifestUrl(r), {
      method: "PUT",
      headers: { "Content-Type": m.mediaType },
      body: m.body,
      scopes: [repositoryScope(r.repository, true)],
    });
    const body = await this.t.readBody(op, res);
    if (res.status !== 201 && res.status !== 200 && res.status !== 202) throw statusError(this.t, op, res, body, r);
    const said = res.headers.get("docker-content-digest");
    if (said && said.startsWith("sha256:") && said !== digest) {
      throw opError(op, `the registry stored the manifest as ${said}, but its content's digest is ${digest}`, "the registry may have rewritten the manifest; check its media type");
    }
    return digest;
  }

  private async fetchBlob(op: Operation, r: ImageRef, digest: string): Promise<Buffer> {
    const url = `${this.t.baseUrl(r.registry)}/v2/${r.repository}/blobs/${digest}`;
    const res = await this.t.send(op, url, { method: "GET", scopes: [repositoryScope(r.repository, false)] });
    const body = await this.t.readBody(op, res);
    if (res.status !== 200) throw statusError(this.t, op, res, body, { ...r, digest });
    const got = digestOf(body, digest);
    if (got !== undefined && got !== digest) {
      throw opError(op, `the blob's content has digest ${got}, not ${digest}`, "the registry returned corrupt data; try again");
    }
    return body;
  }

  private pickPlatform(op: Operation, index: Manifest, platform: string | undefined): string {
    type Entry = { digest?: string; platform?: { os?: string; architecture?: string; variant?: string }; annotations?: Record<string, string> };
    const entries = (Array.isArray(index.json?.manifests) ? index.json.manifests : []) as Entry[];
    const images = entries.filter(
      (e) =>
        typeof e.digest === "string" &&
        e.annotations?.["vnd.docker.reference.type"] !== "attestation-manifest" &&
        !(e.platform?.os === "unknown" && e.platform?.architecture === "unknown"),
    );
    const name = (e: Entry) => [e.platform?.os, e.platform?.architecture, e.platform?.variant].filter(Boolean).join("/") || "unknown";
    const [os, arch, variant] = (platform ?? "linux/amd64").split("/");
    const match = images.filter((e) => e.platform?.os === os && e.platform?.architecture === arch && (variant === undefined || e.platform?.variant === variant));
    if (match.length > 0) return match[0]!.digest!;
    if (platform === undefined && images.length === 1) return images[0]!.digest!;
    throw opError(
      op,
      images.length === 0 ? "the image index lists no image" : `the image index has no ${platform ?? "linux/amd64"} image (it has: ${images.map(name).sort().join(", ")})`,
      "choose one of the platforms it has",
    );
  }

  /** Makes everything `m` references available in `d` (same registry): blobs mounted, index children PUT. */
  private async mountReferenced(what: string, s: ImageRef, d: ImageRef, m: Manifest): Promise<void> {
    if (isIndexMediaType(m.mediaType)) {
      const children = (Array.isArray(m.json?.manifests) ? m.json.manifests : []) as Array<{ digest?: string }>;
      for (const c of children) {
        if (typeof c.digest !== "string") continue;
        const child = await this.fetchManifest({ registry: s.registry, repository: s.repository, digest: c.digest }, what);
        await this.mountReferenced(what, s, d, child);
        await this.storeManifest({ registry: d.registry, repository: d.repository, digest: c.digest }, child, what);
      }
      return;
    }
    const blobs: string[] = [];
    if (typeof m.json?.config?.digest === "string") blobs.push(m.json.config.digest as string);
    for (const l of Array.isArray(m.json?.layers) ? (m.json.layers as Array<{ digest?: unknown }>) : []) {
      if (typeof l.digest === "string") blobs.push(l.digest);
    }
    const op = this.op(what, d, true);
    for (const digest of [...new Set(blobs)]) {
      const url = `${this.t.baseUrl(d.registry)}/v2/${d.repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(s.repository)}`;
      const res = await this.t.send(op, url, {
        method: "POST",
        headers: { "Content-Length": "0" },
        scopes: [repositoryScope(d.repository, true), repositoryScope(s.repository, false)],
      });
      const body = await this.t.readBody(op, res);
      if (res.status === 201) continue;
      if (res.status === 202) {
        // The registry opened an upload instead of mounting: cancel it, we do not copy blobs through this host.
        const location = res.headers.get("location");
        if (location) {
          const del = await this.t.send(op, new URL(location, url).toString(), { method: "DELETE", scopes: [repositoryScope(d.repository, true)] });
          await del.body?.cancel();
        }
        throw opError(
          op,
          `the registry did not mount blob ${digest} from ${s.repository} (cross-repository mounts refused)`,
          `copy the image with: docker buildx imagetools create --tag ${formatImageRef(d)} ${formatImageRef(s)}`,
        );
      }
      throw statusError(this.t, op, res, body);
    }
  }
}
