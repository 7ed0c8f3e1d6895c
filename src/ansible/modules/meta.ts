// meta: noop / flush_handlers / end_play are no-ops here (no handlers; the playbook is this stage).
import { Args, TaskProblem, type ModuleContext } from "../types.js";

export const meta = (args: Args, ctx: ModuleContext): string[] => {
  const action = args.freeForm ?? "";
  void ctx;
  if (["noop", "flush_handlers", "clear_facts", "clear_host_errors", "refresh_inventory", "reset_connection"].includes(action)) return [":"];
  if (action === "end_play" || action === "end_host") return ["exit 0"];
  throw new TaskProblem(`meta: action ${JSON.stringify(action)} is not supported`);
};
