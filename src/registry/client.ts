// A client for the OCI distribution API, hand-written on Node's global fetch (docs/registry.md):
// tags list (paginated), manifest HEAD/GET/PUT (Docker v2 and OCI manifests and indexes), config blobs, tag copies
// (manifest GET + PUT, no pull), with the docker CLI's credentials, basic and bearer auth, retries with backoff and
// errors that name the registry, the operation and what to do.

import { createHash } from "node:crypto";
import { UserError } from "../diagnostics.js";
import { VERSION } from "../version.js";
import { parseWwwAuthenticate, repositoryScope, TokenCache, tokenExpiry, type Challenge } from "./auth.js";
import { DockerCredentialStore, type Credentials } from "./credentials.js";
import { apiHost, formatImageRef, isLoopback, parseImageRef, parseRepository, type ImageRef } from "./ref.js";

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

export interface RegistryClientOptions {
  /** The docker CLI config dir holding config.json (default $DOCKER_CONFIG or ~/.docker). */
  dockerConfigDir?: string;
  /** Retries after the first attempt on 5xx, 429 and network errors (default 4). */
  retries?: number;
  /** First backoff delay in ms, doubled each retry, with jitter (default 200). */
  retryDelayMs?: number;
  /** Longest wait between two attempts, Retry-After included (default 20000). */
  maxRetryDelayMs?: number;
  /** Per-request time limit in ms (default 60000). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  userAgent?: string;
  /** Hosts spoken to over plain HTTP besides loopback ones; default: $STAPEL2DOCKER_INSECURE_REGISTRIES (comma-separated). */
  insecureRegistries?: string[];
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

/** What a request is for, in messages: "listing tags of 127.0.0.1:5000/demo". */
interface Operation {
  what: string;
  registry: string;
  repository: string;
  push: boolean;
  /** The server actually spoken to when it is not the registry (a token server's origin). */
  endpoint?: string;
}

interface SendInit {
  method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE";
  headers?: Record<string, string>;
  body?: Buffer;
  /** Scopes the request needs (bearer auth). */
  scopes: string[];
}

const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ECONNABORTED",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "TIMEOUT",
]);

const TLS_CODE = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH|EPROTO)/;

const INSECURE_ENV = "STAPEL2DOCKER_INSECURE_REGISTRIES";

export function sha256Digest(body: Buffer): string {
  return `sha256:${createHash("sha256").update(body).digest("hex")}`;
}

function digestOf(body: Buffer, algorithmOf?: string): string | undefined {
  const alg = algorithmOf ? algorithmOf.slice(0, algorithmOf.indexOf(":")) : "sha256";
  if (alg === "sha256") return sha256Digest(body);
  if (alg === "sha512") return `sha512:${createHash("sha512").update(body).digest("hex")}`;
  return undefined;
}

function mediaTypeOf(contentType: string | null): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A network failure's code (ECONNREFUSED, CERT_HAS_EXPIRED...), looking through fetch's "fetch failed" wrapper. */
export function networkErrorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur && typeof cur === "object"; i++) {
    const err = cur as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown[] };
    if (err.name === "TimeoutError") return "TIMEOUT";
    if (typeof err.code === "string" && err.code !== "") return err.code;
    if (Array.isArray(err.errors) && err.errors.length > 0) cur = err.errors[0];
    else cur = err.cause;
  }
  return undefined;
}

function networkErrorText(e: unknown): string {
  let cur: unknown = e;
  let text = "";
  for (let i = 0; i < 5 && cur instanceof Error; i++) {
    text = cur.message;
    cur = (cur as { cause?: unknown }).cause;
  }
  return text;
}

/** The registry's own error ({"errors":[{"code","message"}]}), when it said one. */
function registryErrorText(body: string): string {
  try {
    const j = JSON.parse(body) as { errors?: Array<{ code?: string; message?: string }> };
    if (Array.isArray(j.errors) && j.errors.length > 0) {
      return j.errors.map((x) => [x.code, x.message].filter(Boolean).join(": ")).join("; ");
    }
  } catch {
    /* not JSON */
  }
  const line = body.trim().split("\n")[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** `<url>; rel="next"` of a Link header. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(",")) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /(?:^|;)\s*rel\s*=\s*"?next"?\s*(?:;|$)/i.test(m[2]!)) return m[1];
  }
  return undefined;
}

/** Seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const s = header.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export class RegistryClient {
  /** HTTP requests sent (token requests and retries included): for the build's figures. */
  requestCount = 0;

  private readonly creds: DockerCredentialStore;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly userAgent: string;
  private readonly insecure: Set<string>;
  private readonly challenges = new Map<string, Challenge>();
  private readonly tokens = new TokenCache();

  constructor(opts: RegistryClientOptions = {}) {
    this.creds = new DockerCredentialStore(opts.dockerConfigDir);
    this.retries = opts.retries ?? 4;
    this.retryDelayMs = opts.retryDelayMs ?? 200;
    this.maxRetryDelayMs = opts.maxRetryDelayMs ?? 20_000;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
    this.userAgent = opts.userAgent ?? `stapel2docker/${VERSION}`;
    const list = opts.insecureRegistries ?? (process.env[INSECURE_ENV] ?? "").split(",");
    this.insecure = new Set(list.map((h) => h.trim().toLowerCase()).filter((h) => h !== ""));
  }

  /** "http://host:port" or "https://host". */
  baseUrl(registry: string): string {
    const plain = isLoopback(registry) || this.insecure.has(registry.toLowerCase());
    return `${plain ? "http" : "https"}://${apiHost(registry)}`;
  }

  // ---------------------------------------------------------------- public API

  /** Every tag of a repository ("registry/path"), following Link rel="next" pages; [] when it does not exist. */
  async listTags(repo: string, opts: { pageSize?: number } = {}): Promise<string[]> {
    const r = parseRepository(repo);
    const op: Operation = { what: `listing tags of ${r.registry}/${r.repository}`, registry: r.registry, repository: r.repository, push: false };
    const base = this.baseUrl(r.registry);
    let url: string | undefined = `${base}/v2/${r.repository}/tags/list${opts.pageSize ? `?n=${opts.pageSize}` : ""}`;
    const tags = new Set<string>();
    const seen = new Set<string>();
    let first = true;
    while (url !== undefined) {
      if (seen.has(url)) throw this.fail(op, `the registry's pagination loops (${url} again)`, "report this registry bug; listing stopped");
      seen.add(url);
      const res = await this.send(op, url, { method: "GET", headers: { Accept: "application/json" }, scopes: [repositoryScope(r.repository, false)] });
      if (res.status === 404 && first) {
        await res.body?.cancel();
        return [];
      }
      const body = await this.readBody(op, res);
      if (res.status !== 200) throw this.statusError(op, res, body);
      let page: { tags?: unknown };
      try {
        page = JSON.parse(body.toString("utf8")) as { tags?: unknown };
      } catch {
        throw this.fail(op, "the tags list is not JSON", "is this a container registry?");
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
    const res = await this.send(op, this.manifestUrl(r), { method: "HEAD", headers: { Accept: MANIFEST_ACCEPT }, scopes: [repositoryScope(r.repository, false)] });
    await res.body?.cancel();
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw this.statusError(op, res, Buffer.alloc(0));
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
      throw this.fail(op, "it is a schema 1 manifest, which has no config blob", "push the image again with a current docker");
    }
    const desc = m.json?.config as { digest?: unknown } | undefined;
    if (!desc || typeof desc.digest !== "string") throw this.fail(op, `the manifest (${m.mediaType || "no media type"}) names no config blob`);
    const blob = await this.fetchBlob(op, r, desc.digest);
    let config: unknown;
    try {
      config = JSON.parse(blob.toString("utf8"));
    } catch {
      throw this.fail(op, `the config blob ${desc.digest} is not JSON`);
    }
    return { digest: desc.digest, config, manifestDigest: m.digest };
  }

  /** A blob's bytes, digest checked. `repo` is "registry/path". */
  async getBlob(repo: string, digest: string): Promise<Buffer> {
    const r = parseRepository(repo);
    return this.fetchBlob(this.op(`reading blob ${digest} of ${r.registry}/${r.repository}`, r, false), r, digest);
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
    return `${this.baseUrl(r.registry)}/v2/${r.repository}/manifests/${r.digest ?? r.tag!}`;
  }

  private async fetchManifest(r: ImageRef, what: string): Promise<Manifest> {
    const op = this.op(what, r, false);
    const res = await this.send(op, this.manifestUrl(r), { method: "GET", headers: { Accept: MANIFEST_ACCEPT }, scopes: [repositoryScope(r.repository, false)] });
    const body = await this.readBody(op, res);
    if (res.status !== 200) throw this.statusError(op, res, body, r);
    const said = res.headers.get("docker-content-digest") ?? undefined;
    const digest = digestOf(body, r.digest ?? said) ?? (r.digest ?? said)!;
    if (r.digest !== undefined && digest !== r.digest) {
      throw this.fail(op, `the manifest's content has digest ${digest}, not the ${r.digest} asked for`, "the registry returned corrupt or wrong data; try again, or report it to the registry's operators");
    }
    if (said !== undefined && digestOf(body, said) !== undefined && digestOf(body, said) !== said) {
      throw this.fail(op, `the manifest's content does not match its Docker-Content-Digest ${said}`, "the registry returned corrupt data; try again");
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let json: any;
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch {
      throw this.fail(op, "the manifest is not JSON");
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
    const res = await this.send(op, this.manifestUrl(r), {
      method: "PUT",
      headers: { "Content-Type": m.mediaType },
      body: m.body,
      scopes: [repositoryScope(r.repository, true)],
    });
    const body = await this.readBody(op, res);
    if (res.status !== 201 && res.status !== 200 && res.status !== 202) throw this.statusError(op, res, body, r);
    const said = res.headers.get("docker-content-digest");
    if (said && said.startsWith("sha256:") && said !== digest) {
      throw this.fail(op, `the registry stored the manifest as ${said}, but its content's digest is ${digest}`, "the registry may have rewritten the manifest; check its media type");
    }
    return digest;
  }

  private async fetchBlob(op: Operation, r: ImageRef, digest: string): Promise<Buffer> {
    const url = `${this.baseUrl(r.registry)}/v2/${r.repository}/blobs/${digest}`;
    const res = await this.send(op, url, { method: "GET", scopes: [repositoryScope(r.repository, false)] });
    const body = await this.readBody(op, res);
    if (res.status !== 200) throw this.statusError(op, res, body, { ...r, digest });
    const got = digestOf(body, digest);
    if (got !== undefined && got !== digest) {
      throw this.fail(op, `the blob's content has digest ${got}, not ${digest}`, "the registry returned corrupt data; try again");
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
    throw this.fail(
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
      const url = `${this.baseUrl(d.registry)}/v2/${d.repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(s.repository)}`;
      const res = await this.send(op, url, {
        method: "POST",
        headers: { "Content-Length": "0" },
        scopes: [repositoryScope(d.repository, true), repositoryScope(s.repository, false)],
      });
      const body = await this.readBody(op, res);
      if (res.status === 201) continue;
      if (res.status === 202) {
        // The registry opened an upload instead of mounting: cancel it, we do not copy blobs through this host.
        const location = res.headers.get("location");
        if (location) {
          const del = await this.send(op, new URL(location, url).toString(), { method: "DELETE", scopes: [repositoryScope(d.repository, true)] });
          await del.body?.cancel();
        }
        throw this.fail(
          op,
          `the registry did not mount blob ${digest} from ${s.repository} (cross-repository mounts refused)`,
          `copy the image with: docker buildx imagetools create --tag ${formatImageRef(d)} ${formatImageRef(s)}`,
        );
      }
      throw this.statusError(op, res, body);
    }
  }

  // ---------------------------------------------------------------- transport, auth, retries, errors

  private async readBody(op: Operation, res: Response): Promise<Buffer> {
    try {
      return Buffer.from(await res.arrayBuffer());
    } catch (e) {
      throw this.networkError(op, e);
    }
  }

  /** One logical request: known auth first; on 401 the challenge is followed once. */
  private async send(op: Operation, url: string, init: SendInit): Promise<Response> {
    // Credentials are looked up only once a registry asked for them: an open registry needs no config, no helper.
    let challenge = this.challenges.get(op.registry);
    let creds = challenge ? await this.creds.get(op.registry) : undefined;
    let scopes = init.scopes;
    let authorization = challenge ? await this.authorization(op, challenge, scopes, creds) : undefined;
    let res = await this.fetchRetrying(op, url, init, authorization);
    if (res.status !== 401) return res;

    const fresh = parseWwwAuthenticate(res.headers.get("www-authenticate"));
    const body = await this.readBody(op, res);
    creds ??= await this.creds.get(op.registry);
    if (!fresh) throw this.unauthorized(op, creds, registryErrorText(body.toString("utf8")));
    if (challenge?.scheme === "bearer") this.tokens.drop(this.tokenKey(op.registry, scopes));
    const asked = fresh.params.scope;
    if (asked) scopes = [...new Set([...scopes, ...asked.split(" ")])].sort();
    this.challenges.set(op.registry, fresh);
    challenge = fresh;
    const sentBefore = authorization;
    authorization = await this.authorization(op, challenge, scopes, creds);
    if (authorization === undefined || authorization === sentBefore) throw this.unauthorized(op, creds, registryErrorText(body.toString("utf8")));
    res = await this.fetchRetrying(op, url, init, authorization);
    if (res.status === 401) {
      const again = await this.readBody(op, res);
      this.tokens.drop(this.tokenKey(op.registry, scopes));
      throw this.unauthorized(op, creds, registryErrorText(again.toString("utf8")));
    }
    return res;
  }

  private tokenKey(registry: string, scopes: string[]): string {
    return `${registry}\n${[...scopes].sort().join(" ")}`;
  }

  private async authorization(op: Operation, ch: Challenge, scopes: string[], creds: Credentials | undefined): Promise<string | undefined> {
    if (ch.scheme === "basic") {
      if (!creds || creds.username === undefined || creds.password === undefined) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
    }
    const token = await this.tokens.get(this.tokenKey(op.registry, scopes), () => this.fetchToken(op, ch, scopes, creds));
    return `Bearer ${token}`;
  }

  private async fetchToken(op: Operation, ch: Challenge, scopes: string[], creds: Credentials | undefined) {
    const realm = ch.params.realm;
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm ?? "");
      if (realmUrl.protocol !== "http:" && realmUrl.protocol !== "https:") throw new Error("scheme");
    } catch {
      throw this.fail(op, `the registry asked for a token from an invalid realm ${JSON.stringify(realm ?? "")}`, "the registry's auth configuration is broken; tell its operators");
    }
    const tokenOp: Operation = { ...op, what: `${op.what} (getting a token from ${realmUrl.origin}${realmUrl.pathname})`, endpoint: realmUrl.origin };
    const service = ch.params.service;
    let res: Response;
    if (creds?.identityToken) {
      const form = new URLSearchParams();
      form.set("grant_type", "refresh_token");
      form.set("refresh_token", creds.identityToken);
      form.set("client_id", "stapel2docker");
      if (service) form.set("service", service);
      if (scopes.length) form.set("scope", scopes.join(" "));
      res = await this.fetchRetrying(tokenOp, realmUrl.toString(), {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: Buffer.from(form.toString()),
        scopes,
      }, undefined);
    } else {
      const u = new URL(realmUrl);
      if (service) u.searchParams.set("service", service);
      for (const s of scopes) u.searchParams.append("scope", s);
      let authorization: string | undefined;
      if (creds && creds.username !== undefined && creds.password !== undefined) {
        u.searchParams.set("account", creds.username);
        authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
      }
      res = await this.fetchRetrying(tokenOp, u.toString(), { method: "GET", scopes }, authorization);
    }
    const body = await this.readBody(tokenOp, res);
    if (res.status === 401 || res.status === 403) throw this.unauthorized(tokenOp, creds, registryErrorText(body.toString("utf8")));
    if (res.status !== 200) throw this.statusError(tokenOp, res, body);
    let j: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      j = JSON.parse(body.toString("utf8")) as typeof j;
    } catch {
      throw this.fail(tokenOp, "the token server's answer is not JSON");
    }
    const token = typeof j.token === "string" && j.token ? j.token : typeof j.access_token === "string" ? j.access_token : "";
    if (!token) throw this.fail(tokenOp, "the token server's answer has no token");
    return { token, expiresAt: tokenExpiry(Date.now(), j.expires_in) };
  }

  /** fetch with retries on network errors, 5xx and 429; the last answer (or a UserError) when they run out. */
  private async fetchRetrying(op: Operation, url: string, init: SendInit, authorization: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { "User-Agent": this.userAgent, ...(init.headers ?? {}) };
    if (authorization) headers.Authorization = authorization;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        this.requestCount++;
        res = await this.fetchImpl(url, {
          method: init.method,
          headers,
          ...(init.body !== undefined ? { body: init.body } : {}),
          redirect: "follow",
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (e) {
        const code = networkErrorCode(e);
        if (attempt < this.retries && code !== undefined && RETRYABLE_CODES.has(code)) {
          await sleep(this.backoff(attempt));
          continue;
        }
        throw this.networkError(op, e, attempt + 1);
      }
      const retryable = res.status === 429 || res.status === 408 || (res.status >= 500 && res.status !== 501 && res.status !== 505);
      if (!retryable || attempt >= this.retries) return res;
      const after = retryAfterMs(res.headers.get("retry-after"));
      await res.body?.cancel().catch(() => {});
      await sleep(Math.min(this.maxRetryDelayMs, Math.max(after ?? 0, this.backoff(attempt))));
    }
  }

  /** Exponential backoff with jitter: base·2^attempt, between half and all of it, capped. */
  private backoff(attempt: number): number {
    const full = Math.min(this.maxRetryDelayMs, this.retryDelayMs * 2 ** attempt);
    return Math.round(full / 2 + (Math.random() * full) / 2);
  }

  private fail(op: Operation, message: string, hint?: string): UserError {
    return new UserError({ message: `${op.what}: ${message}`, ...(hint ? { hint } : {}) });
  }

  private unauthorized(op: Operation, creds: Credentials | undefined, said: string): UserError {
    const detail = said ? ` (${said})` : "";
    if (creds) {
      return this.fail(
        op,
        `${op.registry} refused the credentials from ${creds.source}${detail}`,
        `check the user name and password, then log in again: docker login ${op.registry}`,
      );
    }
    return this.fail(op, `${op.registry} requires authentication${detail}`, `log in: docker login ${op.registry}`);
  }

  private statusError(op: Operation, res: Response, body: Buffer, ref?: ImageRef): UserError {
    const said = registryErrorText(body.toString("utf8"));
    const detail = `${res.status}${said ? `: ${said}` : ""}`;
    const repo = `${op.registry}/${op.repository}`;
    switch (res.status) {
      case 401:
        return this.fail(op, `authentication required (${detail})`, `log in: docker login ${op.registry}`);
      case 403:
        return this.fail(
          op,
          `no permission to ${op.push ? "push to" : "pull from"} ${repo} (${detail})`,
          `ask for ${op.push ? "push" : "pull"} access to ${repo}, or log in as a user that has it: docker login ${op.registry}`,
        );
      case 404: {
        const what = /NAME_UNKNOWN/.test(said)
          ? `repository ${repo} not found`
          : ref?.digest !== undefined
            ? `${ref.digest} not found in ${repo}`
            : ref?.tag !== undefined
              ? `tag ${ref.tag} not found in ${repo}`
              : `not found in ${repo}`;
        return this.fail(op, `${what} (${detail})`, "check the repository and tag, or push the image first");
      }
      case 429:
        return this.fail(op, `too many requests (${detail}), still after ${this.retries + 1} attempts`, "wait and try again, or log in to get a higher rate limit");
      default:
        if (res.status >= 500) {
          return this.fail(op, `the registry failed with ${detail} (${this.retries + 1} attempts)`, `the registry at ${this.baseUrl(op.registry)} is failing; try again later or check its logs`);
        }
        if (res.status === 400 && /BLOB_UNKNOWN|MANIFEST_BLOB_UNKNOWN/.test(said)) {
          return this.fail(op, `the registry lacks a blob the manifest references (${detail})`, `push the image's layers to ${repo} first`);
        }
        return this.fail(op, `unexpected answer ${detail}`);
    }
  }

  private networkError(op: Operation, e: unknown, attempts = 1): UserError {
    const code = networkErrorCode(e) ?? "";
    const text = networkErrorText(e);
    const base = op.endpoint ?? this.baseUrl(op.registry);
    const host = op.endpoint ? new URL(op.endpoint).host : op.registry;
    const tries = attempts > 1 ? `, ${attempts} attempts` : "";
    if (code === "ECONNREFUSED") {
      return this.fail(op, `cannot connect to ${host} (connection refused${tries})`, `is ${op.endpoint ? "the token server" : "the registry"} running at ${base}? start it, or check the host and port`);
    }
    if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
      return this.fail(op, `cannot resolve the host of ${host} (${code})`, "check the registry's host name and the DNS");
    }
    if (code === "TIMEOUT" || code === "ETIMEDOUT" || code.startsWith("UND_ERR_") && /TIMEOUT/.test(code)) {
      return this.fail(op, `${host} did not answer within ${Math.round(this.timeoutMs / 1000)} s${tries}`, `is the registry at ${base} up and reachable?`);
    }
    if (TLS_CODE.test(code) || /certificate|ssl|tls/i.test(text)) {
      const plainHttp = /wrong version number|packet length too long|http request/i.test(text);
      return this.fail(
        op,
        `TLS with ${host} failed (${code || "TLS error"}${text ? `: ${text}` : ""})`,
        plainHttp
          ? `the registry seems to speak plain HTTP: add it to insecure registries (${INSECURE_ENV}=${op.registry})`
          : `the registry's certificate is not trusted: give its CA to Node (NODE_EXTRA_CA_CERTS=ca.pem), or add it to insecure registries (${INSECURE_ENV}=${op.registry}) if it serves plain HTTP`,
      );
    }
    return this.fail(op, `cannot reach ${host} (${code || text || "network error"}${tries})`, `is the registry at ${base} up and reachable?`);
  }
}
