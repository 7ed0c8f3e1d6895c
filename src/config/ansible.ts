// werf's ansible task check (pkg/config/raw_ansible_task.go): a task names
// exactly one module from werf's whitelist, or is a block/rescue/always task.
// Task keywords (name, when, args, ...) may accompany the module.
// Then, what werf accepts but stapel2docker cannot compile (checkAnsibleStage).
import { checkAnsibleTasks } from "../ansible/compile.js";
import type { DocContext } from "./context.js";

/** Modules the stapel ansible supports, in werf's order. */
export const SUPPORTED_ANSIBLE_MODULES: readonly string[] = [
  "command", "shell", "raw", "script",
  "openssl_certificate", "openssl_csr", "openssl_privatekey", "openssl_publickey",
  "acl", "archive", "assemble", "blockinfile", "copy", "file", "replace", "find", "ini_file", "iso_extract",
  "lineinfile", "stat", "tempfile", "unarchive", "xattr",
  "get_url", "slurp", "uri",
  "bower", "bundler", "composer", "cpanm", "easy_install", "gem", "maven_artifact", "npm", "pear", "pip", "yarn",
  "apk", "apt", "apt_key", "apt_repository", "apt_rpm", "dnf", "dpkg_selections", "debconf", "homebrew",
  "homebrew_cask", "homebrew_tap", "layman", "macports", "openbsd_pkg", "opkg", "package", "pacman", "pkg5",
  "pkg5_publisher", "pkgin", "pkgng", "pkgutil", "portage", "portinstall", "pulp_repo", "redhat_subscription",
  "rhn_channel", "rhn_register", "rpm_key", "slackpkg", "sorcery", "svr4pkg", "swdepot", "swupd", "urpmi", "xbps",
  "yum", "yum_repository", "zypper", "zypper_repository",
  "cron", "user", "group", "getent", "locale_gen", "timezone",
  "meta", "assert", "debug", "fail", "set_fact", "wait_for",
];

const MODULES = new Set(SUPPORTED_ANSIBLE_MODULES);

/** Ansible task keywords (not modules). */
const TASK_KEYWORDS = new Set([
  "name", "args", "become", "become_user", "become_method", "become_flags", "environment", "vars", "register",
  "when", "ignore_errors", "ignore_unreachable", "tags", "notify", "no_log", "changed_when", "failed_when",
  "loop", "loop_control", "delegate_to", "delegate_facts", "run_once", "until", "retries", "delay", "check_mode",
  "diff", "debugger", "module_defaults", "any_errors_fatal", "collections", "throttle", "timeout", "local_action",
  "action", "async", "poll", "listen", "connection", "remote_user", "port", "vars_files",
]);

const BLOCK_KEYS = ["block", "rescue", "always"] as const;

export type AnsibleTaskCheck =
  | { ok: true; module: string }
  | { ok: false; message: string; hint: string; key?: string };

function isKeyword(key: string): boolean {
  return TASK_KEYWORDS.has(key) || key.startsWith("with_");
}

/** Check one task (not its block children). `key` names the offending key when there is one. */
export function checkAnsibleTask(task: Record<string, unknown>): AnsibleTaskCheck {
  if (BLOCK_KEYS.some((k) => task[k] != null)) return { ok: true, module: "block" };
  const modules = Object.keys(task).filter((k) => MODULES.has(k) && task[k] != null);
  const unknown = Object.keys(task).filter((k) => !MODULES.has(k) && !isKeyword(k) && !(BLOCK_KEYS as readonly string[]).includes(k));
  if (modules.length > 1) {
    return {
      ok: false,
      message: "invalid ansible task!",
      hint: `a task runs one module, this one names ${modules.map((m) => `\`${m}\``).join(", ")}; split it into several tasks`,
      key: modules[1],
    };
  }
  if (modules.length === 0 || unknown.length > 0) {
    const what = unknown.length > 0 ? `\`${unknown[0]}\` is not a module werf supports nor a task keyword` : "the task names no module";
    return {
      ok: false,
      message: "unsupported ansible task!",
      hint: `${what}; supported modules: ${SUPPORTED_ANSIBLE_MODULES.join(", ")}`,
      key: unknown[0],
    };
  }
  return { ok: true, module: modules[0]! };
}

export const ANSIBLE_BLOCK_KEYS = BLOCK_KEYS;

/**
 * Reports, located at the task or the refused option, every task of a stage (werf's checks passed) that
 * stapel2docker's ansible compiler refuses. It asks the compiler itself, so `validate` never passes a config
 * that `compile` refuses, and there is no second list of what is supported.
 */
export function checkAnsibleStage(ctx: DocContext, tasks: Record<string, unknown>[], asLayers: boolean): void {
  for (const p of checkAnsibleTasks(tasks, { asLayers })) ctx.error(p.container, p.key, p.message, p.hint, "key");
}
