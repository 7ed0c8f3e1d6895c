// The base image's USER and WORKDIR (and config id), which the emitter restores after the user stages ran as
// root in `/` (werf's build container rule, reference §9).
//
// Resolvers (BaseImageResolver, src/plan/model.ts):
//   daemon:  `docker image inspect --format '{{json .Config}}|{{.Id}}' REF` with a short timeout; the image must
//            be in the local daemon (nothing is pulled: `docker pull` it first, or build it).
//   assumed: user "" (root) and workdir "" (/), source "assumed": for offline compiles, said in the plan.
//   socket:  the same through the daemon's API on its unix socket (`GET /images/REF/json`): no `docker` process
//            (a no-op build starts none, issue #13).
//   default: the socket when the docker CLI would use the local one (no DOCKER_HOST other than unix://, no
//            docker context other than "default"), else the `docker` command; the daemon when it answers quickly,
//            else assumed; an image the daemon does not have is "assumed" too, with the reason kept
//            (`reasonFor`) so `plan` can warn.
// Seam for the build issue: a registry resolver (reading the image config blob through the registry API) only has
// to implement BaseImageResolver; `chainResolvers` tries resolvers in order and takes the first that knows.
// Results are cached per reference per resolver (one `docker` call per base image per process). Never throws
// for "no daemon", "no such image" or a timeout.

import { readFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { run as runProcess } from "../process/run.js";
import type { BaseImageConfig, BaseImageResolver } from "../plan/model.js";

/** A resolved config with, when it was assumed, why (for a warning). */
export interface ResolvedImageConfig extends BaseImageConfig {
  /** Why the config was assumed (no daemon, no such image, timeout...); undefined when it was read. */
  reason?: string;
}

/** A resolver that can say why it assumed a config. */
export interface ExplainingResolver extends BaseImageResolver {
  resolve(ref: string): Promise<ResolvedImageConfig>;
}

const ASSUMED: BaseImageConfig = Object.freeze({ user: "", workdir: "", source: "assumed" }) as BaseImageConfig;

export const assumedImageConfigResolver: BaseImageResolver = {
  resolve: async () => ({ ...ASSUMED }),
};

/** Why `config` was assumed, when a resolver of this module said so. */
export function reasonFor(config: BaseImageConfig): string | undefined {
  return (config as ResolvedImageConfig).reason;
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: string;
  timedOut: boolean;
}

async function run(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  const r = await runProcess(cmd, args, { timeoutMs });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr.trim(), ...(r.error ? { error: r.error.message } : {}), timedOut: r.timedOut };
}

function failure(r: RunResult, docker: string, timeoutMs: number): string {
  if (r.error) return `cannot run ${docker}: ${r.error}`;
  if (r.timedOut) return `${docker} did not answer within ${timeoutMs} ms`;
  const line = r.stderr.split("\n").find((l) => l.trim() !== "") ?? `exit code ${r.code}`;
  return line.replace(/^Error( response from daemon)?: /, "");
}

/** Parses `{{json .Config}}|{{.Id}}` output. Exported for tests. */
export function parseInspect(stdout: string): BaseImageConfig {
  const bar = stdout.lastIndexOf("|");
  const json = stdout.slice(0, bar).trim();
  const id = stdout.slice(bar + 1).trim();
  const config = (json && json !== "null" ? JSON.parse(json) : {}) as { User?: string; WorkingDir?: string };
  return { user: config.User ?? "", workdir: config.WorkingDir ?? "", source: "daemon", ...(id ? { id } : {}) };
}

/** Reads image configs from the local docker daemon. */
export function daemonImageConfigResolver(opts: { docker?: string; timeoutMs?: number } = {}): ExplainingResolver {
  const docker = opts.docker ?? "docker";
  const timeoutMs = opts.timeoutMs ?? 5000;
  const cache = new Map<string, Promise<ResolvedImageConfig>>();
  const inspect = async (ref: string): Promise<ResolvedImageConfig> => {
    const r = await run(docker, ["image", "inspect", "--format", "{{json .Config}}|{{.Id}}", "--", ref], timeoutMs);
    if (r.code !== 0 || r.error || r.timedOut) return { ...ASSUMED, reason: failure(r, docker, timeoutMs) };
    try {
      return parseInspect(r.stdout);
    } catch (e) {
      return { ...ASSUMED, reason: `unexpected output of docker image inspect: ${(e as Error).message}` };
    }
  };
  return {
    resolve(ref: string) {
      let p = cache.get(ref);
      if (!p) cache.set(ref, (p = inspect(ref)));
      return p.then((c) => ({ ...c }));
    },
  };
}

/** Tries each resolver in order; the first config that is not "assumed" wins, else the last assumption (with
 *  every reason joined). The registry resolver of the build issue slots in here. */
export function chainResolvers(...resolvers: BaseImageResolver[]): ExplainingResolver {
  return {
    async resolve(ref: string) {
      const reasons: string[] = [];
      for (const r of resolvers) {
        const c = await r.resolve(ref);
        if (c.source !== "assumed") return c;
        const why = reasonFor(c);
        if (why) reasons.push(why);
      }
      return { ...ASSUMED, ...(reasons.length ? { reason: reasons.join("; ") } : {}) };
    },
  };
}

