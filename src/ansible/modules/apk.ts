// apk (Alpine): name list with state present/absent/latest, update_cache, upgrade, no_cache, repository.
import { Args, q, type ModuleContext, isFalse } from "../types.js";

export const apk = (args: Args, ctx: ModuleContext): string[] => {
  const names = args.list("name", "pkg", "package");
  const state = args.choice("state", ["present", "installed", "absent", "removed", "latest"] as const, "present");
  const update = args.bool("update_cache", false);
  const upgrade = args.bool("upgrade", false);
  const noCache = args.bool("no_cache", false);
  const repos = args.list("repository");
  args.harmless("available", isFalse);
  args.harmless("world", (v) => v === "/etc/apk/world");
  args.checkUnused();
  const common = [...(noCache ? ["--no-cache"] : []), ...repos.map((r) => `--repository ${q(r)}`)].join(" ");
  const sp = common ? ` ${common}` : "";
  const lines: string[] = [];
  if (update) lines.push(`apk update${sp}`);
  if (upgrade) lines.push(`apk upgrade${sp}`);
  const pk = names.map(q).join(" ");
  if (names.length > 0) {
    if (state === "absent" || state === "removed") lines.push(`apk del${sp} ${pk}`);
    else if (state === "latest") lines.push(`apk add --upgrade${sp} ${pk}`);
    else lines.push(`apk add${sp} ${pk}`);
  }
  void ctx;
  return lines;
};
