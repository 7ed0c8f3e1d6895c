// ini_file (community.general's, as ansible 2.14 resolves it): one option of one section set to a value, or
// removed, or a whole section removed. An awk program follows the module's do_ini() step by step: a fake section
// for options before any section, `option = value` lines (`option=value` with no_extra_spaces), commented-out
// occurrences (`#option = x`) reused and duplicates removed (exclusive), a new option after the last
// non-blank, non-comment line of its section, a missing section appended at the end.
import { Args, TaskProblem, q, type ModuleContext, noAttributes } from "../types.js";

const S = "/.stapel/bin";

// L[0..N-1]: the fake section header, the file's lines with their newline, and a final "[" (as do_ini).
export const INI_FILE_AWK = `
function body(s) { sub(/\\n$/, "", s); return s }
function mo(line, active,   s) {
  s = body(line); if (!active) sub(/^[#;]/, "", s); sub(/^[ \\t]*/, "", s)
  if (substr(s, 1, length(opt)) != opt) return 0
  s = substr(s, length(opt) + 1); sub(/^[ \\t]*/, "", s)
  if (s == "") { G6 = ""; return 1 }
  if (substr(s, 1, 1) != "=") return 0
  s = substr(s, 2); sub(/^[ \\t]*/, "", s); G6 = s; return 1
}
function upd(k, nl) { if (S[k] != nl) changed = 1; S[k] = nl; C[k] = 1 }
function del(k,   j) { for (j = k; j < sn - 1; j++) { S[j] = S[j + 1]; C[j] = C[j + 1] } sn--; changed = 1 }
function ins(k, nl,   j) { for (j = sn; j > k; j--) { S[j] = S[j - 1]; C[j] = C[j - 1] } S[k] = nl; C[k] = 0; sn++; changed = 1 }
{ B[n++] = $0 "\\n" }
END {
  if (nonl && n > 0) B[n - 1] = body(B[n - 1])
  changed = 0
  if (n == 0) B[n++] = "\\n"
  if (B[n - 1] !~ /\\n$/) { B[n - 1] = B[n - 1] "\\n"; changed = 1 }
  fake = "ad01e11446efb704fcdbdb21f2c43757423d91c5"
  L[0] = "[" fake "]"; for (k = 0; k < n; k++) L[k + 1] = B[k]; N = n + 2; L[N - 1] = "["
  sec = hassection ? ENVIRON["AI_SECTION"] : fake
  opt = ENVIRON["AI_OPTION"]; val = ENVIRON["AI_VALUE"]; nv = hasvalue
  fmt = nes ? "%s=%s\\n" : "%s = %s\\n"
  within = 0; ss = 0; se = 0
  for (k = 0; k < N; k++) {
    if (index(L[k], "[" sec "]") == 1) { within = 1; ss = k }
    else if (substr(L[k], 1, 1) == "[" && within) { se = k; break }
  }
  sn = 0; for (k = ss; k < se; k++) { S[sn] = L[k]; C[sn] = 0; sn++ }
  if (!absent && hasoption) for (k = 0; k < sn; k++) if (mo(S[k], 0) && nv && G6 == val) { upd(k, sprintf(fmt, opt, G6)); nv = 0 }
  if (!absent && exclusive) {
    if (nv) for (k = 0; k < sn; k++) if (!C[k] && mo(S[k], 0)) { upd(k, sprintf(fmt, opt, val)); nv = 0; break }
    for (k = sn - 1; k >= 1; k--) if (!C[k] && mo(S[k], 0)) del(k)
  }
  if (!absent) for (k = sn; k > 0; k--) if (body(S[k - 1]) !~ /^[ \\t]*([#;].*)?$/) { if (hasoption && nv) ins(k, sprintf(fmt, opt, val)); break }
  if (absent && hasoption) {
    for (k = sn - 1; k >= 0; k--) if (mo(S[k], 1) && (exclusive || (hasvalue && G6 == val))) del(k)
  } else if (absent && sn > 0) { sn = 0; changed = 1 }
  R = 0
  for (k = 0; k < ss; k++) O[R++] = L[k]
  for (k = 0; k < sn; k++) O[R++] = S[k]
  for (k = se; k < N; k++) O[R++] = L[k]
  for (k = 1; k < R - 1; k++) printf "%s", O[k]
  if (!within && !absent) {
    printf "[%s]\\n", sec
    if (hasoption && nv) printf fmt, opt, val
    changed = 1
  }
  exit changed ? 10 : 0
}`;

export const ini_file = (args: Args, ctx: ModuleContext): string[] => {
  const path = args.need("path", "dest");
  const section = args.str("section");
  const option = args.str("option");
  const value = args.str("value");
  const state = args.choice("state", ["present", "absent"] as const, "present");
  const exclusive = args.bool("exclusive", true);
  const noExtraSpaces = args.bool("no_extra_spaces", false);
  const create = args.bool("create", true);
  const mode = args.mode();
  const owner = args.str("owner") ?? "";
  const group = args.str("group") ?? "";
  if (args.bool("backup", false)) throw new TaskProblem("ini_file: backup is not supported by stapel2docker", "remove `backup` (an image keeps no backups)", "backup");
  if (args.bool("allow_no_value", false)) throw new TaskProblem("ini_file: allow_no_value is not supported by stapel2docker", "give the option a value, or write the step as a `shell` task", "allow_no_value");
  if (args.list("values").length > 0) throw new TaskProblem("ini_file: `values` is not supported by stapel2docker", "use `value:` (one value), or one task per value with exclusive: false", "values");
  args.harmless("attributes", noAttributes);
  args.checkUnused(["unsafe_writes", "seuser", "serole", "setype", "selevel"]);
  if (state === "present" && value === undefined)
    throw new TaskProblem("ini_file: Parameter 'value(s)' must be defined if state=present and allow_no_value=False.", "add `value:`", "state");
  if (state === "present" && option === undefined) throw new TaskProblem("ini_file: `option` is required with state=present", "add `option:`");

  ctx.helper("ansible_edit");
  ctx.helper("ansible_ini_file");
  const env = [`export AI_SECTION=${q(section ?? "")}`, `AI_OPTION=${q(option ?? "")}`, `AI_VALUE=${q(value ?? "")}`];
  const flags = [
    `-v hassection=${section ? 1 : 0}`, `-v hasoption=${option !== undefined ? 1 : 0}`, `-v hasvalue=${value !== undefined ? 1 : 0}`,
    `-v absent=${state === "absent" ? 1 : 0}`, `-v exclusive=${exclusive ? 1 : 0}`, `-v nes=${noExtraSpaces ? 1 : 0}`,
  ];
  const lines = [`f=${q(path)}`];
  lines.push(`if [ ! -e "$f" ]; then ${create ? `${S}/mkdir -p "$(${S}/dirname "$f")"` : `ansible_fail ${q(`Destination ${path} does not exist!`)}`}; fi`);
  lines.push(env.join(" "), `ansible_edit "$f" ${q(owner)} ${q(group)} ${q(mode ?? "")} "$ansible_ini_file" ${flags.join(" ")}`);
  return lines;
};
