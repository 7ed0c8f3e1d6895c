// group: groupadd (gid, system, non_unique) / groupmod -g / groupdel, with the image's tools.
import { Args, q, type ModuleContext } from "../types.js";

export const group = (args: Args, ctx: ModuleContext): string[] => {
  const name = args.need("name");
  const state = args.choice("state", ["present", "absent"] as const, "present");
  const gid = args.str("gid");
  const system = args.bool("system", false);
  const nonUnique = args.bool("non_unique", false);
  args.checkUnused(["local", "force"]);
  void ctx;
  const n = q(name);
  const exists = `grep -q ${q(`^${name}:`)} /etc/group`;
  if (state === "absent") return [`if ${exists}; then groupdel ${n}; fi`];
  const add = ["groupadd", ...(gid !== undefined ? ["-g", q(gid)] : []), ...(nonUnique ? ["-o"] : []), ...(system ? ["-r"] : []), n].join(" ");
  const lines = [`if ${exists}; then`];
  if (gid !== undefined) lines.push(`  [ "$(grep ${q(`^${name}:`)} /etc/group | cut -d: -f3)" = ${q(gid)} ] || groupmod -g ${q(gid)}${nonUnique ? " -o" : ""} ${n}`);
  else lines.push("  :");
  lines.push("else", `  ${add}`, "fi");
  return lines;
};
