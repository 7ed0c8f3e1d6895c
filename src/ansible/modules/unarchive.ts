// unarchive: a tar (any compression GNU tar reads) or zip archive into an existing dest directory, from a path
// in the image or (remote_src) a URL; creates, extra_opts, exclude, owner/group/mode of dest.
import { Args, TaskProblem, q, type ModuleContext, noAttributes } from "../types.js";

const S = "/.stapel/bin";

export const unarchive = (args: Args, ctx: ModuleContext): string[] => {
  const src = args.need("src");
  const dest = args.need("dest");
  const remote = args.bool("remote_src", false) || !args.bool("copy", true);
  const creates = args.str("creates");
  const extra = args.list("extra_opts");
  const exclude = args.list("exclude");
  const mode = args.mode();
  const owner = args.str("owner") ?? "";
  const group = args.str("group") ?? "";
  args.bool("keep_newer", false) && extra.push("--keep-newer-files");
  args.bool("validate_certs", true);
  args.harmless("attributes", noAttributes);
  args.checkUnused(["list_files", "io_buffer_size", "decrypt", "unsafe_writes"]);
  void remote;
  const lines: string[] = [];
  ctx.helper("ansible_fail");
  if (creates !== undefined) {
    ctx.helper("ansible_exists");
    lines.push(`if ansible_exists ${q(creates)}; then echo ${q(`skipped, since ${creates} exists`)}; exit 0; fi`);
  }
  lines.push(`[ -d ${q(dest)} ] || ansible_fail ${q(`dest '${dest}' must be an existing dir`)}`);
  let file = q(src);
  if (/^[a-z]+:\/\//.test(src)) {
    ctx.helper("ansible_fetch");
    lines.push(`a=$(${S}/mktemp); ansible_fetch ${q(src)} "$a"`);
    file = '"$a"';
  } else if (!src.startsWith("/")) {
    throw new TaskProblem(`unarchive: src ${JSON.stringify(src)} is relative`, "werf runs the playbook from its own dir: give an absolute path in the image");
  } else {
    lines.push(`[ -f ${file} ] || ansible_fail ${q(`Source '${src}' does not exist`)}`);
  }
  const tarEx = exclude.map((e) => `--exclude=${q(e)}`).join(" ");
  const zipEx = exclude.length ? ` -x ${exclude.map(q).join(" ")}` : "";
  const ex = extra.map(q).join(" ");
  lines.push(
    `if [ "$(${S}/head -c 4 ${file} | ${S}/od -An -tx1 | ${S}/tr -d ' \\n')" = 504b0304 ]; then`,
    `  unzip -o ${ex ? `${ex} ` : ""}${file} -d ${q(dest)}${zipEx}`,
    "else",
    `  tar --extract -C ${q(dest)} -f ${file}${tarEx ? ` ${tarEx}` : ""}${ex ? ` ${ex}` : ""}`,
    "fi",
  );
  if (owner || group || mode) {
    ctx.helper("ansible_attrs");
    lines.push(`ansible_attrs ${q(dest)} ${q(owner)} ${q(group)} ${q(mode ?? "")}`);
  }
  if (file === '"$a"') lines.push(`${S}/rm -f "$a"`);
  return lines;
};
