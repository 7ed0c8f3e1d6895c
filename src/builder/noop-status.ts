// The `git status` of the no-op cache's key (src/builder/noop-cache.ts), in a module of its own so that the fast path
// of `build` (src/cli/build-noop.ts) starts git first, and loads the cache and the registry client while git runs.
// One run per project dir and process: the fast path and the full command (on a miss) share it.

import path from "node:path";
import { run, type RunResult } from "../process/run.js";

const runs = new Map<string, Promise<RunResult>>();

/** `git status --porcelain=v2 --branch -z --untracked-files=all` of the repository holding `dir` (started once). */
export function keyStatus(dir: string): Promise<RunResult> {
  const abs = path.resolve(dir);
  let p = runs.get(abs);
  if (!p) {
    // GIT_OPTIONAL_LOCKS=0: no index refresh (and no index.lock) behind the user's back
    p = run("git", ["-c", "core.quotePath=false", "status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all"], {
      cwd: abs,
      env: { ...process.env, GIT_OPTIONAL_LOCKS: "0" },
    });
    runs.set(abs, p);
  }
  return p;
}
