// stapel2docker build on the real engine and the local registry (127.0.0.1:5000): stage reuse, git patch stages,
// concurrent builds, rebases. Each test uses its own repository path, so tests never see each other's tags.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, renameSync, chmodSync, unlinkSync, symlinkSync } from "node:fs";
import path from "node:path";
import { buildProject, type BuildReport } from "../../src/builder/index.js";
import type { WerfReport } from "../../src/builder/werf-report.js";
import { RegistryClient } from "../../src/registry/index.js";
import { git, tempDir, writeFile } from "../git/gitFixture.js";
import { dockerRecorder, makeProject, run, sh, stackUp, uniqueRepo } from "./support.js";
import { repoRoot } from "../support/paths.js";

before(async () => {
  await stackUp();
});

const lockDir = tempDir("build-locks");
process.on("exit", () => rmSync(lockDir, { recursive: true, force: true }));

function builtStages(r: BuildReport, image = "app"): string[] {
  return r.images.find((i) => i.image === image)!.stages.filter((s) => s.status === "built").map((s) => s.stage);
}

async function build(dir: string, repo: string, docker?: string): Promise<BuildReport> {
  return buildProject({ dir, repo, environ: {}, docker, lockDir, buildOutput: "ignore", log: () => {} });
}

test("first build pushes every stage; the second starts no buildx, pushes nothing and is fast", async (t) => {
  const p = makeProject();
  const rec = dockerRecorder();
  t.after(() => (p.cleanup(), rec.cleanup()));
  const repo = uniqueRepo("app");
  const first = await build(p.dir, repo, rec.docker);
  assert.deepEqual(builtStages(first), ["from", "beforeInstall", "gitArchive", "install", "beforeSetup", "setup"]);
  assert.equal(first.bake, true);
  const tags = await new RegistryClient().listTags(repo);
  for (const s of first.images[0].stages) assert.ok(tags.includes(s.tag.split(":").pop()!), `${s.tag} is in the registry`);
  const final = first.images[0].tags[0];
  assert.equal(final, `${repo}:app-${first.images[0].digest}`);
  assert.equal((await sh(final, "cat /app/deps/list.txt /before-setup-saw.txt")), "dep-1\ndep-1\n");
  assert.equal((await sh(final, "readlink /app/link; stat -c %a /app/bin/run.sh")).trim(), "lib/a.txt\n755");

  const callsBefore = rec.calls().length;
  const second = await build(p.dir, repo, rec.docker);
  assert.equal(second.bake, false);
  assert.equal(second.built, 0);
  assert.deepEqual(builtStages(second), []);
  assert.ok(!rec.calls().slice(callsBefore).some((c) => c.startsWith("buildx")), `no buildx: ${rec.calls().slice(callsBefore).join("; ")}`);
  assert.deepEqual(await new RegistryClient().listTags(repo), [...tags].sort(), "no new tag");
  assert.deepEqual(second.images[0].tags, first.images[0].tags);
});

test("a masked edit rebuilds beforeSetup and setup; an unmasked edit only adds gitLatestPatch; files land exactly", async (t) => {
  const p = makeProject();
  t.after(() => p.cleanup());
  const repo = uniqueRepo("app");
  await build(p.dir, repo);

  writeFile(p.dir, "src/deps/list.txt", "dep-2\n");
  p.commit("masked edit");
  const masked = await build(p.dir, repo);
  assert.deepEqual(builtStages(masked), ["beforeSetup", "setup"], "files reach HEAD in beforeSetup: no gitLatestPatch is needed");
  const img1 = masked.images[0].tags[0];
  assert.equal(await sh(img1, "cat /before-setup-saw.txt"), "dep-2\n", "beforeSetup saw the patched file");
  const setupRan = await sh(img1, "cat /setup-ran.txt");

  // unmasked changes of every kind: edit, delete, rename, chmod, symlink retarget, file → directory
  writeFile(p.dir, "src/readme.txt", "hello again\n");
  unlinkSync(path.join(p.dir, "src/old/gone.txt"));
  renameSync(path.join(p.dir, "src/lib/a.txt"), path.join(p.dir, "src/lib/b.txt"));
  chmodSync(path.join(p.dir, "src/bin/run.sh"), 0o644);
  unlinkSync(path.join(p.dir, "src/link"));
  symlinkSync("lib/b.txt", path.join(p.dir, "src/link"));
  writeFile(p.dir, "src/new/nested/file.txt", "new\n");
  p.commit("unmasked edits");
  const unmasked = await build(p.dir, repo);
  assert.deepEqual(builtStages(unmasked), ["gitLatestPatch"]);
  const img2 = unmasked.images[0].tags[0];
  const listing = (await sh(img2, "cd /app && find . | sort")).trim().split("\n");
  assert.deepEqual(listing, [".", "./bin", "./bin/run.sh", "./deps", "./deps/list.txt", "./lib", "./lib/b.txt", "./link", "./new", "./new/nested", "./new/nested/file.txt", "./readme.txt"]);
  assert.equal(await sh(img2, "cat /app/readme.txt; readlink /app/link; stat -c %a /app/bin/run.sh"), "hello again\nlib/b.txt\n644\n");
  assert.equal(await sh(img2, "cat /setup-ran.txt"), setupRan, "setup was reused, not run again");

  const noop = await build(p.dir, repo);
  assert.equal(noop.bake, false, "the gitLatestPatch stage is reused at the same HEAD");
  assert.equal(noop.images[0].digest, unmasked.images[0].digest);
});

