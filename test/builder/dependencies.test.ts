// werf's `dependencies` on the real engine: a Stapel image takes ImageDigest, ImageID, ImageName and ImageTag of a
// `final: false` image. With `build` the values are the registry's (the dependency's manifest digest and config
// digest, and a tag that exists); compile's build.sh builds in waves and passes the same values after --push.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import path from "node:path";
import { buildProject } from "../../src/builder/index.js";
import { RegistryClient } from "../../src/registry/index.js";
import { planProject } from "../../src/plan/plan.js";
import { emitProject } from "../../src/emit/index.js";
import { git, tempDir, writeFile } from "../git/gitFixture.js";
import { run, sh, stackUp, uniqueRepo } from "./support.js";

before(async () => {
  await stackUp();
});

const WERF_YAML = `project: deps
configVersion: 1
---
image: base
final: false
from: stapel2docker/base-busybox:latest
shell:
  install:
  - echo "base $RANDOM_SALT" > /base.txt
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
  - type: ImageName
    targetEnv: BASE_NAME
  - type: ImageTag
    targetEnv: BASE_TAG
shell:
  install:
  - echo app > /app.txt
`;

function project(): string {
  const dir = tempDir("deps-project");
  git(dir, "init", "-q", "-b", "main");
  // a salt per run: the base image is new in every test run, so its digest is not one BuildKit cached
  writeFile(dir, "werf.yaml", WERF_YAML.replace("$RANDOM_SALT", `${process.pid}-${Date.now()}`));
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "deps");
  return dir;
}

function envOf(text: string): Record<string, string> {
  return Object.fromEntries(text.split("\n").filter((l) => l.startsWith("BASE_")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

async function registryValues(ref: string): Promise<{ digest: string; id: string }> {
  const client = new RegistryClient();
  return { digest: (await client.getManifest(ref)).digest, id: (await client.getImageConfig(ref)).digest };
}

test("build: ImageDigest/ImageID of a final: false dependency are its registry digests; ImageName names a tag that exists", async (t) => {
  const dir = project();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const repo = uniqueRepo("deps");
  const lockDir = tempDir("deps-locks");
  const report = await buildProject({ dir, repo, environ: {}, lockDir, buildOutput: "ignore", log: () => {} });
  const base = report.images.find((i) => i.image === "base")!;
  const app = report.images.find((i) => i.image === "app")!;
  assert.deepEqual(base.tags, [`${repo}:base-${base.digest}`], "the dependency's tag is written although it is not final");
  const env = envOf(await sh(app.tags[0]!, "env"));
  const want = await registryValues(base.tags[0]!);
  assert.deepEqual(env, { BASE_DIGEST: want.digest, BASE_ID: want.id, BASE_NAME: base.tags[0]!, BASE_TAG: `base-${base.digest}` });
  assert.notEqual(want.digest, want.id);
  // a second build reuses everything
  const again = await buildProject({ dir, repo, environ: {}, lockDir, buildOutput: "ignore", log: () => {} });
  assert.equal(again.built, 0);
  rmSync(lockDir, { recursive: true, force: true });
});

test("compile: build.sh builds the dependency first and passes its digests (registry digests with --push)", async (t) => {
  const dir = project();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const repo = uniqueRepo("deps");
  const plan = await planProject({ dir, environ: {} });
  const out = path.join(dir, ".stapel2docker");
  await emitProject(plan, { out, repo });
  await run(path.join(out, "build.sh"), ["--push"], { cwd: dir });
  const baseTag = `${repo}:base-${plan.images.find((i) => i.name === "base")!.digest}`;
  const appTag = `${repo}:app-${plan.images.find((i) => i.name === "app")!.digest}`;
  const env = envOf(await sh(appTag, "env"));
  const want = await registryValues(baseTag);
  assert.deepEqual(env, { BASE_DIGEST: want.digest, BASE_ID: want.id, BASE_NAME: baseTag, BASE_TAG: baseTag.split(":").pop()! });
});
