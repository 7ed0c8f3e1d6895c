// `build --print --json` on the real registry: after a masked edit it lists exactly the stages the build then
// builds (and the ones it reuses, from which tag), with the git patch the rebuilt stage applies; nothing is built by
// --print itself.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import path from "node:path";
import { buildProject } from "../../src/builder/index.js";
import type { BuildPlan } from "../../src/storage/plan.js";
import { RegistryClient } from "../../src/registry/index.js";
import { tempDir, writeFile } from "../git/gitFixture.js";
import { repoRoot } from "../support/paths.js";
import { makeProject, run, stackUp, uniqueRepo } from "./support.js";

const lockDir = tempDir("build-locks");
process.on("exit", () => rmSync(lockDir, { recursive: true, force: true }));
const cli = path.join(repoRoot, "dist/src/cli/main.js");

before(async () => {
  await stackUp();
});

async function printPlan(dir: string, repo: string): Promise<BuildPlan> {
  return JSON.parse(await run(process.execPath, [cli, "build", "--dir", dir, "--repo", repo, "--add-tag", "latest", "--print", "--json"])) as BuildPlan;
}

test("build --print --json lists exactly the stages the build then builds, reused ones with their tags", async (t) => {
  const p = makeProject();
  t.after(() => p.cleanup());
  const repo = uniqueRepo("print");
  const build = () => buildProject({ dir: p.dir, repo, environ: {}, lockDir, addTags: ["latest"], buildOutput: "ignore", log: () => {} });

  // an empty repository: every stage is to be built, and --print pushes nothing
  const first = await printPlan(p.dir, repo);
  assert.deepEqual(first.images[0].stages.map((s) => s.action), ["build", "build", "build", "build", "build", "build"]);
  assert.deepEqual(await new RegistryClient().listTags(repo).catch(() => []), [], "--print builds and pushes nothing");
  const r1 = await build();
  assert.deepEqual(r1.images[0].stages.filter((s) => s.status === "built").map((s) => s.digest), first.build);

  // a masked file changes: beforeSetup and setup are rebuilt (with the patch), the rest is reused
  writeFile(p.dir, "src/deps/list.txt", "dep-2\n");
  p.commit("masked edit");
  const plan = await printPlan(p.dir, repo);
  const stages = plan.images[0].stages;
  assert.deepEqual(stages.filter((s) => s.action === "build").map((s) => s.stage), ["beforeSetup", "setup"]);
  assert.deepEqual(stages.find((s) => s.stage === "beforeSetup")!.patches.map((x) => [x.add, x.to]), [["/src", "/app"]]);
  const r2 = await build();
  const built = r2.images[0].stages.filter((s) => s.status === "built");
  assert.deepEqual(built.map((s) => s.digest), plan.build, "the build builds exactly the listed stages");
  for (const s of stages.filter((x) => x.action === "reuse")) {
    assert.equal(r2.images[0].stages.find((x) => x.digest === s.digest)!.tag, s.tag, `${s.stage} is reused from the listed tag`);
  }
  assert.deepEqual(r2.images[0].tags, plan.images[0].finalTags);
  assert.deepEqual(plan.images[0].finalTags, [`${repo}:app-${plan.images[0].digest}`, `${repo}:latest`]);

  // and now nothing is left to build
  const after = await printPlan(p.dir, repo);
  assert.deepEqual(after.build, []);
  const text = await run(process.execPath, [cli, "build", "--dir", p.dir, "--repo", repo, "--print"]);
  assert.match(text, /^repository .*: nothing to build\n/);
  assert.match(text, /\n {2}setup +reuse /);
});
