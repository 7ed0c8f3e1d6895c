// Stage introspection for `stapel2docker build` (reference §6, docs/introspection.md):
//   --introspect-stage [IMAGE/]STAGE   a shell in the stage once it is built or found in the registry, then the build goes on
//   --introspect-error                  a shell in the state right after the failed instruction
//   --introspect-before-error           a shell in the state right before it
// and, on every failed build, which werf.yaml instruction failed (file:line, image, stage), its exit code and last
// output lines. The shells run in a container with the build container's environment: root, `/`, the toolchain at
// /.stapel (its bash is the shell, so images without one work), LANG/LC_ALL, WERF_COMMIT_*, the SSH agent.
//
// The build orchestrator (src/build/index.ts) calls `hooks.bake` instead of running its one `buildx bake`, and
// `hooks.allStored` when nothing is to be built.

import { run, runInteractive } from "../process/run.js";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { UserError, type SourcePos } from "../diagnostics.js";
import { printPlanDockerfile } from "../emit/index.js";
import { findBuildStage, parseBakeFailure } from "../build/bake-failure.js";
import type { PrintedDockerfile } from "../dockerfile/model.js";
import type { BakeFile, BakeTarget } from "../bake/model.js";
import { bakeFile, writeBakeFile } from "../bake/write.js";
import type { ImagePlan, Plan, StagePlan, UserBody } from "../stages/model.js";
import { splitTarget } from "../stages/names.js";
import { isSelected, type StageSelector } from "./select.js";

export { parseBakeFailure, type BakeFailure } from "../build/bake-failure.js";
export { parseStageSelector, resolveStageSelectors, isSelected, stageNamesOf, type StageSelector } from "./select.js";

/** The chains as the orchestrator resolved them (structurally: src/build/resolve.ts ImageChain). */
export interface HookChain {
  image: ImagePlan;
  stages: { stage: StagePlan; stored?: { tag: string } }[];
}

export interface BakeHookContext {
  /** The build's temp folder (holds Dockerfile, docker-bake.json, targets/). */
  work: string;
  /** The partial plan the Dockerfile was printed from. */
  plan: Plan;
  /** The build's Dockerfile as printed, with its line map. */
  dockerfile: PrintedDockerfile;
  bake: BakeFile;
  /** digest → bake target. */
  targets: Map<string, string>;
  chains: HookChain[];
  repo: string;
  /** digest → the tag a built stage is pushed as. */
  newTags: Map<string, string>;
  /** Runs `docker buildx bake --push` of these targets (all when empty); `tap` sees its output. */
  run(targets?: string[], tap?: (chunk: Buffer) => void): Promise<void>;
}

export interface BuildHooks {
  /** Runs the bake (in place of the orchestrator's single run). */
  bake(ctx: BakeHookContext): Promise<void>;
  /** Called when every stage is stored (no bake). */
  allStored(chains: HookChain[], repo: string): Promise<void>;
}

export interface IntrospectOptions {
  /** The full plan (for the commit and the toolchain). */
  plan: Plan;
  selectors: StageSelector[];
  afterError: boolean;
  beforeError: boolean;
  docker?: string;
  /** An SSH agent socket to forward into the shells. */
  sshAuthSock?: string;
  log?: (line: string) => void;
  /** Runs the interactive shell (default: `docker run -it` on the inherited terminal). Tests may replace it. */
  shell?: (args: string[]) => Promise<number>;
  /** Whether a terminal is attached (default: process.stdin.isTTY && process.stdout.isTTY). */
  isTTY?: boolean;
}

/** Where the toolchain's files are mounted, as in every RUN. */
export const TOOLCHAIN_DIR = "/.stapel";
/** Where the SSH agent socket is mounted in introspection shells (BuildKit's own path for `--mount=type=ssh`). */
export const SSH_SOCK = "/run/buildkit/ssh_agent.0";

function imageLabel(name: string): string {
  return name === "" ? "~" : name;
}

