// Registry credentials as the docker CLI stores them: `config.json` in $DOCKER_CONFIG (default ~/.docker), with
//   auths[host].auth           base64 "user:password"
//   auths[host].username/password, auths[host].identitytoken
//   credHelpers[host] = NAME   → `docker-credential-NAME get`, stdin the server URL, stdout {"Username","Secret"}
//   credsStore = NAME          → the same helper for every host without an auths entry of its own
// A helper's "<token>" user name means the secret is an identity (refresh) token.
// Secrets never appear in errors or logs: only the host and the helper's name do.

import { run } from "../process/run.js";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { UserError } from "../diagnostics.js";
import { DOCKER_HUB } from "./ref.js";

export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (docker login against a registry that hands them out). */
  identityToken?: string;
  /** Where they came from, for messages ("config.json auths", "docker-credential-NAME"). Never a secret. */
  source: string;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** The key Docker Hub credentials are stored under. */
const HUB_KEY = "https://index.docker.io/v1/";

/** "https://host:5000/v1/" → "host:5000"; Docker Hub aliases → "docker.io". */
export function normalizeAuthKey(key: string): string {
  let k = key.trim().replace(/^[a-z]+:\/\//i, "");
  const slash = k.indexOf("/");
  if (slash >= 0) k = k.slice(0, slash);
  k = k.toLowerCase();
  if (k === "index.docker.io" || k === "registry-1.docker.io" || k === "docker.io") return DOCKER_HUB;
  return k;
}

/** The server URL a credential helper is asked about. */
export function helperServerUrl(registry: string): string {
  return registry === DOCKER_HUB ? HUB_KEY : registry;
}

export function defaultDockerConfigDir(): string {
  return process.env.DOCKER_CONFIG || path.join(os.homedir(), ".docker");
}

export class DockerCredentialStore {
  private file?: Promise<DockerConfigFile>;
  private readonly cache = new Map<string, Promise<Credentials | undefined>>();

  constructor(readonly configDir: string = defaultDockerConfigDir()) {}

  private load(): Promise<DockerConfigFile> {
    this.file ??= (async () => {
      const file = path.join(this.configDir, "config.json");
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return {};
        throw new UserError({ message: `cannot read the docker config ${file}: ${(e as Error).message}` });
      }
      try {
        const parsed = JSON.parse(text) as unknown;
        return parsed && typeof parsed === "object" ? (parsed as DockerConfigFile) : {};
      } catch (e) {
        throw new UserError({
          message: `the docker config ${file} is not valid JSON: ${(e as Error).message}`,
          hint: "fix or remove it, then run docker login again",
        });
      }
    })();
    return this.file;
  }

  /** Credentials for a registry host ("127.0.0.1:5000", "docker.io"), or undefined (anonymous). Cached. */
  get(registry: string): Promise<Credentials | undefined> {
    const host = normalizeAuthKey(registry);
    let p = this.cache.get(host);
    if (!p) this.cache.set(host, (p = this.lookup(host)));
    return p;
  }

  private async lookup(host: string): Promise<Credentials | undefined> {
    const cfg = await this.load();
    const helper = Object.entries(cfg.credHelpers ?? {}).find(([k]) => normalizeAuthKey(k) === host)?.[1];
    if (helper) return runCredentialHelper(helper, host);
    const entries = Object.entries(cfg.auths ?? {}).filter(([k]) => normalizeAuthKey(k) === host);
    // Prefer the entry written exactly as the host, then any alias; deterministic whatever the key order.
    entries.sort(([a], [b]) => Number(b === host) - Number(a === host) || (a < b ? -1 : a > b ? 1 : 0));
    for (const [, entry] of entries) {
      const c = fromAuthEntry(entry, host);
      if (c) return c;
    }
    if (cfg.credsStore) return runCredentialHelper(cfg.credsStore, host);
    return undefined;
  }
}

function fromAuthEntry(entry: AuthEntry, host: string): Credentials | undefined {
  if (!entry || typeof entry !== "object") return undefined;
  const source = "config.json auths";
  if (entry.identitytoken) return { identityToken: entry.identitytoken, ...(entry.username ? { username: entry.username } : {}), source };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) {
      throw new UserError({
        message: `the docker config's credentials for ${host} are malformed (auth is not base64 of "user:password")`,
        hint: `run: docker login ${host}`,
      });
    }
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
  }
  if (entry.username !== undefined || entry.password !== undefined) {
    return { username: entry.username ?? "", password: entry.password ?? "", source };
  }
  return undefined;
}

/** Runs `docker-credential-NAME get`; undefined when the helper has nothing for this server. */
export async function runCredentialHelper(name: string, registry: string): Promise<Credentials | undefined> {
  const program = `docker-credential-${name}`;
  const serverUrl = helperServerUrl(registry);
  const p = await run(program, ["get"], { input: serverUrl });
  const r = { ...p, error: p.error ? (p.error.code === "ENOENT" ? "not found on PATH" : p.error.message) : undefined };
  if (r.error) {
    throw new UserError({
      message: `the docker credential helper ${program} (configured for ${registry}) cannot be run: ${r.error}`,
      hint: "install it, or remove it from credHelpers/credsStore in the docker config",
    });
  }
  const said = (r.stdout + "\n" + r.stderr).trim();
  if (r.code !== 0) {
    if (/credentials not found/i.test(said)) return undefined;
    throw new UserError({
      message: `the docker credential helper ${program} failed for ${registry} (exit ${String(r.code)}): ${firstLine(r.stderr || r.stdout)}`,
      hint: `check the helper, or log in again: docker login ${registry}`,
    });
  }
  let parsed: { Username?: string; Secret?: string };
  try {
    parsed = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
  } catch {
    throw new UserError({ message: `the docker credential helper ${program} printed something that is not JSON for ${registry}` });
  }
  if (!parsed.Secret && !parsed.Username) return undefined;
  const source = program;
  if (parsed.Username === "<token>") return { identityToken: parsed.Secret ?? "", source };
  return { username: parsed.Username ?? "", password: parsed.Secret ?? "", source };
}

function firstLine(s: string): string {
  const line = s.split("\n").find((l) => l.trim() !== "") ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
