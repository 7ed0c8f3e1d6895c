// One measurement in a fresh process: `node dist/bench/measure.js TASK REPO_DIR`.
// Prints one JSON line: { task, ms, maxRssMB, info }. `ms` times the operation alone (after the modules
// are loaded); `maxRssMB` is the process's peak resident set (process.resourceUsage().maxRSS).
//
// Tasks:
//   plan       planProject (src/plan/plan.ts) with base images "assumed" (no docker daemon)
//   compile    planProject + emitProject (src/emit/index.ts) into a temp dir (removed afterwards)
//   list-tree  listTree of HEAD (src/git/tree.ts), the whole repository
//   checksums  computeStageDependencies (src/git/checksum.ts) for every mapping and stage with masks
//   archives   writeGitArchive (src/git/archive.ts) of every git mapping, to /dev/null
//   masks      the 40 masks of werf.yaml against every path of HEAD (WerfMask, no git in the timing)

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { renderWerfConfig } from "../src/template/render.js";
import { loadWerfConfig, type GitMapping, type WerfConfig } from "../src/config/index.js";
import { GitRepo } from "../src/git/repo.js";
import { listTree } from "../src/git/tree.js";
import { computeStageDependencies } from "../src/git/checksum.js";
import { writeGitArchive } from "../src/git/archive.js";
import { WerfMask } from "../src/git/pathMatcher.js";
import type { GitMappingSpec } from "../src/git/mapping.js";
import { planProject } from "../src/plan/plan.js";
import { emitProject } from "../src/emit/index.js";
import type { BaseImageResolver } from "../src/plan/model.js";

export const TASKS = ["plan", "compile", "list-tree", "checksums", "archives", "masks"] as const;
export type Task = (typeof TASKS)[number];

export interface Measurement {
  task: Task;
  /** The operation's own time, ms. */
  ms: number;
  /** CPU time (user + system, all threads, git children excluded) of the operation, ms: steadier than
   *  `ms` on a busy machine. */
  cpuMs: number;
  /** Peak resident set of the measuring process, MiB. */
  maxRssMB: number;
  /** What was done (counts), for the report and the tests. */
  info: Record<string, number | string>;
}

/** Base images are never looked up: root in / is assumed, as without a docker daemon. */
export const ASSUMED_BASE: BaseImageResolver = { resolve: async () => ({ user: "", workdir: "", source: "assumed" }) };

export function mappingSpec(m: GitMapping): GitMappingSpec {
  return { add: m.add, to: m.to, includePaths: m.includePaths, excludePaths: m.excludePaths, owner: m.owner, group: m.group };
}

export async function loadConfig(dir: string): Promise<WerfConfig> {
  return loadWerfConfig(await renderWerfConfig({ dir, strictEnv: false, environ: {} }));
}

/** The local git mappings of every Stapel image. */
export function localMappings(config: WerfConfig): GitMapping[] {
  return config.images.flatMap((i) => i.git.filter((g) => g.local));
}

/** Every mask of the git mappings (include, exclude, stageDependencies), in document order. */
export function gitMasks(config: WerfConfig): string[] {
  return localMappings(config).flatMap((g) => [
    ...g.includePaths,
    ...g.excludePaths,
    ...g.stageDependencies.install,
    ...g.stageDependencies.beforeSetup,
    ...g.stageDependencies.setup,
  ]);
}

export async function measure(task: Task, dir: string): Promise<Measurement> {
  const repo = await GitRepo.open(dir);
  const commit = await repo.resolveCommit("HEAD");
  const config = task === "plan" || task === "compile" ? undefined : await loadConfig(dir);
  const info: Record<string, number | string> = {};
  let t0 = performance.now();
  let cpu0 = cpuNow();
  switch (task) {
    case "plan": {
      const plan = await planProject({ dir, environ: {}, baseImages: ASSUMED_BASE });
      info.images = plan.images.length;
      info.stages = plan.images.reduce((s, i) => s + i.stages.length, 0);
      break;
    }
    case "compile": {
      const outParent = mkdtempSync(path.join(tmpdir(), "s2d-bench-out-"));
      try {
        t0 = performance.now();
        cpu0 = cpuNow();
        const plan = await planProject({ dir, environ: {}, baseImages: ASSUMED_BASE });
        const r = await emitProject(plan, { out: path.join(outParent, "out") });
        info.images = plan.images.length;
        info.files = r.files.length;
        info.targets = r.targets.length;
        return finish(task, performance.now() - t0, cpuNow() - cpu0, info);
      } finally {
        rmSync(outParent, { recursive: true, force: true });
      }
    }
    case "list-tree": {
      const entries = await listTree(repo, commit);
      info.entries = entries.length;
      break;
    }
    case "checksums": {
      let n = 0;
      for (const m of localMappings(config!)) {
        for (const stage of ["install", "beforeSetup", "setup"] as const) {
          const masks = m.stageDependencies[stage];
          if (masks.length === 0) continue;
          const r = await computeStageDependencies(repo, commit, mappingSpec(m), masks);
          n += r.paths.length;
          info.checksums = Number(info.checksums ?? 0) + 1;
        }
      }
      info.matched = n;
      break;
    }
    case "archives": {
      let entries = 0;
      for (const m of localMappings(config!)) {
        const s = await writeGitArchive(repo, commit, mappingSpec(m), "/dev/null");
        entries += s.entries.length;
        info.archives = Number(info.archives ?? 0) + 1;
      }
      info.entries = entries;
      break;
    }
    case "masks": {
      const paths = (await listTree(repo, commit)).filter((e) => e.type !== "tree").map((e) => e.path);
      const masks = gitMasks(config!).map((m) => new WerfMask(m));
      t0 = performance.now();
      cpu0 = cpuNow();
      let hits = 0;
      for (const p of paths) for (const m of masks) if (m.matches(p)) hits++;
      info.tests = paths.length * masks.length;
      info.hits = hits;
      break;
    }
  }
  return finish(task, performance.now() - t0, cpuNow() - cpu0, info);
}

function cpuNow(): number {
  const u = process.resourceUsage();
  return (u.userCPUTime + u.systemCPUTime) / 1000;
}

function finish(task: Task, ms: number, cpuMs: number, info: Record<string, number | string>): Measurement {
  return { task, ms, cpuMs, maxRssMB: process.resourceUsage().maxRSS / 1024, info };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [task, dir] = process.argv.slice(2);
  if (!TASKS.includes(task as Task) || !dir) {
    console.error(`usage: node dist/bench/measure.js (${TASKS.join("|")}) REPO_DIR`);
    process.exit(2);
  }
  const m = await measure(task as Task, path.resolve(dir));
  process.stdout.write(JSON.stringify(m) + "\n");
}
