// Failures on the real engine: a failing command, the registry down (our own docker-registry on a free port,
// killed for the test), SIGINT in the middle of the bake. Each leaves no tag for an unfinished stage, and the
// next build succeeds reusing what was finished. Also: per-stage seconds come from buildx's progress.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { buildProject, type BuildReport } from "../../src/builder/index.js";
import { UserError } from "../../src/diagnostics.js";
import { RegistryClient } from "../../src/registry/index.js";
import { tempDir, writeFile } from "../git/gitFixture.js";
import { makeProject, sh, stackUp, uniqueRepo } from "./support.js";
import { repoRoot } from "../support/paths.js";

before(async () => {
  await stackUp();
});

const lockDir = tempDir("build-locks");
process.on("exit", () => rmSync(lockDir, { recursive: true, force: true }));
const cli = path.join(repoRoot, "dist/src/cli/main.js");

async function build(dir: string, repo: string): Promise<BuildReport> {
  return buildProject({ dir, repo, environ: {}, lockDir, buildOutput: "ignore", log: () => {} });
}

const STAGE_TAG = /^[0-9a-f]{56}-\d+$/;
async function stageTags(repo: string): Promise<string[]> {
  return (await new RegistryClient().listTags(repo)).filter((t) => STAGE_TAG.test(t));
}

const FAILING = `project: failtest
configVersion: 1
---
image: app
from: stapel2docker/base-busybox:latest
git:
- add: /src
  to: /app
  stageDependencies:
    beforeSetup:
    - "deps/**/*"
shell:
  beforeInstall:
  - sleep 1
  install:
  - ls /app > /install-saw.txt
  beforeSetup:
  - if grep -q fail /app/deps/list.txt; then echo failing on purpose >&2; exit 3; fi
  setup:
  - echo setup > /setup.txt
`;

test("a failing command: UserError, no tag for that stage or later ones; the next build reuses what finished", async (t) => {
  const p = makeProject(FAILING);
  t.after(() => p.cleanup());
  writeFile(p.dir, "src/deps/list.txt", "fail\n");
  p.commit("failing");
  const repo = uniqueRepo("fail");
  await assert.rejects(build(p.dir, repo), (e) => e instanceof UserError && /docker buildx bake failed/.test(e.message) && /failing on purpose/.test(e.message) &&
    // located through the Dockerfile's line map: the failing command's own werf.yaml line
    /^werf\.yaml:18:\d+: this command failed with exit code 3 in image app, stage beforeSetup: /.test(e.message));
  const afterFail = await stageTags(repo).catch(() => [] as string[]);
  writeFile(p.dir, "src/deps/list.txt", "ok\n");
  p.commit("fixed");
  const ok = await build(p.dir, repo);
  const byStage = new Map(ok.images[0].stages.map((s) => [s.stage, s]));
  const failedDigests = new Set(afterFail.map((x) => x.slice(0, 56)));
  assert.ok(!failedDigests.has(byStage.get("beforeSetup")!.digest) && !failedDigests.has(byStage.get("setup")!.digest), "no tag for the failed stage or later");
  // what the failed build stored from the first stage on is reused. A stage after a gap (its push finished while an
  // earlier stage's push was cancelled by the failure: seen under load) is built again on the rebuilt stage before
  // it, as the chain of stored stages requires (src/storage/resolve.ts: a stage is reused only over its stored parent)
  const stages = ok.images[0].stages;
  let prefix = 0;
  while (prefix < stages.length && failedDigests.has(stages[prefix].digest)) prefix++;
  for (const s of stages.slice(0, prefix)) {
    assert.equal(s.status, "reused", `${s.stage}, stored by the failed build, is reused`);
    assert.ok(afterFail.some((tag) => s.tag.endsWith(`:${tag}`)), `${s.stage} reuses the failed build's tag`);
  }
  for (const tag of afterFail) assert.ok(stages.some((x) => x.digest === tag.slice(0, 56)), `stage tag ${tag} is one of this image's stages`);
  assert.deepEqual(ok.images[0].stages.filter((s) => s.status === "built").map((s) => s.stage).slice(-2), ["beforeSetup", "setup"]);
  // per-stage seconds from the progress stream (the 1 s sleep of beforeInstall, when it is built again, may come from
  // BuildKit's cache of the failed build: its push, not its RUN, was cancelled; the next test times a sleep)
  const bi = byStage.get("beforeInstall")!;
  if (bi.status === "built") assert.ok(bi.seconds < 10, `beforeInstall took ${bi.seconds} s`);
  assert.ok(byStage.get("setup")!.seconds < 5);
  assert.equal(await sh(ok.images[0].tags[0], "cat /setup.txt"), "setup\n");
});

