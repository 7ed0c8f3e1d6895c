// Stage introspection for `stapel2docker build` (reference §6, docs/introspection.md):
//   --introspect-stage [IMAGE/]STAGE   a shell in the stage once it is built or found in the registry, then the build goes on
//   --introspect-error                  a shell in the state right after the failed instruction
//   --introspect-before-error           a shell in the state right before it
// and, on every failed build, which werf.yaml instruction failed (file:line, image, stage), its exit code and last
// output lines. The shells run in a container with the build container's environment: root, `/`, the toolchain at
// /.stapel (its bash is the shell, so images without one work), LANG/LC_ALL, WERF_COMMIT_*, the SSH agent.
//
// The build orchestrator (src/builder/index.ts) calls `hooks.bake` instead of running its one `buildx bake`, and
// `hooks.allStored` when nothing is to be built.

import { UserError } from "../diagnostics.js";
import type { PrintedDockerfile } from "../dockerfile/model.js";
import type { BakeFile } from "../bake/model.js";
import type { ImagePlan, Plan, StagePlan } from "../plan/model.js";
import { diagnose } from "./diagnose.js";
import { Shells } from "./shell.js";
import { isSelected, type StageSelector } from "./select.js";

export { parseBakeFailure, type BakeFailure } from "../builder/bake-failure.js";
export { SSH_SOCK, TOOLCHAIN_DIR, buildEnvArgs, toolchainVolume } from "./shell.js";
export { parseStageSelector, resolveStageSelectors, isSelected, stageNamesOf, type StageSelector } from "./select.js";

/** The chains as the orchestrator resolved them (structurally: src/storage/resolve.ts ImageChain). */
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

/** The introspection and failure-reporting hooks of one build. */
export class Introspection implements BuildHooks {
  private readonly docker: string;
  private readonly log: (l: string) => void;

  private readonly shells: Shells;

  constructor(readonly opts: IntrospectOptions) {
    this.docker = opts.docker ?? "docker";
    this.log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.shells = new Shells({
      plan: opts.plan,
      docker: this.docker,
      log: this.log,
      ...(opts.sshAuthSock ? { sshAuthSock: opts.sshAuthSock } : {}),
      ...(opts.shell ? { shell: opts.shell } : {}),
    });
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

  /** Finds the failed werf.yaml instruction; opens the error shells when asked; returns the UserError to throw. */
  diagnose(ctx: BakeHookContext, output: string): Promise<UserError | undefined> {
    return diagnose({ opts: this.opts, docker: this.docker, log: this.log, shells: this.shells }, ctx, output);
  }

  /** Opens the interactive shell in `ref`; returns when it exits. */
  introspect(image: ImagePlan, stage: StagePlan, ref: string, state: string, local = false): Promise<void> {
    return this.shells.introspect(image, stage, ref, state, local);
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





}


