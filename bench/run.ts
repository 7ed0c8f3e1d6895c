// `npm run bench`: plan and compile speed and peak memory on a big generated repository (issue #3).
//
// Targets: plan ≤ 2 × `git ls-tree -r HEAD`, compile ≤ 3 × (`git ls-tree -r HEAD` + `git archive HEAD`),
// peak RSS of plan and of compile ≤ 300 MB. Every measurement runs in a fresh process; the figure is the
// median of --runs runs. A benchmark, not a test: exit code 0 even when a target is missed, unless --check.
//
//   node dist/bench/run.js [--files 100000] [--seed 1] [--runs 5] [--dir DIR] [--only a,b] [--check]
//                          [--profile DIR] [--json FILE] [--no-masks-micro] [--build]
//
// See docs/bench.md.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, closeSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defaultRepoDir, generateBenchRepo, type GeneratedRepo, type GenerateOptions } from "./generate.js";
import { TASKS, type Measurement, type Task } from "./measure.js";
import { summarizeProfile } from "./profile.js";

const here = path.dirname(fileURLToPath(import.meta.url));

export const COMMANDS = ["git ls-tree", "git archive"] as const;
export type Row = (typeof COMMANDS)[number] | Task;

export interface RowResult {
  name: Row;
  /** Median operation time, ms (for git: the whole command). */
  ms: number;
  /** Median CPU time, ms (node rows: the operation, git's children not counted; git rows: the command). */
  cpuMs?: number;
  /** Median wall time of the whole process (node start-up and module loading included), ms. */
  wallMs: number;
  /** Highest peak RSS over the runs, MiB (undefined when it could not be measured). */
  maxRssMB?: number;
  runs: number[];
  info?: Record<string, number | string>;
}

export interface Target {
  name: string;
  value: number;
  limit: number;
  unit: "×" | "MB";
  pass: boolean;
}

export interface BenchOptions extends GenerateOptions {
  runs?: number;
  /** The repository directory (made, or reused when it holds the same generated repository). */
  dir?: string;
  /** Rows to measure; default all. */
  only?: Row[];
  /** Write .cpuprofile files of plan and compile here and print their hot spots. */
  profileDir?: string;
  /** Progress lines (to stderr). */
  log?: (line: string) => void;
}

export interface BenchResult {
  repo: GeneratedRepo;
  rows: RowResult[];
  targets: Target[];
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  wallMs: number;
}

function run(cmd: string, args: string[], cwd: string, stdoutToNull: boolean): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const devNull = stdoutToNull ? openSync("/dev/null", "w") : undefined;
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", devNull ?? "pipe", "pipe"], env: { ...process.env, LC_ALL: "C" } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr!.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => {
      if (devNull !== undefined) closeSync(devNull);
      reject(e);
    });
    child.on("close", (code) => {
      const wallMs = performance.now() - t0;
      if (devNull !== undefined) closeSync(devNull);
      resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), wallMs });
    });
  });
}

/** /usr/bin/time reports a command's peak RSS; without it git's RSS is not shown. */
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

async function measureGit(
  name: (typeof COMMANDS)[number],
  dir: string,
): Promise<{ ms: number; wallMs: number; cpuMs?: number; maxRssMB?: number }> {
  const gitArgs = name === "git ls-tree" ? ["ls-tree", "-r", "HEAD"] : ["archive", "--format=tar", "HEAD"];
  const r = TIME ? await run(TIME, ["-f", "@@rss %M %U %S", "git", ...gitArgs], dir, true) : await run("git", gitArgs, dir, true);
  if (r.code !== 0) throw new Error(`git ${gitArgs.join(" ")} failed: ${r.stderr}`);
  const rss = /@@rss (\d+) ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return {
    ms: r.wallMs,
    wallMs: r.wallMs,
    cpuMs: rss ? (Number(rss[2]) + Number(rss[3])) * 1000 : undefined,
    maxRssMB: rss ? Number(rss[1]) / 1024 : undefined,
  };
}