test("two builds at once: every stage built once, both succeed with identical results", async (t) => {
  const p = makeProject();
  t.after(() => p.cleanup());
  const repo = uniqueRepo("app");
  const [a, b] = await Promise.all([build(p.dir, repo), build(p.dir, repo)]);
  assert.equal(a.built + b.built, 6, `stages built: ${a.built} + ${b.built}`);
  assert.ok(a.built === 0 || b.built === 0);
  assert.deepEqual(a.images[0].stages.map((s) => s.tag), b.images[0].stages.map((s) => s.tag));
  const stageTags = (await new RegistryClient().listTags(repo)).filter((x) => /^[0-9a-f]{56}-\d+$/.test(x));
  assert.equal(stageTags.length, 6, "one tag per stage");
});

test("a rebase that drops the stored stage's commit: that stage is not reused", async (t) => {
  const p = makeProject();
  t.after(() => p.cleanup());
  const repo = uniqueRepo("app");
  const base = git(p.dir, "rev-parse", "HEAD");
  writeFile(p.dir, "src/readme.txt", "on a branch that will be dropped\n");
  p.commit("dropped");
  const first = await build(p.dir, repo);
  assert.equal(first.built, 6);
  git(p.dir, "reset", "-q", "--hard", base);
  writeFile(p.dir, "src/readme.txt", "rewritten\n");
  p.commit("rewritten");
  const second = await build(p.dir, repo);
  assert.deepEqual(builtStages(second), ["gitArchive", "install", "beforeSetup", "setup"], "stages holding the dropped commit are rebuilt");
  assert.equal(await sh(second.images[0].tags[0], "cat /app/readme.txt"), "rewritten\n");
});

test("a patch of 1 MiB or more goes to gitCache, kept while later patches go to gitLatestPatch", async (t) => {
  const p = makeProject();
  t.after(() => p.cleanup());
  const repo = uniqueRepo("app");
  await build(p.dir, repo);
  writeFile(p.dir, "src/big.bin", Buffer.alloc(1024 * 1024 + 10, 7));
  p.commit("big file");
  const big = await build(p.dir, repo);
  assert.deepEqual(builtStages(big), ["gitCache"], "gitCache brings the files to HEAD: no gitLatestPatch");
  writeFile(p.dir, "src/readme.txt", "small change\n");
  p.commit("small change");
  const small = await build(p.dir, repo);
  assert.deepEqual(builtStages(small), ["gitLatestPatch"]);
  assert.equal(small.images[0].stages.find((s) => s.stage === "gitCache")!.status, "reused");
  assert.equal(await sh(small.images[0].tags[0], "stat -c %s /app/big.bin; cat /app/readme.txt"), `${1024 * 1024 + 10}\nsmall change\n`);
});

test("CLI: two processes at once build each stage once; --report and --add-tag", async (t) => {
  const p = makeProject();
  const out = tempDir("build-cli");
  t.after(() => (p.cleanup(), rmSync(out, { recursive: true, force: true })));
  const repo = uniqueRepo("app");
  const cli = path.join(repoRoot, "dist/src/cli/main.js");
  const env = { ...process.env, STAPEL2DOCKER_LOCK_DIR: lockDir };
  const runCli = (n: number) =>
    run(process.execPath, [cli, "build", "--dir", p.dir, "--repo", repo, "--add-tag", "latest", "--report", path.join(out, `r${n}.json`)], { env });
  const [o1, o2] = await Promise.all([runCli(1), runCli(2)]);
  assert.match(o1, /app\s+setup\s+(built|reused)/);
  assert.match(o2, /app\s+setup\s+(built|reused)/);
  // werf's report format (src/builder/werf-report.ts)
  const r1 = JSON.parse(readFileSync(path.join(out, "r1.json"), "utf8")) as WerfReport;
  const r2 = JSON.parse(readFileSync(path.join(out, "r2.json"), "utf8")) as WerfReport;
  const rebuilt = (r: WerfReport) => r.Images.app.Stages.filter((s) => s.Rebuilt).length;
  assert.equal(rebuilt(r1) + rebuilt(r2), 6, `stages built: ${rebuilt(r1)} + ${rebuilt(r2)}`);
  assert.deepEqual(r1.Images.app.Stages.map((s) => [s.Name, s.DockerImageName]), r2.Images.app.Stages.map((s) => [s.Name, s.DockerImageName]));
  const digest = /-([0-9a-f]+)$/.exec(r1.Images.app.DockerTag)![1];
  assert.equal(r1.Images.app.DockerImageName, `${repo}:app-${digest}`);
  assert.equal(r1.Images.app.DockerImageDigest, r1.Images.app.Stages[5].DockerImageDigest);
  const c = new RegistryClient();
  assert.equal((await c.headManifest(`${repo}:latest`))!.digest, r1.Images.app.DockerImageDigest);
});
