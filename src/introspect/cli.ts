// The build command's introspection flags (registered by src/cli/build.ts) and the hooks they make.
import type { Command } from "commander";
import { planProject } from "../plan/plan.js";
import type { Plan, PlanOptions } from "../plan/model.js";
import { Introspection, checkTerminal } from "./index.js";
import { resolveStageSelectors } from "./select.js";

export interface IntrospectCliOptions {
  introspectStage: string[];
  introspectError?: boolean;
  introspectBeforeError?: boolean;
  ssh?: string[];
}

/** Adds --introspect-stage, --introspect-error, --introspect-before-error. */
export function addIntrospectOptions(cmd: Command): Command {
  return cmd
    .option("--introspect-stage <[IMAGE/]STAGE>", "open a shell in this stage once it is built or found (~ the nameless image; STAGE or */STAGE every image; repeatable)",
      (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option("--introspect-error", "when an instruction fails, open a shell in the state right after it")
    .option("--introspect-before-error", "when an instruction fails, open a shell in the state right before it");
}

/** Plans the project, checks the flags against the plan and the terminal, and makes the build's hooks (always:
 *  they also report which werf.yaml instruction failed). */
export async function prepareIntrospection(
  opts: IntrospectCliOptions,
  planOpts: PlanOptions,
  log: (l: string) => void,
): Promise<{ plan: Plan; hooks: Introspection }> {
  const plan = await planProject(planOpts);
  const selectors = resolveStageSelectors(plan, opts.introspectStage ?? []);
  const afterError = Boolean(opts.introspectError);
  const beforeError = Boolean(opts.introspectBeforeError);
  checkTerminal({ selectors, afterError, beforeError });
  const sshAuthSock = opts.ssh?.includes("default") ? planOpts.environ?.SSH_AUTH_SOCK ?? process.env.SSH_AUTH_SOCK : undefined;
  return { plan, hooks: new Introspection({ plan, selectors, afterError, beforeError, sshAuthSock, log }) };
}
