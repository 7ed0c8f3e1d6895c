// A small `fetch` on node:http/https for the registry transport (RegistryClientOptions.fetch): the parts of the
// Fetch API the transport uses (status, headers.get, arrayBuffer, body.cancel, redirect: "follow", an AbortSignal),
// without loading undici (Node's fetch), whose start-up costs about 60 ms of CPU. The no-op fast path of `build`
// (src/builder/noop-cache.ts), one tag listing, uses it. Errors carry the socket error as `cause` (its `code`, as
// undici's do), an abort rejects with the signal's reason (a TimeoutError for AbortSignal.timeout).

import http from "node:http";
import { createRequire } from "node:module";

// node:https (and with it node:tls) is loaded when a request needs it: a registry on plain http (a local one, a
// mirror inside the CI network) never pays for TLS's start-up
const require = createRequire(import.meta.url);
let httpsModule: typeof import("node:https") | undefined;
const https = (): typeof import("node:https") => (httpsModule ??= require("node:https") as typeof import("node:https"));

const MAX_REDIRECTS = 10;

interface MiniResponse {
  status: number;
  ok: boolean;
  url: string;
  headers: { get(name: string): string | null; has(name: string): boolean };
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
  body: { cancel(): Promise<void> } | null;
}

export const httpFetch = (async (input: string | URL, init: RequestInit = {}): Promise<MiniResponse> => {
  let url = new URL(String(input));
  let method = (init.method ?? "GET").toUpperCase();
  let body = init.body as Buffer | string | undefined | null;
  const headers: Record<string, string> = { ...((init.headers as Record<string, string> | undefined) ?? {}) };
  for (let hop = 0; ; hop++) {
    const res = await request(url, method, headers, body ?? undefined, init.signal ?? undefined);
    const location = res.headers.location;
    const status = res.statusCode ?? 0;
    if (init.redirect !== "manual" && location && [301, 302, 303, 307, 308].includes(status)) {
      res.resume();
      if (hop >= MAX_REDIRECTS) throw new TypeError("fetch failed", { cause: new Error("too many redirects") });
      const next = new URL(location, url);
      // as fetch: 303 (and 301/302 of a POST) become a GET without a body; credentials stay on the same origin
      if (status === 303 || ((status === 301 || status === 302) && method === "POST")) {
        method = method === "HEAD" ? "HEAD" : "GET";
        body = undefined;
      }
      if (next.origin !== url.origin) delete headers.Authorization, delete headers.authorization;
      url = next;
      continue;
    }
    let consumed: Promise<Buffer> | undefined;
    const read = () =>
      (consumed ??= new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        res.on("data", (b: Buffer) => chunks.push(b));
        res.on("end", () => resolve(Buffer.concat(chunks)));
        res.on("error", (e) => reject(new TypeError("fetch failed", { cause: e })));
        res.on("aborted", () => reject(new TypeError("fetch failed", { cause: Object.assign(new Error("response aborted"), { code: "ECONNRESET" }) })));
      }));
    const get = (name: string): string | null => {
      const v = res.headers[name.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
    };
    return {
      status,
      ok: status >= 200 && status < 300,
      url: url.toString(),
      headers: { get, has: (n) => get(n) !== null },
      arrayBuffer: async () => {
        const b = await read();
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      },
      text: async () => (await read()).toString("utf8"),
      body: method === "HEAD" ? null : { cancel: async () => void res.destroy() },
    };
  }
}) as unknown as typeof fetch;

function request(url: URL, method: string, headers: Record<string, string>, body: Buffer | string | undefined, signal: AbortSignal | undefined): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const mod = url.protocol === "https:" ? https() : http;
    const h: Record<string, string> = { ...headers };
    if (body !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === "content-length")) h["Content-Length"] = String(Buffer.byteLength(body));
    const req = mod.request(url, { method, headers: h });
    const onAbort = () => req.destroy(signal!.reason as Error);
    signal?.addEventListener("abort", onAbort, { once: true });
    req.on("response", (res) => {
      signal?.removeEventListener("abort", onAbort);
      // an abort after the headers stops the body too
      if (signal) signal.addEventListener("abort", () => res.destroy(signal.reason as Error), { once: true });
      resolve(res);
    });
    req.on("error", (e) => {
      signal?.removeEventListener("abort", onAbort);
      reject(signal?.aborted ? signal.reason : new TypeError("fetch failed", { cause: e }));
    });
    req.end(body);
  });
}
