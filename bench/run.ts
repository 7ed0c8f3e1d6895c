// `npm run bench`: plan and compile speed and peak memory on a big generated repository (issue #3), start-up
// (issue #13), and with --build the no-op and incremental builds on the real engine (bench/build.ts).
//
// Targets: plan ≤ 2 × `git ls-tree -r HEAD`, compile ≤ 3 × (`git ls-tree -r HEAD` + `git archive HEAD`),
// peak RSS of plan and of compile ≤ 300 MB, `stapel2docker --version` ≤ 1.5 × `node -e 0`. Every measurement
// runs in a fresh process. The rows are interleaved: round r runs every row once (every other round in reverse
// order), so the rows of a ratio ran at the same moment; a ratio is the median of its per-round ratios, of wall
// time and of CPU time. A benchmark, not a test: exit code 0 even when a target is missed, unless --check.
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
/** Start-up rows (no repository needed): the whole process, wall and CPU. */
export const STARTUP = ["node -e 0", "stapel2docker --version"] as const;
export type Row = (typeof COMMANDS)[number] | Task | (typeof STARTUP)[number];

/** One run of one row. */
export interface Sample {
  /** The figure compared (node task rows: the operation alone; others: the whole command), ms. */
  ms: number;
  /** The whole child process, ms. */
  wallMs: number;
  /** User + system CPU time, ms (node task rows: the operation, git children not counted; commands: the
   *  command and the children it waited for, from /usr/bin/time). */
  cpuMs?: number;
  maxRssMB?: number;
  info?: Record<string, number | string>;
}

/** A row of the bench: how to measure it once. Extra row sets (another bench module) make these too. */
export interface BenchRow<N extends string = string> {
  name: N;
  measure(): Promise<Sample>;
}

export interface RowResult<N extends string = Row> {
  name: N;
  /** Median operation time, ms (for git: the whole command). */
  ms: number;
  /** Median CPU time, ms (node rows: the operation, git's children not counted; git rows: the command). */
  cpuMs?: number;
  /** Median wall time of the whole process (node start-up and module loading included), ms. */
  wallMs: number;
  /** Highest peak RSS over the runs, MiB (undefined when it could not be measured). */
  maxRssMB?: number;
  /** `ms` of each round, in round order. */
  runs: number[];
  /** CPU ms of each round (undefined where it could not be measured). */
  cpuRuns?: (number | undefined)[];
  info?: Record<string, number | string>;
}

export interface Target {
  name: string;
  /** For ratios: the median of the per-round ratios of `ms`. */
  value: number;
  /** For ratios: the median of the per-round ratios of CPU time, when every row had it. */
  cpuValue?: number;
  limit: number;
  unit: "×" | "MB" | "requests";
  /** "≤": value must not exceed the limit (the default); "≥": must reach it. */
  op?: "≤" | "≥";
  pass: boolean;
  /** Shown for information (printed as "info", never a failure). */
  info?: boolean;
}

/** Runs every row `runs` times, round by round (every other round in reverse order), and sums up each row. */
export async function interleave<N extends string>(
  rows: readonly BenchRow<N>[],
  runs: number,
  log: (line: string) => void = () => {},
): Promise<RowResult<N>[]> {
  const samples = rows.map(() => [] as Sample[]);
  for (let r = 0; r < runs; r++) {
    const order = rows.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) samples[i].push(await rows[i].measure());
    log(`  round ${r + 1}/${runs}: ${rows.map((row, i) => `${row.name} ${samples[i][r].ms.toFixed(0)} ms`).join(", ")}`);
  }
  return rows.map((row, i) => summarize(row.name, samples[i]));
}

function summarize<N extends string>(name: N, samples: readonly Sample[]): RowResult<N> {
  const cpus = samples.map((s) => s.cpuMs).filter((x): x is number => x !== undefined);
  const rsses = samples.map((s) => s.maxRssMB).filter((x): x is number => x !== undefined);
  return {
    name,
    ms: median(samples.map((s) => s.ms)),
    wallMs: median(samples.map((s) => s.wallMs)),
    cpuMs: cpus.length ? median(cpus) : undefined,
    maxRssMB: rsses.length ? Math.max(...rsses) : undefined,
    runs: samples.map((s) => s.ms),
    cpuRuns: samples.map((s) => s.cpuMs),
    info: samples[0]?.info,
  };
}

/** The median over rounds of sum(num rows) / sum(den rows): of `ms`, and of CPU time when every row has it. */
export function roundRatio(
  num: readonly Pick<RowResult, "runs" | "cpuRuns">[],
  den: readonly Pick<RowResult, "runs" | "cpuRuns">[],
): { value: number; cpuValue?: number } {
  const rounds = Math.min(...[...num, ...den].map((r) => r.runs.length));
  const sum = (rs: typeof num, i: number, cpu: boolean) =>
    rs.reduce((s, r) => s + (cpu ? r.cpuRuns?.[i] ?? NaN : r.runs[i]), 0);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < rounds; i++) {
    wall.push(sum(num, i, false) / sum(den, i, false));
    const c = sum(num, i, true) / sum(den, i, true);
    if (Number.isFinite(c)) cpu.push(c);
  }
  return { value: median(wall), ...(cpu.length === rounds && rounds > 0 ? { cpuValue: median(cpu) } : {}) };
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
  /** The generated repository (undefined when only start-up rows ran). */
  repo?: GeneratedRepo;
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

