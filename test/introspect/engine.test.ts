// Introspection and asLayers on the real engine (docker, buildx, the local registry), driven in a real terminal
// (tmux): at each introspection point the files and environment seen, that exiting resumes or ends the build, and
// that the registry holds exactly the stages that succeeded.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { buildProject } from "../../src/builder/index.js";
import { RegistryClient } from "../../src/registry/index.js";
import { planProject } from "../../src/plan/plan.js";
import { git, tempDir, writeFile } from "../git/gitFixture.js";
import { repoRoot } from "../support/paths.js";
import { sh, stackUp, uniqueRepo } from "../builder/support.js";
import { TmuxSession, q } from "./tmux.js";

before(async () => {
  await stackUp();
});

const CLI = path.join(repoRoot, "dist/src/cli/main.js");
const lockDir = tempDir("introspect-locks");
process.on("exit", () => rmSync(lockDir, { recursive: true, force: true }));

function project(werfYaml: string): { dir: string; commit(): string; cleanup(): void } {
  const dir = tempDir("introspect-project");
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", werfYaml);
  const commit = () => {
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "--allow-empty", "-m", "c");
    return git(dir, "rev-parse", "HEAD");
  };
  commit();
  return { dir, commit, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function cliLine(dir: string, repo: string, flags: string[]): string {
  return `STAPEL2DOCKER_LOCK_DIR=${q(lockDir)} node ${q(CLI)} build --dir ${q(dir)} --repo ${q(repo)} ${flags.map(q).join(" ")}`;
}

/** Digests of the stored stage tags of a repository (none when it does not exist yet). */
async function storedDigests(repo: string): Promise<string[]> {
  const tags = await new RegistryClient().listTags(repo).catch(() => [] as string[]);
  return tags.filter((t) => /^[0-9a-f]{56}-\d+$/.test(t)).map((t) => t.slice(0, 56)).sort();
}

const OK = `project: introspect-ok
configVersion: 1
---
image: app
from: stapel2docker/base-busybox:latest
shell:
  install:
  - echo one > /one.txt
  setup:
  - echo setup > /setup.txt
`;

// what the shell sees, on one line: a file, a later stage's file, uid, cwd, LANG, the commit, the toolchain's bash
const PROBE = `echo "SEEN:$(cat /one.txt 2>/dev/null || echo none):$([ -e /setup.txt ] && echo setup || echo nosetup):$(id -u):$PWD:$LANG:$WERF_COMMIT_HASH:$(/.stapel/bin/bash -c 'echo bash$BASH_VERSINFO')"`;

test("--introspect-stage: a shell in the built stage with the build environment; exiting resumes the build; then in a stored stage", async (t) => {
  const p = project(OK);
  t.after(() => p.cleanup());
  const head = git(p.dir, "rev-parse", "HEAD");
  const repo = uniqueRepo("ok");
  const plan = await planProject({ dir: p.dir });
  const [from, install, setup] = plan.images[0].stages.map((s) => s.digest);

  const term = new TmuxSession(cliLine(p.dir, repo, ["--introspect-stage", "install"]));
  t.after(() => term.kill());
  await term.waitFor(/\[app\/install\] \/# $/m, 180_000);
  // the stage is pushed before the shell opens; nothing after it is built yet
  assert.deepEqual(await storedDigests(repo), [install]);
  term.send(PROBE);
  await term.waitFor(new RegExp(`SEEN:one:nosetup:0:/:C\\.UTF-8:${head}:bash5`));
  term.send("exit");
  assert.equal(await term.exitCode(), 0);
  const out = term.capture();
  assert.match(out, /introspecting app\/install \(built, /);
  assert.match(out, /3 stage\(s\) built, 0 reused/);
  assert.deepEqual(await storedDigests(repo), [from, install, setup].sort());

  // everything stored: the shell opens in the stored stage, no bake runs
  const again = new TmuxSession(cliLine(p.dir, repo, ["--introspect-stage", "app/from", "--introspect-stage", "*/setup"]));
  t.after(() => again.kill());
  await again.waitFor(/\[app\/from\] \/# $/m);
  again.send(PROBE);
  await again.waitFor(new RegExp(`SEEN:none:nosetup:0:/:C\\.UTF-8:${head}:bash5`));
  again.send("exit");
  const mark = again.capture().length;
  await again.waitFor(/\[app\/setup\] \/# $/m, 60_000, mark - 200);
  again.send(PROBE);
  await again.waitFor(new RegExp(`SEEN:one:setup:0:/:`));
  again.send("exit");
  assert.equal(await again.exitCode(), 0);
  assert.match(again.capture(), /0 stage\(s\) built, 3 reused/);
  assert.doesNotMatch(again.capture(), /docker buildx bake/);
});

const FAIL = `project: introspect-fail
configVersion: 1
---
image: app
from: stapel2docker/base-busybox:latest
shell:
  install:
  - echo one > /one.txt
  - echo "about to fail"; echo two > /two.txt; exit 3
  - echo three > /three.txt
`;

test("--introspect-before-error and --introspect-error: shells before and after the failed command; exiting ends the build; no partial stage pushed", async (t) => {
  const p = project(FAIL);
  t.after(() => p.cleanup());
  const repo = uniqueRepo("fail");
  const plan = await planProject({ dir: p.dir });
  const [from, install] = plan.images[0].stages.map((s) => s.digest);
  const term = new TmuxSession(cliLine(p.dir, repo, ["--introspect-before-error", "--introspect-error"]));
  t.after(() => term.kill());
  await term.waitFor(/introspecting app\/install \(before command 2 of 3, [^\n]*\n(?:[^\n]*\n)*\[app\/install\] \/# $/m, 180_000);
  const probe = `echo "STATE:$(cat /one.txt):$(cat /two.txt 2>/dev/null || echo no-two):$(cat /three.txt 2>/dev/null || echo no-three):$(id -u):$PWD"`;
  term.send(probe);
  await term.waitFor(/STATE:one:no-two:no-three:0:\//);
  term.send("exit");
  const mark = term.capture().length;
  await term.waitFor(/introspecting app\/install \(after command 2 of 3 failed[^\n]*\n(?:[^\n]*\n)*\[app\/install\] \/# $/m, 120_000, mark - 200);
  term.send(probe);
  await term.waitFor(/STATE:one:two:no-three:0:\//);
  term.send("exit");
  assert.equal(await term.exitCode(), 1);
  const out = term.capture();
  assert.match(out, /werf\.yaml:9:5: command 2 of 3 failed with exit code 3 \(image app, stage install\); the stage was not pushed/);
  assert.match(out, /last output:\s*\n\s*about to fail/);
  const stored = await storedDigests(repo);
  assert.ok(!stored.includes(install), "the failed stage is not in the registry");
  for (const d of stored) assert.equal(d, from, "only stages that succeeded are stored");
  // the helper images made for the shells are removed
  const left = spawnSync("docker", ["image", "ls", "-q", "--filter", `reference=stapel2docker-introspect:${install.slice(0, 20)}-*`], { encoding: "utf8" });
  assert.equal(left.stdout.trim(), "");
});

test("a failed build without flags names the werf.yaml command, exit code and output; no terminal → the flags fail at once", async (t) => {
  const p = project(FAIL);
  t.after(() => p.cleanup());
  const repo = uniqueRepo("fail-plain");
  const r = spawnSync("node", [CLI, "build", "--dir", p.dir, "--repo", repo], { encoding: "utf8", env: { ...process.env, STAPEL2DOCKER_LOCK_DIR: lockDir }, timeout: 300_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /werf\.yaml:9:5: command 2 of 3 failed with exit code 3 \(image app, stage install\)/);
  assert.match(r.stderr, /command: echo "about to fail"; echo two > \/two\.txt; exit 3/);
  assert.match(r.stderr, /hint: --introspect-error/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");

  for (const flag of [["--introspect-error"], ["--introspect-before-error"], ["--introspect-stage", "install"]]) {
    const t0 = Date.now();
    const n = spawnSync("node", [CLI, "build", "--dir", p.dir, "--repo", repo, ...flag], { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], input: "" });
    assert.equal(n.status, 1);
    assert.match(n.stderr, new RegExp(`${flag[0]} needs an interactive terminal`));
    assert.ok(Date.now() - t0 < 15_000, "fails at once");
    assert.doesNotMatch(n.stderr, /buildx/);
  }
});

const LAYERS = (fifth: string) => `project: introspect-layers
configVersion: 1
---
image: app
from: stapel2docker/base-busybox:latest
asLayers: true
shell:
  install:
  - echo 1 > /l1
  - echo 2 > /l2
  - echo 3 > /l3
  - echo 4 > /l4
  - ${fifth}
  - cat /l1 /l2 /l3 /l4 /l5 > /all
`;

test("asLayers: editing command 5 of 6 rebuilds layers 5 and 6 only, reusing 1-4 from the registry", async (t) => {
  const p = project(LAYERS("echo 5 > /l5"));
  t.after(() => p.cleanup());
  const repo = uniqueRepo("layers");
  const opts = { dir: p.dir, repo, environ: {}, lockDir, buildOutput: "ignore" as const, log: () => {} };
  const first = await buildProject(opts);
  const statuses = (r: typeof first) => r.images[0].stages.map((s) => `${s.stage}:${s.status}`);
  assert.deepEqual(statuses(first), ["from:built", ...Array(6).fill("install:built")]);
  const firstTags = first.images[0].stages.map((s) => s.tag);
  writeFile(p.dir, "werf.yaml", LAYERS("echo five > /l5"));
  p.commit();
  const second = await buildProject(opts);
  assert.deepEqual(statuses(second), ["from:reused", ...Array(4).fill("install:reused"), "install:built", "install:built"]);
  assert.deepEqual(second.images[0].stages.slice(0, 5).map((s) => s.tag), firstTags.slice(0, 5), "layers 1-4 are the stored ones");
  assert.equal(second.built, 2);
  // each layer is its own stored stage; the final image has every command's result
  const stored = await storedDigests(repo);
  for (const s of [...first.images[0].stages, ...second.images[0].stages]) assert.ok(stored.includes(s.digest));
  assert.equal(await sh(second.images[0].tags[0], "cat /all"), "1\n2\n3\n4\nfive\n");
});
