// get_url: url to dest (a file, or a directory: the URL's last path part), force, checksum (algo:hex),
// mode/owner/group. Downloads with the image's curl or wget (file:// URLs read directly).
import { Args, TaskProblem, q, type ModuleContext, noAttributes } from "../types.js";

const S = "/.stapel/bin";
const SUMS: Record<string, string> = { sha1: "sha1sum", sha256: "sha256sum", sha512: "sha512sum", md5: "md5sum" };

export const get_url = (args: Args, ctx: ModuleContext): string[] => {
  const url = args.need("url");
  const dest = args.need("dest");
  const force = args.bool("force", false, "thirsty");
  const checksum = args.str("checksum");
  const mode = args.mode();
  const owner = args.str("owner") ?? "";
  const group = args.str("group") ?? "";
  args.bool("validate_certs", true);
  args.str("timeout");
  args.harmless("attributes", noAttributes);
  args.checkUnused(["use_proxy", "http_agent", "unsafe_writes"]);
  ctx.helper("ansible_fetch");
  ctx.helper("ansible_write");
  const base = url.replace(/[?#].*$/, "").replace(/\/+$/, "").split("/").pop() || "index.html";
  const lines = [`d=${q(dest)}; if [ -d "$d" ]; then d="\${d%/}"/${q(base)}; fi`];
  let sumCheck: string | undefined;
  if (checksum !== undefined) {
    const m = /^(\w+):([0-9a-fA-F]+)$/.exec(checksum);
    if (!m || !SUMS[m[1]!.toLowerCase()]) throw new TaskProblem(`get_url: checksum must be <algorithm>:<hex> (sha1, sha256, sha512, md5), got ${JSON.stringify(checksum)}`);
    const tool = `${S}/${SUMS[m[1]!.toLowerCase()]}`;
    sumCheck = `[ "$(${tool} < "$f" | ${S}/cut -d' ' -f1)" = ${q(m[2]!.toLowerCase())} ]`;
    lines.push(`if [ -f "$d" ] && f="$d" && ${sumCheck}; then echo "$d is up to date"; ansible_attrs "$d" ${q(owner)} ${q(group)} ${q(mode ?? "")}; exit 0; fi`);
  } else if (!force) {
    lines.push(`if [ -f "$d" ]; then echo "$d exists, force is off"; ansible_attrs "$d" ${q(owner)} ${q(group)} ${q(mode ?? "")}; exit 0; fi`);
  }
  lines.push(`f=$(${S}/mktemp); ansible_fetch ${q(url)} "$f"`);
  if (sumCheck) lines.push(`${sumCheck} || { ${S}/rm -f "$f"; ansible_fail "The checksum for $d did not match ${checksum}"; }`);
  lines.push(`ansible_write "$d" ${q(owner)} ${q(group)} ${q(mode ?? "")} < "$f"; ${S}/rm -f "$f"`);
  return lines;
};
