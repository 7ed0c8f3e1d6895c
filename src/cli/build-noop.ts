// `stapel2docker build` answered by the no-op cache (src/builder/noop-cache.ts). `fastBuild` runs from main.ts
// before commander and the command definitions are loaded: it reads the few options a no-op build can have and
// gives up (returns false, nothing printed) on anything else, and the full command runs.

import type { NoopInput } from "../builder/noop-cache.js";
import { parsePlatforms } from "./platforms.js";

/** The build options the no-op cache answers for (the others make a build it never answers). */
export interface NoopCliOptions {
  dir: string;
  config?: string;
  env?: string;
  strictEnv?: boolean;
  giterminismConfig?: string;
  repo: string;
  toolchain?: string;
  builder?: string;
  platform?: string[];
}

export function noopInput(opts: NoopCliOptions, images: string[]): NoopInput {
  return {
    dir: opts.dir, configFile: opts.config, env: opts.env, strictEnv: opts.strictEnv, giterminismConfig: opts.giterminismConfig, images, repo: opts.repo, toolchain: opts.toolchain,
    ...(opts.builder ? { builder: opts.builder } : {}),
    ...(opts.platform?.length ? { platform: opts.platform } : {}),
  };
}

/** Prints a no-op build's report when the no-op cache proves it (true), else nothing (false). */
export async function answerFromNoopCache(opts: NoopCliOptions, images: string[], log: (line: string) => void, t0: number): Promise<boolean> {
  let hit;
  try {
    const { NoopCache, noopKey } = await import("../builder/noop-cache.js");
    const key = await noopKey(noopInput(opts, images));
    if (key) hit = await new NoopCache().tryNoop(key, process.env, (w) => log(`warning: ${w}`), undefined, t0);
  } catch {
    // a cache only: the full command reports whatever is wrong
  }
  if (!hit) return false;
  log("nothing changed since the last build on this host: every stage is stored (no-op cache; STAPEL2DOCKER_NO_NOOP_CACHE=1 turns it off)");
  const { formatReport } = await import("../builder/report.js");
  process.stdout.write(formatReport(hit));
  return true;
}

const VALUE_OPTIONS: Record<string, Exclude<keyof NoopCliOptions, "platform"> | "parallel" | "platforms"> = {
  "--dir": "dir",
  "--config": "config",
  "--env": "env",
  "--giterminism-config": "giterminismConfig",
  "--repo": "repo",
  "--toolchain": "toolchain",
  "--builder": "builder",
  "--parallel": "parallel",
  "--platform": "platforms",
};

/** The arguments after `build`, when they are only options the no-op cache answers for; else undefined. */
export function parseNoopBuildArgs(args: readonly string[]): { opts: NoopCliOptions; images: string[] } | undefined {
  const opts: Partial<NoopCliOptions> & { parallel?: string; platforms?: string } = { dir: "." };
  const images: string[] = [];
  let onlyArgs = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (onlyArgs || !a.startsWith("-") || a === "-") {
      images.push(a);
      continue;
    }
    if (a === "--") {
      onlyArgs = true;
      continue;
    }
    if (a === "--strict-env") {
      opts.strictEnv = true;
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(0, eq) : a;
    const key = VALUE_OPTIONS[name];
    if (!key) return undefined;
    const value = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined || (eq < 0 && value.startsWith("-"))) return undefined;
    (opts as Record<string, string>)[key] = value;
  }
  if (!opts.repo) return undefined;
  if (opts.parallel !== undefined && (!/^[0-9]+$/.test(opts.parallel) || Number(opts.parallel) < 1)) return undefined;
  delete opts.parallel;
  if (opts.platforms !== undefined) {
    // as the full command parses it (a bad list: the full command says what is wrong)
    try {
      opts.platform = parsePlatforms(opts.platforms);
    } catch {
      return undefined;
    }
    delete opts.platforms;
  }
  return { opts: opts as NoopCliOptions, images };
}

/** `stapel2docker build ARGS` through the no-op cache alone; false: run the command as usual. */
export async function fastBuild(args: readonly string[]): Promise<boolean> {
  if (process.env.STAPEL2DOCKER_NO_NOOP_CACHE) return false;
  // options set by the environment (src/cli/env.ts: STAPEL2DOCKER_*, werf's WERF_REPO, WERF_ENV, ...) are read by the
  // full command only
  const parsed = parseNoopBuildArgs(args);
  if (!parsed) return false;
  // git first: the modules below load while it runs (the full command shares the run on a miss)
  const { keyStatus } = await import("../builder/noop-status.js");
  void keyStatus(parsed.opts.dir);
  const { envSetsOptions } = await import("./env.js");
  if (envSetsOptions(process.env)) return false;
  return answerFromNoopCache(parsed.opts, parsed.images, (l) => process.stderr.write(`${l}\n`), performance.now());
}