test("per-stage seconds: a stage that sleeps 1 s reports about that, its neighbours much less", async (t) => {
  // a command of its own: BuildKit would otherwise take the RUN from its cache (0 s)
  const p = makeProject(FAILING.replace("  - sleep 1", `  - sleep 1 && echo ${randomBytes(6).toString("hex")}`));
  t.after(() => p.cleanup());
  writeFile(p.dir, "src/deps/list.txt", "fine\n");
  p.commit("fine");
  const r = await build(p.dir, uniqueRepo("secs"));
  const s = new Map(r.images[0].stages.map((x) => [x.stage, x.seconds]));
  assert.ok(s.get("beforeInstall")! >= 1 && s.get("beforeInstall")! < 10, `beforeInstall ${s.get("beforeInstall")}`);
  assert.ok(s.get("setup")! < s.get("beforeInstall")!, `setup ${s.get("setup")} < beforeInstall ${s.get("beforeInstall")}`);
  assert.ok(s.get("install")! < s.get("beforeInstall")!);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

async function startRegistry(): Promise<{ host: string; proc: ChildProcess; stop(): Promise<void>; dir: string }> {
  const port = await freePort();
  const dir = tempDir("own-registry");
  const config = path.join(dir, "config.yml");
  writeFileSync(config, `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\nlog:\n  level: error\n`);
  const proc = spawn("docker-registry", ["serve", config], { stdio: "ignore" });
  const host = `127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://${host}/v2/`).then((r) => r.ok, () => false);
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await exited;
    }
  };
  return { host, proc, stop, dir };
}

function runCli(args: string[], onStderr?: (text: string, child: ChildProcess) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, STAPEL2DOCKER_LOCK_DIR: lockDir }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (b: Buffer) => (stdout += b.toString("utf8")));
    child.stderr!.on("data", (b: Buffer) => {
      stderr += b.toString("utf8");
      onStderr?.(stderr, child);
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test("registry down: a clear error naming the registry and the operation, exit code 1, nothing partial", async (t) => {
  const p = makeProject(FAILING.replace("fail /app", "never-there /app"));
  const reg = await startRegistry();
  t.after(async () => {
    await reg.stop();
    rmSync(reg.dir, { recursive: true, force: true });
    p.cleanup();
  });
  const repo = `${reg.host}/failtest/app`;
  const ok = await runCli(["build", "--dir", p.dir, "--repo", repo]);
  assert.equal(ok.code, 0, ok.stderr);
  await reg.stop();
  writeFile(p.dir, "src/readme.txt", "edit\n");
  p.commit("edit");
  const down = await runCli(["build", "--dir", p.dir, "--repo", repo]);
  assert.equal(down.code, 1, down.stderr);
  assert.match(down.stderr, new RegExp(`${reg.host.replace(/\./g, "\\.")}`), "names the registry");
  assert.match(down.stderr, /tags|list/i, "names the operation");
  assert.match(down.stderr, /connection refused|cannot connect|cannot reach/);
  assert.doesNotMatch(down.stderr, /\n\s+at .*\.js:\d+/, "no stack trace");
  assert.equal(down.stdout, "", "no report");
});

// a command of its own each run: BuildKit would otherwise take the sleeping RUN from its cache
const SLOW = FAILING.replace("  setup:\n  - echo setup > /setup.txt", `  setup:\n  - sleep 6 && echo ${randomBytes(6).toString("hex")}\n  - echo setup > /setup.txt`);

test("SIGINT during the bake: exit 1, no tag for the unfinished stage, the next build succeeds", async (t) => {
  const p = makeProject(SLOW);
  t.after(() => p.cleanup());
  writeFile(p.dir, "src/deps/list.txt", "fine\n");
  p.commit("fine");
  const repo = uniqueRepo("sigint");
  let sent = false;
  const r = await runCli(["build", "--dir", p.dir, "--repo", repo], (text, child) => {
    if (!sent && /\[(app--setup )?app--setup \d+\/\d+\] RUN/.test(text)) {
      sent = true;
      setTimeout(() => child.kill("SIGINT"), 1500);
    }
  });
  assert.ok(sent, `the setup RUN started:\n${r.stderr.slice(-2000)}`);
  assert.equal(r.code, 1, r.stderr.slice(-2000));
  assert.match(r.stderr, /no tag was written for the stages it did not finish/);
  const tags = await stageTags(repo).catch(() => [] as string[]);
  const next = await build(p.dir, repo);
  const setup = next.images[0].stages.find((s) => s.stage === "setup")!;
  assert.equal(setup.status, "built");
  assert.ok(!tags.some((x) => x.startsWith(setup.digest)), "the interrupted setup stage has no tag");
  for (const tag of tags) assert.ok(next.images[0].stages.some((s) => s.tag.endsWith(`:${tag}`) && s.status === "reused"), `${tag} reused`);
  assert.equal(await sh(next.images[0].tags[0], "cat /setup.txt"), "setup\n");
});
