// copy: content or src to dest, with mode/owner/group, force, directory_mode. Under werf the "controller" is the
// build container itself, so `src` is a path in the image (relative paths are not supported: werf's playbook
// dir holds none of the project's files).
import { Args, TaskProblem, q, type ModuleContext } from "../types.js";

const S = "/.stapel/bin";

export const copy = (args: Args, ctx: ModuleContext): string[] => {
  const dest = args.need("dest");
  const mode = args.mode();
  const owner = args.str("owner") ?? "";
  const group = args.str("group") ?? "";
  const force = args.bool("force", true, "thirsty");
  const contentOpt = args.textOrFile("content");
  const content = contentOpt && "text" in contentOpt ? contentOpt.text : undefined;
  const contentFile = contentOpt && "file" in contentOpt ? contentOpt.file : undefined;
  const src = args.str("src");
  args.bool("remote_src", false);
  args.bool("backup", false) && fail("backup");
  args.str("validate") && fail("validate");
  const dirMode = args.mode("directory_mode");
  args.checkUnused(["follow", "local_follow", "unsafe_writes", "decrypt"]);
  const attrs = `${q(owner)} ${q(group)} ${q(mode ?? "")}`;
  const lines: string[] = [];
  ctx.helper("ansible_write");
  if (content !== undefined && src !== undefined) throw new TaskProblem("copy: parameters are mutually exclusive: content|src");
  if (content !== undefined) {
    if (dest.endsWith("/")) throw new TaskProblem("copy: can not use content with a dir as dest");
    if (!force) lines.push(`if [ -e ${q(dest)} ]; then echo ${q(`${dest} exists, force is off`)}; exit 0; fi`);
    lines.push(`printf '%s' ${q(content)} | ansible_write ${q(dest)} ${attrs}`);
    return lines;
  }
  if (contentFile !== undefined) {
    // lookup('file') strips one trailing newline
    lines.push(`c=$(${S}/cat ${q(contentFile)}) || ansible_fail ${q(`could not locate file in lookup: ${contentFile}`)}`);
    if (!force) lines.push(`if [ -e ${q(dest)} ]; then echo ${q(`${dest} exists, force is off`)}; exit 0; fi`);
    lines.push(`printf '%s' "$c" | ansible_write ${q(dest)} ${attrs}`);
    return lines;
  }
  if (src === undefined) throw new TaskProblem("copy: src (or content) is required");
  if (!src.startsWith("/")) throw new TaskProblem(`copy: src ${JSON.stringify(src)} is relative`, "werf runs the playbook from its own dir: give an absolute path in the image");
  // A directory: with a trailing slash its contents go into dest, else the directory itself.
  lines.push(`if [ -d ${q(src)} ]; then`);
  const into = src.endsWith("/") ? dest : `${dest.replace(/\/$/, "")}/$(${S}/basename ${q(src)})`;
  lines.push(`  ${S}/mkdir -p ${q(dest)}${dirMode ? ` && ${S}/chmod ${dirMode} ${q(dest)}` : ""}`);
  lines.push(`  ${S}/cp -R${force ? "" : "n"} ${src.endsWith("/") ? `${q(src)}.` : q(src)} ${src.endsWith("/") ? q(dest) : `"${into.replace(/"/g, '\\"')}"`}`);
  if (owner || group || mode) lines.push(`  ansible_attrs ${src.endsWith("/") ? q(dest) : `"${into.replace(/"/g, '\\"')}"`} ${attrs} recurse`);
  lines.push("else");
  lines.push(`  [ -e ${q(src)} ] || ansible_fail ${q(`Could not find or access '${src}'`)}`);
  lines.push(`  d=${q(dest)}; if [ -d "$d" ] || [ "\${d%/}" != "$d" ]; then d="\${d%/}/$(${S}/basename ${q(src)})"; fi`);
  if (!force) lines.push(`  if [ -e "$d" ]; then echo "$d exists, force is off"; exit 0; fi`);
  lines.push(`  ansible_write "$d" ${q(owner)} ${q(group)} "${mode ?? `$(${S}/stat -c 0%a ${q(src)})`}" < ${q(src)}`);
  lines.push("fi");
  return lines;

  function fail(opt: string): never {
    throw new TaskProblem(`copy: option \`${opt}\` is not supported by stapel2docker`, "write the step as a `shell` task");
  }
};
