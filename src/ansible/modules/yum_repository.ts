// yum_repository: one `[repoid]` section of REPOSDIR/FILE.repo written (or removed) as ansible 2.14 does with
// python's RawConfigParser: the existing file is read (comments dropped, keys lowercased, continuation lines
// joined), the section replaced at the end, every section written back as `key = value` (multi-line values
// continued with a tab) followed by a blank line; nothing is written when the section's keys and values are
// unchanged, and a file left without sections is removed.
import { Args, TaskProblem, q, type ModuleContext, noAttributes } from "../types.js";

const S = "/.stapel/bin";

const STRINGS = [
  "bandwidth", "cost", "deltarpm_metadata_percentage", "deltarpm_percentage", "gpgcakey", "include", "metadata_expire",
  "metalink", "mirrorlist", "mirrorlist_expire", "password", "priority", "proxy", "proxy_password", "proxy_username",
  "retries", "throttle", "timeout", "ui_repoid_vars", "username",
];
const BOOLS = [
  "async", "enabled", "enablegroups", "gpgcheck", "keepalive", "module_hotfixes", "protect", "repo_gpgcheck", "s3_enabled",
  "skip_if_unavailable", "ssl_check_cert_permissions",
];
const CHOICES: Record<string, readonly string[]> = {
  failovermethod: ["roundrobin", "priority"], http_caching: ["all", "packages", "none"],
  ip_resolve: ["4", "6", "IPv4", "IPv6", "whatever"], keepcache: ["0", "1"],
  metadata_expire_filter: ["never", "read-only:past", "read-only:present", "read-only:future"],
};

// S[]: sections in file order; K[s, i], V[s, i]: their keys and values; N[s]: key counts.
export const YUM_REPOSITORY_AWK = `
function header(l,   e) { for (e = length(l); e > 1 && substr(l, e, 1) != "]"; e--); return substr(l, 2, e - 2) }
function trim(s) { sub(/^[ \\t]+/, "", s); sub(/[ \\t]+$/, "", s); return s }
/^[ \\t]*$/ || /^[ \\t]*[#;]/ { key = ""; next }
key != "" && /^[ \\t]/ { V[sec, N[sec]] = V[sec, N[sec]] "\\n" trim($0); next }
/^[ \\t]*\\[/ { sec = header(trim($0)); S[ns++] = sec; N[sec] = 0; key = ""; next }
{
  i = match($0, /[=:]/); if (!i) next
  key = tolower(trim(substr($0, 1, i - 1))); v = trim(substr($0, i + 1))
  for (k = 1; k <= N[sec]; k++) if (K[sec, k] == key) break
  if (k > N[sec]) N[sec] = k
  K[sec, k] = key; V[sec, k] = v
}
END {
  want = ENVIRON["YR_SEC"]; had = 0
  for (i = 0; i < ns; i++) if (S[i] == want) had = 1
  n = split(ENVIRON["YR_KEYS"], nk, "\\n")
  changed = absent ? had : !had || N[want] != n
  if (!absent && had && !changed)
    for (i = 1; i <= n; i++) {
      for (k = 1; k <= N[want]; k++) if (K[want, k] == nk[i]) break
      if (k > N[want] || V[want, k] != ENVIRON["YR_V_" nk[i]]) changed = 1
    }
  if (!changed) exit 0
  for (i = 0; i < ns; i++) {
    s = S[i]; if (s == want) continue
    printf "[%s]\\n", s
    for (k = 1; k <= N[s]; k++) { v = V[s, k]; gsub(/\\n/, "\\n\\t", v); printf "%s = %s\\n", K[s, k], v }
    printf "\\n"
  }
  if (!absent) {
    printf "[%s]\\n", want
    for (i = 1; i <= n; i++) { v = ENVIRON["YR_V_" nk[i]]; gsub(/\\n/, "\\n\\t", v); printf "%s = %s\\n", nk[i], v }
    printf "\\n"
  }
  exit 10
}`;

