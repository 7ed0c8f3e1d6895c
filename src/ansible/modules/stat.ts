// stat: facts about a path for later `when`s (`register: st` → st.stat.exists, .isdir, .isreg, .mode, ...).
// The path is looked at with the toolchain's busybox stat (lstat unless `follow`), as ansible's os.lstat/os.stat.
import type { RegFields } from "../when.js";
import { Args, TaskProblem, q, type ModuleContext } from "../types.js";

const S = "/.stapel/bin";

/** What a registered stat holds: ansible's names (only `exists` when the path is missing). */
export const STAT_FIELDS: RegFields = {
  "stat.exists": "bool", "stat.path": "str", "stat.mode": "str", "stat.isdir": "bool", "stat.isreg": "bool",
  "stat.islnk": "bool", "stat.ischr": "bool", "stat.isblk": "bool", "stat.isfifo": "bool", "stat.issock": "bool",
  "stat.uid": "int", "stat.gid": "int", "stat.size": "int", "stat.pw_name": "str", "stat.gr_name": "str",
  "stat.checksum": "str", "stat.lnk_target": "str", "stat.lnk_source": "str",
};

const TYPES: Record<string, string> = {
  isdir: "directory", isreg: "'regular file'|'regular empty file'", islnk: "'symbolic link'", ischr: "'character special file'",
  isblk: "'block special file'", isfifo: "fifo", issock: "socket",
};
const SUMS: Record<string, string> = { sha1: "sha1sum", sha256: "sha256sum", sha512: "sha512sum", md5: "md5sum" };

export const stat = (args: Args, ctx: ModuleContext): string[] => {
  const path = args.need("path", "dest", "name");
  const follow = args.bool("follow", false);
  const getChecksum = args.bool("get_checksum", true);
  const algo = args.choice("checksum_algorithm", ["sha1", "sha256", "sha512", "md5"] as const, "sha1");
  const aliased = args.str("checksum", "checksum_algo");
  if (aliased !== undefined) throw new TaskProblem("stat: use `checksum_algorithm:`", "rename the option to `checksum_algorithm`", "checksum");
  // these only add results stapel2docker does not register (a `when` using them is refused)
  args.bool("get_mime", true, "mime", "mime_type", "mime-type");
  args.bool("get_attributes", true, "attr", "attributes");
  args.checkUnused();
  const v = (f: string) => ctx.result(`stat.${f}`);
  if (v("exists") === undefined) return [`: # stat ${path.replace(/\s+/g, " ")}: nothing registered`];
  const p = q(path);
  const st = `${S}/stat${follow ? " -L" : ""}`;
  const lines = [
    `p=${p}`,
    `if ${follow ? '[ -e "$p" ]' : '[ -e "$p" ] || [ -L "$p" ]'}; then`,
    `  ansible_set ${v("exists")} True`,
    `  ansible_set ${v("path")} "$p"`,
    `  t=$(${st} -c %F -- "$p")`,
  ];
  for (const [f, types] of Object.entries(TYPES))
    lines.push(`  case "$t" in ${types}) b=True;; *) b=False;; esac; ansible_set ${v(f)} "$b"`);
  lines.push(
    `  m=$(${st} -c %a -- "$p"); while [ \${#m} -lt 4 ]; do m=0$m; done; ansible_set ${v("mode")} "$m"`,
    `  ansible_set ${v("uid")} "$(${st} -c %u -- "$p")"; ansible_set ${v("gid")} "$(${st} -c %g -- "$p")"`,
    `  ansible_set ${v("size")} "$(${st} -c %s -- "$p")"`,
    `  ansible_set ${v("pw_name")} "$(${st} -c %U -- "$p")"; ansible_set ${v("gr_name")} "$(${st} -c %G -- "$p")"`,
  );
  if (getChecksum)
    lines.push(`  if [ -f "$p" ] && { [ "$t" != "symbolic link" ] || ${follow}; }; then ansible_set ${v("checksum")} "$(${S}/${SUMS[algo]} < "$p" | ${S}/cut -d' ' -f1)"; fi`);
  lines.push(
    `  if [ "$t" = "symbolic link" ]; then ansible_set ${v("lnk_target")} "$(${S}/readlink -- "$p")"; ansible_set ${v("lnk_source")} "$(${S}/realpath -- "$p")"; fi`,
    "else",
    `  ansible_set ${v("exists")} False`,
    "fi",
  );
  return lines;
};
