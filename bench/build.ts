// `stapel2docker build` benchmark on the real engine (issue #4 "Figures"): a 10-image project (each image: a git
// mapping with a stageDependencies mask, beforeInstall/install/beforeSetup/setup) built once into a fresh
// repository of the local registry, then
//   - the no-op build (everything stored): wall time of the CLI process and of buildProject in-process, registry
//     requests, whether buildx ran;
//   - `docker buildx bake` on the compiled files with everything in BuildKit's cache, the same project;
// and the ratio. Then the incremental figure (runIncrementalBench): the same kind of project whose four user stages
// each sleep W s (standing in for real work), built once by us and once as conventional Dockerfiles (per image:
// `COPY . /app` of its folder, then the same four commands, all images in one `docker buildx bake --push`, BuildKit's
// cache warm); then one file in one image's masked path (svc0/deps/list.txt) changes, and both are built again:
// stages built and wall seconds (median of the runs, a new change each run).
// Needs `bash scripts/stack/up.sh` (run here). Standalone: node dist/bench/build.js [--runs 5] [--images 10]
// [--work-seconds 1] [--incremental-runs 3] [--no-incremental]; from `npm run bench -- --build`.

import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildProject } from "../src/builder/index.js";
import { emitProject } from "../src/emit/index.js";
import { planProject } from "../src/plan/plan.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

export interface BuildBenchResult {
  images: number;
  runs: number;
  firstBuildSeconds: number;
  stages: number;
  /** Medians, ms. */
  noopCliMs: number;
  noopInProcessMs: number;
  noopRegistryRequests: number;
  noopBake: boolean;
  bakeCachedMs: number;
  ratio: number;
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
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function timed(file: string, args: string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    execFile(file, args, { cwd, maxBuffer: 64 << 20 }, (e, _o, err) => (e ? reject(new Error(`${file} ${args.join(" ")}: ${err}`)) : resolve(performance.now() - t0)));
  });
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
  return { ...noop, incremental: await runIncrementalBench({ images: opts.images, workSeconds: opts.workSeconds, runs: opts.incrementalRuns, log: opts.log }) };
}

async function runNoopBench(opts: { runs?: number; images?: number; log?: (l: string) => void }): Promise<BuildBenchResult> {
  const runs = opts.runs ?? 5;
  const images = opts.images ?? 10;
  const log = opts.log ?? (() => {});
  execFileSync("bash", [path.join(root, "scripts/stack/up.sh")], { stdio: "ignore" });
  const dir = mkdtempSync(path.join(os.tmpdir(), "stapel2docker-buildbench-"));
  const lockDir = path.join(dir, ".locks");
  try {
    const git = (...a: string[]) => execFileSync("git", a, { cwd: dir, stdio: "ignore", env: { ...process.env, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b" } });
    git("init", "-q", "-b", "main");
    writeFileSync(path.join(dir, "werf.yaml"), benchWerfYaml(images));
    for (let i = 0; i < images; i++) {
      mkdirSync(path.join(dir, `svc${i}/deps`), { recursive: true });
      writeFileSync(path.join(dir, `svc${i}/deps/list.txt`), `dep-${i}\n`);
      for (let f = 0; f < 20; f++) writeFileSync(path.join(dir, `svc${i}/file${f}.txt`), `svc ${i} file ${f}\n`);
    }
    git("add", "-A");
    git("commit", "-q", "-m", "bench");
    const repo = `127.0.0.1:5000/s2d-bench-${randomBytes(5).toString("hex")}/app`;
    const common = { dir, repo, environ: {}, lockDir, buildOutput: "ignore" as const, log: () => {} };

    log(`first build of ${images} images into ${repo}`);
    const first = await buildProject(common);
    const stages = first.images.reduce((n, i) => n + i.stages.length, 0);

    const cli = path.join(root, "dist/src/cli/main.js");
    const cliMs: number[] = [];
    const inMs: number[] = [];
    let requests = 0;
    let bake = false;
    for (let r = 0; r < runs; r++) {
      cliMs.push(await timed(process.execPath, [cli, "build", "--dir", dir, "--repo", repo], dir));
      const t0 = performance.now();
      const rep = await buildProject(common);
      inMs.push(performance.now() - t0);
      requests = rep.registryRequests;
      bake = bake || rep.bake;
    }

    // the compiled files, built by buildx with everything cached (a warm-up run first)
    const plan = await planProject({ dir, environ: {} });
    await emitProject(plan, { out: ".stapel2docker", repo });
    const bakeArgs = ["buildx", "bake", "--progress=quiet", "-f", ".stapel2docker/docker-bake.json"];
    await timed("docker", bakeArgs, dir);
    const bakeMs: number[] = [];
    for (let r = 0; r < runs; r++) bakeMs.push(await timed("docker", bakeArgs, dir));

    const noopCliMs = median(cliMs);
    const bakeCachedMs = median(bakeMs);
    return {
      images,
      runs,
      firstBuildSeconds: first.seconds,
      stages,
      noopCliMs,
      noopInProcessMs: median(inMs),
      noopRegistryRequests: requests,
      noopBake: bake,
      bakeCachedMs,
      ratio: bakeCachedMs / noopCliMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatBuildBench(r: BuildBenchResult): string {
  const inc = r.incremental;
  const incLines = inc
    ? [
        `incremental build after a one-file change in a masked path (svc0/deps/list.txt), ${inc.images} images, each user stage sleeping ${inc.workSeconds} s, median of ${inc.runs}:`,
        `  stapel2docker build: ${inc.oursBuilt} stage(s) built (${inc.oursStages.join(", ")}), ${inc.oursSeconds.toFixed(1)} s`,
        `  conventional Dockerfiles (COPY . /app, then the same commands; buildx bake --push, cache warm): ${inc.conventionalBuilt} step(s) built (${inc.conventionalSteps.join(", ")}), ${inc.conventionalSeconds.toFixed(1)} s`,
      ]
    : [];
  return [
    `build: ${r.images} images, ${r.stages} stages; first build ${r.firstBuildSeconds.toFixed(1)} s`,
    `  no-op build (median of ${r.runs}): CLI process ${r.noopCliMs.toFixed(0)} ms, in-process ${r.noopInProcessMs.toFixed(0)} ms, ` +
      `${r.noopRegistryRequests} registry requests, buildx ${r.noopBake ? "ran (unexpected)" : "not started"}`,
    `  docker buildx bake of the compiled files, all cached: ${r.bakeCachedMs.toFixed(0)} ms`,
    `  ratio bake / no-op build: ${r.ratio.toFixed(1)}x (target >= 5x)`,
    ...incLines,
    "",
  ].join("\n");
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
    const env = { ...process.env, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@b", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@b" };
    const git = (...a: string[]) => execFileSync("git", a, { cwd: dir, stdio: "ignore", env });
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
