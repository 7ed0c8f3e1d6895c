// Options from the environment: every option of `build` (and the werf.yaml options of every command) can be set by a
// variable, STAPEL2DOCKER_<OPTION>, and the werf variables CI already sets for `werf build` are honoured (WERF_REPO,
// WERF_ENV, WERF_ADD_CUSTOM_TAG_*, ...). A flag on the command line wins over the environment; of two variables, the
// first listed wins. One table per command group, so an option and its variables are declared together; `--help`
// lists them (envHelp).

import type { Command, Option } from "commander";
import { UserError } from "../diagnostics.js";

export interface EnvBinding {
  /** The commander attribute (camelCase of the long flag). */
  key: string;
  /** The flag, for messages and help. */
  flag: string;
  kind: "string" | "boolean" | "list";
  /** Variables holding the value, first wins (a list variable holds values separated by blanks). */
  names: string[];
  /** list: variables named PREFIX<anything>, one value each, in name order (werf's WERF_ADD_CUSTOM_TAG_*). */
  prefixes?: string[];
  /** Turns a variable's value into the option's (e.g. werf's `%image%` → `{image}`); may throw a UserError. */
  map?: (value: string, variable: string) => string | undefined;
  /** The value from variables that are not one-to-one (werf's WERF_SAVE_BUILD_REPORT + WERF_BUILD_REPORT_PATH). */
  resolve?: (environ: NodeJS.ProcessEnv) => { value: string; from: string } | undefined;
  /** Shown in --help after the names. */
  note?: string;
}

const bool = (v: string, name: string): boolean => {
  const s = v.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(s)) return true;
  if (["", "0", "false", "no", "off"].includes(s)) return false;
  throw new UserError({ message: `${name}=${JSON.stringify(v)}: expected true or false`, hint: `set ${name} to 1/true/yes or 0/false/no, or unset it` });
};

/** The options of every command that reads werf.yaml (src/cli/options.ts). */
export const CONFIG_ENV: EnvBinding[] = [
  { key: "dir", flag: "--dir", kind: "string", names: ["STAPEL2DOCKER_DIR", "WERF_DIR"] },
  { key: "config", flag: "--config", kind: "string", names: ["STAPEL2DOCKER_CONFIG", "WERF_CONFIG"] },
  { key: "env", flag: "--env", kind: "string", names: ["STAPEL2DOCKER_ENV", "WERF_ENV"] },
  { key: "giterminismConfig", flag: "--giterminism-config", kind: "string", names: ["STAPEL2DOCKER_GITERMINISM_CONFIG", "WERF_GITERMINISM_CONFIG"] },
  { key: "strictEnv", flag: "--strict-env", kind: "boolean", names: ["STAPEL2DOCKER_STRICT_ENV"] },
  { key: "dev", flag: "--dev", kind: "boolean", names: ["STAPEL2DOCKER_DEV", "WERF_DEV"] },
];

/** werf's tag shortcuts in WERF_ADD_CUSTOM_TAG_*: the image's name; werf's content-based tag has no equivalent here. */
function werfCustomTag(v: string, name: string): string {
  if (/%image_content_based_tag%/.test(v)) {
    throw new UserError({
      message: `${name}=${JSON.stringify(v)}: %image_content_based_tag% has no equivalent in stapel2docker`,
      hint: "final images are always tagged <repo>:<image>-<digest>; use %image% (or {image}) in extra tags",
    });
  }
  return v.replace(/%image(_safe_slug|_slug)?%/g, "{image}");
}

/** werf's --parallel-tasks-limit: -1 (or 0) is no limit, which is stapel2docker's default. */
function werfTasksLimit(v: string): string | undefined {
  return /^-?[0-9]+$/.test(v.trim()) && Number(v) < 1 ? undefined : v.trim();
}

