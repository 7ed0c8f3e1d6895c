// package: the generic module; the package manager is detected at run time inside the container.
import { Args, q, type ModuleContext } from "../types.js";

export const pkg = (args: Args, ctx: ModuleContext): string[] => {
  const names = args.list("name");
  const state = args.choice("state", ["present", "installed", "latest", "absent", "removed"] as const, "present");
  args.str("use");
  args.checkUnused();
  ctx.helper("ansible_fail");
  const pk = names.map(q).join(" ");
  const rm = state === "absent" || state === "removed";
  return [
    "if command -v apt-get >/dev/null 2>&1; then",
    "  export DEBIAN_FRONTEND=noninteractive",
    `  apt-get ${rm ? "remove -y" : "install -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"} ${pk}`,
    "elif command -v apk >/dev/null 2>&1; then",
    `  apk ${rm ? "del" : state === "latest" ? "add --upgrade" : "add"} ${pk}`,
    "elif command -v dnf >/dev/null 2>&1; then",
    `  dnf ${rm ? "remove" : "install"} -y ${pk}`,
    "elif command -v yum >/dev/null 2>&1; then",
    `  yum ${rm ? "remove" : "install"} -y ${pk}`,
    "else",
    "  ansible_fail 'package: no supported package manager (apt-get, apk, dnf, yum) found'",
    "fi",
  ];
};
