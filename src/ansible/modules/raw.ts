// raw: the command line as given, through /bin/sh -c (or `executable`); no chdir/creates/removes.
import { Args, TaskProblem, q, type ModuleContext } from "../types.js";
import { runLines } from "./shell.js";

export const raw = (args: Args, ctx: ModuleContext): string[] => {
  const cmd = args.freeForm ?? args.str("_raw_params");
  if (cmd === undefined || cmd.trim() === "") throw new TaskProblem("raw: no command given");
  const exe = ctx.becomeUser !== undefined ? "" : args.str("executable");
  return runLines(args, ctx, ctx.becomeUser !== undefined ? cmd : `${q(exe ?? "/bin/sh")} -c ${q(cmd)}`, "raw");
};
