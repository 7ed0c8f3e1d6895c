// lineinfile: ensure a line is in a file (replacing the last line matching `regexp`, else inserting after/before
// a line matching `insertafter`/`insertbefore`, or at EOF/BOF) or absent. The file is edited by an awk program
// that follows ansible's present()/absent() step by step (same lines compared, same insertion points, a newline
// added before an appended line); regexps are Python's translated to POSIX ERE (replace.ts).
import { Args, TaskProblem, q, type ModuleContext, noAttributes } from "../types.js";
import { pyReplacement, pyToEre } from "./replace.js";

const S = "/.stapel/bin";

// B[0..n-1]: the file's lines with their newline (the last one without it when the file lacks one).
const COMMON = `
function strip(s) { sub(/[\\r\\n]+$/, "", s); return s }
function body(s) { sub(/\\n$/, "", s); return s }
function insert(at, s,   k) { for (k = n; k > at; k--) B[k] = B[k - 1]; B[at] = s; n++ }
function found(s) { return hasre ? body(s) ~ ENVIRON["AL_RE"] : hasss ? index(body(s), ENVIRON["AL_SS"]) > 0 : line == strip(s) }
{ B[n++] = $0 "\\n" }
`;

export const LINEINFILE_PRESENT = `${COMMON}
END {
  if (nonl && n > 0) B[n - 1] = body(B[n - 1])
  line = ENVIRON["AL_LINE"]; i0 = -1; i1 = -1; matched = 0
  if (hasre || hasss) for (k = 0; k < n; k++) if (found(B[k])) { i0 = k; matched = 1; if (firstmatch) break }
  if (!matched) for (k = 0; k < n; k++) {
    if (line == strip(B[k])) i0 = k
    else if (insre && body(B[k]) ~ ENVIRON["AL_INS"]) {
      if (ins == "after") { i1 = k + 1; if (firstmatch) break }
      if (ins == "before") { i1 = k; if (firstmatch) break }
    }
  }
  changed = 0
  if (i0 != -1) {
    nl = backrefs && matched ? ENVIRON["AL_NEW"] : line
    if (substr(nl, length(nl)) != "\\n") nl = nl "\\n"
    if (B[i0] != nl) { B[i0] = nl; changed = 1 }
  } else if (backrefs) {
  } else if (at == "BOF") { insert(0, line "\\n"); changed = 1 }
  else if (at == "EOF" || i1 == -1) {
    if (n > 0 && B[n - 1] !~ /[\\n\\r]$/) B[n++] = "\\n"
    B[n++] = line "\\n"; changed = 1
  } else if (ins == "after") {
    if (n == i1) { if (strip(B[i1 - 1]) != line) { B[n++] = line "\\n"; changed = 1 } }
    else if (line != strip(B[i1])) { insert(i1, line "\\n"); changed = 1 }
  } else { insert(i1, line "\\n"); changed = 1 }
  for (k = 0; k < n; k++) printf "%s", B[k]
  exit changed ? 10 : 0
}`;

export const LINEINFILE_ABSENT = `${COMMON}
END {
  if (nonl && n > 0) B[n - 1] = body(B[n - 1])
  line = ENVIRON["AL_LINE"]; removed = 0
  for (k = 0; k < n; k++) if (found(B[k])) removed++; else printf "%s", B[k]
  exit removed ? 10 : 0
}`;

