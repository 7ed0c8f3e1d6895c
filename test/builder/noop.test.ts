// A no-op `stapel2docker build` on the real engine (issue #13): one registry request (the tag listing) and no
// `docker` process, also for a project whose image takes another's ImageID/ImageDigest (that run used to list the
// registry twice). Run as the CLI (a child process) through a counting HTTP proxy in front of the local registry
// (the repository's host is the proxy, so every request of ours and of the daemon is seen), with a `docker` on
// PATH that records every call.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { git, tempDir, writeFile } from "../git/gitFixture.js";
import { repoRoot } from "../support/paths.js";
import { startRegistryProxy, type RegistryProxy } from "../support/registry-proxy.js";
import { stackUp } from "./support.js";

const cli = path.join(repoRoot, "dist/src/cli/main.js");


const WERF_YAML = `project: noop
configVersion: 1
---
image: base
final: false
from: stapel2docker/base-busybox:latest
git:
- add: /src
  to: /app
  stageDependencies:
    install:
    - "*.txt"
shell:
  install:
  - echo "base SALT" > /base.txt
---
image: app
from: stapel2docker/base-busybox:latest
dependencies:
- image: base
  after: install
  imports:
  - type: ImageDigest
    targetEnv: BASE_DIGEST
  - type: ImageID
    targetEnv: BASE_ID
shell:
  install:
  - echo "app SALT" > /app.txt
`;

const FAST = /nothing changed since the last build on this host/;

let proxy: RegistryProxy;
const work = tempDir("noop");
before(async () => {
  await stackUp();
  proxy = await startRegistryProxy();
});
after(async () => {
  await proxy?.close();
  rmSync(work, { recursive: true, force: true });
});

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString("utf8")));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test("a no-op build with ImageID/ImageDigest dependencies: one registry request (the tag listing), no docker process", { timeout: 300_000 }, async () => {
  const dir = path.join(work, "project");
  git(work, "init", "-q", "-b", "main", dir);
  const salt = randomBytes(6).toString("hex");
  writeFile(dir, "werf.yaml", WERF_YAML.replaceAll("SALT", salt));
  writeFile(dir, "src/a.txt", "a\n");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "noop");

  // a `docker` that records its arguments and runs the real one
  const shim = path.join(work, "bin");
  const calls = path.join(work, "docker-calls.log");
  const real = (process.env.PATH ?? "").split(":").map((d) => path.join(d, "docker")).find((f) => existsSync(f))!;
  writeFile(work, "bin/docker", `#!/bin/sh\nprintf '%s\\n' "$*" >> '${calls}'\nexec '${real}' "$@"\n`);
  chmodSync(path.join(shim, "docker"), 0o755);
  const env = {
    ...process.env,
    PATH: `${shim}:${process.env.PATH ?? ""}`,
    XDG_CACHE_HOME: path.join(work, "cache"),
    STAPEL2DOCKER_LOCK_DIR: path.join(work, "locks"),
  };
  const repo = `${proxy.host}/s2d-test-${randomBytes(5).toString("hex")}/app`;
  const args = ["build", "--dir", dir, "--repo", repo];

  const first = await runCli(args, env);
  assert.equal(first.code, 0, first.stderr);
  assert.doesNotMatch(first.stdout, /^0 stage\(s\) built/m, "the first build builds");
  const dockerFirst = existsSync(calls) ? readFileSync(calls, "utf8") : "";
  assert.match(dockerFirst, /buildx bake/, "the first build ran buildx");
  // (a build that builds lists once at the start and once more under each run's locks: 3 here)

  // run 1: the full path (a build that built writes no no-op entry): plan, one listing, final tags proved in place;
  // it writes the entry; run 2: the no-op cache
  for (const run of [1, 2]) {
    writeFileSync(calls, "");
    proxy.seen = [];
    const noop = await runCli(args, env);
    assert.equal(noop.code, 0, noop.stderr);
    assert.equal(FAST.test(noop.stderr), run === 2, `run ${run}: ${noop.stderr}`);
    assert.match(noop.stdout, /^0 stage\(s\) built/m, noop.stdout);
    const ours = proxy.seen.filter((r) => r.ours);
    assert.deepEqual(ours.map((r) => `${r.method} ${r.path}`), [`GET /v2/${repo.slice(proxy.host.length + 1)}/tags/list`], `no-op run ${run}: requests`);
    assert.equal(proxy.seen.length, 1, "nothing else reached the registry either");
    assert.equal(readFileSync(calls, "utf8"), "", `no-op run ${run}: no docker process`);
    assert.match(noop.stdout, /1 registry request\(s\)/);
  }
});

