// tempfile: a file or directory made with mktemp (path, prefix, suffix). Its name is random, as with ansible;
// a later task can not template it (no run-time values), so it is only useful for its side effect.
import { Args, q, type ModuleContext } from "../types.js";

const S = "/.stapel/bin";

export const tempfile = (args: Args, ctx: ModuleContext): string[] => {
  const state = args.choice("state", ["file", "directory"] as const, "file");
  const path = args.str("path") ?? "/tmp";
  const prefix = args.str("prefix") ?? "ansible.";
  const suffix = args.str("suffix") ?? "";
  args.checkUnused();
  void ctx;
  return [`${S}/mktemp ${state === "directory" ? "-d " : ""}${q(`${path.replace(/\/$/, "")}/${prefix}XXXXXX${suffix}`)}`];
};
