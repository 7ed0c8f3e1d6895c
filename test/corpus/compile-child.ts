// Compiles one synthesized corpus project: `node compile-child.js '{"dir":..,"gitCacheDir":..,"out":..}'`.
// Runs in its own process so that each project's GIT_CONFIG_* (remote URL rewrites) is its own while two
// projects compile at once. Prints one JSON line: a ChildResult.
import fs from "node:fs";
import path from "node:path";
import { DockerfileParser } from "dockerfile-ast";
import { UserError, formatDiagnostic } from "../../src/diagnostics.js";
import { planProject } from "../../src/plan/plan.js";
import type { Plan } from "../../src/plan/model.js";
import { emitProject } from "../../src/emit/index.js";
import { assumedImageConfigResolver } from "../../src/docker/image-config.js";

export type ChildKind = "ok" | "ansible" | "git" | "plan" | "emit" | "check" | "internal";

export interface ChildResult {
  kind: ChildKind;
  /** ok: "N targets, M stages"; else the first line of the first diagnostic, or the bug. */
  detail: string;
  /** internal: the stack. */
  stack?: string;
}

function firstLine(e: UserError): string {
  return formatDiagnostic(e.diagnostics[0]).split("\n")[0].replace(/\t/g, " ");
}

function isAnsible(e: UserError): boolean {
  return /ansible is not supported/i.test(e.diagnostics[0].message);
}

function planKind(e: UserError): ChildKind {
  const text = e.diagnostics.map((d) => d.message).join("\n");
  if (isAnsible(e)) return "ansible";
  if (/\bgit\b|commit|clone|remote|repositor|mapping/i.test(text)) return "git";
  return "plan";
}

/** Stage names of a Dockerfile (FROM ... AS name), parsed with dockerfile-ast (heredoc bodies are not FROMs). */
export function dockerfileStages(text: string): string[] {
  return DockerfileParser.parse(text)
    .getFROMs()
    .map((f) => f.getBuildStage())
    .filter((s): s is string => !!s);
}

/**
 * Checks the written files: a Dockerfile and docker-bake.json, a `default` group, and every bake target
 * built from the emitted Dockerfile naming a stage of it. Returns the problem, or undefined.
 */
export function checkOutput(out: string, projectDir: string): { problem?: string; targets: number; stages: number } {
  const dockerfile = path.join(out, "Dockerfile");
  const bakeFile = path.join(out, "docker-bake.json");
  if (!fs.existsSync(dockerfile)) return { problem: "no Dockerfile written", targets: 0, stages: 0 };
  if (!fs.existsSync(bakeFile)) return { problem: "no docker-bake.json written", targets: 0, stages: 0 };
  const stages = dockerfileStages(fs.readFileSync(dockerfile, "utf8"));
  const known = new Set(stages.map((s) => s.toLowerCase()));
  let bake: { group?: Record<string, { targets?: string[] }>; target?: Record<string, { context?: string; dockerfile?: string; target?: string }> };
  try {
    bake = JSON.parse(fs.readFileSync(bakeFile, "utf8"));
  } catch (e) {
    return { problem: `docker-bake.json is not JSON: ${(e as Error).message}`, targets: 0, stages: stages.length };
  }
  const targets = Object.entries(bake.target ?? {});
  for (const [name, t] of targets) {
    // bake resolves `context` against the working directory (the project dir) and `dockerfile` against the context
    const own = path.resolve(projectDir, t.context ?? ".", t.dockerfile ?? "Dockerfile") === dockerfile;
    if (own && t.target && !known.has(t.target.toLowerCase())) {
      return { problem: `bake target ${name} builds stage ${t.target}, which the Dockerfile does not define`, targets: targets.length, stages: stages.length };
    }
  }
  for (const name of bake.group?.default?.targets ?? []) {
    if (!bake.target?.[name]) return { problem: `the default group names target ${name}, which docker-bake.json does not define`, targets: targets.length, stages: stages.length };
  }
  return { targets: targets.length, stages: stages.length };
}

export async function compileProject(dir: string, gitCacheDir: string, out: string, env?: string): Promise<ChildResult> {
  let plan: Plan;
  try {
    plan = await planProject({ dir, env, environ: {}, gitCacheDir, baseImages: assumedImageConfigResolver });
  } catch (e) {
    if (e instanceof UserError) return { kind: planKind(e), detail: firstLine(e) };
    return { kind: "internal", detail: `planProject: ${String(e)}`, stack: (e as Error)?.stack };
  }
  try {
    await emitProject(plan, { out });
  } catch (e) {
    if (e instanceof UserError) return { kind: isAnsible(e) ? "ansible" : "emit", detail: firstLine(e) };
    return { kind: "internal", detail: `emitProject: ${String(e)}`, stack: (e as Error)?.stack };
  }
  const checked = checkOutput(out, plan.dir);
  if (checked.problem) return { kind: "check", detail: checked.problem };
  return { kind: "ok", detail: `${checked.targets} targets, ${checked.stages} stages` };
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const args = JSON.parse(process.argv[2]) as { dir: string; gitCacheDir: string; out: string; env?: string };
  const result = await compileProject(args.dir, args.gitCacheDir, args.out, args.env);
  process.stdout.write(JSON.stringify(result) + "\n");
}