test("the no-op cache answers only when nothing that decides the result changed", { timeout: 300_000 }, async () => {
  const dir = path.join(work, "project2");
  git(work, "init", "-q", "-b", "main", dir);
  const salt = randomBytes(6).toString("hex");
  const yaml = `project: noop2
configVersion: 1
---
image: app
from: stapel2docker/base-busybox:latest
git:
- add: /src
  to: /app
shell:
  install:
  - echo "{{ env "S2D_NOOP_TEST_VALUE" "unset" }} ${salt}" > /value.txt
`;
  writeFile(dir, "werf.yaml", yaml);
  writeFile(dir, "werf-giterminism.yaml", "giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowEnvVariables: [S2D_NOOP_TEST_VALUE]\n");
  writeFile(dir, "src/a.txt", "a\n");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "one");
  const env = { ...process.env, XDG_CACHE_HOME: path.join(work, "cache2"), STAPEL2DOCKER_LOCK_DIR: path.join(work, "locks2"), S2D_NOOP_TEST_VALUE: "x" };
  const repo = `${proxy.host}/s2d-test-${randomBytes(5).toString("hex")}/app`;
  const build = async (e: NodeJS.ProcessEnv = env, extra: string[] = []) => {
    const r = await runCli(["build", "--dir", dir, "--repo", repo, ...extra], e);
    assert.equal(r.code, 0, r.stderr);
    return { fast: FAST.test(r.stderr), built: Number(/^(\d+) stage\(s\) built/m.exec(r.stdout)![1]), stderr: r.stderr, stdout: r.stdout };
  };
  assert.equal((await build()).built > 0, true);
  assert.deepEqual(await build().then((r) => [r.fast, r.built]), [false, 0], "a full no-op (it writes the entry)");
  assert.deepEqual(await build().then((r) => [r.fast, r.built]), [true, 0], "nothing changed");

  // an environment variable the render read: another value is another build
  const y = { ...env, S2D_NOOP_TEST_VALUE: "y" };
  const other = await build(y);
  assert.deepEqual([other.fast, other.built > 0], [false, true]);
  assert.deepEqual(await build().then((r) => [r.fast, r.built]), [true, 0], "back to x: its entry stands (a build that built writes none)");
  assert.deepEqual(await build(y).then((r) => [r.fast, r.built]), [false, 0], "y: stored, but the entry is x's");
  assert.deepEqual(await build(y).then((r) => [r.fast, r.built]), [true, 0]);
  assert.deepEqual(await build().then((r) => [r.fast, r.built]), [false, 0], "x again: the entry is y's");
  // a variable the render did not read changes nothing
  assert.equal((await build({ ...env, S2D_UNRELATED: "1" })).fast, true);

  // another builder (--builder, or BUILDX_BUILDER) is keyed apart: its first no-op is proved in full, then answered
  // (a no-op build starts no builder)
  assert.deepEqual(await build(env, ["--builder", "default"]).then((r) => [r.fast, r.built]), [false, 0]);
  assert.deepEqual(await build(env, ["--builder", "default"]).then((r) => [r.fast, r.built]), [true, 0]);
  assert.deepEqual(await build({ ...env, BUILDX_BUILDER: "default" }).then((r) => [r.fast, r.built]), [true, 0], "BUILDX_BUILDER: the same builder");
  assert.equal((await build()).fast, true, "no builder named: its own entry stands");

  // an uncommitted change: the full path, which warns about it
  writeFile(dir, "src/a.txt", "edited\n");
  const dirty = await build();
  assert.equal(dirty.fast, false);
  assert.match(dirty.stderr, /warning: .*src\/a\.txt/);
  const dirtyAgain = await build();
  assert.equal(dirtyAgain.fast, true, "the same work tree again");
  assert.match(dirtyAgain.stderr, /warning: .*src\/a\.txt/, "with the same warning");
  git(dir, "checkout", "--", "src/a.txt");

  // a new commit
  writeFile(dir, "src/b.txt", "b\n");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "two");
  assert.deepEqual(await build().then((r) => [r.fast, r.built > 0]), [false, true], "a new commit: gitLatestPatch");
  assert.equal((await build()).fast, false);
  const last = await build();
  assert.equal(last.fast, true);

  // the registry changed: another stage tag of a stored digest appears (copied by hand) → the full path
  const { RegistryClient } = await import("../../src/registry/index.js");
  const client = new RegistryClient();
  // the stage tag of the image's last stage (the last row of the report)
  const stage = [...last.stdout.matchAll(/ ([0-9a-f]{56}-\d+)$/gm)].pop()![1];
  await client.copyTag(`${repo}:${stage}`, `${stage.slice(0, 56)}-${Date.now() + 1000}`);
  assert.equal((await build()).fast, false);
});

