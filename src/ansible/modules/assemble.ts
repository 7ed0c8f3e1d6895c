// assemble: the regular files of a directory, in name order, concatenated into dest (a newline added after a
// fragment without one, `delimiter` between fragments, always followed by a newline as ansible 2.14 on python 3
// does), names filtered by `regexp` (Python → ERE) and `ignore_hidden`; dest written only when it changes.
import { Args, TaskProblem, q, type ModuleContext, isFalse, noAttributes } from "../types.js";
import { pyToEre } from "./replace.js";

const S = "/.stapel/bin";

export const assemble = (args: Args, ctx: ModuleContext): string[] => {
  const src = args.need("src");
  const dest = args.need("dest");
  const delimiter = args.str("delimiter");
  const regexp = args.str("regexp");
  const ignoreHidden = args.bool("ignore_hidden", false);
  // src is a directory in the build container either way (werf's controller is the container)
  args.bool("remote_src", true);
  const mode = args.mode();
  const owner = args.str("owner") ?? "";
  const group = args.str("group") ?? "";
  args.harmless("backup", isFalse, "remove `backup` (an image keeps no backups)");
  args.harmless("validate", () => false, "remove `validate`, or write the step as a `shell` task");
  args.harmless("attributes", noAttributes);
  args.checkUnused(["decrypt", "unsafe_writes", "seuser", "serole", "setype", "selevel"]);
  if (!src.startsWith("/")) throw new TaskProblem(`assemble: src ${JSON.stringify(src)} is relative`, "give an absolute path in the image", "src");
  ctx.helper("ansible_write");
  const lines = [
    `src=${q(src)}; d=${q(dest)}`,
    `[ -d "$src" ] || ansible_fail ${q(`Source (${src}) is not a directory`)}`,
  ];
  if (regexp !== undefined) lines.push(`re=${q(pyToEre(regexp, "assemble", "regexp", false))}`);
  if (delimiter !== undefined) lines.push(`delim=${q(delimiter)}`);
  lines.push(
    `t=$(${S}/mktemp)`,
    "(",
    "  shopt -s dotglob nullglob; dm=0; nl=0",
    '  for p in "$src"/*; do',
    '    f=${p##*/}',
    ...(regexp !== undefined ? ['    [[ $f =~ $re ]] || continue'] : []),
    '    [ -f "$p" ] || continue',
    ...(ignoreHidden ? ['    case "$f" in .*) continue;; esac'] : []),
    "    if [ $nl = 1 ]; then printf '\\n'; fi",
    // the delimiter's escapes (\n, \t, \x41...) decoded, as python's escape_decode
    ...(delimiter !== undefined ? [`    if [ $dm = 1 ] && [ -n "$delim" ]; then printf '%b\\n' "$delim"; fi`] : []),
    `    ${S}/cat "$p"`,
    `    dm=1; if [ -s "$p" ] && [ -z "$(${S}/tail -c 1 "$p")" ]; then nl=0; else nl=1; fi`,
    "  done",
    ') > "$t"',
    `if [ -f "$d" ] && ${S}/cmp -s "$t" "$d"; then ansible_attrs "$d" ${q(owner)} ${q(group)} ${q(mode ?? "")}`,
    `else ansible_write "$d" ${q(owner)} ${q(group)} ${q(mode ?? "")} < "$t"; fi`,
    `${S}/rm -f "$t"`,
  );
  return lines;
};
