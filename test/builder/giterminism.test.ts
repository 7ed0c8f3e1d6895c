// Giterminism on the real engine: a Dockerfile image with `context: sub` and `dockerfile: Dockerfile` (joined as
// werf joins them) is built from the commit's files; an uncommitted edit and an untracked file are reported and
// left out, and `--dev` builds them. The same for a Stapel image's git mapping.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import path from "node:path";
import { buildProject } from "../../src/builder/index.js";
import { planProject } from "../../src/plan/plan.js";
import { emitProject } from "../../src/emit/index.js";
import { git, tempDir, writeFile } from "../git/gitFixture.js";
import { run, sh, stackUp, uniqueRepo } from "./support.js";

before(async () => {
  await stackUp();
});

const SALT = `${process.pid}-${Date.now()}`;

function project(): string {
  const dir = tempDir("giterminism-e2e");
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", [
    "project: giterminism",
    "configVersion: 1",
    "---",
    "image: web",
    "context: sub",
    "dockerfile: Dockerfile",
    "---",
    "image: app",
    "from: stapel2docker/base-busybox:latest",
    "git:",
    "- add: /src",
    "  to: /app",
    "",
  ].join("\n"));
  writeFile(dir, "sub/Dockerfile", `FROM stapel2docker/base-busybox:latest\nCOPY . /ctx\nRUN echo ${SALT} > /salt\n`);
  writeFile(dir, "sub/committed.txt", "committed\n");
  writeFile(dir, "src/main.txt", "committed\n");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "first");
  // the work tree moves on without a commit
  writeFile(dir, "sub/committed.txt", "edited\n");
  writeFile(dir, "sub/untracked.txt", "untracked\n");
  writeFile(dir, "src/main.txt", "edited\n");
  return dir;
}

test("build: the committed context and mapping are built, the edits reported; --dev builds the work tree", async (t) => {
  const dir = project();
  const lockDir = tempDir("giterminism-locks");
  t.after(() => (rmSync(dir, { recursive: true, force: true }), rmSync(lockDir, { recursive: true, force: true })));
  const repo = uniqueRepo("giterminism");
  const logs: string[] = [];
  const committed = await buildProject({ dir, repo, environ: {}, lockDir, buildOutput: "ignore", log: (l) => logs.push(l) });
  assert.ok(logs.some((l) => /^warning: uncommitted changes are not used \(werf reads the commit\): src\/main\.txt, sub\/committed\.txt, sub\/untracked\.txt; .*--dev$/.test(l)), logs.join("\n"));
  const tagOf = (r: typeof committed, image: string) => r.images.find((i) => i.image === image)!.tags[0]!;
  assert.equal(await sh(tagOf(committed, "web"), "ls /ctx; cat /ctx/committed.txt"), "Dockerfile\ncommitted.txt\ncommitted\n");
  assert.equal(await sh(tagOf(committed, "app"), "cat /app/main.txt"), "committed\n");

  const dev = await buildProject({ dir, repo, environ: {}, lockDir, buildOutput: "ignore", log: () => {}, dev: true });
  assert.equal(await sh(tagOf(dev, "web"), "ls /ctx; cat /ctx/committed.txt"), "Dockerfile\ncommitted.txt\nuntracked.txt\nedited\n");
  assert.equal(await sh(tagOf(dev, "app"), "cat /app/main.txt"), "edited\n");
  for (const image of ["web", "app"]) assert.notEqual(tagOf(dev, image), tagOf(committed, image), "a dev build has digests of its own");
});

test("compile: build.sh builds the Dockerfile image's committed context", async (t) => {
  const dir = project();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const plan = await planProject({ dir, environ: {} });
  const out = path.join(dir, ".stapel2docker");
  await emitProject(plan, { out, repo: "giterminism" });
  await run(path.join(out, "build.sh"), [], { cwd: dir });
  const web = plan.dockerfileImages[0]!;
  assert.equal(await run("docker", ["run", "--rm", `giterminism:${web.target}-${web.digest}`, "sh", "-c", "ls /ctx; cat /ctx/committed.txt"]), "Dockerfile\ncommitted.txt\ncommitted\n");
});
