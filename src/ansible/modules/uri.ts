// uri: an HTTP GET, with the image's curl or wget (else the toolchain's busybox wget): `status_code` (the
// accepted codes, else the task fails as ansible's), `dest` (the body written when the status is accepted; a
// directory gets the URL's last path part or index.html), `return_content`, `headers`, `creates`/`removes`,
// owner/group/mode of dest; `register` gives a later `when` r.status, r.content (with return_content), r.url.
import type { RegFields } from "../when.js";
import { Args, TaskProblem, q, type ModuleContext, noAttributes } from "../types.js";

const S = "/.stapel/bin";

export const URI_FIELDS: RegFields = { status: "int", content: "str", url: "str" };

export const uri = (args: Args, ctx: ModuleContext): string[] => {
  const url = args.need("url");
  const dest = args.str("dest");
  const method = (args.str("method") ?? "GET").toUpperCase();
  const returnContent = args.bool("return_content", false);
  const codes = args.list("status_code");
  const headers = args.obj("headers") ?? {};
  const creates = args.str("creates");
  const removes = args.str("removes");
  const validateCerts = args.bool("validate_certs", true);
  const follow = args.choice("follow_redirects", ["all", "no", "none", "safe", "urllib2", "yes"] as const, "safe");
  const mode = args.mode();
  const owner = args.str("owner") ?? "";
  const group = args.str("group") ?? "";
  args.str("timeout");
  args.bool("force", false);
  args.bool("use_proxy", true);
  args.str("http_agent");
  args.harmless("attributes", noAttributes);
  args.checkUnused(["unsafe_writes", "seuser", "serole", "setype", "selevel", "decompress", "use_netrc"]);
  if (method !== "GET")
    throw new TaskProblem(`uri: method ${method} is not supported by stapel2docker (GET only)`, "send the request with curl in a `shell` task", "method");
  if (follow === "no" || follow === "none")
    throw new TaskProblem("uri: follow_redirects: no is not supported by stapel2docker", "remove the option (redirects are followed), or use curl in a `shell` task", "follow_redirects");
  if (/^file:/i.test(url))
    throw new TaskProblem("uri: file:// URLs fail in ansible's uri (a file has no HTTP status)", "use get_url (it reads file:// URLs) or `copy: {src: PATH, remote_src: yes}`", "url");
  const accepted = (codes.length > 0 ? codes : ["200"]).map((c) => {
    if (!/^-?[0-9]+$/.test(c.trim())) throw new TaskProblem(`uri: status_code must be numbers, got ${JSON.stringify(c)}`, "list the accepted HTTP codes, e.g. [200, 201]", "status_code");
    return String(Number(c.trim()));
  });
  const headerArgs = Object.keys(headers).sort().map((k) => {
    const v = headers[k];
    if (v !== null && typeof v === "object") throw new TaskProblem(`uri: header ${k} must be a string`, "give each header one value", "headers");
    return q(`${k}: ${v === null || v === undefined ? "" : String(v)}`);
  });

  ctx.helper("ansible_http");
  const statusVar = ctx.result("status");
  if (dest !== undefined) ctx.helper("ansible_write");
  const lines: string[] = [];
  if (creates !== undefined) lines.push(`if [ -e ${q(creates)} ]; then echo ${q(`skipped, since ${creates} exists`)}; exit 0; fi`);
  if (removes !== undefined) lines.push(`if [ ! -e ${q(removes)} ]; then echo ${q(`skipped, since ${removes} does not exist`)}; exit 0; fi`);
  lines.push(
    `b=$(${S}/mktemp)`,
    `${validateCerts ? "" : "ansible_http_insecure=1 "}ansible_http ${q(url)} "$b"${headerArgs.map((h) => ` ${h}`).join("")}`,
    `st=$ansible_http_status`,
  );
  if (statusVar !== undefined) {
    lines.push(`ansible_set ${statusVar} "$st"`, `ansible_set ${ctx.result("url")} ${q(url)}`);
    // the body exactly, trailing newlines included
    if (returnContent) lines.push(`c=$(${S}/cat "$b"; echo x); ansible_set ${ctx.result("content")} "\${c%x}"`);
  }
  const ok = accepted.map((c) => `[ "$st" = ${q(c)} ]`).join(" || ");
  if (dest !== undefined) {
    const base = url.replace(/[?#].*$/, "").replace(/\/+$/, "").replace(/^[a-z]+:\/\/[^/]*/i, "").split("/").pop() || "index.html";
    lines.push(
      `if { ${ok}; } && [ "$st" != 304 ]; then`,
      `  d=${q(dest)}; if [ -d "$d" ]; then d="\${d%/}"/${q(decodeURIComponentSafe(base))}; fi`,
      `  if [ -f "$d" ] && ${S}/cmp -s "$b" "$d"; then ansible_attrs "$d" ${q(owner)} ${q(group)} ${q(mode ?? "")}`,
      `  else ansible_write "$d" ${q(owner)} ${q(group)} ${q(mode ?? "")} < "$b"; fi`,
      "fi",
    );
  }
  lines.push(
    `${S}/rm -f "$b"`,
    `{ ${ok}; } || ansible_fail "Status code was $st and not [${accepted.join(", ")}]:" ${q(url)}`,
  );
  return lines;
};

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