async function measureNode(task: Task, dir: string, profileDir?: string): Promise<Measurement & { wallMs: number }> {
  const args = [
    ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${task}.cpuprofile`] : []),
    path.join(here, "measure.js"),
    task,
    dir,
  ];
  const r = await run(process.execPath, args, dir, false);
  if (r.code !== 0) throw new Error(`bench task ${task} failed (exit ${r.code}):\n${r.stderr.trim()}`);
  const line = r.stdout.trim().split("\n").pop()!;
  return { ...(JSON.parse(line) as Measurement), wallMs: r.wallMs };
}

export async function runBench(opts: BenchOptions = {}): Promise<BenchResult> {
  const log = opts.log ?? (() => {});
  const runs = opts.runs ?? 5;
  const dir = path.resolve(opts.dir ?? defaultRepoDir(opts));
  log(`repository: ${dir}`);
  const repo = await generateBenchRepo(dir, opts);
  log(
    repo.reused
      ? `  reused (commit ${repo.commit.slice(0, 12)})`
      : `  generated in ${(repo.ms / 1000).toFixed(1)} s (commit ${repo.commit.slice(0, 12)})`,
  );
  const wanted: Row[] = opts.only ?? [...COMMANDS, ...TASKS];
  const rows: RowResult[] = [];
  for (const name of wanted) {
    const samples: { ms: number; wallMs: number; cpuMs?: number; maxRssMB?: number; info?: Measurement["info"] }[] = [];
    for (let i = 0; i < runs; i++) {
      samples.push(
        (COMMANDS as readonly string[]).includes(name)
          ? await measureGit(name as (typeof COMMANDS)[number], dir)
          : await measureNode(name as Task, dir),
      );
    }
    const cpus = samples.map((s) => s.cpuMs).filter((x): x is number => x !== undefined);
    const rsses = samples.map((s) => s.maxRssMB).filter((x): x is number => x !== undefined);
    const row: RowResult = {
      name,
      ms: median(samples.map((s) => s.ms)),
      wallMs: median(samples.map((s) => s.wallMs)),
      cpuMs: cpus.length ? median(cpus) : undefined,
      maxRssMB: rsses.length ? Math.max(...rsses) : undefined,
      runs: samples.map((s) => s.ms),
      info: samples[0].info,
    };
    rows.push(row);
    log(`  ${name}: ${row.ms.toFixed(0)} ms`);
  }
  if (opts.profileDir) {
    mkdirSync(opts.profileDir, { recursive: true });
    for (const task of ["plan", "compile"] as const) {
      if (!wanted.includes(task)) continue;
      await measureNode(task, dir, opts.profileDir);
      log(`  profile: ${path.join(opts.profileDir, `${task}.cpuprofile`)}`);
    }
  }
  return { repo, rows, targets: targets(rows) };
}

/** The issue's three targets, for the rows that were measured. */
export function targets(rows: readonly RowResult[]): Target[] {
  const get = (n: Row) => rows.find((r) => r.name === n);
  const lsTree = get("git ls-tree");
  const archive = get("git archive");
  const plan = get("plan");
  const compile = get("compile");
  const out: Target[] = [];
  const ratio = (name: string, value: number, limit: number) => out.push({ name, value, limit, unit: "×", pass: value <= limit });
  if (plan && lsTree) ratio("plan / ls-tree", plan.ms / lsTree.ms, 2);
  if (compile && lsTree && archive) ratio("compile / (ls-tree + archive)", compile.ms / (lsTree.ms + archive.ms), 3);
  for (const r of [plan, compile]) {
    if (r?.maxRssMB !== undefined) out.push({ name: `${r.name} peak RSS`, value: r.maxRssMB, limit: 300, unit: "MB", pass: r.maxRssMB <= 300 });
  }
  return out;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

export function formatTable(result: BenchResult): string {
  const { repo, rows } = result;
  const lines: string[] = [];
  lines.push(
    `repository: ${repo.files} files (${repo.symlinks} symlinks, ${repo.executables} executables, ${repo.binaries} binaries, ` +
      `${repo.bigFiles} big), ${(repo.bytes / 1048576).toFixed(0)} MiB of blobs, commit ${repo.commit.slice(0, 12)}`,
  );
  lines.push("");
  lines.push(
    `${pad("what", 12)} ${pad("median ms", 10, true)} ${pad("cpu ms", 8, true)} ${pad("wall ms", 9, true)} ${pad("peak RSS MB", 12, true)}  runs (ms) / info`,
  );
  for (const r of rows) {
    const info = r.info ? Object.entries(r.info).map(([k, v]) => `${k}=${v}`).join(" ") : "";
    lines.push(
      `${pad(r.name, 12)} ${pad(r.ms.toFixed(0), 10, true)} ${pad(r.cpuMs === undefined ? "-" : r.cpuMs.toFixed(0), 8, true)} ` +
        `${pad(r.wallMs.toFixed(0), 9, true)} ` +
        `${pad(r.maxRssMB === undefined ? "-" : r.maxRssMB.toFixed(0), 12, true)}  ${r.runs.map((x) => x.toFixed(0)).join(" ")}${info ? `  ${info}` : ""}`,
    );
  }
  lines.push("");
  lines.push("ratios use the median ms column (node rows: the operation alone, after start-up and module loading)");
  for (const t of result.targets) {
    const value = t.unit === "×" ? `${t.value.toFixed(2)}×` : `${t.value.toFixed(0)} MB`;
    const limit = t.unit === "×" ? `${t.limit}×` : `${t.limit} MB`;
    lines.push(`${t.pass ? "PASS" : "FAIL"}  ${pad(t.name, 30)} ${pad(value, 9, true)}  (target ≤ ${limit})`);
  }
  if (result.targets.length === 0) lines.push("(no target: plan/compile or git ls-tree/archive not measured)");
  return lines.join("\n") + "\n";
}

function parseArgs(argv: string[]): BenchOptions & { check: boolean; json?: string; micro: boolean; build?: boolean } {
  const opts: BenchOptions & { check: boolean; json?: string; micro: boolean; build?: boolean } = { check: false, micro: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const num = () => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a whole number`);
      return v;
    };
    if (a === "--files") opts.files = num();
    else if (a === "--seed") opts.seed = num();
    else if (a === "--runs") opts.runs = Math.max(1, num());
    else if (a === "--big-files") opts.bigFiles = num();
    else if (a === "--dir") opts.dir = value();
    else if (a === "--checkout") opts.checkout = true;
    else if (a === "--check") opts.check = true;
    else if (a === "--json") opts.json = value();
    else if (a === "--profile") opts.profileDir = path.resolve(value());
    else if (a === "--no-masks-micro") opts.micro = false;
    else if (a === "--build") opts.build = true; // bench/build.ts: no-op `build` vs cached bake (needs the engine)
    else if (a === "--no-incremental" || a === "--rss-files") (opts as { incremental?: number }).incremental = a === "--rss-files" ? num() : -1;
    else if (a === "--only") {
      const names = value().split(",");
      const known: string[] = [...COMMANDS, ...TASKS];
      for (const n of names) if (!known.includes(n)) throw new Error(`--only: unknown row ${n} (${known.join(", ")})`);
      opts.only = names as Row[];
    } else throw new Error(`unknown option ${a} (see docs/bench.md)`);
  }
  return opts;
}