export const yum_repository = (args: Args, ctx: ModuleContext): string[] => {
  const repoid = args.need("name");
  const state = args.choice("state", ["present", "absent"] as const, "present");
  const description = args.str("description");
  const file = args.str("file") ?? repoid;
  const reposdir = args.str("reposdir") ?? "/etc/yum.repos.d";
  const mode = args.mode();
  const owner = args.str("owner") ?? "";
  const group = args.str("group") ?? "";
  if (args.has("params")) throw new TaskProblem("yum_repository: The params option to yum_repository was removed in Ansible 2.5", "give each option directly", "params");
  args.harmless("attributes", noAttributes);
  const values: Record<string, string> = {};
  const baseurl = args.list("baseurl");
  const gpgkey = args.list("gpgkey");
  if (baseurl.length > 0) values.baseurl = baseurl.join("\n");
  if (gpgkey.length > 0) values.gpgkey = gpgkey.join("\n");
  for (const k of ["exclude", "includepkgs"]) {
    const l = args.list(k);
    if (l.length > 0) values[k] = l.join(" ");
  }
  for (const k of STRINGS) {
    const v = args.str(k);
    if (v !== undefined) values[k] = v;
  }
  for (const k of BOOLS) if (args.has(k)) values[k] = args.bool(k, false) ? "1" : "0";
  if (args.has("sslverify", "validate_certs")) values.sslverify = args.bool("sslverify", false, "validate_certs") ? "1" : "0";
  for (const [k, alias] of [["sslcacert", "ca_cert"], ["sslclientcert", "client_cert"], ["sslclientkey", "client_key"]] as const) {
    const v = args.str(k, alias);
    if (v !== undefined) values[k] = v;
  }
  for (const [k, choices] of Object.entries(CHOICES)) {
    const v = args.str(k);
    if (v === undefined) continue;
    if (!choices.includes(v)) throw new TaskProblem(`yum_repository: value of ${k} must be one of: ${choices.join(", ")}, got: ${v}`, `use one of: ${choices.join(", ")}`, k);
    values[k] = v;
  }
  args.checkUnused(["unsafe_writes", "seuser", "serole", "setype", "selevel"]);
  if (state === "present") {
    if (values.baseurl === undefined && values.metalink === undefined && values.mirrorlist === undefined)
      throw new TaskProblem("yum_repository: Parameter 'baseurl', 'metalink' or 'mirrorlist' is required.", "add `baseurl:`");
    if (description === undefined) throw new TaskProblem("yum_repository: Parameter 'description' is required.", "add `description:`");
    values.name = description;
  }
  const keys = Object.keys(values).sort();
  ctx.helper("ansible_write");
  ctx.helper("ansible_yum_repository");
  const dest = `${reposdir.replace(/\/+$/, "")}/${file}.repo`;
  return [
    `[ -d ${q(reposdir)} ] || ansible_fail ${q(`Repo directory '${reposdir}' does not exist.`)}`,
    `f=${q(dest)}; src="$f"; [ -f "$f" ] || src=/dev/null`,
    `export YR_SEC=${q(repoid)} YR_KEYS=${q(keys.join("\n"))}${keys.map((k) => ` YR_V_${k}=${q(values[k]!)}`).join("")}`,
    `t=$(${S}/mktemp); rc=0; ${S}/awk -v absent=${state === "absent" ? 1 : 0} "$ansible_yum_repository" "$src" > "$t" || rc=$?`,
    'case "$rc" in',
    "  0) ;;",
    `  10) if [ -s "$t" ]; then ansible_write "$f" ${q(owner)} ${q(group)} ${q(mode ?? "")} < "$t"; else ${S}/rm -f "$f"; fi;;`,
    `  *) ${S}/rm -f "$t"; ansible_fail "could not read $f";;`,
    "esac",
    `${S}/rm -f "$t"; if [ -f "$f" ]; then ansible_attrs "$f" ${q(owner)} ${q(group)} ${q(mode ?? "")}; fi`,
  ];
};
