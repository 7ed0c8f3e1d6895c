// A failed `docker buildx bake`, located: buildx's plain output names the failed instruction's Dockerfile line
// (`Dockerfile:N`), and the printed Dockerfile's line map (src/dockerfile/print.ts) says which build stage and which
// werf.yaml command that line is. Nothing re-reads the Dockerfile's text.

import { UserError, type SourcePos } from "../diagnostics.js";
import type { PrintedDockerfile } from "../dockerfile/model.js";
import type { ImagePlan, Plan, StagePlan } from "../plan/model.js";

/** What a failed build stage did, read from buildx's plain output and the printed Dockerfile's line map. */
export interface BakeFailure {
  /** The Dockerfile build stage whose RUN failed. */
  stage?: string;
  /** The werf.yaml position of the failed instruction (a RUN of one command: that command's). */
  pos?: SourcePos;
  /** The positions of the commands the failed RUN runs. */
  commands?: SourcePos[];
  exitCode?: number;
  /** The failed step's last output lines (timestamps removed). */
  output: string[];
}

/** Reads the failed instruction's line from buildx's plain progress output (`Dockerfile:N`), and looks it up in the
 *  line map of the Dockerfile that ran; also the exit code and the step's output. When buildx leaves the line out
 *  (several targets failing or pushing at once), the summary's `[target stage k/n] RUN` names the build stage, and
 *  the map's only RUN of that stage is the instruction. */
export function parseBakeFailure(output: string, dockerfile: PrintedDockerfile, dockerfileName = "Dockerfile"): BakeFailure {
  const lines = output.split("\n");
  const exit = /did not complete successfully: exit code: (\d+)/.exec(output);
  const name = dockerfileName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const at = new RegExp(`^${name}:(\\d+)$`, "m").exec(output);
  // the error summary: ` > [target stage k/n] RUN ...:` then the step's output lines, up to `------`
  const out: string[] = [];
  const head = lines.findIndex((l) => /^ > \[.*\] RUN /.test(l));
  let info = at ? dockerfile.lines[Number(at[1]) - 1] : undefined;
  if (!info && head >= 0) {
    const stage = /^ > \[(?:\S+ )?(\S+) \d+\/\d+\] RUN /.exec(lines[head])?.[1];
    const runs = new Set(dockerfile.lines.filter((l) => l.stage === stage && l.kind === "run"));
    info = runs.size === 1 ? [...runs][0] : stage && dockerfile.lines.some((l) => l.stage === stage) ? { stage } : undefined;
  }
  if (head >= 0) {
    for (let i = head + 1; i < lines.length && !/^-{6}/.test(lines[i]); i++) out.push(lines[i].replace(/^\d+\.\d+ /, ""));
  }
  return {
    ...(info?.stage ? { stage: info.stage } : {}),
    ...(info?.pos ? { pos: info.pos } : {}),
    ...(info?.commands ? { commands: info.commands } : {}),
    exitCode: exit ? Number(exit[1]) : undefined,
    output: out.slice(-20),
  };
}

/** The image and werf stage a build stage of the plan belongs to. */
export function findBuildStage(plan: Plan, target: string): { image: ImagePlan; stage: StagePlan; index: number } | undefined {
  for (const image of plan.images) {
    const index = image.stages.findIndex((s) => s.target === target);
    if (index >= 0) return { image, stage: image.stages[index], index };
  }
  return undefined;
}

/** The bake's UserError, located at the failed werf.yaml command (or stage) when the output names a line. */
export function locateBakeFailure(error: UserError, output: string, dockerfile: PrintedDockerfile, plan: Plan): UserError {
  const f = parseBakeFailure(output, dockerfile);
  if (!f.stage) return error;
  const found = findBuildStage(plan, f.stage);
  const where = found
    ? `image ${found.image.name === "" ? "~" : found.image.name}, stage ${found.stage.name}${found.stage.target !== f.stage ? ` (build stage ${f.stage})` : ""}`
    : `build stage ${f.stage}`;
  const many = !f.pos && f.commands && f.commands.length > 1 ? ` (one of the commands at werf.yaml lines ${f.commands.map((c) => c.line).join(", ")})` : "";
  const d = error.diagnostics[0];
  return new UserError({
    ...d,
    pos: f.pos ?? found?.stage.pos ?? d.pos,
    message: `${f.pos ? "this command" : "a command"} failed${f.exitCode !== undefined ? ` with exit code ${f.exitCode}` : ""} in ${where}${many}: ${d.message}`,
  });
}
