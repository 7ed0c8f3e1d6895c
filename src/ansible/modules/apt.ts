// apt: update_cache, name/pkg list with state present/absent/latest, install_recommends, deb, autoclean,
// autoremove, purge, upgrade, default_release, force, only_upgrade. Runs the image's apt-get with ansible's
// environment and dpkg options.
import { Args, TaskProblem, q, type ModuleContext, isFalse } from "../types.js";

const DPKG = "-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold";

export const apt = (args: Args, ctx: ModuleContext): string[] => {
  const names = args.list("name", "pkg", "package");
  const state = args.choice("state", ["present", "installed", "absent", "removed", "latest", "build-dep"] as const, "present");
  const update = args.bool("update_cache", false, "update-cache");
  args.str("cache_valid_time");
  const recommends = args.has("install_recommends", "install-recommends") ? args.bool("install_recommends", true, "install-recommends") : undefined;
  const deb = args.str("deb");
  const autoclean = args.bool("autoclean", false);
  const autoremove = args.bool("autoremove", false);
  const purge = args.bool("purge", false);
  const force = args.bool("force", false);
  const allowUnauth = args.bool("allow_unauthenticated", false, "allow-unauthenticated");
  const onlyUpgrade = args.bool("only_upgrade", false);
  const release = args.str("default_release", "default-release");
  const upgrade = args.choice("upgrade", ["no", "yes", "safe", "full", "dist"] as const, "no");
  const dpkgOptions = args.str("dpkg_options");
  args.harmless("clean", isFalse, "remove `clean`, or run `apt-get clean` in a `shell` task");
  args.harmless("allow_downgrade", isFalse);
  args.harmless("allow_change_held_packages", isFalse);
  // policy_rc_d only stops services from starting during the install (none run in a build)
  args.checkUnused(["policy_rc_d", "lock_timeout", "force_apt_get", "fail_on_autoremove"]);
  const opts = [
    "-y",
    dpkgOptions ? dpkgOptions.split(",").map((o) => `-o Dpkg::Options::=--${o.trim()}`).join(" ") : DPKG,
    ...(recommends === true ? ["--install-recommends"] : recommends === false ? ["--no-install-recommends"] : []),
    ...(force || allowUnauth ? ["--allow-unauthenticated"] : []),
    ...(force ? ["--allow-downgrades", "--allow-remove-essential", "--allow-change-held-packages"] : []),
    ...(release ? [`-t ${q(release)}`] : []),
  ].join(" ");
  const lines = ["export DEBIAN_FRONTEND=noninteractive DEBIAN_PRIORITY=critical"];
  if (update) lines.push("apt-get update");
  if (deb !== undefined) {
    if (!deb.startsWith("/")) throw new TaskProblem("apt: deb must be a path in the image (download it first with get_url)");
    lines.push(`apt-get install ${opts} ${q(deb)}`);
  }
  if (names.length > 0) {
    const pk = names.map(q).join(" ");
    if (state === "absent" || state === "removed") lines.push(`apt-get remove -y ${purge ? "--purge " : ""}${pk}`);
    else if (state === "build-dep") lines.push(`apt-get build-dep ${opts} ${pk}`);
    else if (state === "latest") lines.push(`apt-get install ${opts}${onlyUpgrade ? " --only-upgrade" : ""} ${pk}`);
    else {
      // present: only what is missing (an installed package is left as it is, not upgraded)
      lines.push(`missing=; for p in ${pk}; do dpkg-query -W -f='\${db:Status-Status}' "\${p%%=*}" 2>/dev/null | grep -qx installed && [ "\${p#*=}" = "$p" ] || missing="$missing $p"; done`);
      lines.push(`if [ -n "$missing" ]; then apt-get install ${opts}${onlyUpgrade ? " --only-upgrade" : ""} $missing; fi`);
    }
  }
  if (upgrade !== "no") lines.push(`apt-get ${upgrade === "dist" || upgrade === "full" ? "dist-upgrade" : "upgrade"} ${opts}`);
  if (autoremove) lines.push(`apt-get autoremove -y ${DPKG}${purge ? " --purge" : ""}`);
  if (autoclean) lines.push("apt-get autoclean -y");
  void ctx;
  return lines;
};
