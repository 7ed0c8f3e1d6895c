// pip: name list (with version), requirements, state present/latest/absent/forcereinstall, extra_args,
// executable (default: pip3, else pip), chdir, virtualenv (made with `virtualenv_command`, default `python3 -m venv`).
import { Args, TaskProblem, q, type ModuleContext, isFalse } from "../types.js";

export const pip = (args: Args, ctx: ModuleContext): string[] => {
  const names = args.list("name");
  const version = args.str("version");
  const req = args.str("requirements");
  const state = args.choice("state", ["present", "latest", "absent", "forcereinstall"] as const, "present");
  const extra = args.str("extra_args");
  const exe = args.str("executable");
  const chdir = args.str("chdir");
  const venv = args.str("virtualenv");
  const venvCmd = args.str("virtualenv_command") ?? "python3 -m venv";
  args.harmless("virtualenv_site_packages", isFalse);
  args.harmless("virtualenv_python", () => false);
  args.harmless("umask", () => false);
  args.harmless("editable", isFalse);
  args.checkUnused();
  void ctx;
  if (names.length === 0 && req === undefined) throw new TaskProblem("pip: one of name or requirements is required");
  const lines: string[] = [];
  if (chdir) lines.push(`cd ${q(chdir)}`);
  let p: string;
  if (venv !== undefined) {
    if (exe) throw new TaskProblem("pip: executable and virtualenv are mutually exclusive");
    lines.push(`[ -x ${q(`${venv}/bin/pip`)} ] || ${venvCmd} ${q(venv)}`);
    p = q(`${venv}/bin/pip`);
  } else if (exe !== undefined) p = q(exe);
  else {
    lines.push("p=pip3; command -v pip3 >/dev/null 2>&1 || p=pip");
    p = '"$p"';
  }
  const pk = names.map((n) => q(version && names.length === 1 ? `${n}==${version}` : n)).join(" ");
  const ex = extra ? ` ${extra}` : "";
  const what = [...(req !== undefined ? [`-r ${q(req)}`] : []), ...(pk ? [pk] : [])].join(" ");
  if (state === "absent") lines.push(`${p} uninstall -y${ex} ${what}`);
  else lines.push(`${p} install${state === "latest" ? " -U" : state === "forcereinstall" ? " -U --force-reinstall" : ""}${ex} ${what}`);
  return lines;
};