async function main(): Promise<number> {
  process.env.STAPEL2DOCKER_CACHE ??= "off"; // the rows above measure the uncached path; bench/incremental.ts has its own
  let opts: ReturnType<typeof parseArgs>;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`bench: ${(e as Error).message}`);
    return 2;
  }
  const result = await runBench({ ...opts, log: (l) => console.error(l) });
  process.stdout.write("\n" + formatTable(result));
  if (opts.micro) {
    const r = await run(process.execPath, [path.join(here, "git-masks.js")], here, false);
    process.stdout.write(`\ngit-masks micro-benchmark: ${r.stdout.trim()}\n`);
  }
  const incremental = (opts as { incremental?: number }).incremental; // bench/incremental.ts: the cache's rows (issue #13)
  if (incremental !== -1) {
    const { runIncrementalBench, formatIncremental } = await import("./incremental.js");
    process.stdout.write("\n" + formatIncremental(await runIncrementalBench({ dir: opts.dir, files: opts.files, seed: opts.seed, runs: opts.runs, rssFiles: incremental, log: (l) => console.error(l) })));
  }
  if (opts.build) {
    const { runBuildBench, formatBuildBench } = await import("./build.js");
    process.stdout.write("\n" + formatBuildBench(await runBuildBench({ log: (l) => console.error(l) })));
  }
  if (opts.profileDir) {
    for (const task of ["plan", "compile"]) {
      const file = path.join(opts.profileDir, `${task}.cpuprofile`);
      if (existsSync(file)) process.stdout.write(`\n${task} hot spots (${file}):\n${summarizeProfile(file)}`);
    }
  }
  if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2) + "\n");
  const failed = result.targets.filter((t) => !t.pass);
  return opts.check && failed.length > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.exitCode = await main();
}