/** `build` (src/cli/build.ts), besides CONFIG_ENV. Options added to `build` get their line here. */
export const BUILD_ENV: EnvBinding[] = [
  { key: "repo", flag: "--repo", kind: "string", names: ["STAPEL2DOCKER_REPO", "WERF_REPO"] },
  {
    key: "addTag",
    flag: "--add-tag",
    kind: "list",
    names: ["STAPEL2DOCKER_ADD_TAG"],
    prefixes: ["STAPEL2DOCKER_ADD_TAG_", "WERF_ADD_CUSTOM_TAG_"],
    map: (v, name) => (name.startsWith("WERF_") ? werfCustomTag(v, name) : v),
    note: "werf's %image% becomes {image}",
  },
  { key: "report", flag: "--report", kind: "string", names: ["STAPEL2DOCKER_REPORT"] },
  { key: "saveBuildReport", flag: "--save-build-report", kind: "boolean", names: ["WERF_SAVE_BUILD_REPORT"] },
  { key: "buildReportPath", flag: "--build-report-path", kind: "string", names: ["WERF_BUILD_REPORT_PATH"] },
  { key: "reportFormat", flag: "--report-format", kind: "string", names: ["STAPEL2DOCKER_REPORT_FORMAT", "WERF_REPORT_FORMAT"] },
  { key: "progress", flag: "--progress", kind: "string", names: ["STAPEL2DOCKER_PROGRESS", "BUILDKIT_PROGRESS"] },
  { key: "quiet", flag: "--quiet", kind: "boolean", names: ["STAPEL2DOCKER_QUIET", "WERF_LOG_QUIET"] },
  { key: "toolchain", flag: "--toolchain", kind: "string", names: ["STAPEL2DOCKER_TOOLCHAIN"] },
  { key: "ssh", flag: "--ssh", kind: "list", names: ["STAPEL2DOCKER_SSH"] },
  { key: "sshKey", flag: "--ssh-key", kind: "list", names: ["STAPEL2DOCKER_SSH_KEY"], prefixes: ["STAPEL2DOCKER_SSH_KEY_", "WERF_SSH_KEY_"] },
  {
    key: "parallel",
    flag: "--parallel",
    kind: "string",
    names: ["STAPEL2DOCKER_PARALLEL", "WERF_PARALLEL_TASKS_LIMIT"],
    map: (v, name) => (name === "WERF_PARALLEL_TASKS_LIMIT" ? werfTasksLimit(v) : v),
  },
  { key: "builder", flag: "--builder", kind: "string", names: ["STAPEL2DOCKER_BUILDER"], note: "buildx itself reads BUILDX_BUILDER" },
  { key: "cacheRepo", flag: "--cache-repo", kind: "list", names: ["STAPEL2DOCKER_CACHE_REPO"], prefixes: ["STAPEL2DOCKER_CACHE_REPO_", "WERF_CACHE_REPO_"] },
  { key: "secondaryRepo", flag: "--secondary-repo", kind: "list", names: ["STAPEL2DOCKER_SECONDARY_REPO"], prefixes: ["STAPEL2DOCKER_SECONDARY_REPO_", "WERF_SECONDARY_REPO_"] },
  { key: "finalRepo", flag: "--final-repo", kind: "string", names: ["STAPEL2DOCKER_FINAL_REPO", "WERF_FINAL_REPO"] },
  { key: "platform", flag: "--platform", kind: "string", names: ["STAPEL2DOCKER_PLATFORM", "WERF_PLATFORM"] },
  { key: "print", flag: "--print", kind: "boolean", names: ["STAPEL2DOCKER_PRINT"] },
  { key: "json", flag: "--json", kind: "boolean", names: ["STAPEL2DOCKER_JSON"] },
  { key: "introspectStage", flag: "--introspect-stage", kind: "list", names: ["STAPEL2DOCKER_INTROSPECT_STAGE"] },
  { key: "introspectError", flag: "--introspect-error", kind: "boolean", names: ["STAPEL2DOCKER_INTROSPECT_ERROR"] },
  { key: "introspectBeforeError", flag: "--introspect-before-error", kind: "boolean", names: ["STAPEL2DOCKER_INTROSPECT_BEFORE_ERROR"] },
];

interface Found {
  values: string[];
  from: string;
}