/** Fails at once when introspection is asked for without a terminal (a shell would hang or exit at once). */
export function checkTerminal(opts: { selectors: readonly unknown[]; afterError: boolean; beforeError: boolean; isTTY?: boolean }): void {
  const wanted = opts.selectors.length > 0 || opts.afterError || opts.beforeError;
  const tty = opts.isTTY ?? Boolean(process.stdin.isTTY && process.stdout.isTTY);
  if (wanted && !tty) {
    const flags = [opts.selectors.length ? "--introspect-stage" : "", opts.afterError ? "--introspect-error" : "", opts.beforeError ? "--introspect-before-error" : ""].filter(Boolean);
    throw new UserError({
      message: `${flags.join(", ")} need${flags.length === 1 ? "s" : ""} an interactive terminal, and stdin/stdout are not one`,
      hint: "run the build from a terminal (not in CI or through a pipe), or drop the introspection flags",
    });
  }
}

/** Runs a command, collecting its output (stdout and stderr together); resolves with the exit code. */
async function exec(cmd: string, args: string[], cwd?: string): Promise<{ code: number; out: string }> {
  let out = "";
  const r = await run(cmd, args, { ...(cwd ? { cwd } : {}), onOutput: (b) => (out += b.toString("utf8")) });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  return { code: r.code ?? 1, out };
}

async function execOk(cmd: string, args: string[]): Promise<string> {
  const r = await exec(cmd, args);
  if (r.code !== 0) throw new UserError({ message: `${cmd} ${args.slice(0, 2).join(" ")} failed (exit code ${r.code})`, hint: r.out.trim().split("\n").slice(-5).join("\n") });
  return r.out;
}

/** A docker volume holding the toolchain's /.stapel, named after the toolchain image id (made once). Docker fills
 *  an empty named volume from the image's files at the mount point on first use. */