/**
 * The unix socket the docker CLI would talk to, or undefined when it would use something else (a tcp:// or ssh://
 * DOCKER_HOST, a docker context other than "default"): then only the `docker` command knows the way.
 */
export function localDaemonSocket(env: Record<string, string | undefined> = process.env): string | undefined {
  const host = env.DOCKER_HOST;
  if (host) return host.startsWith("unix://") ? host.slice("unix://".length) : undefined;
  if (env.DOCKER_CONTEXT) return env.DOCKER_CONTEXT === "default" ? "/var/run/docker.sock" : undefined;
  const configDir = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), ".docker");
  try {
    const config = JSON.parse(readFileSync(path.join(configDir, "config.json"), "utf8")) as { currentContext?: unknown };
    if (typeof config.currentContext === "string" && config.currentContext !== "" && config.currentContext !== "default") return undefined;
  } catch {
    // no config (or an unreadable one, which the CLI would refuse too): the default context
  }
  return "/var/run/docker.sock";
}

/** One GET on the daemon's API through its unix socket. */
function daemonGet(socketPath: string, urlPath: string, timeoutMs: number): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: urlPath, headers: { Host: "docker" }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (b: Buffer) => chunks.push(b));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (e) => resolve({ error: e.message }));
    });
    req.on("timeout", () => {
      req.destroy();
      resolve({ error: `the docker daemon (${socketPath}) did not answer within ${timeoutMs} ms` });
    });
    req.on("error", (e) => resolve({ error: `cannot connect to the docker daemon at unix://${socketPath}: ${e.message}` }));
  });
}

/** Reads image configs from the daemon's API on `socketPath` (no `docker` process); same answers as
 *  daemonImageConfigResolver. */
export function socketImageConfigResolver(opts: { socketPath: string; timeoutMs?: number }): ExplainingResolver {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const cache = new Map<string, Promise<ResolvedImageConfig>>();
  const inspect = async (ref: string): Promise<ResolvedImageConfig> => {
    // the reference becomes a URL path of the daemon's API: image reference characters only, no dot segments
    if (!/^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/.test(ref) || ref.split("/").some((s) => s === "." || s === "..")) {
      return { ...ASSUMED, reason: `${JSON.stringify(ref)} is not an image reference` };
    }
    const r = await daemonGet(opts.socketPath, `/images/${ref}/json`, timeoutMs);
    if ("error" in r) return { ...ASSUMED, reason: r.error };
    let json: { Id?: unknown; Config?: { User?: unknown; WorkingDir?: unknown } | null; message?: unknown };
    try {
      json = JSON.parse(r.body) as typeof json;
    } catch {
      return { ...ASSUMED, reason: `the docker daemon answered ${r.status} with no JSON` };
    }
    if (r.status !== 200) return { ...ASSUMED, reason: typeof json.message === "string" ? json.message : `the docker daemon answered ${r.status}` };
    const c = json.Config ?? {};
    return {
      user: typeof c.User === "string" ? c.User : "",
      workdir: typeof c.WorkingDir === "string" ? c.WorkingDir : "",
      source: "daemon",
      ...(typeof json.Id === "string" && json.Id ? { id: json.Id } : {}),
    };
  };
  return {
    resolve(ref: string) {
      let p = cache.get(ref);
      if (!p) cache.set(ref, (p = inspect(ref)));
      return p.then((c) => ({ ...c }));
    },
  };
}

/**
 * The daemon when it answers `docker version` within `probeTimeoutMs`, else the assumed config (with the reason).
 * The probe runs once, on the first resolve.
 */
export function defaultImageConfigResolver(
  opts: { docker?: string; timeoutMs?: number; probeTimeoutMs?: number; env?: Record<string, string | undefined> } = {},
): ExplainingResolver {
  const docker = opts.docker ?? "docker";
  const probeTimeoutMs = opts.probeTimeoutMs ?? 2000;
  // the daemon's socket when the CLI would use it too (and no other docker command was asked for)
  const socketPath = opts.docker === undefined ? localDaemonSocket(opts.env) : undefined;
  const daemon = socketPath ? socketImageConfigResolver({ socketPath, timeoutMs: opts.timeoutMs }) : daemonImageConfigResolver(opts);
  let probe: Promise<string | undefined> | undefined;
  return {
    async resolve(ref: string) {
      if (socketPath) {
        probe ??= daemonGet(socketPath, "/_ping", probeTimeoutMs).then((r) =>
          "error" in r ? `no docker daemon (${r.error})` : r.status === 200 ? undefined : `no docker daemon (it answered ${r.status} to a ping)`,
        );
        const down = await probe;
        if (down) return { ...ASSUMED, reason: down };
        return daemon.resolve(ref);
      }
      probe ??= run(docker, ["version", "--format", "{{.Server.Version}}"], probeTimeoutMs).then((r) =>
        r.code === 0 && !r.error && !r.timedOut ? undefined : `no docker daemon (${failure(r, docker, probeTimeoutMs)})`,
      );
      const down = await probe;
      if (down) return { ...ASSUMED, reason: down };
      return daemon.resolve(ref);
    },
  };
}
