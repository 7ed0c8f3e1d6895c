// fail: stop with msg.
import { Args, q, type ModuleContext } from "../types.js";

export const fail = (args: Args, ctx: ModuleContext): string[] => {
  const msg = args.str("msg") ?? "Failed as requested from task";
  args.checkUnused();
  void ctx;
  return [`echo ${q(msg)} >&2`, "exit 1"];
};
