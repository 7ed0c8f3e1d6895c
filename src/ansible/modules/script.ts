// script: a script file run with its arguments, as ansible's script action: the file is copied to a temporary
// directory, made executable, and `PATH args...` (the task's text with the path replaced) runs through /bin/sh
// (after `executable` when given), with creates, removes, chdir and become_user as shell tasks have. Under werf the
// "controller" is the build container and the playbook directory holds none of the project's files, so the
// script is an absolute path in the image.
import { Args, TaskProblem, q, type ModuleContext } from "../types.js";
import { shlexSplit } from "./command.js";
import { runLines } from "./shell.js";

const S = "/.stapel/bin";

export const script = (args: Args, ctx: ModuleContext): string[] => {
  const text = (args.freeForm ?? args.str("cmd", "_raw_params") ?? "").trim();
  args.str("cmd", "_raw_params");
  if (text === "") throw new TaskProblem("script: no script given", "give the script's path (and arguments) after `script:`");
  const source = shlexSplit(text)[0]!;
  if (!source.startsWith("/"))
    throw new TaskProblem(`script: ${JSON.stringify(source)} is relative`, "werf runs the playbook from its own directory, which holds no project files: give an absolute path in the image");
  const exe = args.str("executable");
  args.bool("decrypt", true);
  const base = source.split("/").pop() || "script";
  const target = text.replace(source, '"$ansible_script"');
  // the script's copy must be readable by the become_user
  const perm = ctx.becomeUser !== undefined ? "0755" : "0700";
  const lines = [
    `[ -f ${q(source)} ] || ansible_fail ${q(`Could not find or access '${source}'`)}`,
    `ansible_tmp=$(${S}/mktemp -d); ansible_script="$ansible_tmp"/${q(base)}; export ansible_script`,
    `${S}/cp ${q(source)} "$ansible_script"; ${S}/chmod ${perm} "$ansible_tmp" "$ansible_script"`,
  ];
  ctx.helper("ansible_fail");
  const cmd = exe !== undefined ? `${exe} ${target}` : target;
  // runLines runs become_user's command with `su -s EXECUTABLE`: for script, executable is the interpreter instead
  if (ctx.becomeUser !== undefined && exe !== undefined)
    throw new TaskProblem("script: executable with become_user is not supported by stapel2docker", "put a shebang line in the script, or drop one of them", "executable");
  const run = runLines(args, ctx, ctx.becomeUser !== undefined ? cmd : `/bin/sh -c ${q(cmd)}`, "shell");
  const last = run.pop()!;
  // creates/removes (which exit early) before the copy, as ansible checks them first
  return [...run, ...lines, `${last} || { r=$?; ${S}/rm -rf "$ansible_tmp"; exit "$r"; }`, `${S}/rm -rf "$ansible_tmp"`];
};
