// The persistent cache's rows of `npm run bench` (issue #13, docs/bench.md "Incremental rows"):
//
//   git ls-tree / git archive   the baselines, measured in the same rounds
//   plan, cold cache            planProject with an empty cache folder (what a first run costs, cache writes included)
//   re-plan, 1-file commit      the cache filled by a plan of the parent commit; then one Go file is changed in a
//                               new commit and planned again
//   compile, cold cache         planProject + emitProject, empty cache
//   re-compile, 1-file commit   the same after a compile of the parent commit
//   compile, N files (RSS)      peak RSS of a cold compile of a generated repository of --rss-files files
//
// The rows run round by round (each round: every row once), on a `git clone --shared` of the bench repository whose
// HEAD is moved (the generated repository is never changed). Ratios are medians of per-round ratios.
//
//   node dist/bench/incremental.js [--files 100000] [--runs 3] [--rss-files 300000]
//   node dist/bench/incremental.js task (plan|compile) REPO_DIR CACHE_DIR|off     (one measurement, JSON)

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defaultRepoDir, generateBenchRepo, GIT_ENV } from "./generate.js";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface IncrementalOptions {
  /** The bench repository (made when missing). */
  dir?: string;
  files?: number;
  seed?: number;
  runs?: number;
  /** Files of the repository whose compile peak RSS is measured; 0 = skip. Default 300_000. */
  rssFiles?: number;
  log?: (line: string) => void;
}

export interface IncrementalRow {
  name: string;
  ms: number;
  cpuMs: number;
  maxRssMB: number;
  runs: number[];
}

export interface IncrementalTarget {
  name: string;
  value: number;
  limit: number;
  unit: "×" | "MB";
  pass: boolean;
}

export interface IncrementalResult {
  rows: IncrementalRow[];
  targets: IncrementalTarget[];
  cacheStats?: string;
}

interface Sample {
  ms: number;
  cpuMs: number;
  maxRssMB: number;
}

function git(dir: string, args: string[], input?: string, env: NodeJS.ProcessEnv = GIT_ENV): string {
  return execFileSync("git", args, { cwd: dir, env, input, encoding: "utf8", maxBuffer: 1 << 30 }).trim();
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A shared clone of the bench repository (objects borrowed, werf.yaml alone checked out). */
function prepareClone(src: string, dir: string): void {
  if (existsSync(path.join(dir, ".git"))) return;
  mkdirSync(path.dirname(dir), { recursive: true });
  git(path.dirname(dir), ["clone", "-q", "--shared", "--no-checkout", src, dir]);
  git(dir, ["config", "core.sparseCheckout", "true"]);
  execFileSync("sh", ["-c", "mkdir -p .git/info && printf '/werf.yaml\\n/.werf/\\n' > .git/info/sparse-checkout"], { cwd: dir });
  git(dir, ["checkout", "-q", "-f", "main"]);
}

/** Moves the clone's branch (and index) to `commit`. */
function resetTo(dir: string, commit: string): void {
  git(dir, ["reset", "-q", "--hard", commit]);
}

/** A new commit on HEAD changing one Go source file (round-specific content); HEAD moves to it. */
function oneFileCommit(dir: string, round: number): string {
  const file = git(dir, ["ls-tree", "-r", "--name-only", "HEAD", "--", "services"]).split("\n").find((p) => p.endsWith(".go"))!;
  const content = `${git(dir, ["cat-file", "blob", `HEAD:${file}`])}\n// bench round ${round} ${Date.now()}\n`;
  const blob = git(dir, ["hash-object", "-w", "--stdin"], content);
  const index = path.join(mkdtempSync(path.join(tmpdir(), "s2d-bench-index-")), "index");
  try {
    const env = { ...GIT_ENV, GIT_INDEX_FILE: index };
    git(dir, ["read-tree", "HEAD"], undefined, env);
    git(dir, ["update-index", "--cacheinfo", `100644,${blob},${file}`], undefined, env);
    const tree = git(dir, ["write-tree"], undefined, env);
    const commit = git(dir, ["commit-tree", tree, "-p", "HEAD", "-m", `bench round ${round}`]);
    resetTo(dir, commit);
    return commit;
  } finally {
    rmSync(path.dirname(index), { recursive: true, force: true });
  }
}

function runChild(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string; wallMs: number; cpuMs?: number; rssMB?: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const timed = existsSync("/usr/bin/time");
    const child = spawn(timed ? "/usr/bin/time" : args[0], timed ? ["-f", "@@rss %M %U %S", ...args] : args.slice(1), {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, LC_ALL: "C" },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) => {
      const stderr = Buffer.concat(err).toString("utf8");
      const m = /@@rss (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr,
        wallMs: performance.now() - t0,
        cpuMs: m ? (Number(m[2]) + Number(m[3])) * 1000 : undefined,
        rssMB: m ? Number(m[1]) / 1024 : undefined,
      });
    });
  });
}

