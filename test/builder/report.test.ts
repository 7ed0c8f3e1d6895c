// `build` as CI runs it, on the real engine and registry: options from the environment (werf's variables), werf's
// build report (JSON and env file) checked against the registry, --progress rawjson/plain, --quiet, the step lines
// with timings, and the TTY view in a real terminal (tmux).
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import type { WerfReport } from "../../src/builder/werf-report.js";
import { RegistryClient } from "../../src/registry/index.js";
import { git, tempDir, writeFile } from "../git/gitFixture.js";
import { stackUp, uniqueRepo } from "./support.js";
import { repoRoot } from "../support/paths.js";
import { TmuxSession, q } from "../introspect/tmux.js";

before(async () => {
  await stackUp();
});

const cli = path.join(repoRoot, "dist/src/cli/main.js");

const WERF_YAML = (setup: string, salt: string) => `project: reporttest
configVersion: 1
---
image: app
from: stapel2docker/base-busybox:latest
shell:
  install:
  - sleep 1; true ${salt}
  setup:
  - ${setup}
---
artifact: tool
from: stapel2docker/base-busybox:latest
shell:
  install:
  - echo tool > /tool.txt
---
image: web
from: stapel2docker/base-busybox:latest
import:
- artifact: tool
  add: /tool.txt
  to: /tool.txt
  before: setup
`;

function project(t: { after(fn: () => void): void }): { dir: string; commit(setup: string): void } {
  const dir = tempDir("report-project");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  git(dir, "init", "-q", "-b", "main");
  // BuildKit's cache must not answer the commands: each project's are its own
  const salt = `${process.pid}-${Date.now()}-${Math.random()}`;
  const commit = (setup: string) => {
    writeFile(dir, "werf.yaml", WERF_YAML(setup, salt));
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", setup);
  };
  commit("echo one > /setup.txt");
  return { dir, commit };
}

/** Runs the CLI with only `env` from the werf/stapel2docker families (the rest of the environment stays). */
function runCli(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(STAPEL2DOCKER_|WERF_|BUILDKIT_PROGRESS)/.test(k)));
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd, env: { ...base, STAPEL2DOCKER_LOCK_DIR: path.join(cwd, ".locks"), ...env }, maxBuffer: 64 << 20, timeout: 300_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }));
  });
}

