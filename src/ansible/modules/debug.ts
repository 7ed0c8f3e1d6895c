// debug: print msg (or a variable known at compile time).
import { Args, q, type ModuleContext } from "../types.js";

export const debug = (args: Args, ctx: ModuleContext): string[] => {
  const msg = args.str("msg");
  const v = args.str("var");
  args.str("verbosity");
  args.checkUnused();
  void ctx;
  if (v !== undefined) return [`echo ${q(`${v}: (see werf.yaml)`)}`];
  return [`echo ${q(msg ?? "Hello world!")}`];
};
