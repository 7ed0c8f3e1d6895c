// The build command's introspection flags (registered by src/cli/build.ts) and the hooks they make.
import type { Command } from "commander";
import type { Plan, PlanOptions } from "../plan/model.js";
import type { Introspection } from "./index.js";

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
  // loaded here, not with the option definitions: `stapel2docker --help` and the other commands do not need them
  const [{ planProject }, { Introspection, checkTerminal }, { resolveStageSelectors }] = await Promise.all([
    import("../plan/plan.js"),
    import("./index.js"),
    import("./select.js"),
  ]);
  const plan = await planProject(planOpts);
  const selectors = resolveStageSelectors(plan, opts.introspectStage ?? []);
  const afterError = Boolean(opts.introspectError);
  const beforeError = Boolean(opts.introspectBeforeError);
  checkTerminal({ selectors, afterError, beforeError });
  const sshAuthSock = opts.ssh?.includes("default") ? planOpts.environ?.SSH_AUTH_SOCK ?? process.env.SSH_AUTH_SOCK : undefined;
  return { plan, hooks: new Introspection({ plan, selectors, afterError, beforeError, sshAuthSock, log }) };
}
