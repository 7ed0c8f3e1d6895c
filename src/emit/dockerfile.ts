// The compiled Dockerfile: the plan lowered to the Dockerfile model (lower.ts), then printed by the one printer
// (src/dockerfile/print.ts), which returns the text and the line → werf.yaml map.

import { printDockerfile } from "../dockerfile/print.js";
import type { PrintedDockerfile } from "../dockerfile/model.js";
import type { Plan } from "../plan/model.js";
import { lowerPlan, type LowerOptions } from "./lower.js";

export {
  COMMIT_SECRET,
  PATCH_MOUNT,
  REPO_ARG,
  TOOLCHAIN_CONTEXT,
  archiveEntriesFile,
  archiveNeedsChown,
  dockerfileImageContext,
  importNeedsHelper,
  isRootUser,
  type ImportFilterScript,
  type LowerOptions,
} from "./lower.js";

/** What lowering needs besides the plan. */
export type RenderDeps = LowerOptions;

/** The plan's Dockerfile with its line map. */
export function printPlan(plan: Plan, deps: RenderDeps): PrintedDockerfile {
  return printDockerfile(lowerPlan(plan, deps));
}

export function renderDockerfileWith(plan: Plan, deps: RenderDeps): string {
  return printPlan(plan, deps).text;
}
