// `stapel2docker build` benchmark on the real engine (issues #4, #13):
//   - no-op builds: a 10-image project (each image: a git mapping with a stageDependencies mask,
//     beforeInstall/install/beforeSetup/setup) and examples/basic, each built once into a fresh repository of the
//     local registry; then, interleaved round by round (bench/run.ts `interleave`), the no-op `stapel2docker build`
//     (the CLI process, a recording `docker` first on its PATH) and `docker buildx bake` of the compiled files with
//     everything in BuildKit's cache. Ratio bake / no-op: the median of the per-round ratios (wall and CPU; the
//     bake's CPU is the docker client's alone, BuildKit runs in the daemon), registry requests of the no-op (its
//     summary line), docker processes it started;
//   - the incremental figure (runIncrementalBench): the same kind of project whose four user stages each sleep W s
//     (standing in for real work), built once by us and once as conventional Dockerfiles (per image: `COPY . /app` of
//     its folder, then the same four commands, all images in one `docker buildx bake --push`, BuildKit's cache
//     warm); then one file in one image's masked path (svc0/deps/list.txt) changes, and both are built again, one
//     after the other in each round: stages built and wall seconds (median of the runs, a new change each run).
// Needs `bash scripts/stack/up.sh` (run here). Standalone: node dist/bench/build.js [--runs 5] [--images 10]
// [--work-seconds 1] [--incremental-runs N (default --runs)] [--no-incremental]; from `npm run bench -- --build`.

import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildProject } from "../src/builder/index.js";
import { emitProject } from "../src/emit/index.js";
import { planProject } from "../src/plan/plan.js";
import { CLI, formatTargets, interleave, measureCommand, ratioTargets, type BenchRow, type RatioSpec, type RowResult, type Sample, type Target } from "./run.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

export interface NoopProjectResult {
  /** "bench project (10 images)" or "examples/basic". */
  project: string;
  images: number;
  stages: number;
  firstBuildSeconds: number;
  /** The no-op CLI run's registry requests (its summary line), the most of any round. */
  noopRegistryRequests: number;
  /** Whether any no-op run started buildx (the recording docker saw `docker buildx`). */
  noopBake: boolean;
  /** `docker` processes the no-op runs started (a recording docker first on their PATH). */
  noopDockerCalls: number;
}

export interface BuildBenchResult {
  runs: number;
  projects: NoopProjectResult[];
  /** The interleaved rows: per project, the no-op CLI and the cached bake. */
  rows: RowResult<string>[];
  targets: Target[];
  incremental?: IncrementalBenchResult;
}

