// HTTP to a registry: one logical request (`send`) with the docker CLI's credentials, basic and bearer auth (a
// challenge followed once, tokens cached per scope), retries with backoff on network errors, 5xx and 429.

import { VERSION } from "../version.js";
import { parseWwwAuthenticate, TokenCache, tokenExpiry, type Challenge } from "./auth.js";
import { DockerCredentialStore, type Credentials } from "./credentials.js";
import { INSECURE_ENV, networkError, networkErrorCode, opError, registryErrorText, statusError, unauthorizedError, type ErrorContext, type Operation } from "./errors.js";
import { apiHost, isLoopback } from "./ref.js";

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

export interface SendInit {
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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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

export class RegistryTransport implements ErrorContext {
  /** HTTP requests sent (token requests and retries included): for the build's figures. */
  requestCount = 0;

  private readonly creds: DockerCredentialStore;
  readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  readonly timeoutMs: number;
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

  async readBody(op: Operation, res: Response): Promise<Buffer> {
    try {
      return Buffer.from(await res.arrayBuffer());
    } catch (e) {
      throw networkError(this, op, e);
    }
  }

  /** One logical request: known auth first; on 401 the challenge is followed once. */
  async send(op: Operation, url: string, init: SendInit): Promise<Response> {
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
    if (!fresh) throw unauthorizedError(op, creds, registryErrorText(body.toString("utf8")));
    if (challenge?.scheme === "bearer") this.tokens.drop(this.tokenKey(op.registry, scopes));
    const asked = fresh.params.scope;
    if (asked) scopes = [...new Set([...scopes, ...asked.split(" ")])].sort();
    this.challenges.set(op.registry, fresh);
    challenge = fresh;
    const sentBefore = authorization;
    authorization = await this.authorization(op, challenge, scopes, creds);
    if (authorization === undefined || authorization === sentBefore) throw unauthorizedError(op, creds, registryErrorText(body.toString("utf8")));
    res = await this.fetchRetrying(op, url, init, authorization);
    if (res.status === 401) {
      const again = await this.readBody(op, res);
      this.tokens.drop(this.tokenKey(op.registry, scopes));
      throw unauthorizedError(op, creds, registryErrorText(again.toString("utf8")));
    }
    return res;
  }

  tokenKey(registry: string, scopes: string[]): string {
    return `${registry}\n${[...scopes].sort().join(" ")}`;
  }

  async authorization(op: Operation, ch: Challenge, scopes: string[], creds: Credentials | undefined): Promise<string | undefined> {
    if (ch.scheme === "basic") {
      if (!creds || creds.username === undefined || creds.password === undefined) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
    }
    const token = await this.tokens.get(this.tokenKey(op.registry, scopes), () => this.fetchToken(op, ch, scopes, creds));
    return `Bearer ${token}`;
  }

  async fetchToken(op: Operation, ch: Challenge, scopes: string[], creds: Credentials | undefined) {
    const realm = ch.params.realm;
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm ?? "");
      if (realmUrl.protocol !== "http:" && realmUrl.protocol !== "https:") throw new Error("scheme");
    } catch {
      throw opError(op, `the registry asked for a token from an invalid realm ${JSON.stringify(realm ?? "")}`, "the registry's auth configuration is broken; tell its operators");
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
    if (res.status === 401 || res.status === 403) throw unauthorizedError(tokenOp, creds, registryErrorText(body.toString("utf8")));
    if (res.status !== 200) throw statusError(this, tokenOp, res, body);
    let j: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      j = JSON.parse(body.toString("utf8")) as typeof j;
    } catch {
      throw opError(tokenOp, "the token server's answer is not JSON");
    }
    const token = typeof j.token === "string" && j.token ? j.token : typeof j.access_token === "string" ? j.access_token : "";
    if (!token) throw opError(tokenOp, "the token server's answer has no token");
    return { token, expiresAt: tokenExpiry(Date.now(), j.expires_in) };
  }

  /** fetch with retries on network errors, 5xx and 429; the last answer (or a UserError) when they run out. */
  async fetchRetrying(op: Operation, url: string, init: SendInit, authorization: string | undefined): Promise<Response> {
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
        throw networkError(this, op, e, attempt + 1);
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
}