export async function toolchainVolume(docker: string, toolchain: string): Promise<string> {
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
function mountArgs(plan: Plan, body: UserBody): string[] {
  const a: string[] = [];
  for (const m of body.mounts) {
    if (m.mount.type === "tmp_dir") a.push("--tmpfs", m.mount.to);
    else if (m.mount.type === "custom_dir" && m.contextPath !== undefined) a.push("-v", `${path.resolve(plan.dir, m.contextPath)}:${m.mount.to}`);
  }
  return a;
}

/** The introspection and failure-reporting hooks of one build. */
export class Introspection implements BuildHooks {
  private volume?: string;
  private readonly docker: string;
  private readonly log: (l: string) => void;

  constructor(readonly opts: IntrospectOptions) {
    this.docker = opts.docker ?? "docker";
    this.log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));
  }

  /** Whether this stage plan is what a selector names (asLayers: the stage's last layer, holding it all). */
  selected(image: ImagePlan, stage: StagePlan): boolean {
    if (stage.layer && stage.layer.index !== stage.layer.count) return false;
    return isSelected(this.opts.selectors, image.name, stage.name);
  }

  async allStored(chains: HookChain[], repo: string): Promise<void> {
    for (const chain of chains) {
      for (const c of chain.stages) {
        if (c.stored && this.selected(chain.image, c.stage)) await this.introspect(chain.image, c.stage, `${repo}:${c.stored.tag}`, "stored");
      }
    }
  }

  async bake(ctx: BakeHookContext): Promise<void> {
    // stored stages first (they are ready), then per selected stage to build: build it (and what it needs), shell
    await this.allStored(ctx.chains, ctx.repo);
    for (const chain of ctx.chains) {
      for (const c of chain.stages) {
        if (c.stored || !this.selected(chain.image, c.stage)) continue;
        const target = ctx.targets.get(c.stage.digest);
        if (!target) continue;
        await this.runOrDiagnose(ctx, [target]);
        await this.introspect(chain.image, c.stage, `${ctx.repo}:${ctx.newTags.get(c.stage.digest)}`, "built");
      }
    }
    await this.runOrDiagnose(ctx, []);
  }

  private async runOrDiagnose(ctx: BakeHookContext, targets: string[]): Promise<void> {
    let output = "";
    try {
      await ctx.run(targets, (b) => (output = (output + b.toString("utf8")).slice(-200_000)));
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      const failure = await this.diagnose(ctx, output).catch((d: unknown) => {
        this.log(`stapel2docker: could not find the failed instruction: ${d instanceof Error ? d.message : String(d)}`);
        return undefined;
      });
      throw failure ?? e;
    }
  }

  /** Finds the failed werf.yaml instruction; opens the error shells when asked; returns the UserError to throw. */
  async diagnose(ctx: BakeHookContext, output: string): Promise<UserError | undefined> {
    const f = parseBakeFailure(output, ctx.dockerfile);
    if (!f.stage) return undefined;
    const found = findBuildStage(ctx.plan, f.stage);
    if (!found) return undefined;
    const { image, stage, index } = found;
    const body = stage.body;
    const where = `image ${imageLabel(image.name)}, stage ${stage.name}${stage.layer ? ` (asLayers layer ${stage.layer.index} of ${stage.layer.count})` : ""}`;
    if (body.kind !== "user") {
      return new UserError({ pos: f.pos ?? stage.pos, message: `${where}: build stage ${f.stage} failed${f.exitCode !== undefined ? ` (exit code ${f.exitCode})` : ""}`, context: f.output });
    }
    const steps = body.builder === "shell" ? body.commands.length : body.tasks.length;
    // which command: one command → it; several → re-run the stage split per instruction (BuildKit caches the
    // prefix stage), which also gives the images before and after it
    let k = 1;
    let failure = f;
    const baseTarget = ctx.bake.target[f.stage] ? f.stage : Object.keys(ctx.bake.target).find((t) => t === stage.target);
    const split = baseTarget ? await this.writeSplit(ctx, image, index, baseTarget) : undefined;
    if (steps > 1 && split) {
      const r = await exec(this.docker, ["buildx", "bake", "--progress=plain", "-f", split.bakeFile, split.targets[steps - 1]], ctx.work);
      const sf = parseBakeFailure(r.out, split.dockerfile, "Dockerfile.introspect");
      const i = sf.stage ? split.stageNames.indexOf(sf.stage) : -1;
      if (r.code !== 0 && i >= 0) {
        k = i + 1;
        failure = { stage: f.stage, ...(sf.pos ? { pos: sf.pos } : {}), exitCode: sf.exitCode ?? f.exitCode, output: sf.output.length ? sf.output : f.output };
      }
    }
    const cmd = body.builder === "shell" ? body.commands[k - 1] : undefined;
    const task = body.builder === "ansible" ? body.tasks[k - 1] : undefined;
    // the line map names the failed RUN's command when it runs one (always in the split re-run)
    const pos: SourcePos = failure.pos ?? cmd?.pos ?? task?.pos ?? stage.pos;
    const what = body.builder === "shell" ? `command ${k} of ${steps}` : `task ${k} of ${steps}`;
    const err = new UserError({
      pos,
      message: `${what} failed${failure.exitCode !== undefined ? ` with exit code ${failure.exitCode}` : ""} (${where}); the stage was not pushed`,
      context: [...(cmd ? [`command: ${cmd.command.split("\n")[0]}${cmd.command.includes("\n") ? " ..." : ""}`] : []), ...(failure.output.length ? ["last output:", ...failure.output.map((l) => `  ${l}`)] : [])],
      hint: this.opts.afterError || this.opts.beforeError ? undefined : "--introspect-error (or --introspect-before-error) opens a shell in the state right after (before) it",
    });
    if ((this.opts.afterError || this.opts.beforeError) && split) {
      this.log(err.message);
      const before = `stapel2docker-introspect:${stage.digest.slice(0, 20)}-before-${k}`;
      const r = await exec(this.docker, ["buildx", "bake", "--progress=plain", "-f", split.bakeFile, "--set", `${split.prefix(k)}.tags=${before}`, split.prefix(k)], ctx.work);
      if (r.code !== 0) throw new UserError({ message: "could not rebuild the state before the failed instruction", hint: r.out.trim().split("\n").slice(-8).join("\n") });
      try {
        if (this.opts.beforeError) await this.introspect(image, stage, before, `before ${what}`, true);
        if (this.opts.afterError && cmd) {
          const after = await this.runCommitted(before, ctx.plan, body, k);
          try {
            await this.introspect(image, stage, after, `after ${what} failed`, true);
          } finally {
            await exec(this.docker, ["image", "rm", after]);
          }
        }
      } finally {
        await exec(this.docker, ["image", "rm", before]);
      }
    }
    return err;
  }

  /** Writes Dockerfile.introspect (the failing stage split per instruction) and introspect-bake.json (one target per
   *  split stage, loaded into the daemon, never pushed). `prefix(k)` is the target of the state before command k. */
  private async writeSplit(ctx: BakeHookContext, image: ImagePlan, index: number, bakeTarget: string) {
    const stage = image.stages[index];
    const body = stage.body as UserBody;
    const n = body.builder === "shell" ? body.commands.length : body.tasks.length;
    const stageNames: string[] = [];
    const split: StagePlan[] = [];
    for (let i = 0; i < n; i++) {
      const target = splitTarget(stage.target, i + 1);
      stageNames.push(target);
      split.push({
        ...stage,
        target,
        labels: {},
        body: { ...body, commands: body.commands.slice(i, i + 1), tasks: body.tasks.slice(i, i + 1) },
      });
    }
    const images = ctx.plan.images.map((im) => (im === image ? { ...im, stages: [...im.stages.slice(0, index + 1), ...split] } : im));
    // the original stage stays (other stages refer to it); the split stages chain from the one before it
    const prevTarget = index > 0 ? image.stages[index - 1].target : undefined;
    const dockerfile = printPlanDockerfile({ ...ctx.plan, images: images.map((im) => (im.name === image.name ? chainSplit(im, index) : im)) });
    const dfFile = path.join(ctx.work, "Dockerfile.introspect");
    await writeFile(dfFile, dockerfile.text);
    const base = ctx.bake.target[bakeTarget];
    // loaded into the daemon, never pushed; no SSH agents (the split Dockerfile has no ssh mounts)
    const local = (t: string): BakeTarget => ({
      ...base,
      dockerfile: path.posix.join(path.posix.dirname(base.dockerfile), "Dockerfile.introspect"),
      target: t,
      ssh: [],
      tags: [`stapel2docker-introspect:${t}`],
      output: ["type=docker"],
    });
    const targets: Record<string, BakeTarget> = {};
    for (const t of stageNames) targets[t] = local(t);
    if (prevTarget) targets[prevTarget] = local(prevTarget);
    const bakePath = path.join(ctx.work, "introspect-bake.json");
    await writeBakeFile(bakePath, bakeFile(targets));
    return {
      dockerfile,
      bakeFile: bakePath,
      stageNames,
      targets: stageNames,
      prefix: (k: number) => (k > 1 ? stageNames[k - 2] : prevTarget ?? stageNames[0]),
    };
  }

  /** Runs command k in a container of `image` with the build environment, commits it (failed as it is), removes it. */
  private async runCommitted(image: string, plan: Plan, body: UserBody, k: number): Promise<string> {
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

/** The image's stages up to `index`, then the split stages chained from the stage before the original. */
function chainSplit(image: ImagePlan, index: number): ImagePlan {
  // renderImage chains each stage FROM the previous one in the list; put the split stages right after the stage
  // before the original, and the original after them (nothing else of this image is needed)
  const before = image.stages.slice(0, index);
  const splits = image.stages.slice(index + 1);
  return { ...image, stages: [...before, ...splits] };
}