test("build from werf's variables: werf's JSON report matches the registry; rawjson progress; step lines with timings", async (t) => {
  const p = project(t);
  const repo = uniqueRepo("app");
  const r = await runCli(["build"], {
    WERF_REPO: repo,
    WERF_ADD_CUSTOM_TAG_1: "%image%-ci",
    WERF_SAVE_BUILD_REPORT: "1",
    STAPEL2DOCKER_PROGRESS: "rawjson",
  }, p.dir);
  assert.equal(r.code, 0, r.stderr);
  // werf's default report path, relative to the working directory
  const w = JSON.parse(readFileSync(path.join(p.dir, ".werf-build-report.json"), "utf8")) as WerfReport;
  assert.deepEqual(Object.keys(w.Images), ["app", "tool", "web"]);
  const c = new RegistryClient();
  for (const name of ["app", "web"]) {
    const i = w.Images[name];
    assert.equal(i.WerfImageName, name);
    assert.equal(i.ConfigType, "stapel");
    assert.equal(i.Final, true);
    assert.equal(i.Rebuilt, true);
    assert.equal(i.DockerRepo, repo);
    assert.match(i.DockerTag, new RegExp(`^${name}-[0-9a-f]{56}$`));
    assert.equal(i.DockerImageName, `${repo}:${i.DockerTag}`);
    // the custom tag (werf's %image%) and the report's digests are the registry's
    const m = await c.getManifest(`${repo}:${name}-ci`);
    assert.equal(i.DockerImageDigest, m.digest);
    assert.equal(i.DockerImageID, (m.json as { config: { digest: string } }).config.digest);
    assert.ok(i.Size > 0);
    assert.equal(i.Commit, git(p.dir, "rev-parse", "HEAD").trim());
    for (const s of i.Stages) {
      assert.equal(s.Rebuilt, true);
      assert.match(s.DockerImageName, new RegExp(`^${repo.replace(/[.]/g, "\\.")}:[0-9a-f]{56}-\\d{13}$`));
      assert.equal(s.DockerImageDigest, (await c.getManifest(s.DockerImageName)).digest);
      assert.match(s.DockerImageID, /^sha256:[0-9a-f]{64}$/);
    }
  }
  assert.equal(w.Images.tool.Final, false);
  assert.equal(w.Images.tool.DockerImageName, w.Images.tool.Stages.at(-1)!.DockerImageName);
  // per-stage timings from buildx's rawjson: install sleeps 1 s
  const install = w.Images.app.Stages.find((s) => s.Name === "install")!;
  assert.ok(Number(install.BuildTime) >= 1 && Number(install.BuildTime) < 10, `install took ${install.BuildTime} s`);
  assert.ok(Number(w.Images.app.BuildTime) >= Number(install.BuildTime));
  // rawjson on stderr, and stapel2docker's own steps with their times
  assert.match(r.stderr, /^\{\n {2}"vertexes": \[/m);
  assert.doesNotMatch(r.stderr, /^#\d+ \[/m);
  for (const re of [
    /^stapel2docker: planned 3 image\(s\), \d+ stage\(s\) in \d+\.\d{3} s$/m,
    /^stapel2docker: listed 0 tag\(s\) of .* in \d+\.\d{3} s: 0 stage\(s\) stored, \d+ to build$/m,
    /^stapel2docker: building \d+ stage\(s\) with docker buildx bake: /m,
    /^stapel2docker: final tags: 4 in place or written in \d+\.\d{3} s$/m,
    /^stapel2docker: wrote the build report \.werf-build-report\.json \(json\) in \d+\.\d{3} s$/m,
  ]) assert.match(r.stderr, re);
  // the table on stdout
  assert.match(r.stdout, /^app +install +built +\d+\.\d{3}/m);
});

test("flags win over the environment: --progress plain, an env-file report; --quiet prints only the final references", async (t) => {
  const p = project(t);
  const repo = uniqueRepo("app");
  const env = { WERF_REPO: repo, STAPEL2DOCKER_PROGRESS: "rawjson", STAPEL2DOCKER_REPORT: "ignored.json" };
  assert.equal((await runCli(["build", "--progress", "quiet"], env, p.dir)).code, 0);
  p.commit("echo two > /setup.txt");
  const r = await runCli(["build", "--progress", "plain", "--report", "out.env", "app"], env, p.dir);
  assert.equal(r.code, 0, r.stderr);
  // plain: buildx's format rendered from its rawjson, only the changed stage ran
  assert.match(r.stderr, /^#\d+ \[app--setup 1\/1\] RUN /m);
  assert.match(r.stderr, /^#\d+ DONE \d+\.\ds$/m);
  assert.doesNotMatch(r.stderr, /"vertexes"/);
  const envFile = readFileSync(path.join(p.dir, "out.env"), "utf8");
  const vars = Object.fromEntries(envFile.trimEnd().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
  const m = await new RegistryClient().getManifest(vars.WERF_APP_DOCKER_IMAGE_NAME);
  assert.deepEqual(Object.keys(vars), [
    "WERF_APP_DOCKER_IMAGE_NAME", "WERF_APP_DOCKER_IMAGE_ID", "WERF_APP_DOCKER_IMAGE_DIGEST", "WERF_APP_DOCKER_REPO",
    "WERF_APP_DOCKER_TAG", "WERF_APP_WERF_IMAGE_NAME", "WERF_APP_FINAL",
  ]);
  assert.equal(vars.WERF_APP_DOCKER_IMAGE_DIGEST, m.digest);
  assert.equal(vars.WERF_APP_DOCKER_IMAGE_ID, (m.json as { config: { digest: string } }).config.digest);
  assert.equal(vars.WERF_APP_DOCKER_IMAGE_NAME, `${repo}:${vars.WERF_APP_DOCKER_TAG}`);
  assert.equal(vars.WERF_APP_DOCKER_REPO, repo);
  assert.equal(vars.WERF_APP_FINAL, "true");
  // --quiet, a no-op: stdout holds the final references, stderr nothing
  const quiet = await runCli(["build", "--quiet", "app"], env, p.dir);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stderr, "");
  assert.equal(quiet.stdout, `${vars.WERF_APP_DOCKER_IMAGE_NAME}\n`);
});

test("TTY: --progress auto on a terminal draws the live view (tmux), not buildx's text or JSON", async (t) => {
  const p = project(t);
  const repo = uniqueRepo("app");
  const term = new TmuxSession(`cd ${q(p.dir)} && STAPEL2DOCKER_LOCK_DIR=${q(path.join(p.dir, ".locks"))} ${q(process.execPath)} ${q(cli)} build --repo ${q(repo)} app`);
  t.after(() => term.kill());
  assert.equal(await term.exitCode(), 0, term.capture());
  const screen = term.capture();
  assert.match(screen, /^\[\+\] Building \d+\.\ds \((\d+)\/\1\) FINISHED$/m);
  assert.match(screen, /^ => \[(\S+ )?app--install 1\/1\] RUN .* [1-9]\d*\.\ds$/m);
  assert.doesNotMatch(screen, / -\d+\.\ds$/m);
  assert.match(screen, /^ => CACHED \[/m);
  assert.doesNotMatch(screen, /"vertexes"|^#\d+ /m);
  assert.match(screen, /^app +setup +built/m);
});

test("run IMAGE -- CMD: builds what the image needs, runs it; stdout is the container's, the exit code too", async (t) => {
  const p = project(t);
  const repo = uniqueRepo("app");
  const env = { WERF_REPO: repo };
  const r = await runCli(["run", "app", "--", "cat", "/setup.txt"], env, p.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "one\n");
  assert.match(r.stderr, /^stapel2docker: building \d+ stage\(s\) with docker buildx bake: /m);
  assert.match(r.stderr, new RegExp(`^stapel2docker: docker run --rm ${repo.replace(/[.]/g, "\\.")}:app-[0-9a-f]{56} cat /setup\\.txt$`, "m"));
  // an artifact runs from its last stage; the container's exit code is the command's; nothing is rebuilt
  const a = await runCli(["run", "tool", "--quiet", "--", "sh", "-c", "cat /tool.txt; exit 7"], env, p.dir);
  assert.equal(a.code, 7, a.stderr);
  assert.equal(a.stdout, "tool\n");
  assert.equal(a.stderr, "");
});