async function gitSample(dir: string, args: string[]): Promise<Sample> {
  const r = await runChild(["sh", "-c", `git ${args.join(" ")} > /dev/null`], dir);
  if (r.code !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr}`);
  return { ms: r.wallMs, cpuMs: r.cpuMs ?? r.wallMs, maxRssMB: r.rssMB ?? 0 };
}

/** One plan or compile in a fresh process (its own figures: operation time, CPU incl. git children, peak RSS). */
async function taskSample(task: "plan" | "compile", dir: string, cache: string): Promise<Sample> {
  const r = await runChild([process.execPath, path.join(here, "incremental.js"), "task", task, dir, cache], dir);
  if (r.code !== 0) throw new Error(`bench ${task} failed (exit ${r.code}):\n${r.stderr.trim()}`);
  const m = JSON.parse(r.stdout.trim().split("\n").pop()!) as Sample;
  // CPU of the whole process tree (git's children included), as the issue's compile target asks
  return { ms: m.ms, cpuMs: r.cpuMs ?? m.cpuMs, maxRssMB: m.maxRssMB };
}

export async function runIncrementalBench(opts: IncrementalOptions = {}): Promise<IncrementalResult> {
  const log = opts.log ?? (() => {});
  const runs = opts.runs ?? 3;
  const src = path.resolve(opts.dir ?? defaultRepoDir({ files: opts.files, seed: opts.seed }));
  const repo = await generateBenchRepo(src, { files: opts.files, seed: opts.seed });
  const work = mkdtempSync(path.join(path.dirname(src), "incremental-"));
  const clone = path.join(work, "repo");
  prepareClone(src, clone);
  const names = ["git ls-tree", "git archive", "plan, cold cache", "re-plan, 1-file commit", "compile, cold cache", "re-compile, 1-file commit"];
  const samples = new Map<string, Sample[]>(names.map((n) => [n, []]));
  try {
    for (let round = 0; round < runs; round++) {
      log(`  incremental round ${round + 1}/${runs}`);
      resetTo(clone, repo.commit);
      samples.get("git ls-tree")!.push(await gitSample(clone, ["ls-tree", "-r", "HEAD"]));
      samples.get("git archive")!.push(await gitSample(clone, ["archive", "--format=tar", "HEAD"]));
      for (const task of ["plan", "compile"] as const) {
        const cache = path.join(work, `cache-${task}-${round}`);
        resetTo(clone, repo.commit);
        samples.get(`${task}, cold cache`)!.push(await taskSample(task, clone, cache));
        oneFileCommit(clone, round);
        samples.get(task === "plan" ? "re-plan, 1-file commit" : "re-compile, 1-file commit")!.push(await taskSample(task, clone, cache));
        rmSync(cache, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const rows: IncrementalRow[] = names.map((name) => {
    const s = samples.get(name)!;
    return { name, ms: median(s.map((x) => x.ms)), cpuMs: median(s.map((x) => x.cpuMs)), maxRssMB: Math.max(...s.map((x) => x.maxRssMB)), runs: s.map((x) => x.ms) };
  });
  const per = (a: string, b: (i: number) => number, cpu = false) =>
    median(samples.get(a)!.map((x, i) => (cpu ? x.cpuMs : x.ms) / b(i)));
  const S = (n: string) => samples.get(n)!;
  const targets: IncrementalTarget[] = [];
  const ratio = (name: string, value: number, limit: number) => targets.push({ name, value, limit, unit: "×", pass: value <= limit });
  ratio("cold plan / ls-tree", per("plan, cold cache", (i) => S("git ls-tree")[i].ms), 1.5);
  ratio("re-plan / cold plan", per("re-plan, 1-file commit", (i) => S("plan, cold cache")[i].ms), 0.1);
  ratio("cold compile / (ls-tree+archive)", per("compile, cold cache", (i) => S("git ls-tree")[i].ms + S("git archive")[i].ms), 2);
  ratio("  same, CPU time", per("compile, cold cache", (i) => S("git ls-tree")[i].cpuMs + S("git archive")[i].cpuMs, true), 2);
  ratio("re-compile / cold compile", per("re-compile, 1-file commit", (i) => S("compile, cold cache")[i].ms), 0.2);
  const rssFiles = opts.rssFiles ?? 300_000;
  if (rssFiles > 0) {
    const bigDir = defaultRepoDir({ files: rssFiles, seed: opts.seed });
    log(`  repository of ${rssFiles} files: ${bigDir}`);
    const big = await generateBenchRepo(bigDir, { files: rssFiles, seed: opts.seed });
    const cache = mkdtempSync(path.join(tmpdir(), "s2d-bench-cache-"));
    try {
      const s = await taskSample("compile", big.dir, cache);
      const name = `compile, ${Math.round(rssFiles / 1000)}k files`;
      rows.push({ name, ms: s.ms, cpuMs: s.cpuMs, maxRssMB: s.maxRssMB, runs: [s.ms] });
      targets.push({ name: `${name} peak RSS`, value: s.maxRssMB, limit: 300, unit: "MB", pass: s.maxRssMB <= 300 });
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  }
  return { rows, targets };
}

export function formatIncremental(r: IncrementalResult): string {
  const lines = ["persistent cache (bench/incremental.ts; medians of per-round ratios):", ""];
  lines.push(`${"what".padEnd(26)} ${"median ms".padStart(10)} ${"cpu ms".padStart(8)} ${"peak RSS MB".padStart(12)}  runs (ms)`);
  for (const row of r.rows) {
    lines.push(
      `${row.name.padEnd(26)} ${row.ms.toFixed(0).padStart(10)} ${row.cpuMs.toFixed(0).padStart(8)} ${row.maxRssMB.toFixed(0).padStart(12)}  ${row.runs.map((x) => x.toFixed(0)).join(" ")}`,
    );
  }
  lines.push("");
  for (const t of r.targets) {
    const v = t.unit === "×" ? `${t.value.toFixed(2)}×` : `${t.value.toFixed(0)} MB`;
    lines.push(`${t.pass ? "PASS" : "FAIL"}  ${t.name.padEnd(34)} ${v.padStart(9)}  (target ≤ ${t.limit}${t.unit === "×" ? "×" : " MB"})`);
  }
  return lines.join("\n") + "\n";
}

/** The child side: one plan or compile of REPO_DIR with the cache in CACHE_DIR ("off": no cache). */
async function task(kind: string, dir: string, cacheDir: string): Promise<void> {
  const { planProject } = await import("../src/plan/plan.js");
  const { emitProject } = await import("../src/emit/index.js");
  const { CacheStore } = await import("../src/cache/store.js");
  const { ASSUMED_BASE } = await import("./measure.js");
  const cache = cacheDir === "off" ? false : new CacheStore({ dir: cacheDir });
  const cpu = () => {
    const u = process.resourceUsage();
    return (u.userCPUTime + u.systemCPUTime) / 1000;
  };
  const out = mkdtempSync(path.join(tmpdir(), "s2d-bench-out-"));
  try {
    const t0 = performance.now();
    const c0 = cpu();
    const plan = await planProject({ dir, environ: {}, baseImages: ASSUMED_BASE, cache });
    if (kind === "compile") await emitProject(plan, { out: path.join(out, "out") });
    const ms = performance.now() - t0;
    process.stdout.write(JSON.stringify({ ms, cpuMs: cpu() - c0, maxRssMB: process.resourceUsage().maxRSS / 1024 }) + "\n");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  if (args[0] === "task") {
    await task(args[1], path.resolve(args[2]), args[3]);
  } else {
    const num = (name: string, d: number) => {
      const i = args.indexOf(name);
      return i >= 0 ? Number(args[i + 1]) : d;
    };
    const r = await runIncrementalBench({ files: num("--files", 100_000), seed: num("--seed", 1), runs: num("--runs", 3), rssFiles: num("--rss-files", 300_000), log: (l) => console.error(l) });
    process.stdout.write(formatIncremental(r));
  }
}
