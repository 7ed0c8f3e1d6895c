// wait_for: wait (after `delay`, polling every `sleep` seconds, up to `timeout`) for a path to exist (with
// `search_regex` matching a line of it) or to be gone, or for a TCP port to accept connections or to stop; with
// neither path nor port, just sleep `timeout` seconds. Ports are tried with the toolchain bash's /dev/tcp.
import { Args, TaskProblem, q, type ModuleContext } from "../types.js";
import { pyToEre } from "./replace.js";

const S = "/.stapel/bin";

export const wait_for = (args: Args, ctx: ModuleContext): string[] => {
  const path = args.str("path");
  const port = args.str("port");
  const host = args.str("host") ?? "127.0.0.1";
  const state = args.choice("state", ["present", "started", "absent", "stopped", "drained"] as const, "started");
  const searchRegex = args.str("search_regex");
  const num = (key: string, dflt: number): number => {
    const v = args.str(key);
    if (v === undefined) return dflt;
    if (!/^[0-9]+$/.test(v)) throw new TaskProblem(`wait_for: ${key} must be a whole number of seconds, got ${JSON.stringify(v)}`, "give a number of seconds", key);
    return Number(v);
  };
  const timeout = num("timeout", 300);
  const delay = num("delay", 0);
  const sleep = num("sleep", 1);
  const connectTimeout = num("connect_timeout", 5);
  const msg = args.str("msg");
  args.checkUnused();
  if (state === "drained") throw new TaskProblem("wait_for: state drained is not supported by stapel2docker", "wait for the port with state started/stopped", "state");
  if (path !== undefined && port !== undefined) throw new TaskProblem("wait_for: parameters are mutually exclusive: port|path", "keep one of them", "port");
  if (port !== undefined && searchRegex !== undefined) throw new TaskProblem("wait_for: search_regex on a port is not supported by stapel2docker", "wait for the port, then check its answer in a `shell` task", "search_regex");
  if (port !== undefined && !/^[0-9]+$/.test(port)) throw new TaskProblem(`wait_for: port must be a number, got ${JSON.stringify(port)}`, "give the TCP port number", "port");
  ctx.helper("ansible_fail");
  const lines: string[] = [];
  if (delay > 0) lines.push(`${S}/sleep ${delay}`);
  if (path === undefined && port === undefined) {
    lines.push(`${S}/sleep ${timeout}`);
    return lines;
  }
  const gone = state === "absent" || state === "stopped";
  let check: string;
  let what: string;
  if (path !== undefined) {
    check = gone ? `[ ! -e ${q(path)} ]` : searchRegex !== undefined
      ? `[ -f ${q(path)} ] && ${S}/grep -qE ${q(pyToEre(searchRegex, "wait_for", "search_regex", false))} ${q(path)}`
      : `[ -e ${q(path)} ]`;
    what = gone ? `Timeout when waiting for ${path} to be absent.` : searchRegex !== undefined ? `Timeout when waiting for search string ${searchRegex} in ${path}` : `Timeout when waiting for file ${path}`;
  } else {
    const tcp = `${S}/timeout ${connectTimeout} ${S}/bash -c ${q(`: > /dev/tcp/${host}/${port}`)} 2>/dev/null`;
    check = gone ? `! ${tcp}` : tcp;
    what = gone ? `Timeout when waiting for ${host}:${port} to stop.` : `Timeout when waiting for ${host}:${port}`;
  }
  lines.push(
    `end=$(( $(${S}/date +%s) + ${timeout} ))`,
    `until ${check}; do`,
    `  if [ "$(${S}/date +%s)" -ge "$end" ]; then ansible_fail ${q(msg ?? what)}; fi`,
    `  ${S}/sleep ${sleep}`,
    "done",
  );
  return lines;
};
