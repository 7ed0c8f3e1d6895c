// shell: the command through /bin/sh -c (or `executable`), with chdir, creates, removes, stdin; shared by
// command and raw.
import { Args, TaskProblem, q, type ModuleContext } from "../types.js";

/**
 * The common part of command, shell and raw: chdir, creates/removes (globs, after chdir), stdin, become_user,
 * then the command line `run` (already bash words).
 */
export function runLines(args: Args, ctx: ModuleContext, run: string, kind: "command" | "shell" | "raw"): string[] {
  const lines: string[] = [];
  if (kind !== "raw") {
    const chdir = args.str("chdir");
    if (chdir !== undefined) lines.push(`cd ${q(chdir)} || { echo "Unable to change directory before execution: ${chdir.replace(/["$`\\]/g, "")}" >&2; exit 1; }`);
    const creates = args.str("creates");
    if (creates !== undefined) {
      ctx.helper("ansible_exists");
      lines.push(`if ansible_exists ${q(creates)}; then echo ${q(`skipped, since ${creates} exists`)}; exit 0; fi`);
    }
    const removes = args.str("removes");
    if (removes !== undefined) {
      ctx.helper("ansible_exists");
      lines.push(`if ! ansible_exists ${q(removes)}; then echo ${q(`skipped, since ${removes} does not exist`)}; exit 0; fi`);
    }
    args.str("warn");
  }
  let stdin: string | undefined;
  if (kind !== "raw") {
    const s = args.str("stdin");
    if (s !== undefined) stdin = args.bool("stdin_add_newline", true) ? s + "\n" : s;
  }
  if (ctx.becomeUser !== undefined) {
    // werf ran ansible with `sudo -E -H`: the environment kept, HOME of the user; busybox su does the same.
    const shell = kind === "command" ? "/.stapel/bin/bash" : (args.str("executable") ?? "/bin/sh");
    run = `/.stapel/bin/su -s ${q(shell)} ${q(ctx.becomeUser)} -c ${q(kind === "command" ? `exec ${run}` : run)}`;
  }
  lines.push(stdin !== undefined ? `printf '%s' ${q(stdin)} | ${run}` : run);
  args.checkUnused();
  return lines;
}

export const shell = (args: Args, ctx: ModuleContext): string[] => {
  const cmd = args.freeForm ?? args.str("cmd", "_raw_params");
  args.str("cmd", "_raw_params");
  if (cmd === undefined || cmd.trim() === "") throw new TaskProblem("shell: no command given", "give the command after `shell:` or as `cmd:`");
  const exe = ctx.becomeUser !== undefined ? "" : args.str("executable");
  const run = ctx.becomeUser !== undefined ? cmd : `${q(exe ?? "/bin/sh")} -c ${q(cmd)}`;
  return runLines(args, ctx, run, "shell");
};
