// replace: every match of a Python regexp (MULTILINE) in a file replaced, then owner/group/mode. The regexp is
// translated to a POSIX ERE for the toolchain's sed, line by line: patterns that may match across lines
// (\n, lookarounds, non-greedy) are refused.
import { Args, TaskProblem, q, type ModuleContext, noAttributes } from "../types.js";

const S = "/.stapel/bin";

/**
 * A Python regexp as a POSIX ERE, for sed (`/` escaped) or awk (`slash: false`); `option` names the option
 * in the refusal of what EREs lack.
 */
export function pyToEre(re: string, module = "replace", option = "regexp", slash = true): string {
  if (/\\n|\(\?|[*+?}]\?|\\[AZbB]/.test(re)) throw new TaskProblem(`${module}: ${option} ${JSON.stringify(re)} uses Python regexp features sed lacks (\\n, (? groups and flags, lookarounds, lazy quantifiers, \\b)`, "write the step as a `shell` task with sed", option);
  let out = "";
  for (let i = 0; i < re.length; i++) {
    const c = re[i]!;
    if (c === "\\" && i + 1 < re.length) {
      const n = re[++i]!;
      const map: Record<string, string> = { d: "[0-9]", D: "[^0-9]", s: "[[:space:]]", S: "[^[:space:]]", w: "[[:alnum:]_]", W: "[^[:alnum:]_]", t: "\t" };
      out += map[n] ?? `\\${n}`;
    } else if (c === "/" && slash) out += "\\/";
    else out += c;
  }
  return out;
}

export function pyReplacement(r: string): string {
  return r
    .replace(/\\g<(\d+)>/g, "\\$1")
    .replace(/&/g, "\\&")
    .replace(/\//g, "\\/")
    .replace(/\n/g, "\\n");
}

export const replace = (args: Args, ctx: ModuleContext): string[] => {
  const path = args.need("path", "dest", "destfile", "name");
  const regexp = args.need("regexp");
  const repl = args.str("replace") ?? "";
  const mode = args.mode();
  const owner = args.str("owner") ?? "";
  const group = args.str("group") ?? "";
  if (args.has("after", "before")) throw new TaskProblem("replace: after/before are not supported by stapel2docker", "write the step as a `shell` task with sed");
  if (args.bool("backup", false)) throw new TaskProblem("replace: backup is not supported by stapel2docker");
  args.str("encoding");
  args.harmless("validate", () => false, "remove `validate`, or write the step as a `shell` task");
  args.harmless("attributes", noAttributes);
  args.checkUnused(["unsafe_writes"]);
  ctx.helper("ansible_write");
  const p = q(path);
  return [
    `[ -e ${p} ] || ansible_fail ${q(`Path ${path} does not exist !`)}`,
    `${S}/sed -E ${q(`s/${pyToEre(regexp)}/${pyReplacement(repl)}/g`)} ${p} | ansible_write ${p} ${q(owner)} ${q(group)} ${q(mode ?? "")}`,
  ];
};
