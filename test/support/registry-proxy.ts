// An in-process HTTP proxy in front of the stack's registry (127.0.0.1:5000) that records every request and can
// answer chosen ones with a 500. Used as a build's registry host, it sees both our client's requests and the
// daemon's pushes (Docker treats 127.0.0.0/8 as insecure: plain HTTP); it keeps the client's Host header, so the
// upload Locations the registry hands out point back at the proxy.
import http from "node:http";
import type net from "node:net";

const UPSTREAM = { host: "127.0.0.1", port: 5000 };

export interface Seen {
  method: string;
  path: string;
  /** The status sent back (500 when injected). */
  status: number;
  injected: boolean;
  ours: boolean;
}

export interface RegistryProxy {
  host: string;
  seen: Seen[];
  /** Whether to answer this request with a 500 instead of forwarding it (default: never). */
  fault: (r: { method: string; path: string; ours: boolean; n: number }) => boolean;
  close(): Promise<void>;
}

export async function startRegistryProxy(): Promise<RegistryProxy> {
  const proxy: RegistryProxy = { host: "", seen: [], fault: () => false, close: async () => {} };
  const server = http.createServer((req, res) => {
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    const ours = /^stapel2docker\//.test(req.headers["user-agent"] ?? "");
    const entry: Seen = { method, path: url.replace(/\?.*$/, ""), status: 0, injected: false, ours };
    proxy.seen.push(entry);
    if (proxy.fault({ method, path: entry.path, ours, n: proxy.seen.length })) {
      entry.status = 500;
      entry.injected = true;
      req.resume();
      const body = JSON.stringify({ errors: [{ code: "UNKNOWN", message: "injected fault" }] });
      res.writeHead(500, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
      res.end(body);
      return;
    }
    const up = http.request({ ...UPSTREAM, method, path: url, headers: req.headers }, (ur) => {
      entry.status = ur.statusCode ?? 0;
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on("error", () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  proxy.host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return proxy;
}
