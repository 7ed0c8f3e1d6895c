// build on the real engine: disableGitAfterPatch (no patch stages), and an image built `fromImage` another one
// whose chain got gitLatestPatch (the child is built on the parent's actual last stage).
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { buildProject, type BuildReport } from "../../src/builder/index.js";
import { planProject } from "../../src/plan/plan.js";
import { tempDir, writeFile } from "../git/gitFixture.js";
import { makeProject, sh, stackUp, uniqueRepo } from "./support.js";

before(async () => {
  await stackUp();
});

const lockDir = tempDir("build-locks");
process.on("exit", () => rmSync(lockDir, { recursive: true, force: true }));

function built(r: BuildReport, image: string): string[] {
  return r.images.find((i) => i.image === image)!.stages.filter((s) => s.status === "built").map((s) => s.stage);
}

async function build(dir: string, repo: string): Promise<BuildReport> {
  return buildProject({ dir, repo, environ: {}, lockDir, buildOutput: "ignore", log: () => {} });
}

const NO_PATCH = `project: chaintest
configVersion: 1
---
image: app
from: stapel2docker/base-busybox:latest
disableGitAfterPatch: true
git:
- add: /src
  to: /app
shell:
  install:
  - cat /app/readme.txt > /install-saw.txt
docker:
  ENV:
    DROPPED: "yes"
`;

test("disableGitAfterPatch: visible in the plan; an unmasked edit builds nothing and the image keeps the old files", async (t) => {
  const p = makeProject(NO_PATCH);
  t.after(() => p.cleanup());
  const plan = await planProject({ dir: p.dir, environ: {} });
  assert.equal(plan.images[0].gitAfterPatch, false);
  assert.ok(!plan.images[0].stages.some((s) => s.name === "dockerInstructions"), "werf drops docker: with disableGitAfterPatch");
  const repo = uniqueRepo("app");
  const first = await build(p.dir, repo);
  assert.deepEqual(built(first, "app"), ["from", "gitArchive", "install"]);
  writeFile(p.dir, "src/readme.txt", "changed\n");
  p.commit("unmasked edit");
  const second = await build(p.dir, repo);
  assert.equal(second.bake, false, "no gitLatestPatch stage");
  assert.deepEqual(second.images[0].stages.map((s) => s.stage), ["from", "gitArchive", "install"]);
  assert.equal(second.images[0].digest, first.images[0].digest);
  assert.equal(await sh(second.images[0].tags[0], "cat /app/readme.txt; echo \"[$DROPPED]\""), "hello\n[]\n");
});

const FROM_IMAGE = `project: chaintest
configVersion: 1
---
image: base
from: stapel2docker/base-busybox:latest
git:
- add: /src
  to: /app
shell:
  install:
  - cat /app/readme.txt > /install-saw.txt
docker:
  ENV:
    FROM_BASE: "1"
---
image: child
fromImage: base
shell:
  setup:
  - cat /app/readme.txt > /child-saw.txt
`;

test("fromImage: the child is built on the parent's gitLatestPatch, re-chained on its digest", async (t) => {
  const p = makeProject(FROM_IMAGE);
  t.after(() => p.cleanup());
  const repo = uniqueRepo("chain");
  const first = await build(p.dir, repo);
  assert.deepEqual(built(first, "base"), ["from", "gitArchive", "install", "dockerInstructions"]);
  assert.deepEqual(built(first, "child"), ["from", "setup"]);
  const plan1 = await planProject({ dir: p.dir, environ: {} });
  assert.equal(first.images.find((i) => i.image === "child")!.digest, plan1.images[1].digest, "no patch: plan digests");

  writeFile(p.dir, "src/readme.txt", "patched\n");
  p.commit("unmasked edit");
  const second = await build(p.dir, repo);
  assert.deepEqual(built(second, "base"), ["gitLatestPatch", "dockerInstructions"], "dockerInstructions re-chained after the patch");
  assert.deepEqual(built(second, "child"), ["from", "setup"], "the child follows its base's new last stage");
  const base = second.images.find((i) => i.image === "base")!;
  const child = second.images.find((i) => i.image === "child")!;
  const plan2 = await planProject({ dir: p.dir, environ: {} });
  assert.notEqual(child.digest, plan2.images[1].digest, "the child's digests depend on the parent's actual last stage");
  assert.equal(await sh(child.tags[0], "cat /child-saw.txt /app/readme.txt; echo $FROM_BASE"), "patched\npatched\n1\n");
  assert.equal(await sh(base.tags[0], "cat /install-saw.txt /app/readme.txt"), "hello\npatched\n", "install reused, files patched");

  const third = await build(p.dir, repo);
  assert.equal(third.bake, false, "a no-op build reuses the re-chained child");
  assert.equal(third.images.find((i) => i.image === "child")!.digest, child.digest);
});
