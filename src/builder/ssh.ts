// SSH agents for the build's user stages (`--ssh default|ID=PATH`, `--ssh-key PATH`).
//
// Every RUN of a user stage (not the git patch RUNs) gets `--mount=type=ssh,id=<id>` per agent, `default` first:
// BuildKit then sets SSH_AUTH_SOCK to the first one (checked on buildx 0.13 with the docker driver). The bake
// targets list the agents (`ssh: ["default=<socket>", "ID=PATH"]`); the Dockerfile and the context hold only the
// ids, and keys stay in the agent (or in buildx's own process for ID=keyfile), never in a layer.
// `--ssh-key` starts a private `ssh-agent` (openssh-client) on a socket in a 0700 temp folder, adds the keys
// with `ssh-add`, and stops it afterwards. The agent runs as `ssh-agent -a SOCK sh -c '...; exec cat'` with
// `cat` reading our stdin: if we die, even by SIGKILL, cat exits and ssh-agent, which watches its parent, exits
// within seconds.

import type { ChildProcess } from "node:child_process";
import { run, start } from "../process/run.js";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { UserError } from "../diagnostics.js";

/** One agent the build forwards: a bake `ssh` entry and the id the RUNs mount. */
export interface SshAgentSpec {
  id: string;
  /** Socket or key files (bake's `ID=PATH[,PATH]`); undefined = `default` with the caller's $SSH_AUTH_SOCK. */
  paths?: string[];
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Parses `--ssh` values: `default` (the caller's SSH_AUTH_SOCK) or `ID=PATH[,PATH...]`. */
export function parseSshSpecs(values: readonly string[], environ: Record<string, string | undefined> = process.env): SshAgentSpec[] {
  const out: SshAgentSpec[] = [];
  for (const v of values) {
    const eq = v.indexOf("=");
    const id = eq < 0 ? v : v.slice(0, eq);
    if (!ID.test(id)) {
      throw new UserError({ message: `--ssh ${JSON.stringify(v)}: ${JSON.stringify(id)} is not an agent id`, hint: "use `--ssh default` or `--ssh ID=PATH` (ID: letters, digits, _ . -)" });
    }
    if (out.some((s) => s.id === id)) throw new UserError({ message: `--ssh ${id} is given twice`, hint: "name each agent id once" });
    if (eq < 0) {
      if (id !== "default") throw new UserError({ message: `--ssh ${id}: only \`default\` may omit =PATH`, hint: `use --ssh ${id}=PATH (a socket or a key file)` });
      const sock = environ.SSH_AUTH_SOCK;
      if (!sock) throw new UserError({ message: "--ssh default: SSH_AUTH_SOCK is not set (no SSH agent to forward)", hint: "start ssh-agent and ssh-add your key, or use --ssh-key PATH" });
      out.push({ id, paths: [sock] });
      continue;
    }
    const paths = v.slice(eq + 1).split(",").filter((p) => p !== "");
    if (paths.length === 0) throw new UserError({ message: `--ssh ${v}: no path after =`, hint: "use --ssh ID=PATH (a socket or a key file)" });
    for (const p of paths) {
      if (!existsSync(p)) throw new UserError({ message: `--ssh ${id}: ${p} does not exist`, hint: "give an agent socket or a private key file" });
    }
    out.push({ id, paths: paths.map((p) => path.resolve(p)) });
  }
  return sortSpecs(out);
}

/** `default` first (it gets SSH_AUTH_SOCK), then by id. */
export function sortSpecs(specs: SshAgentSpec[]): SshAgentSpec[] {
  return [...specs].sort((a, b) => (a.id === "default" ? -1 : b.id === "default" ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The bake target's `ssh` entries. */
export function bakeSsh(specs: readonly SshAgentSpec[]): string[] {
  return specs.map((s) => `${s.id}=${(s.paths ?? []).join(",")}`);
}

export interface TempAgent {
  socket: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts a private ssh-agent holding `keys` (private key files). */
export async function startSshAgent(keys: readonly string[]): Promise<TempAgent> {
  for (const k of keys) {
    if (!existsSync(k)) throw new UserError({ message: `--ssh-key ${k}: no such file`, hint: "give the path of a private key (e.g. ~/.ssh/id_ed25519)" });
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), "stapel2docker-ssh-"));
  const socket = path.join(dir, "agent.sock");
  let child: ChildProcess;
  try {
    child = start("ssh-agent", ["-a", socket, "sh", "-c", 'echo "$SSH_AGENT_PID"; exec cat >/dev/null']);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw agentError(`cannot run ssh-agent: ${(e as Error).message}`);
  }
  child.stdin!.on("error", () => {});
  const pid = await new Promise<number>((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr!.on("data", (b: Buffer) => (err += b.toString("utf8")));
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString("utf8");
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on("error", (e) => reject(agentError(`cannot run ssh-agent: ${e.message}`)));
    child.on("exit", (code) => reject(agentError(`ssh-agent exited with code ${code}${err ? `: ${err.trim()}` : ""}`)));
  }).catch(async (e) => {
    await rm(dir, { recursive: true, force: true });
    throw e;
  });
  const stop = async () => {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
    child.stdin!.end();
    if (child.exitCode === null) await new Promise<void>((r) => child.once("exit", () => r()));
    // the agent is not our child (ssh-agent forks it): wait until it has exited
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForSocket(socket);
    await sshAdd(socket, keys);
  } catch (e) {
    await stop();
    throw e;
  }
  return { socket, pid, stop };
}

/** Whether a process runs (a zombie counts as gone). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

async function waitForSocket(socket: string): Promise<void> {
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 20));
  if (!existsSync(socket)) throw agentError(`ssh-agent did not create ${socket}`);
}

async function sshAdd(socket: string, keys: readonly string[]): Promise<void> {
  // never prompt: a key with a passphrase fails with ssh-add's message
  const r = await run("ssh-add", ["-q", ...keys], { env: { ...process.env, SSH_AUTH_SOCK: socket, SSH_ASKPASS_REQUIRE: "never", DISPLAY: "" } });
  if (r.error) throw agentError(`cannot run ssh-add: ${r.error.message}`);
  if (r.code !== 0) {
    throw new UserError({
      message: `--ssh-key: ssh-add could not load ${keys.join(", ")}${r.stderr.trim() ? `: ${r.stderr.trim()}` : ""}`,
      hint: "keys with a passphrase: add them to your own agent and use --ssh default",
    });
  }
}

function agentError(message: string): UserError {
  return new UserError({ message, hint: "--ssh-key needs ssh-agent and ssh-add (Debian: apt-get install openssh-client)" });
}
