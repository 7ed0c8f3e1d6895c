// command: run a program with its arguments, no shell (ansible splits the free form with Python's shlex and
// expands $VARS and ~ in each argument: os.path.expandvars/expanduser, which leave unknown variables as written).
import { Args, TaskProblem, q, type ModuleContext } from "../types.js";
import { runLines } from "./shell.js";

/** Python's shlex.split (posix mode, no comments). */
export function shlexSplit(s: string): string[] {
  const out: string[] = [];
  let cur: string | undefined;
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      if (cur !== undefined) out.push(cur);
      cur = undefined;
      i++;
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new TaskProblem("command: No closing quotation");
      cur = (cur ?? "") + s.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let v = "";
      while (j < s.length && s[j] !== '"') {
        if (s[j] === "\\" && (s[j + 1] === '"' || s[j + 1] === "\\")) {
          v += s[j + 1];
          j += 2;
        } else v += s[j++];
      }
      if (j >= s.length) throw new TaskProblem("command: No closing quotation");
      cur = (cur ?? "") + v;
      i = j + 1;
    } else if (c === "\\") {
      if (i + 1 >= s.length) throw new TaskProblem("command: No escaped character");
      cur = (cur ?? "") + s[i + 1];
      i += 2;
    } else {
      cur = (cur ?? "") + c;
      i++;
    }
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

/** One argument as bash words with Python's expanduser(expandvars(arg)) semantics. */
export function expandedWord(arg: string): string {
  if (!arg.includes("$") && !arg.startsWith("~")) return q(arg);
  let out = "";
  let lit = "";
  const flush = () => {
    if (lit) out += q(lit);
    lit = "";
  };
  let i = 0;
  if (arg === "~" || arg.startsWith("~/")) {
    out += '"$HOME"';
    i = 1;
  }
  while (i < arg.length) {
    const m = /^\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([^}]+)\})/.exec(arg.slice(i));
    if (m) {
      const name = m[1] ?? m[2]!;
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        flush();
        out += `"\${${name}-${m[0].replace(/[$"\\`}]/g, (x) => "\\" + x)}}"`;
        i += m[0].length;
        continue;
      }
    }
    lit += arg[i++];
  }
  flush();
  return out;
}

export const command = (args: Args, ctx: ModuleContext): string[] => {
  let argv: string[];
  if (args.has("argv")) {
    argv = args.list("argv");
  } else {
    const cmd = args.freeForm ?? args.str("cmd", "_raw_params");
    if (cmd === undefined || cmd.trim() === "") throw new TaskProblem("command: no command given", "give the command after `command:` or as `cmd:`");
    argv = shlexSplit(cmd);
  }
  args.str("cmd", "_raw_params");
  if (argv.length === 0) throw new TaskProblem("command: no command given");
  return runLines(args, ctx, argv.map(expandedWord).join(" "), "command");
};
