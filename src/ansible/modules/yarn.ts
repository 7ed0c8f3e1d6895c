// yarn: `yarn install` in path (no name), or add/upgrade/remove a package; global, production, registry,
// ignore_scripts, executable.
import { Args, TaskProblem, q, type ModuleContext } from "../types.js";

export const yarn = (args: Args, ctx: ModuleContext): string[] => {
  const name = args.str("name");
  const path = args.str("path");
  const version = args.str("version");
  const state = args.choice("state", ["present", "latest", "absent"] as const, "present");
  const global = args.bool("global", false);
  const production = args.bool("production", false);
  const registry = args.str("registry");
  const ignoreScripts = args.bool("ignore_scripts", false);
  const exe = args.str("executable") ?? "yarn";
  args.checkUnused();
  void ctx;
  if (!global && path === undefined && name !== undefined) throw new TaskProblem("yarn: path must be specified when not using global");
  const flags = [
    "--non-interactive",
    ...(production ? ["--production"] : []),
    ...(ignoreScripts ? ["--ignore-scripts"] : []),
    ...(registry ? [`--registry ${q(registry)}`] : []),
  ].join(" ");
  const y = `${exe.split(/\s+/).map(q).join(" ")}${global ? " global" : ""}`;
  const lines = path !== undefined && !global ? [`cd ${q(path)}`] : [];
  if (name === undefined) {
    lines.push(state === "latest" ? `${y} upgrade ${flags}` : `${y} install ${flags}`);
  } else {
    const pkg = q(version ? `${name}@${version}` : name);
    if (state === "absent") lines.push(`${y} remove ${flags} ${pkg}`);
    else if (state === "latest") lines.push(`${y} upgrade ${flags} ${pkg}`);
    else lines.push(`${y} add ${flags} ${pkg}`);
  }
  return lines;
};
