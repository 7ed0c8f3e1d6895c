// Options shared by the commands that read a werf.yaml.
import { Command, Option } from "commander";
import type { RenderOptions } from "../template/render.js";
import { CONFIG_ENV, withEnv, type EnvBinding } from "./env.js";

export interface ConfigOptions {
  dir: string;
  config?: string;
  env?: string;
  strictEnv?: boolean;
  dev?: boolean;
  giterminismConfig?: string;
}

/** The werf.yaml options, and the environment variables of these and of `moreEnv` (src/cli/env.ts). */
export function addConfigOptions(cmd: Command, moreEnv: readonly EnvBinding[] = []): Command {
  return withEnv(cmd, [...CONFIG_ENV, ...moreEnv])
    .option("--dir <DIR>", "project directory (where werf.yaml and .werf/ are)", ".")
    .option("--config <FILE>", "werf config file, relative to --dir (default: werf.yaml or werf.yml)")
    .option("--env <ENV>", "value of .Env in templates (werf's --env)")
    .option(
      "--giterminism-config <FILE>",
      "werf-giterminism.yaml to take the allow-lists from (env variables, host mount paths), relative to --dir; default: the project's",
    )
    .addOption(
      new Option("--strict-env", "fail on {{ env \"NAME\" }} when NAME is unset and no default is given (werf's strict giterminism)"),
    )
    .option("--dev", "use the work tree as it is, uncommitted and untracked files included (werf's --dev); by default werf.yaml, .werf/ and .Files are read from the HEAD commit");
}

export function renderOptions(opts: ConfigOptions): RenderOptions {
  return {
    dir: opts.dir,
    configFile: opts.config,
    env: opts.env,
    strictEnv: opts.strictEnv ?? false,
    environ: process.env,
    dev: opts.dev ?? false,
    giterminismConfig: opts.giterminismConfig,
  };
}