export const lineinfile = (args: Args, ctx: ModuleContext): string[] => {
  const path = args.need("path", "dest", "destfile", "name");
  const state = args.choice("state", ["present", "absent"] as const, "present");
  const regexp = args.str("regexp", "regex");
  const search = args.str("search_string");
  const line = args.str("line", "value");
  const after = args.str("insertafter");
  const before = args.str("insertbefore");
  const backrefs = args.bool("backrefs", false);
  const create = args.bool("create", false);
  const firstmatch = args.bool("firstmatch", false);
  const mode = args.mode();
  const owner = args.str("owner") ?? "";
  const group = args.str("group") ?? "";
  if (args.bool("backup", false)) throw new TaskProblem("lineinfile: backup is not supported by stapel2docker", "remove `backup` (an image keeps no backups)", "backup");
  if (args.str("validate") !== undefined) throw new TaskProblem("lineinfile: validate is not supported by stapel2docker", "remove `validate`, or write the step as a `shell` task", "validate");
  args.harmless("attributes", noAttributes);
  args.checkUnused(["unsafe_writes", "seuser", "serole", "setype", "selevel", "encoding"]);
  if (after !== undefined && before !== undefined) throw new TaskProblem("lineinfile: parameters are mutually exclusive: insertbefore|insertafter", "keep one of them", "insertbefore");
  if (regexp !== undefined && search !== undefined) throw new TaskProblem("lineinfile: parameters are mutually exclusive: regexp|search_string", "keep one of them", "search_string");
  if (backrefs && search !== undefined) throw new TaskProblem("lineinfile: parameters are mutually exclusive: backrefs|search_string", "keep one of them", "backrefs");
  if (state === "present" && backrefs && regexp === undefined) throw new TaskProblem("lineinfile: regexp is required with backrefs=true", "add `regexp:`", "backrefs");
  if (state === "present" && line === undefined) throw new TaskProblem("lineinfile: line is required with state=present", "add `line:`");
  if (state === "absent" && regexp === undefined && search === undefined && line === undefined)
    throw new TaskProblem("lineinfile: one of line, search_string, or regexp is required with state=absent", "add `regexp:` or `line:`");

  ctx.helper("ansible_edit");
  const p = q(path);
  const ere = regexp === undefined ? undefined : pyToEre(regexp, "lineinfile", "regexp", false);
  const lines = [`f=${p}`, `if [ -d "$f" ]; then ansible_fail ${q(`Path ${path} is a directory !`)}; fi`];
  const env = [`export AL_LINE=${q(line ?? "")}`];
  if (ere !== undefined) env.push(`AL_RE=${q(ere)}`);
  if (search !== undefined) env.push(`AL_SS=${q(search)}`);
  const flags = [`-v hasre=${ere !== undefined ? 1 : 0}`, `-v hasss=${search !== undefined ? 1 : 0}`];
  if (state === "absent") {
    lines.push(`if [ ! -e "$f" ]; then echo "file not present"; exit 0; fi`);
    lines.push(env.join(" "));
    ctx.helper("ansible_lineinfile");
    lines.push(`ansible_edit "$f" ${q(owner)} ${q(group)} ${q(mode ?? "")} "$ansible_lineinfile_absent" ${flags.join(" ")}`);
    return lines;
  }
  lines.push(`if [ ! -e "$f" ]; then ${create ? `${S}/mkdir -p "$(${S}/dirname "$f")"` : `ansible_fail ${q(`Destination ${path} does not exist !`)}`}; fi`);
  // insertafter EOF by default; BOF/EOF are keywords (insertbefore: EOF is a regexp, as in ansible)
  const ins = before !== undefined ? "before" : "after";
  const where = before ?? after ?? "EOF";
  const at = where === "BOF" || (ins === "after" && where === "EOF") ? where : "";
  if (at === "") env.push(`AL_INS=${q(pyToEre(where, "lineinfile", ins === "after" ? "insertafter" : "insertbefore", false))}`);
  flags.push(`-v ins=${ins}`, `-v at=${at || "re"}`, `-v insre=${at === "" ? 1 : 0}`, `-v firstmatch=${firstmatch ? 1 : 0}`, `-v backrefs=${backrefs ? 1 : 0}`);
  lines.push(env.join(" "));
  if (backrefs && ere !== undefined) {
    // the line, with \1 / \g<1> taken from the regexp's match in the matching line (Python's match.expand)
    const sedRe = pyToEre(regexp!, "lineinfile", "regexp");
    lines.push(
      `src="$f"; [ -e "$f" ] || src=/dev/null`,
      `k=$(${S}/awk -v fm=${firstmatch ? 1 : 0} '$0 ~ ENVIRON["AL_RE"] { k = NR; if (fm) exit } END { print k }' "$src")`,
      `if [ -n "$k" ]; then`,
      `  o=$'\\001' c=$'\\002' re=${q(sedRe)} rp=${q(pyReplacement(line ?? ""))}`,
      `  AL_NEW=$(${S}/sed -n "\${k}p" "$src" | ${S}/sed -E "s/$re/$o$rp$c/" | ${S}/sed "s/^[^$o]*$o//; s/$c.*//"); export AL_NEW`,
      "fi",
    );
  }
  ctx.helper("ansible_lineinfile");
  lines.push(`ansible_edit "$f" ${q(owner)} ${q(group)} ${q(mode ?? "")} "$ansible_lineinfile_present" ${flags.join(" ")}`);
  return lines;
};