test("no entry when the render read what the commit does not hold: a --config outside the repository, a file giterminism accepts uncommitted", { timeout: 300_000 }, async () => {
  const dir = path.join(work, "project3");
  git(work, "init", "-q", "-b", "main", dir);
  writeFile(dir, "src/a.txt", "a\n");
  // the project's own werf.yaml (used below with an accepted uncommitted file) and a config outside the repository
  writeFile(dir, "werf.yaml", `project: noop3\nconfigVersion: 1\n---\nimage: app\nfrom: stapel2docker/base-busybox:latest\nshell:\n  install:\n  - echo '{{ .Files.Get "local.txt" | trim }}' > /local.txt\n`);
  writeFile(dir, "werf-giterminism.yaml", "giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowUncommittedFiles: [local.txt]\n");
  writeFile(dir, ".gitignore", "local.txt\n");
  writeFile(dir, "local.txt", "one\n");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "one");
  const outside = path.join(work, "outside-config");
  const salt = randomBytes(4).toString("hex");
  writeFile(outside, "werf.yaml", `project: noop3\nconfigVersion: 1\n---\nimage: app\nfrom: stapel2docker/base-busybox:latest\nshell:\n  install:\n  - echo one ${salt} > /value.txt\n`);
  const env = { ...process.env, XDG_CACHE_HOME: path.join(work, "cache3"), STAPEL2DOCKER_LOCK_DIR: path.join(work, "locks3") };
  const repo = `${proxy.host}/s2d-test-${randomBytes(5).toString("hex")}/app`;
  const build = async (extra: string[]) => {
    const r = await runCli(["build", "--dir", dir, "--repo", repo, ...extra], env);
    assert.equal(r.code, 0, r.stderr);
    return { fast: FAST.test(r.stderr), built: Number(/^(\d+) stage\(s\) built/m.exec(r.stdout)![1]) };
  };
  // --config outside: a full no-op never writes an entry, and an edit of that file is built
  const withConfig = ["--config", path.join(outside, "werf.yaml")];
  assert.ok((await build(withConfig)).built > 0);
  assert.deepEqual(await build(withConfig), { fast: false, built: 0 });
  assert.deepEqual(await build(withConfig), { fast: false, built: 0 }, "no entry was written");
  writeFile(outside, "werf.yaml", `project: noop3\nconfigVersion: 1\n---\nimage: app\nfrom: stapel2docker/base-busybox:latest\nshell:\n  install:\n  - echo two ${salt} > /value.txt\n`);
  assert.equal((await build(withConfig)).built > 0, true, "the edited config is built");
  // an ignored file the giterminism config accepts uncommitted (git status does not list it): the same
  assert.ok((await build([])).built > 0);
  assert.deepEqual(await build([]), { fast: false, built: 0 });
  writeFile(dir, "local.txt", `two ${salt}\n`);
  assert.equal((await build([])).built > 0, true, "the edited file is built");
});
