// apt_key: add a key from url/data/file or a keyserver (id), into the default keyring or `keyring`;
// state absent deletes by id. Uses the image's apt-key (and gpg), like ansible.
import { Args, TaskProblem, q, type ModuleContext } from "../types.js";

const S = "/.stapel/bin";

export const apt_key = (args: Args, ctx: ModuleContext): string[] => {
  const id = args.str("id");
  const url = args.str("url");
  const data = args.textOrFile("data");
  const file = args.str("file");
  const keyserver = args.str("keyserver");
  const keyring = args.str("keyring");
  const state = args.choice("state", ["present", "absent"] as const, "present");
  args.bool("validate_certs", true);
  args.checkUnused();
  const ak = `apt-key${keyring ? ` --keyring ${q(keyring)}` : ""}`;
  const lines = ["export APT_KEY_DONT_WARN_ON_DANGEROUS_USAGE=1"];
  if (state === "absent") {
    if (!id) throw new TaskProblem("apt_key: id is required with state=absent");
    lines.push(`if ${ak} export ${q(id)} 2>/dev/null | grep -q .; then ${ak} del ${q(id)}; fi`);
    return lines;
  }
  const skip = id ? `if ${ak} export ${q(id)} 2>/dev/null | grep -q .; then echo ${q(`key ${id} is already present`)}; exit 0; fi` : undefined;
  if (skip) lines.push(skip);
  if (keyserver !== undefined) {
    if (!id) throw new TaskProblem("apt_key: id is required with keyserver");
    lines.push(`${ak} adv --no-tty --keyserver ${q(keyserver.includes("://") ? keyserver : keyserver)} --recv ${q(id)}`);
  } else if (url !== undefined) {
    ctx.helper("ansible_fetch");
    lines.push(`k=$(${S}/mktemp); ansible_fetch ${q(url)} "$k"`, `${ak} add "$k"`, `${S}/rm -f "$k"`);
  } else if (file !== undefined) {
    lines.push(`${ak} add ${q(file)}`);
  } else if (data !== undefined) {
    lines.push("file" in data ? `${ak} add ${q(data.file)}` : `printf '%s' ${q(data.text)} | ${ak} add -`);
  } else {
    throw new TaskProblem("apt_key: one of url, data, file or keyserver is required");
  }
  return lines;
};
