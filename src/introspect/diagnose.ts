// Which werf.yaml command a failed bake ran: the failed build stage from the line map (src/builder/bake-failure.ts);
// a stage of several commands is re-run split per command (Dockerfile.introspect, one build stage per command,
// chained; introspect-bake.json, loaded into the daemon, never pushed); with --introspect-(before-)error, shells
// before and after the failed command.

import { writeFile } from "node:fs/promises";
import path from "node:path";
import { UserError, type SourcePos } from "../diagnostics.js";
import { printPlanDockerfile } from "../emit/index.js";
import { findBuildStage, parseBakeFailure } from "../builder/bake-failure.js";
import { builderHint } from "../builder/builders.js";
import type { BakeTarget } from "../bake/model.js";
import { bakeFile, writeBakeFile } from "../bake/write.js";
import type { ImagePlan, StagePlan, UserBody } from "../plan/model.js";
import { splitTarget } from "../plan/names.js";
import type { BakeHookContext } from "./index.js";
import { exec, imageLabel, type Shells } from "./shell.js";

export interface DiagnoseEnv {
  opts: { afterError: boolean; beforeError: boolean };
  docker: string;
  log: (line: string) => void;
  shells: Shells;
}

/** Finds the failed werf.yaml instruction; opens the error shells when asked; returns the UserError to throw. */
export async function diagnose(env: DiagnoseEnv, ctx: BakeHookContext, output: string): Promise<UserError | undefined> {
  const f = parseBakeFailure(output, ctx.dockerfile);
  if (!f.stage) return undefined;
  const found = findBuildStage(ctx.plan, f.stage);
  if (!found) return undefined;
  const { image, stage, index } = found;
  const body = stage.body;
  const where = `image ${imageLabel(image.name)}, stage ${stage.name}${stage.layer ? ` (asLayers layer ${stage.layer.index} of ${stage.layer.count})` : ""}`;
  if (body.kind !== "user") {
    // not a user command: a driver or daemon setting may say why (a base image the builder cannot pull, ...)
    const hint = builderHint(output);
    return new UserError({ pos: f.pos ?? stage.pos, message: `${where}: build stage ${f.stage} failed${f.exitCode !== undefined ? ` (exit code ${f.exitCode})` : ""}`, context: f.output, ...(hint ? { hint } : {}) });
  }
  const steps = body.builder === "shell" ? body.commands.length : body.tasks.length;
  // which command: one command → it; several → re-run the stage split per instruction (BuildKit caches the
  // prefix stage), which also gives the images before and after it
  let k = 1;
  let failure = f;
  const baseTarget = ctx.bake.target[f.stage] ? f.stage : Object.keys(ctx.bake.target).find((t) => t === stage.target);
  const split = baseTarget ? await writeSplit(ctx, image, index, baseTarget) : undefined;
  if (steps > 1 && split) {
    const r = await exec(env.docker, ["buildx", "bake", "--progress=plain", "-f", split.bakeFile, split.targets[steps - 1]], ctx.work);
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
    hint: env.opts.afterError || env.opts.beforeError ? undefined : "--introspect-error (or --introspect-before-error) opens a shell in the state right after (before) it",
  });
  if ((env.opts.afterError || env.opts.beforeError) && split) {
    env.log(err.message);
    const before = `stapel2docker-introspect:${stage.digest.slice(0, 20)}-before-${k}`;
    const r = await exec(env.docker, ["buildx", "bake", "--progress=plain", "-f", split.bakeFile, "--set", `${split.prefix(k)}.tags=${before}`, split.prefix(k)], ctx.work);
    if (r.code !== 0) throw new UserError({ message: "could not rebuild the state before the failed instruction", hint: r.out.trim().split("\n").slice(-8).join("\n") });
    try {
      if (env.opts.beforeError) await env.shells.introspect(image, stage, before, `before ${what}`, true);
      if (env.opts.afterError && cmd) {
        const after = await env.shells.runCommitted(before, ctx.plan, body, k);
        try {
          await env.shells.introspect(image, stage, after, `after ${what} failed`, true);
        } finally {
          await exec(env.docker, ["image", "rm", after]);
        }
      }
    } finally {
      await exec(env.docker, ["image", "rm", before]);
    }
  }
  return err;
}

/** Writes Dockerfile.introspect (the failing stage split per instruction) and introspect-bake.json (one target per
 *  split stage, loaded into the daemon, never pushed). `prefix(k)` is the target of the state before command k. */
async function writeSplit(ctx: BakeHookContext, image: ImagePlan, index: number, bakeTarget: string) {
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

/** The image's stages up to `index`, then the split stages chained from the stage before the original. */
function chainSplit(image: ImagePlan, index: number): ImagePlan {
  // renderImage chains each stage FROM the previous one in the list; put the split stages right after the stage
  // before the original, and the original after them (nothing else of this image is needed)
  const before = image.stages.slice(0, index);
  const splits = image.stages.slice(index + 1);
  return { ...image, stages: [...before, ...splits] };
}