function run(cmd: string, args: string[], cwd: string, stdoutToNull: boolean, env: NodeJS.ProcessEnv = process.env): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const devNull = stdoutToNull ? openSync("/dev/null", "w") : undefined;
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", devNull ?? "pipe", "pipe"], env: { ...env, LC_ALL: "C" } });
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

/** Runs a command to completion (stdout to /dev/null, or kept with keepStdout) and measures it: wall time, and CPU
 *  time and peak RSS from /usr/bin/time when it is there. Throws when the command fails. */
export async function measureCommand(
  cmd: string,
  args: string[],
  cwd: string,
  opts: { env?: NodeJS.ProcessEnv; keepStdout?: boolean } = {},
): Promise<Sample & { stdout: string }> {
  const r = TIME
    ? await run(TIME, ["-f", "@@rss %M %U %S", cmd, ...args], cwd, !opts.keepStdout, opts.env)
    : await run(cmd, args, cwd, !opts.keepStdout, opts.env);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.code}): ${r.stderr.trim()}`);
  const rss = /@@rss (\d+) ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return {
    ms: r.wallMs,
    wallMs: r.wallMs,
    cpuMs: rss ? (Number(rss[2]) + Number(rss[3])) * 1000 : undefined,
    maxRssMB: rss ? Number(rss[1]) / 1024 : undefined,
    stdout: r.stdout,
  };
}

async function measureGit(name: (typeof COMMANDS)[number], dir: string): Promise<Sample> {
  const gitArgs = name === "git ls-tree" ? ["ls-tree", "-r", "HEAD"] : ["archive", "--format=tar", "HEAD"];
  const { stdout: _, ...s } = await measureCommand("git", gitArgs, dir);
  return s;
}

/** The CLI as installed (dist/src/cli/main.js beside this bench). */
export const CLI = path.join(here, "../src/cli/main.js");

async function measureStartup(name: (typeof STARTUP)[number]): Promise<Sample> {
  const args = name === "node -e 0" ? ["-e", "0"] : [CLI, "--version"];
  const { stdout: _, ...s } = await measureCommand(process.execPath, args, here);
  return s;
}

async function measureNode(task: Task, dir: string, profileDir?: string): Promise<Sample & Measurement> {
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
  const wanted: Row[] = opts.only ?? [...COMMANDS, ...TASKS, ...STARTUP];
  const repoRows = wanted.filter((n) => !(STARTUP as readonly string[]).includes(n));
  let repo: GeneratedRepo | undefined;
  let dir = "";
  if (repoRows.length) {
    dir = path.resolve(opts.dir ?? defaultRepoDir(opts));
    log(`repository: ${dir}`);
    repo = await generateBenchRepo(dir, opts);
    log(
      repo.reused
        ? `  reused (commit ${repo.commit.slice(0, 12)})`
        : `  generated in ${(repo.ms / 1000).toFixed(1)} s (commit ${repo.commit.slice(0, 12)})`,
    );
  }
  const rows: BenchRow<Row>[] = wanted.map((name) => ({
    name,
    measure: () =>
      (STARTUP as readonly string[]).includes(name)
        ? measureStartup(name as (typeof STARTUP)[number])
        : (COMMANDS as readonly string[]).includes(name)
          ? measureGit(name as (typeof COMMANDS)[number], dir)
          : measureNode(name as Task, dir),
  }));
  const results: RowResult[] = await interleave(rows, runs, log);
  if (opts.profileDir) {
    mkdirSync(opts.profileDir, { recursive: true });
    for (const task of ["plan", "compile"] as const) {
      if (!wanted.includes(task)) continue;
      await measureNode(task, dir, opts.profileDir);
      log(`  profile: ${path.join(opts.profileDir, `${task}.cpuprofile`)}`);
    }
  }
  return { repo, rows: results, targets: targets(results) };
}

/** A ratio target: sum of `num` rows over sum of `den` rows, per round, median over rounds. */
export interface RatioSpec {
  name: string;
  num: string[];
  den: string[];
  limit: number;
  op: "≤" | "≥";
  /** Shown for information only (never a failure). */
  info?: boolean;
}

/** The ratio targets of the rows this module measures (issue #3, #13). */
export const RATIOS: RatioSpec[] = [
  { name: "plan / ls-tree", num: ["plan"], den: ["git ls-tree"], limit: 2, op: "≤" },
  { name: "compile / (ls-tree + archive)", num: ["compile"], den: ["git ls-tree", "git archive"], limit: 3, op: "≤" },
  { name: "--version / node -e 0", num: ["stapel2docker --version"], den: ["node -e 0"], limit: 1.5, op: "≤" },
];

/** The targets of `specs` whose rows were all measured. */
export function ratioTargets(rows: readonly Pick<RowResult<string>, "name" | "runs" | "cpuRuns">[], specs: readonly RatioSpec[]): Target[] {
  const out: Target[] = [];
  for (const spec of specs) {
    const num = spec.num.map((n) => rows.find((r) => r.name === n));
    const den = spec.den.map((n) => rows.find((r) => r.name === n));
    if ([...num, ...den].some((r) => r === undefined)) continue;
    const { value, cpuValue } = roundRatio(num as RowResult<string>[], den as RowResult<string>[]);
    const pass = spec.op === "≤" ? value <= spec.limit : value >= spec.limit;
    out.push({ name: spec.name, value, ...(cpuValue !== undefined ? { cpuValue } : {}), limit: spec.limit, unit: "×", op: spec.op, pass: pass || Boolean(spec.info), ...(spec.info ? { info: true } : {}) });
  }
  return out;
}

/** The issue's targets, for the rows that were measured. */
export function targets(rows: readonly RowResult[]): Target[] {
  const get = (n: Row) => rows.find((r) => r.name === n);
  const plan = get("plan");
  const compile = get("compile");
  const out: Target[] = ratioTargets(rows, RATIOS.slice(0, 2));
  for (const r of [plan, compile]) {
    if (r?.maxRssMB !== undefined) out.push({ name: `${r.name} peak RSS`, value: r.maxRssMB, limit: 300, unit: "MB", pass: r.maxRssMB <= 300 });
  }
  out.push(...ratioTargets(rows, RATIOS.slice(2)));
  return out;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

export function formatTable(result: BenchResult): string {
  const { repo, rows } = result;
  const lines: string[] = [];
  if (repo) {
    lines.push(
      `repository: ${repo.files} files (${repo.symlinks} symlinks, ${repo.executables} executables, ${repo.binaries} binaries, ` +
        `${repo.bigFiles} big), ${(repo.bytes / 1048576).toFixed(0)} MiB of blobs, commit ${repo.commit.slice(0, 12)}`,
    );
    lines.push("");
  }
  const w = Math.max(12, ...rows.map((r) => r.name.length));
  lines.push(
    `${pad("what", w)} ${pad("median ms", 10, true)} ${pad("cpu ms", 8, true)} ${pad("wall ms", 9, true)} ${pad("peak RSS MB", 12, true)}  runs (ms) / info`,
  );
  for (const r of rows) {
    const info = r.info ? Object.entries(r.info).map(([k, v]) => `${k}=${v}`).join(" ") : "";
    lines.push(
      `${pad(r.name, w)} ${pad(r.ms.toFixed(0), 10, true)} ${pad(r.cpuMs === undefined ? "-" : r.cpuMs.toFixed(0), 8, true)} ` +
        `${pad(r.wallMs.toFixed(0), 9, true)} ` +
        `${pad(r.maxRssMB === undefined ? "-" : r.maxRssMB.toFixed(0), 12, true)}  ${r.runs.map((x) => x.toFixed(0)).join(" ")}${info ? `  ${info}` : ""}`,
    );
  }
  lines.push("");
  lines.push("ratios: median of the per-round ratios of the ms column (node task rows: the operation alone, after start-up");
  lines.push("and module loading; other rows: the whole process), then of CPU time");
  lines.push(...formatTargets(result.targets));
  if (result.targets.length === 0) lines.push("(no target: plan/compile or git ls-tree/archive not measured)");
  return lines.join("\n") + "\n";
}

/** One line per target: PASS/FAIL, the value (and the CPU-time ratio), the limit. */
export function formatTargets(ts: readonly Target[]): string[] {
  return ts.map((t) => {
    const value = t.unit === "×" ? `${t.value.toFixed(2)}×` : `${t.value.toFixed(0)} ${t.unit}`;
    const limit = t.unit === "×" ? `${t.limit}×` : `${t.limit} ${t.unit}`;
    const cpu = t.cpuValue !== undefined ? `  cpu ${t.cpuValue.toFixed(2)}×` : "";
    return `${t.info ? "info" : t.pass ? "PASS" : "FAIL"}  ${pad(t.name, 34)} ${pad(value, 9, true)}  (target ${t.op ?? "≤"} ${limit})${cpu}`;
  });
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
      const known: string[] = [...COMMANDS, ...TASKS, ...STARTUP];
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
    const build = await runBuildBench({ runs: opts.runs, log: (l) => console.error(l) });
    process.stdout.write("\n" + formatBuildBench(build));
    result.targets.push(...build.targets);
    if (opts.json) Object.assign(result, { build });
  }
  if (opts.profileDir) {
    for (const task of ["plan", "compile"]) {
      const file = path.join(opts.profileDir, `${task}.cpuprofile`);
      if (existsSync(file)) process.stdout.write(`\n${task} hot spots (${file}):\n${summarizeProfile(file)}`);
    }
  }
  if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2) + "\n");
  const failed = result.targets.filter((t) => !t.pass);
  if (opts.build && failed.length) process.stdout.write(`\nmissed: ${failed.map((t) => t.name).join("; ")}\n`);
  return opts.check && failed.length > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  // not a top-level await: bench/build.js (imported by main) imports this module, whose evaluation must be over
  void main().then((code) => (process.exitCode = code));
}