function lookup(b: EnvBinding, environ: NodeJS.ProcessEnv): Found | undefined {
  const map = (v: string, name: string): string | undefined => (b.map ? b.map(v, name) : v);
  for (const name of b.names) {
    const v = environ[name];
    if (v === undefined || (v === "" && b.kind !== "boolean")) continue;
    if (b.kind === "list") {
      const values = v.split(/\s+/).filter(Boolean).map((x) => map(x, name)).filter((x): x is string => x !== undefined);
      if (values.length) return { values, from: name };
      continue;
    }
    const m = map(v, name);
    if (m !== undefined) return { values: [m], from: name };
  }
  for (const prefix of b.prefixes ?? []) {
    const names = Object.keys(environ).filter((n) => n.startsWith(prefix) && n.length > prefix.length && environ[n]).sort();
    const values = names.map((n) => map(environ[n]!, n)).filter((x): x is string => x !== undefined);
    if (values.length) return { values, from: `${prefix}*` };
  }
  const r = b.resolve?.(environ);
  return r ? { values: [r.value], from: r.from } : undefined;
}

/** Sets every option of `cmd` not given on the command line from the environment (source "env"). */
export function applyEnv(cmd: Command, bindings: readonly EnvBinding[], environ: NodeJS.ProcessEnv = process.env): void {
  for (const b of bindings) {
    if (cmd.getOptionValueSource(b.key) === "cli") continue;
    const found = lookup(b, environ);
    if (!found) continue;
    const opt = cmd.options.find((o: Option) => o.attributeName() === b.key);
    if (!opt) continue;
    // the option's own checks (choices, numbers) apply to a variable's value too, named after the variable
    const parse = (v: string, prev: unknown): unknown => {
      if (!opt.parseArg) return b.kind === "list" ? [...(prev as string[]), v] : v;
      try {
        return opt.parseArg(v, prev);
      } catch (e) {
        const why = e instanceof UserError ? e.diagnostics[0].message : e instanceof Error ? e.message : String(e);
        throw new UserError({ message: `${found.from}=${JSON.stringify(v)} (${b.flag}): ${why}`, hint: `fix or unset ${found.from}` });
      }
    };
    let value: unknown;
    if (b.kind === "boolean") value = bool(found.values[0], found.from);
    else if (b.kind === "list") value = found.values.reduce<unknown>((prev, v) => parse(v, prev), []);
    else value = parse(found.values[0], undefined);
    cmd.setOptionValueWithSource(b.key, value, "env");
  }
}

/** The help section listing each option's variables. */
export function envHelp(bindings: readonly EnvBinding[]): string {
  const rows = bindings.map((b) => [b.flag, [...b.names, ...(b.prefixes ?? []).map((p) => `${p}*`)].join(", ") + (b.note ? ` (${b.note})` : "")]);
  const w = Math.max(...rows.map((r) => r[0].length));
  return (
    "\nEnvironment (a flag on the command line wins; of two variables, the first set wins):\n" +
    rows.map(([f, v]) => `  ${f.padEnd(w)}  ${v}`).join("\n") +
    "\n"
  );
}

/** Registers the environment for `cmd`: applied before its action, listed in its --help. */
export function withEnv(cmd: Command, bindings: readonly EnvBinding[]): Command {
  cmd.addHelpText("after", envHelp(bindings));
  return cmd.hook("preAction", (_self, action) => applyEnv(action, bindings));
}

/** Whether the environment sets any option of `build` (or of the werf.yaml options): the no-op fast path of
 *  src/cli/build-noop.ts, which reads only the command line, then leaves the build to the full command. */
export function envSetsOptions(environ: NodeJS.ProcessEnv): boolean {
  try {
    // --progress only changes how a bake is shown, and a no-op build runs none (CI often sets BUILDKIT_PROGRESS)
    return [...CONFIG_ENV, ...BUILD_ENV].some((b) => b.key !== "progress" && lookup(b, environ) !== undefined);
  } catch {
    return true; // a bad value: the full command says what is wrong
  }
}
