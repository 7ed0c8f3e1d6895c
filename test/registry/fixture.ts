// Helpers of the registry tests: the real stack (scripts/stack/up.sh), throwaway `docker-registry` instances with
// their own config (basic or token auth) on free 127.0.0.1 ports, in-process HTTP servers (token server, proxies)
// and a runner for docker commands. Everything lives in temp dirs that the tests remove.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "../support/paths.js";

export const LOCAL_REGISTRY = "127.0.0.1:5000";

export function run(file: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: opts.timeoutMs ?? 180_000, maxBuffer: 64 * 1024 * 1024, env: opts.env ?? process.env },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${file} ${args.join(" ")} failed: ${error.message}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
        else resolve({ stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

let stackUp: Promise<unknown> | undefined;
/** Brings the stack up once per test process (idempotent, about a second when it is up). */
export function ensureStack(): Promise<unknown> {
  stackUp ??= run("bash", [path.join(repoRoot, "scripts/stack/up.sh")], { timeoutMs: 25 * 60_000 });
  return stackUp;
}

/** A repository path no other test (or run) uses. */
export function uniqueRepo(name: string): string {
  return `s2d-registry-test/${name}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `s2d-${prefix}-`));
}

/** `docker tag` a local image as `ref` and push it (with `--config DIR` when given). */
export async function pushLocal(ref: string, opts: { from?: string; dockerConfig?: string } = {}): Promise<void> {
  const cfg = opts.dockerConfig ? ["--config", opts.dockerConfig] : [];
  await run("docker", ["tag", opts.from ?? "stapel2docker/base-busybox:latest", ref]);
  try {
    await run("docker", [...cfg, "push", "-q", ref]);
  } finally {
    await run("docker", ["image", "rm", ref]).catch(() => {});
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningRegistry {
  host: string;
  dir: string;
  stop(): Promise<void>;
}

/** Starts `docker-registry serve` with `authYaml` (an indented `auth:` block, or "") on a free port. */
export async function startRegistry(authYaml: string): Promise<RunningRegistry> {
  const dir = await tempDir("registry");
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${path.join(dir, "data")}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: ${host}`,
    authYaml,
    "",
  ].join("\n");
  await writeFile(path.join(dir, "config.yml"), config);
  const child: ChildProcess = spawn("docker-registry", ["serve", path.join(dir, "config.yml")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}):\n${stderr}`);
    try {
      const r = await fetch(`http://${host}/v2/`);
      await r.body?.cancel();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`docker-registry did not answer on ${host}:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    host,
    dir,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RunningServer {
  port: number;
  host: string;
  close(): Promise<void>;
}

export async function startServer(handler: http.RequestListener): Promise<RunningServer> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function readRequestBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Forwards a request to `target` ("127.0.0.1:5000") and copies the answer back (Location rewritten to us). */
export async function forward(req: http.IncomingMessage, res: http.ServerResponse, target: string, urlPath = req.url ?? "/"): Promise<void> {
  const body = await readRequestBody(req);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (typeof v === "string" && !["host", "connection", "content-length", "transfer-encoding"].includes(k)) headers[k] = v;
  }
  const method = req.method ?? "GET";
  const upstream = await fetch(`http://${target}${urlPath}`, {
    method,
    headers,
    ...(body.length > 0 || method === "PUT" || method === "POST" ? { body } : {}),
    redirect: "manual",
  });
  const out: Record<string, string> = {};
  upstream.headers.forEach((v, k) => {
    if (!["content-encoding", "transfer-encoding", "connection"].includes(k)) out[k] = v;
  });
  const data = Buffer.from(await upstream.arrayBuffer());
  if (method === "HEAD") {
    res.writeHead(upstream.status, out);
    res.end();
    return;
  }
  out["content-length"] = String(data.length);
  res.writeHead(upstream.status, out);
  res.end(data);
}

/** Removes a docker config dir, a temp dir... ignoring errors. */
export async function removeAll(...dirs: Array<string | undefined>): Promise<void> {
  for (const d of dirs) if (d) await rm(d, { recursive: true, force: true });
}
