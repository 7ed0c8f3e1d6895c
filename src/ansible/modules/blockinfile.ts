// blockinfile: a block of lines between two marker lines, replaced where the markers are, else inserted after the
// last line matching `insertafter` (or before the last matching `insertbefore`; BOF/EOF), or removed. An awk
// program follows ansible 2.14's blockinfile step by step: markers compared as whole lines, a newline added to the
// line before the block, a missing file created (empty when nothing is inserted). Regexps: Python's as POSIX ERE.
import { Args, TaskProblem, q, type ModuleContext, noAttributes } from "../types.js";
import { pyToEre } from "./replace.js";

const S = "/.stapel/bin";

// B[0..n-1]: the file's lines with their newline (the last one without it when the file lacks one).
export const BLOCKINFILE_AWK = `
function body(s) { sub(/\\n$/, "", s); return s }
function remove(a, b,   k, d) { d = b - a + 1; for (k = a; k + d < n; k++) B[k] = B[k + d]; n -= d }
{ B[n++] = $0 "\\n"; orig = orig $0 "\\n" }
END {
  if (nonl && n > 0) { B[n - 1] = body(B[n - 1]); orig = body(orig) }
  m0 = ENVIRON["AB_M0"] "\\n"; m1 = ENVIRON["AB_M1"] "\\n"; blk = ENVIRON["AB_BLOCK"]
  n0 = -1; n1 = -1
  for (k = 0; k < n; k++) { if (B[k] == m0) n0 = k; if (B[k] == m1) n1 = k }
  if (n0 == -1 || n1 == -1) {
    n0 = -1
    if (insre) {
      for (k = 0; k < n; k++) if (body(B[k]) ~ ENVIRON["AB_INS"]) n0 = k
      if (n0 == -1) n0 = n; else if (ins == "after") n0++
    } else if (ins == "before") n0 = 0
    else n0 = n
  } else if (n0 < n1) remove(n0, n1)
  else { remove(n1, n0); n0 = n1 }
  if (n0 > 0 && B[n0 - 1] !~ /\\n$/) B[n0 - 1] = B[n0 - 1] "\\n"
  res = ""
  for (k = 0; k < n; k++) { if (k == n0 && blk != "") res = res m0 blk m1; res = res B[k] }
  if (n0 == n && blk != "") res = res m0 blk m1
  printf "%s", res
  exit !exists || res != orig ? 10 : 0
}`;

export const blockinfile = (args: Args, ctx: ModuleContext): string[] => {
  const path = args.need("path", "dest", "destfile", "name");
  const state = args.choice("state", ["present", "absent"] as const, "present");
  const marker = args.str("marker") ?? "# {mark} ANSIBLE MANAGED BLOCK";
  const begin = args.str("marker_begin") ?? "BEGIN";
  const end = args.str("marker_end") ?? "END";
  let block = args.str("block", "content") ?? "";
  const after = args.str("insertafter");
  const before = args.str("insertbefore");
  const create = args.bool("create", false);
  const mode = args.mode();
  const owner = args.str("owner") ?? "";
  const group = args.str("group") ?? "";
  if (args.bool("backup", false)) throw new TaskProblem("blockinfile: backup is not supported by stapel2docker", "remove `backup` (an image keeps no backups)", "backup");
  if (args.str("validate") !== undefined) throw new TaskProblem("blockinfile: validate is not supported by stapel2docker", "remove `validate`, or write the step as a `shell` task", "validate");
  args.harmless("attributes", noAttributes);
  args.checkUnused(["unsafe_writes", "seuser", "serole", "setype", "selevel"]);
  if (after !== undefined && before !== undefined) throw new TaskProblem("blockinfile: parameters are mutually exclusive: insertbefore|insertafter", "keep one of them", "insertbefore");

  // what is inserted: the block with a final newline, only when present and not empty
  if (state === "absent") block = "";
  else if (block !== "" && !block.endsWith("\n")) block += "\n";
  const ins = before !== undefined ? "before" : "after";
  const where = before ?? after ?? "EOF";
  const special = (ins === "after" && where === "EOF") || (ins === "before" && where === "BOF");
  const env = [
    `export AB_M0=${q(marker.split("{mark}").join(begin))}`,
    `AB_M1=${q(marker.split("{mark}").join(end))}`,
    `AB_BLOCK=${q(block)}`,
  ];
  if (!special) env.push(`AB_INS=${q(pyToEre(where, "blockinfile", ins === "after" ? "insertafter" : "insertbefore", false))}`);
  ctx.helper("ansible_edit");
  ctx.helper("ansible_blockinfile");
  const lines = [`f=${q(path)}`, `if [ -d "$f" ]; then ansible_fail ${q(`Path ${path} is a directory !`)}; fi`];
  // a missing file: refused without create, else its directories are made (even for absent), as ansible does
  lines.push(
    'if [ ! -e "$f" ]; then',
    create ? `  ${S}/mkdir -p "$(${S}/dirname "$f")"` : `  ansible_fail ${q(`Path ${path} does not exist !`)}`,
    ...(state === "absent" ? [`  echo ${q(`File ${path} not present`)}; exit 0`] : []),
    "fi",
  );
  lines.push(
    env.join(" "),
    `e=0; [ ! -e "$f" ] || e=1`,
    `ansible_edit "$f" ${q(owner)} ${q(group)} ${q(mode ?? "")} "$ansible_blockinfile" -v exists="$e" -v ins=${ins} -v insre=${special ? 0 : 1}`,
  );
  return lines;
};
