// httpFetch (src/registry/http-fetch.ts): the parts of fetch the registry transport uses, on node:http, against a
// local server; and a RegistryClient on it listing tags like the default one.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type net from "node:net";
import { httpFetch } from "../../src/registry/http-fetch.js";
import { networkErrorCode } from "../../src/registry/errors.js";
import { RegistryClient } from "../../src/registry/index.js";

async function server(handler: http.RequestListener): Promise<{ url: string; host: string; close(): Promise<void> }> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const host = `127.0.0.1:${(s.address() as net.AddressInfo).port}`;
  return {
    url: `http://${host}`,
    host,
    close: () => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r()))),
  };
}

test("httpFetch: status, headers, body; redirects followed (Authorization kept on the same origin only); HEAD has no body", async () => {
  const seen: Array<{ path: string; auth?: string; method?: string; body: string }> = [];
  const other = await server((req, res) => {
    seen.push({ path: req.url!, auth: req.headers.authorization, body: "" });
    res.end("elsewhere");
  });
  const s = await server((req, res) => {
    let body = "";
    req.on("data", (b: Buffer) => (body += b.toString()));
    req.on("end", () => {
      seen.push({ path: req.url!, auth: req.headers.authorization, method: req.method, body });
      if (req.url === "/moved") return void res.writeHead(302, { location: "/here" }).end();
      if (req.url === "/away") return void res.writeHead(307, { location: `${other.url}/there` }).end();
      res.writeHead(201, { "x-a": "1", "content-type": "application/json" }).end(JSON.stringify({ ok: true, method: req.method, body }));
    });
  });
  try {
    const r = await httpFetch(`${s.url}/moved`, { headers: { Authorization: "Bearer t" } });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get("X-A"), "1");
    assert.equal(r.headers.get("missing"), null);
    assert.deepEqual(JSON.parse(Buffer.from(await r.arrayBuffer()).toString()), { ok: true, method: "GET", body: "" });
    assert.deepEqual(seen.slice(0, 2).map((x) => [x.path, x.auth]), [["/moved", "Bearer t"], ["/here", "Bearer t"]]);
    const put = await httpFetch(`${s.url}/p`, { method: "PUT", body: Buffer.from("data") });
    assert.deepEqual(JSON.parse(await put.text()), { ok: true, method: "PUT", body: "data" });
    const away = await httpFetch(`${s.url}/away`, { headers: { Authorization: "Bearer t" } });
    assert.equal(await away.text(), "elsewhere");
    assert.equal(seen[seen.length - 1].auth, undefined, "no credentials to another origin");
    const head = await httpFetch(`${s.url}/h`, { method: "HEAD" });
    assert.equal(head.status, 201);
    assert.equal(head.body, null);
  } finally {
    await s.close();
    await other.close();
  }
});

test("httpFetch: a refused connection carries its code; a timeout rejects with TimeoutError", async () => {
  const s = await server(() => {});
  const url = s.url;
  await s.close();
  await assert.rejects(httpFetch(`${url}/x`), (e) => networkErrorCode(e) === "ECONNREFUSED");
  const slow = await server(() => {});
  try {
    await assert.rejects(httpFetch(`${slow.url}/x`, { signal: AbortSignal.timeout(100) }), (e) => networkErrorCode(e) === "TIMEOUT");
  } finally {
    await slow.close();
  }
});

test("a RegistryClient on httpFetch lists tags (Link pages followed) and counts its requests", async () => {
  const s = await server((req, res) => {
    const last = new URL(req.url!, "http://x").searchParams.get("last");
    const page = last ? { name: "p/app", tags: ["b", "c"] } : { name: "p/app", tags: ["a"] };
    if (!last) res.setHeader("link", '</v2/p/app/tags/list?last=a&n=1>; rel="next"');
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(page));
  });
  try {
    const client = new RegistryClient({ fetch: httpFetch });
    assert.deepEqual(await client.listTags(`${s.host}/p/app`), ["a", "b", "c"]);
    assert.equal(client.requestCount, 2);
  } finally {
    await s.close();
  }
});