export interface IncrementalBenchResult {
  images: number;
  runs: number;
  /** Seconds each user stage's command sleeps. */
  workSeconds: number;
  /** Ours: stages built after the change (names of the changed image's stages), wall seconds (median). */
  oursStages: string[];
  oursBuilt: number;
  oursSeconds: number;
  /** Conventional Dockerfiles: build steps (COPY/RUN) executed, not cached, after the change; wall seconds (median). */
  conventionalSteps: string[];
  conventionalBuilt: number;
  conventionalSeconds: number;
  /** Median of the per-round ratios conventional / ours, of wall seconds. */
  ratio: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function benchWerfYaml(images: number): string {
  const docs = ["project: buildbench\nconfigVersion: 1\n"];
  for (let i = 0; i < images; i++) {
    docs.push(`image: img${i}
from: stapel2docker/base-busybox:latest
git:
- add: /svc${i}
  to: /app
  stageDependencies:
    beforeSetup:
    - "deps/*"
shell:
  beforeInstall:
  - echo base > /base.txt
  install:
  - ls /app > /installed.txt
  beforeSetup:
  - cat /app/deps/list.txt > /deps.txt
  setup:
  - echo img${i} > /name.txt
`);
  }
  return docs.join("---\n");
}

export async function runBuildBench(
  opts: { runs?: number; images?: number; log?: (l: string) => void; incremental?: boolean; workSeconds?: number; incrementalRuns?: number } = {},
): Promise<BuildBenchResult> {
  const noop = await runNoopBench(opts);
  if (opts.incremental === false) return noop;
  const incremental = await runIncrementalBench({ images: opts.images, workSeconds: opts.workSeconds, runs: opts.incrementalRuns ?? opts.runs, log: opts.log });
  const target: Target = {
    name: "incremental: conventional / ours",
    value: incremental.ratio,
    limit: 1,
    unit: "×",
    op: "≥",
    pass: incremental.ratio > 1 && incremental.oursBuilt < incremental.conventionalBuilt,
  };
  return { ...noop, incremental, targets: [...noop.targets, target] };
}

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b" };

/** The bench project: `images` images, each with its folder of 20 files and a masked deps/list.txt; one commit. */
function makeBenchProject(dir: string, images: number): void {
  const git = (...a: string[]) => execFileSync("git", a, { cwd: dir, stdio: "ignore", env: GIT_ENV });
  git("init", "-q", "-b", "main");
  writeFileSync(path.join(dir, "werf.yaml"), benchWerfYaml(images));
  for (let i = 0; i < images; i++) {
    mkdirSync(path.join(dir, `svc${i}/deps`), { recursive: true });
    writeFileSync(path.join(dir, `svc${i}/deps/list.txt`), `dep-${i}\n`);
    for (let f = 0; f < 20; f++) writeFileSync(path.join(dir, `svc${i}/file${f}.txt`), `svc ${i} file ${f}\n`);
  }
  git("add", "-A");
  git("commit", "-q", "-m", "bench");
}

/** The figures of a build's last output line ("N stage(s) built, M reused, K registry request(s), S s"). `--report`
 *  is not used: it writes werf's report, which reads every stage's manifest (more requests than the build made). */
export function buildSummary(what: string, stdout: string): { built: number; registryRequests: number } {
  const m = /^(\d+) stage\(s\) built, \d+ reused, (\d+) registry request\(s\)/m.exec(stdout);
  if (!m) throw new Error(`${what}: no summary line in its output:\n${stdout.slice(-2000)}`);
  return { built: Number(m[1]), registryRequests: Number(m[2]) };
}

interface NoopSetup {
  result: NoopProjectResult;
  rows: BenchRow[];
  ratio: RatioSpec;
  /** The same ratio for the no-op build without the no-op cache (informative). */
  full: RatioSpec;
}

/** Builds `dir` once into a fresh repository, compiles it and warms BuildKit's cache with one bake; returns the two
 *  rows (no-op CLI, cached bake) and their target. */
async function setupNoop(label: string, key: string, dir: string, work: string, minRatio: number, log: (l: string) => void): Promise<NoopSetup> {
  const repo = `127.0.0.1:5000/s2d-bench-${randomBytes(5).toString("hex")}/${key}`;
  const env = { ...process.env, XDG_CACHE_HOME: path.join(work, "cache"), STAPEL2DOCKER_LOCK_DIR: path.join(work, "locks") };
  log(`${label}: first build into ${repo}`);
  const first = await buildProject({ dir, repo, environ: {}, lockDir: env.STAPEL2DOCKER_LOCK_DIR, labelCacheDir: path.join(env.XDG_CACHE_HOME, "stapel2docker", "stage-labels"), finalTagCacheDir: path.join(env.XDG_CACHE_HOME, "stapel2docker", "final-tags"), buildOutput: "ignore", log: () => {} });
  // the no-op runs: the CLI with a recording docker first on PATH
  const shim = path.join(work, `bin-${key}`);
  const calls = path.join(work, `docker-calls-${key}.log`);
  mkdirSync(shim, { recursive: true });
  writeFileSync(calls, "");
  const real = execFileSync("bash", ["-c", "command -v docker"], { encoding: "utf8" }).trim();
  writeFileSync(path.join(shim, "docker"), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${calls}'\nexec '${real}' "$@"\n`);
  chmodSync(path.join(shim, "docker"), 0o755);
  const cliEnv = { ...env, PATH: `${shim}:${process.env.PATH ?? ""}` };
  const result: NoopProjectResult = {
    project: label,
    images: first.images.length,
    stages: first.images.reduce((n, i) => n + i.stages.length, 0),
    firstBuildSeconds: first.seconds,
    noopRegistryRequests: 0,
    noopBake: false,
    noopDockerCalls: 0,
  };
  // one no-op first: the first run after a build writes the final tags' cache entries (tags written by this build)
  await measureCommand(process.execPath, [CLI, "build", "--dir", dir, "--repo", repo], dir, { env: cliEnv });
  writeFileSync(calls, "");
  // the compiled files, built by buildx with everything cached (a warm-up run first)
  const out = path.join(work, `compiled-${key}`);
  const plan = await planProject({ dir, environ: {} });
  await emitProject(plan, { out, repo });
  const bakeArgs = ["buildx", "bake", "--progress=quiet", "-f", path.join(out, "docker-bake.json")];
  await measureCommand("docker", bakeArgs, dir);
  const noopName = `no-op build, ${label}`;
  const fullName = `no-op build without no-op cache, ${label}`;
  const bakeName = `cached bake, ${label}`;
  const rows: BenchRow[] = [
    {
      name: noopName,
      measure: async (): Promise<Sample> => {
        const { stdout, ...s } = await measureCommand(process.execPath, [CLI, "build", "--dir", dir, "--repo", repo], dir, { env: cliEnv, keepStdout: true });
        const rep = buildSummary(noopName, stdout);
        if (rep.built !== 0) throw new Error(`${noopName}: ${rep.built} stage(s) built`);
        result.noopRegistryRequests = Math.max(result.noopRegistryRequests, rep.registryRequests);
        const dockerCalls = readFileSync(calls, "utf8").split("\n").filter((l) => l !== "");
        result.noopBake ||= dockerCalls.some((l) => l.startsWith("buildx"));
        result.noopDockerCalls = dockerCalls.length;
        return { ...s, info: { requests: rep.registryRequests, docker: result.noopDockerCalls } };
      },
    },
    {
      // the same without the no-op cache: planned, resolved, final tags proved (still one registry request)
      name: fullName,
      measure: async (): Promise<Sample> => {
        const { stdout, ...s } = await measureCommand(process.execPath, [CLI, "build", "--dir", dir, "--repo", repo], dir, { env: { ...cliEnv, STAPEL2DOCKER_NO_NOOP_CACHE: "1" }, keepStdout: true });
        const rep = buildSummary(fullName, stdout);
        if (rep.built !== 0) throw new Error(`${fullName}: ${rep.built} stage(s) built`);
        return { ...s, info: { requests: rep.registryRequests } };
      },
    },
    {
      name: bakeName,
      measure: async () => {
        const { stdout: _, ...s } = await measureCommand("docker", bakeArgs, dir);
        return s;
      },
    },
  ];
  return { result, rows, ratio: { name: `${label}: cached bake / no-op build`, num: [bakeName], den: [noopName], limit: minRatio, op: "≥" }, full: { name: `${label}: cached bake / no-op build without no-op cache`, num: [bakeName], den: [fullName], limit: minRatio, op: "≥", info: true } };
}

async function runNoopBench(opts: { runs?: number; images?: number; log?: (l: string) => void }): Promise<BuildBenchResult> {
  const runs = opts.runs ?? 5;
  const images = opts.images ?? 10;
  const log = opts.log ?? (() => {});
  execFileSync("bash", [path.join(root, "scripts/stack/up.sh")], { stdio: "ignore" });
  const work = mkdtempSync(path.join(os.tmpdir(), "stapel2docker-buildbench-"));
  try {
    const dir = path.join(work, "project");
    mkdirSync(dir);
    makeBenchProject(dir, images);
    const setups = [
      await setupNoop(`bench project (${images} images)`, "bench", dir, work, 5, log),
      await setupNoop("examples/basic", "basic", path.join(root, "examples/basic"), work, 3, log),
    ];
    log(`no-op builds vs cached bakes, ${runs} round(s)`);
    const rows = await interleave(setups.flatMap((s) => s.rows), runs, log);
    const targets = ratioTargets(rows, setups.flatMap((s) => [s.ratio, s.full]));
    for (const s of setups) {
      targets.push({
        name: `${s.result.project}: no-op registry requests`,
        value: s.result.noopRegistryRequests,
        limit: 1,
        unit: "requests",
        op: "≤",
        pass: s.result.noopRegistryRequests <= 1 && !s.result.noopBake && s.result.noopDockerCalls === 0,
      });
    }
    return { runs, projects: setups.map((s) => s.result), rows, targets };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function formatBuildBench(r: BuildBenchResult): string {
  const lines: string[] = [];
  for (const p of r.projects) {
    lines.push(`build: ${p.project}: ${p.images} images, ${p.stages} stages; first build ${p.firstBuildSeconds.toFixed(1)} s; ` +
      `no-op: ${p.noopRegistryRequests} registry request(s), buildx ${p.noopBake ? "ran (unexpected)" : "not started"}, ${p.noopDockerCalls} docker process(es)`);
  }
  const w = Math.max(...r.rows.map((x) => x.name.length));
  lines.push(`${"what".padEnd(w)}  median ms   cpu ms  rounds (ms)`);
  for (const row of r.rows) {
    lines.push(`${row.name.padEnd(w)}  ${row.ms.toFixed(0).padStart(9)} ${(row.cpuMs === undefined ? "-" : row.cpuMs.toFixed(0)).padStart(8)}  ${row.runs.map((x) => x.toFixed(0)).join(" ")}`);
  }
  lines.push("(cpu of a cached bake: the docker client's alone; BuildKit works in the daemon)");
  const inc = r.incremental;
  if (inc) {
    lines.push(
      `incremental build after a one-file change in a masked path (svc0/deps/list.txt), ${inc.images} images, each user stage sleeping ${inc.workSeconds} s, median of ${inc.runs}:`,
      `  stapel2docker build: ${inc.oursBuilt} stage(s) built (${inc.oursStages.join(", ")}), ${inc.oursSeconds.toFixed(1)} s`,
      `  conventional Dockerfiles (COPY . /app, then the same commands; buildx bake --push, cache warm): ${inc.conventionalBuilt} step(s) built (${inc.conventionalSteps.join(", ")}), ${inc.conventionalSeconds.toFixed(1)} s`,
    );
  }
  lines.push(...formatTargets(r.targets), "");
  return lines.join("\n");
}

export function incrementalWerfYaml(images: number, workSeconds: number, nonce: string): string {
  const docs = ["project: buildbenchinc\nconfigVersion: 1\n"];
  for (let i = 0; i < images; i++) {
    docs.push(`image: img${i}
from: stapel2docker/base-busybox:latest
git:
- add: /svc${i}
  to: /app
  stageDependencies:
    beforeSetup:
    - "deps/*"
shell:
${userCommands(i, workSeconds, nonce).map(([stage, cmd]) => `  ${stage}:\n  - ${cmd}`).join("\n")}
`);
  }
  return docs.join("---\n");
}

/** The four user stages' commands of image i: each sleeps `work` s; `nonce` keeps BuildKit's cache of earlier runs out. */
function userCommands(i: number, work: number, nonce: string): Array<[string, string]> {
  return [
    ["beforeInstall", `sleep ${work} && echo base-${nonce} > /base.txt`],
    ["install", `sleep ${work} && ls /app > /installed.txt`],
    ["beforeSetup", `sleep ${work} && cat /app/deps/list.txt > /deps.txt`],
    ["setup", `sleep ${work} && echo img${i} > /name.txt`],
  ];
}

/** `COPY . /app` then the same commands: what a Dockerfile written by hand for image i usually looks like. */
export function conventionalDockerfile(i: number, work: number, nonce: string): string {
  return ["FROM stapel2docker/base-busybox:latest", "COPY . /app", ...userCommands(i, work, nonce).map(([, c]) => `RUN ${c}`), ""].join("\n");
}

function runPlain(file: string, args: string[], cwd: string): Promise<{ ms: number; output: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    execFile(file, args, { cwd, maxBuffer: 64 << 20 }, (e, o, err) =>
      e ? reject(new Error(`${file} ${args.join(" ")}: ${err}`)) : resolve({ ms: performance.now() - t0, output: `${o}${err}` }));
  });
}

/** The Dockerfile steps (`[target i/n] COPY|RUN ...`) a plain-progress build executed (DONE, not CACHED). */
export function executedSteps(progress: string): string[] {
  const name = new Map<string, string>();
  const out: string[] = [];
  for (const l of progress.split("\n")) {
    const head = /^#(\d+) \[([^\]]*?\s*\d+\/\d+)\] (COPY|RUN|ADD)\b/.exec(l);
    if (head) {
      name.set(head[1], `${head[2].replace(/\s+\d+\/\d+$/, "").trim()} ${head[3]}#${/(\d+)\/\d+$/.exec(head[2])![1]}`);
      continue;
    }
    const done = /^#(\d+) DONE /.exec(l);
    if (done && name.has(done[1])) {
      out.push(name.get(done[1])!);
      name.delete(done[1]);
    }
  }
  return out.sort();
}

export async function runIncrementalBench(opts: { images?: number; workSeconds?: number; runs?: number; log?: (l: string) => void } = {}): Promise<IncrementalBenchResult> {
  const images = opts.images ?? 10;
  const work = opts.workSeconds ?? 1;
  const runs = opts.runs ?? 3;
  const log = opts.log ?? (() => {});
  execFileSync("bash", [path.join(root, "scripts/stack/up.sh")], { stdio: "ignore" });
  const dir = mkdtempSync(path.join(os.tmpdir(), "stapel2docker-buildbench-inc-"));
  const nonce = randomBytes(6).toString("hex");
  try {
    const git = (...a: string[]) => execFileSync("git", a, { cwd: dir, stdio: "ignore", env: GIT_ENV });
    git("init", "-q", "-b", "main");
    writeFileSync(path.join(dir, "werf.yaml"), incrementalWerfYaml(images, work, nonce));
    const space = `s2d-bench-${randomBytes(5).toString("hex")}`;
    const conventional = { target: {} as Record<string, unknown>, group: { default: { targets: [] as string[] } } };
    mkdirSync(path.join(dir, ".conventional"));
    for (let i = 0; i < images; i++) {
      mkdirSync(path.join(dir, `svc${i}/deps`), { recursive: true });
      writeFileSync(path.join(dir, `svc${i}/deps/list.txt`), `dep-${i}\n`);
      for (let f = 0; f < 20; f++) writeFileSync(path.join(dir, `svc${i}/file${f}.txt`), `svc ${i} file ${f}\n`);
      writeFileSync(path.join(dir, `.conventional/img${i}.Dockerfile`), conventionalDockerfile(i, work, nonce));
      conventional.target[`img${i}`] = { context: `svc${i}`, dockerfile: `../.conventional/img${i}.Dockerfile`, tags: [`127.0.0.1:5000/${space}/conventional:img${i}`] };
      conventional.group.default.targets.push(`img${i}`);
    }
    writeFileSync(path.join(dir, ".conventional/docker-bake.json"), JSON.stringify(conventional, null, 2) + "\n");
    git("add", "-A");
    git("commit", "-q", "-m", "bench");
    const repo = `127.0.0.1:5000/${space}/app`;
    const common = { dir, repo, environ: {}, lockDir: path.join(dir, ".locks"), buildOutput: "ignore" as const, log: () => {} };
    const bakeArgs = ["buildx", "bake", "--progress=plain", "--push", "-f", ".conventional/docker-bake.json"];

    log(`incremental: first builds of ${images} images (ours into ${repo}, conventional into ${space}/conventional)`);
    await buildProject(common);
    await runPlain("docker", bakeArgs, dir);

    const ours: Array<{ s: number; stages: string[] }> = [];
    const conv: Array<{ s: number; steps: string[] }> = [];
    for (let r = 0; r < runs; r++) {
      writeFileSync(path.join(dir, "svc0/deps/list.txt"), `dep-0 ${nonce} change ${r}\n`);
      git("commit", "-q", "-am", `change ${r}`);
      const t0 = performance.now();
      const rep = await buildProject(common);
      ours.push({ s: (performance.now() - t0) / 1000, stages: rep.images.flatMap((i) => i.stages.filter((s) => s.status === "built").map((s) => `${i.image}/${s.stage}`)) });
      const c = await runPlain("docker", bakeArgs, dir);
      conv.push({ s: c.ms / 1000, steps: executedSteps(c.output) });
      log(`incremental run ${r + 1}: ours ${ours[r].stages.length} stage(s) ${ours[r].s.toFixed(1)} s, conventional ${conv[r].steps.length} step(s) ${conv[r].s.toFixed(1)} s`);
    }
    const last = runs - 1;
    return {
      images,
      runs,
      workSeconds: work,
      oursStages: ours[last].stages,
      oursBuilt: median(ours.map((o) => o.stages.length)),
      oursSeconds: median(ours.map((o) => o.s)),
      conventionalSteps: conv[last].steps,
      conventionalBuilt: median(conv.map((c) => c.steps.length)),
      conventionalSeconds: median(conv.map((c) => c.s)),
      ratio: median(conv.map((c, i) => c.s / ours[i].s)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const num = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const r = await runBuildBench({
    runs: num("--runs"),
    images: num("--images"),
    workSeconds: num("--work-seconds"),
    incrementalRuns: num("--incremental-runs"),
    incremental: !args.includes("--no-incremental"),
    log: (l) => console.error(l),
  });
  process.stdout.write(formatBuildBench(r));
}
