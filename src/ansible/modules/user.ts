// user: create or change an account with the image's useradd/usermod (as ansible does on Linux), or remove it
// (userdel, remove). Options: name, uid, group, groups, append, shell, home, create_home, system, comment,
// password (already hashed), non_unique, move_home, state, remove, force.
import { Args, type ModuleContext, q, isFalse } from "../types.js";

export const user = (args: Args, ctx: ModuleContext): string[] => {
  const name = args.need("name", "user");
  const state = args.choice("state", ["present", "absent"] as const, "present");
  const uid = args.str("uid");
  const group = args.str("group");
  const groups = args.has("groups") ? args.list("groups") : undefined;
  const append = args.bool("append", false);
  const shell = args.str("shell");
  const home = args.str("home");
  const createHome = args.bool("create_home", true, "createhome");
  const system = args.bool("system", false);
  const comment = args.str("comment");
  const password = args.str("password");
  const nonUnique = args.bool("non_unique", false);
  const moveHome = args.bool("move_home", false);
  const remove = args.bool("remove", false);
  const force = args.bool("force", false);
  const skeleton = args.str("skeleton");
  args.harmless("update_password", (v) => v === "always" || password === undefined, "remove `update_password` (the password is always set, as `always`)");
  args.harmless("generate_ssh_key", isFalse);
  args.harmless("password_lock", isFalse);
  args.harmless("expires", () => false);
  args.harmless("umask", () => false);
  // local (luseradd), SELinux user, BSD login class, macOS hidden: nothing changes in a Linux image
  args.checkUnused(["local", "seuser", "login_class", "hidden"]);
  ctx.helper("ansible_fail");
  const n = q(name);
  const exists = `getent passwd ${n} >/dev/null 2>&1 || grep -q ${q(`^${name}:`)} /etc/passwd`;
  if (state === "absent") {
    return [`if ${exists}; then userdel${force ? " -f" : ""}${remove ? " -r" : ""} ${n}; fi`];
  }
  const add: string[] = ["useradd"];
  if (uid !== undefined) add.push("-u", q(uid));
  if (nonUnique) add.push("-o");
  const lines: string[] = [];
  if (group !== undefined) {
    lines.push(`getent group ${q(group)} >/dev/null 2>&1 || grep -q ${q(`^${group}:`)} /etc/group || ansible_fail ${q(`Group ${group} does not exist`)}`);
    add.push("-g", q(group));
  }
  if (groups !== undefined && groups.length > 0) add.push("-G", q(groups.join(",")));
  if (comment !== undefined) add.push("-c", q(comment));
  if (home !== undefined) add.push("-d", q(home));
  if (shell !== undefined) add.push("-s", q(shell));
  if (password !== undefined) add.push("-p", q(password));
  if (system) add.push("-r");
  if (createHome) {
    add.push("-m");
    if (skeleton !== undefined) add.push("-k", q(skeleton));
  } else add.push("-M");
  add.push(n);
  // ansible passes -N when a group named like the user exists and no group was given
  const addLine = group === undefined
    ? `if getent group ${n} >/dev/null 2>&1 || grep -q ${q(`^${name}:`)} /etc/group; then ${add.slice(0, -1).join(" ")} -N ${n}; else ${add.join(" ")}; fi`
    : add.join(" ");
  const mod: string[] = [];
  if (uid !== undefined) mod.push(`[ "$(id -u ${n})" = ${q(uid)} ] || m="$m -u ${q(uid).replace(/"/g, "")}${nonUnique ? " -o" : ""}"`);
  if (group !== undefined) mod.push(`[ "$(id -gn ${n})" = ${q(group)} ] || [ "$(id -g ${n})" = ${q(group)} ] || m="$m -g ${group}"`);
  if (shell !== undefined) mod.push(`[ "$(getent passwd ${n} | cut -d: -f7)" = ${q(shell)} ] || m="$m -s ${shell}"`);
  if (home !== undefined) mod.push(`[ "$(getent passwd ${n} | cut -d: -f6)" = ${q(home)} ] || m="$m -d ${home}${moveHome ? " -m" : ""}"`);
  if (comment !== undefined) mod.push(`[ "$(getent passwd ${n} | cut -d: -f5)" = ${q(comment)} ] || usermod -c ${q(comment)} ${n}`);
  if (groups !== undefined && groups.length > 0) mod.push(`usermod ${append ? "-a " : ""}-G ${q(groups.join(","))} ${n}`);
  if (password !== undefined) mod.push(`usermod -p ${q(password)} ${n}`);
  lines.push(`if ${exists}; then`);
  if (mod.length > 0) {
    lines.push("  m=", ...mod.map((l) => `  ${l}`), `  if [ -n "$m" ]; then usermod $m ${n}; fi`);
  } else lines.push("  :");
  lines.push("else", `  ${addLine}`, "fi");
  return lines;
};
