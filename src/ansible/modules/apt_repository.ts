// apt_repository: a source line into /etc/apt/sources.list.d/<filename>.list (ansible's file name rule),
// state present/absent, mode, update_cache (default yes).
import { Args, TaskProblem, q, type ModuleContext } from "../types.js";

const S = "/.stapel/bin";

/** ansible's _suggest_filename: the host and path of the URI, non-alphanumerics as `_`. */
export function suggestFilename(repo: string): string {
  let line = repo.replace(/\[[^\]]+\]/g, "");
  line = line.replace(/\w+:\/\//g, "");
  const parts = line.split(/\s+/).filter((p) => p !== "" && p !== "deb" && p !== "deb-src");
  const first = (parts[0] ?? "").replace(/^[^@]*@/, "");
  return first.replace(/[^a-zA-Z0-9]/g, " ").split(/\s+/).filter(Boolean).join("_");
}

export const apt_repository = (args: Args, ctx: ModuleContext): string[] => {
  const repo = args.need("repo").trim().replace(/\s+/g, " ");
  const state = args.choice("state", ["present", "absent"] as const, "present");
  const update = args.bool("update_cache", true, "update-cache");
  const mode = args.mode() ?? "0644";
  const filename = args.str("filename");
  args.bool("validate_certs", true);
  args.checkUnused(["codename", "install_python_apt", "update_cache_retries", "update_cache_retry_max_delay"]);
  if (repo.startsWith("ppa:")) throw new TaskProblem("apt_repository: ppa: repositories are not supported", "give the full `deb URL SUITE COMPONENT` line");
  const file = `/etc/apt/sources.list.d/${filename ?? suggestFilename(repo)}.list`;
  ctx.helper("ansible_write");
  const lines: string[] = [];
  const f = q(file);
  // ansible rewrites every sources file it loaded when something changed, and deletes those left empty
  const dropEmpty = `  for s in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do if [ -f "$s" ] && [ ! -s "$s" ]; then ${S}/rm -f "$s"; fi; done`;
  if (state === "present") {
    lines.push(`if ! { [ -f ${f} ] && ${S}/grep -qxF ${q(repo)} ${f}; }; then`);
    lines.push(`  { if [ -f ${f} ]; then ${S}/cat ${f}; fi; printf '%s\\n' ${q(repo)}; } | ansible_write ${f} '' '' ${mode}`);
    lines.push(dropEmpty);
    if (update) lines.push("  apt-get update");
    lines.push("fi");
  } else {
    lines.push(`if [ -f ${f} ] && ${S}/grep -qxF ${q(repo)} ${f}; then`);
    lines.push(`  ${S}/grep -vxF ${q(repo)} ${f} | ansible_write ${f} '' '' ''`);
    lines.push(dropEmpty);
    if (update) lines.push("  apt-get update");
    lines.push("fi");
  }
  return lines;
};
