// yum and dnf: name list with state present/installed/latest/absent/removed, update_cache, enablerepo,
// disablerepo, disable_gpg_check.
import { Args, q, type ModuleContext, isFalse } from "../types.js";

export function yumLike(tool: "yum" | "dnf") {
  return (args: Args, ctx: ModuleContext): string[] => {
    const names = args.list("name", "pkg");
    const state = args.choice("state", ["present", "installed", "latest", "absent", "removed"] as const, "present");
    const update = args.bool("update_cache", false, "expire-cache");
    const enable = args.list("enablerepo");
    const disable = args.list("disablerepo");
    const noGpg = args.bool("disable_gpg_check", false);
    args.harmless("install_weak_deps", (v) => !isFalse(v));
    args.checkUnused(["lock_timeout", "validate_certs"]);
    const o = [
      "-y",
      ...enable.map((r) => `--enablerepo=${q(r)}`),
      ...disable.map((r) => `--disablerepo=${q(r)}`),
      ...(noGpg ? ["--nogpgcheck"] : []),
    ].join(" ");
    const lines: string[] = [];
    if (update) lines.push(`${tool} makecache ${o}`);
    const pk = names.map(q).join(" ");
    if (names.length > 0) {
      if (state === "absent" || state === "removed") lines.push(`${tool} remove ${o} ${pk}`);
      else if (state === "latest") lines.push(`${tool} install ${o} ${pk}`, `${tool} update ${o} ${pk}`);
      else lines.push(`${tool} install ${o} ${pk}`);
    }
    void ctx;
    return lines;
  };
}

export const yum = yumLike("yum");
