// The bake named contexts each planned stage reads, listed on the stage (`StagePlan.contexts`) so that the bake
// writer takes them from the stages a target builds instead of working them out from stage bodies.

import type { Plan, StagePlan } from "./model.js";
import { TOOLCHAIN_CONTEXT, dockerfileImageContext } from "./names.js";

/** Whether an import goes through the filtering helper stage (masks, or a glob in `add`). */
export function importNeedsFilter(d: { add: string; includePaths: readonly string[]; excludePaths: readonly string[] }): boolean {
  return d.includePaths.length > 0 || d.excludePaths.length > 0 || /[*?[\\]/.test(d.add);
}

/** The named contexts a stage reads (name → bake source: `docker-image://…`, `target:…`, or a project-relative
 *  path), sorted by name. */
export function stageContexts(plan: Pick<Plan, "toolchain" | "dockerfileImages">, stage: StagePlan): Record<string, string> {
  const ctx: Record<string, string> = {};
  const toolchain = () => (ctx[TOOLCHAIN_CONTEXT] = `docker-image://${plan.toolchain}`);
  const image = (name: string) => {
    const df = plan.dockerfileImages.find((d) => d.image.name === name);
    if (df) ctx[dockerfileImageContext(df.target)] = `target:${df.target}`;
  };
  const b = stage.body;
  switch (b.kind) {
    case "from":
      if (b.base.kind === "image") image(b.base.image);
      break;
    case "user":
      toolchain();
      for (const m of b.mounts) if (m.contextName && m.contextPath !== undefined) ctx[m.contextName] = m.contextPath;
      break;
    case "gitArchive":
      toolchain();
      break;
    case "gitPatch":
      toolchain();
      if (b.context && b.patches.length) ctx[b.context.name] = b.context.path;
      break;
    case "dependencies":
      for (const i of b.imports) {
        if (i.source.kind === "image") image(i.source.image);
        if (importNeedsFilter(i.directive)) toolchain();
      }
      break;
    case "dockerInstructions":
    case "imageSpec":
      break;
  }
  return Object.fromEntries(Object.keys(ctx).sort().map((k) => [k, ctx[k]]));
}

/** Sets every stage's `contexts`. */
export function listStageContexts(plan: Plan): void {
  for (const image of plan.images) for (const s of image.stages) s.contexts = stageContexts(plan, s);
}
