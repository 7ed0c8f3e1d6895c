// `stapel2docker build` benchmark on the real engine (issue #4 "Figures"): a 10-image project (each image: a git
// mapping with a stageDependencies mask, beforeInstall/install/beforeSetup/setup) built once into a fresh
// repository of the local registry, then
//   - the no-op build (everything stored): wall time of the CLI process and of buildProject in-process, registry
//     requests, whether buildx ran;
//   - `docker buildx bake` on the compiled files with everything in BuildKit's cache, the same project;
// and the ratio. Needs `bash scripts/stack/up.sh` (run here). Standalone: node dist/bench/build.js [--runs 5]
// [--images 10]; from `npm run bench -- --build`.

import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildProject } from "../src/build/index.js";
import { emitProject } from "../src/emit/index.js";
import { planProject } from "../src/stages/plan.js";

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

export async function runBuildBench(opts: { runs?: number; images?: number; log?: (l: string) => void } = {}): Promise<BuildBenchResult> {
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
  return [
    `build: ${r.images} images, ${r.stages} stages; first build ${r.firstBuildSeconds.toFixed(1)} s`,
    `  no-op build (median of ${r.runs}): CLI process ${r.noopCliMs.toFixed(0)} ms, in-process ${r.noopInProcessMs.toFixed(0)} ms, ` +
      `${r.noopRegistryRequests} registry requests, buildx ${r.noopBake ? "ran (unexpected)" : "not started"}`,
    `  docker buildx bake of the compiled files, all cached: ${r.bakeCachedMs.toFixed(0)} ms`,
    `  ratio bake / no-op build: ${r.ratio.toFixed(1)}x (target >= 5x)`,
    "",
  ].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const num = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const r = await runBuildBench({ runs: num("--runs"), images: num("--images"), log: (l) => console.error(l) });
  process.stdout.write(formatBuildBench(r));
}
