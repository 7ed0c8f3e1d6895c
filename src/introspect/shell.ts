// The introspection shells: `docker run` in a stage with the build container's environment (root, /, the
// toolchain's bash at /.stapel from a named volume, LANG/LC_ALL, WERF_COMMIT_*, the SSH agent, the stage's mounts),
// and re-running a failed command in a container that is then committed.

import path from "node:path";
import { UserError } from "../diagnostics.js";
import { run, runInteractive } from "../process/run.js";
import type { ImagePlan, Plan, StagePlan, UserBody } from "../plan/model.js";

/** Where the toolchain's files are mounted, as in every RUN. */
export const TOOLCHAIN_DIR = "/.stapel";
/** Where the SSH agent socket is mounted in introspection shells (BuildKit's own path for `--mount=type=ssh`). */
export const SSH_SOCK = "/run/buildkit/ssh_agent.0";

export function imageLabel(name: string): string {
  return name === "" ? "~" : name;
}

/** Runs a command, collecting its output (stdout and stderr together); resolves with the exit code. */
export async function exec(cmd: string, args: string[], cwd?: string): Promise<{ code: number; out: string }> {
  let out = "";
  const r = await run(cmd, args, { ...(cwd ? { cwd } : {}), onOutput: (b) => (out += b.toString("utf8")) });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  return { code: r.code ?? 1, out };
}

export async function execOk(cmd: string, args: string[]): Promise<string> {
  const r = await exec(cmd, args);
  if (r.code !== 0) throw new UserError({ message: `${cmd} ${args.slice(0, 2).join(" ")} failed (exit code ${r.code})`, hint: r.out.trim().split("\n").slice(-5).join("\n") });
  return r.out;
}

/** A docker volume holding the toolchain's /.stapel, named after the toolchain image id (made once). Docker fills
 *  an empty named volume from the image's files at the mount point on first use. */
export async function toolchainVolume(docker: string, toolchain: string): Promise<string> {
  // the build's toolchain is a registry image (pinned by digest): pulled the first time
  if ((await exec(docker, ["image", "inspect", "--format", "{{.Id}}", toolchain])).code !== 0) await execOk(docker, ["pull", "-q", toolchain]);
  const id = (await execOk(docker, ["image", "inspect", "--format", "{{.Id}}", toolchain])).trim();
  const name = `stapel2docker-toolchain-${id.replace(/^sha256:/, "").slice(0, 16)}`;
  const exists = await exec(docker, ["volume", "inspect", name]);
  if (exists.code !== 0) {
    await execOk(docker, ["run", "--rm", "-v", `${name}:${TOOLCHAIN_DIR}`, "--entrypoint", `${TOOLCHAIN_DIR}/bin/true`, toolchain]);
  }
  return name;
}

/** The `docker run` options of the build container's environment (without -it/--rm and the image). */
export function buildEnvArgs(plan: Plan, volume: string, sshAuthSock?: string): string[] {
  const a = ["-u", "0:0", "-w", "/", "-v", `${volume}:${TOOLCHAIN_DIR}:ro`, "-e", "LANG=C.UTF-8", "-e", "LC_ALL=C.UTF-8"];
  if (plan.commit) {
    a.push("-e", `WERF_COMMIT_HASH=${plan.commit.hash}`, "-e", `WERF_COMMIT_TIME_HUMAN=${plan.commit.timeHuman}`, "-e", `WERF_COMMIT_TIME_UNIX=${plan.commit.timeUnix}`);
  }
  if (sshAuthSock) a.push("-v", `${sshAuthSock}:${SSH_SOCK}`, "-e", `SSH_AUTH_SOCK=${SSH_SOCK}`);
  return a;
}

/** The user stage's tmp_dir and custom_dir mounts as `docker run` options (build_dir caches live in BuildKit). */
export function mountArgs(plan: Plan, body: UserBody): string[] {
  const a: string[] = [];
  for (const m of body.mounts) {
    if (m.mount.type === "tmp_dir") a.push("--tmpfs", m.mount.to);
    else if (m.mount.type === "custom_dir" && m.contextPath !== undefined) a.push("-v", `${path.resolve(plan.dir, m.contextPath)}:${m.mount.to}`);
  }
  return a;
}

export interface ShellOptions {
  plan: Plan;
  docker: string;
  sshAuthSock?: string;
  log: (line: string) => void;
  /** Runs the interactive shell (default: `docker run -it` on the inherited terminal). */
  shell?: (args: string[]) => Promise<number>;
}

/** Opens shells in stages and re-runs commands; the toolchain volume is made once. */
export class Shells {
  private volume?: string;
  private readonly docker: string;
  private readonly log: (l: string) => void;

  constructor(readonly opts: ShellOptions) {
    this.docker = opts.docker;
    this.log = opts.log;
  }

  /** Runs command k in a container of `image` with the build environment, commits it (failed as it is), removes it. */
  async runCommitted(image: string, plan: Plan, body: UserBody, k: number): Promise<string> {
    const vol = await this.toolchain();
    const name = `stapel2docker-introspect-${process.pid}-${Date.now()}`;
    const script = ["export LANG=C.UTF-8 LC_ALL=C.UTF-8 2>/dev/null", "cd /", body.commands[k - 1].command].join("\n");
    const r = await exec(this.docker, ["run", "--name", name, ...buildEnvArgs(plan, vol, this.opts.sshAuthSock), ...mountArgs(plan, body), "--entrypoint", `${TOOLCHAIN_DIR}/bin/bash`, image, "-ec", script]);
    this.log(`re-ran the failed instruction in a container: exit code ${r.code}`);
    const committed = `stapel2docker-introspect:${name.slice("stapel2docker-introspect-".length)}-after`;
    try {
      await execOk(this.docker, ["commit", name, committed]);
    } finally {
      await exec(this.docker, ["rm", "-f", name]);
    }
    return committed;
  }

  private async toolchain(): Promise<string> {
    if (!this.volume) this.volume = await toolchainVolume(this.docker, this.opts.plan.toolchain);
    return this.volume;
  }

  /** Opens the interactive shell in `ref`; returns when it exits. */
  async introspect(image: ImagePlan, stage: StagePlan, ref: string, state: string, local = false): Promise<void> {
    const vol = await this.toolchain();
    const name = `${imageLabel(image.name)}/${stage.name}`;
    this.log(`introspecting ${name} (${state}, ${ref}); exit the shell to ${state.startsWith("stored") || state === "built" ? "continue the build" : "end the build"}`);
    const args = [
      "run", "-it", "--rm",
      ...(local ? [] : ["--pull", "missing"]),
      ...buildEnvArgs(this.opts.plan, vol, this.opts.sshAuthSock),
      ...(stage.body.kind === "user" ? mountArgs(this.opts.plan, stage.body) : []),
      "-e", `PS1=[${name}] \\w# `,
      "--entrypoint", `${TOOLCHAIN_DIR}/bin/bash`,
      ref,
    ];
    const code = await (this.opts.shell ?? ((a) => interactive(this.docker, a)))(args);
    this.log(`introspection of ${name} ended (exit code ${code})`);
  }
}

function interactive(docker: string, args: string[]): Promise<number> {
  return runInteractive(docker, args);
}
