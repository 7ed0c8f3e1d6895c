// file: state file/directory/touch/link/hard/absent, owner/group/mode, recurse, src, force.
import { Args, TaskProblem, q, type ModuleContext, noAttributes } from "../types.js";

const S = "/.stapel/bin";

export const file = (args: Args, ctx: ModuleContext): string[] => {
  const path = args.need("path", "dest", "name");
  const state = args.choice("state", ["file", "directory", "touch", "link", "hard", "absent"] as const, "file");
  const mode = args.mode();
  const owner = args.str("owner") ?? "";
  const group = args.str("group") ?? "";
  const recurse = args.bool("recurse", false);
  const force = args.bool("force", false);
  const src = args.str("src");
  args.bool("follow", true);
  // times: only ansible's defaults (now for touch, else preserve); explicit timestamps are refused
  args.harmless("access_time", (v) => v === "now" || v === "preserve");
  args.harmless("modification_time", (v) => v === "now" || v === "preserve");
  args.harmless("attributes", noAttributes);
  args.checkUnused(["unsafe_writes", "access_time_format", "modification_time_format", "seuser", "serole", "setype", "selevel"]);
  if (recurse && state !== "directory") throw new TaskProblem("file: recurse option requires state to be 'directory'");
  const p = q(path);
  const attrs = `${q(owner)} ${q(group)} ${q(mode ?? "")}`;
  const needAttrs = owner !== "" || group !== "" || mode !== undefined;
  const lines: string[] = [];
  if (needAttrs || state === "file") ctx.helper("ansible_attrs");
  switch (state) {
    case "absent":
      lines.push(`${S}/rm -rf -- ${p}`);
      break;
    case "file":
      lines.push(`[ -e ${p} ] || [ -L ${p} ] || ansible_fail ${q(`file (${path}) is absent, cannot continue`)}`);
      lines.push(`[ ! -d ${p} ] || ansible_fail ${q(`${path} is a directory, not a file`)}`);
      if (needAttrs) lines.push(`ansible_attrs ${p} ${attrs}`);
      break;
    case "directory":
      ctx.helper("ansible_fail");
      lines.push(`if [ -e ${p} ] && [ ! -d ${p} ]; then ansible_fail ${q(`${path} already exists as a file`)}; fi`);
      if (needAttrs) {
        // ansible gives every directory it creates (parents too) the mode and owner
        lines.push(`new=(); d=${p}; while [ ! -e "$d" ] && [ ! -L "$d" ]; do new=("$d" "\${new[@]}"); d=$(${S}/dirname "$d"); done`);
        lines.push(`${S}/mkdir -p ${p}`);
        lines.push(`for d in "\${new[@]}"; do ansible_attrs "$d" ${attrs}; done`);
        lines.push(`ansible_attrs ${p} ${attrs}${recurse ? " recurse" : ""}`);
      } else lines.push(`${S}/mkdir -p ${p}`);
      break;
    case "touch":
      lines.push(`if [ ! -e ${p} ]; then ( umask 022; ${S}/touch ${p} ); else ${S}/touch ${p}; fi`);
      if (needAttrs) lines.push(`ansible_attrs ${p} ${attrs}`);
      break;
    case "link":
    case "hard": {
      if (src === undefined) throw new TaskProblem(`file: src is required for state=${state}`);
      ctx.helper("ansible_fail");
      if (state === "link") {
        if (!force) lines.push(`if [ -e ${p} ] && [ ! -L ${p} ]; then ansible_fail ${q(`refusing to convert from ${"$"}(type) to symlink for ${path}`).replace("$(type)", "file")}; fi`);
        lines.push(`${S}/ln -sfn ${q(src)} ${p}`);
      } else {
        lines.push(`${S}/ln -f ${q(src)} ${p}`);
      }
      if (owner || group) lines.push(`ansible_attrs ${p} ${q(owner)} ${q(group)} ''`);
      if (mode) lines.push(`${S}/chmod ${q(mode)} ${p}`);
      break;
    }
  }
  return lines;
};
