// Dockerfile images (`dockerfile:` documents) in build, on the real engine: a bake target pushed as
// `<digest>-<ms>` with the plan digest, reused when stored, final tags; a Stapel image built fromImage it.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { buildProject, type BuildReport } from "../../src/builder/index.js";
import { RegistryClient } from "../../src/registry/index.js";
import { planProject } from "../../src/plan/plan.js";
import { tempDir, writeFile } from "../git/gitFixture.js";
import { makeProject, sh, stackUp, uniqueRepo } from "./support.js";

before(async () => {
  await stackUp();
});

const lockDir = tempDir("build-locks");
process.on("exit", () => rmSync(lockDir, { recursive: true, force: true }));

const WERF = `project: dftest
configVersion: 1
---
image: web
dockerfile: Dockerfile
args:
  GREETING: hi
---
image: app
fromImage: web
shell:
  install:
  - cat /df.txt > /app-saw.txt
`;

const DOCKERFILE = `FROM stapel2docker/base-busybox:latest
ARG GREETING
COPY src/readme.txt /df-readme.txt
RUN echo "$GREETING built" > /df.txt
`;

async function build(dir: string, repo: string, addTags: string[] = []): Promise<BuildReport> {
  return buildProject({ dir, repo, environ: {}, lockDir, buildOutput: "ignore", log: () => {}, addTags });
}

test("a Dockerfile image is a bake target pushed as <digest>-<ms>, reused when stored, tagged; a Stapel image builds on it", async (t) => {
  const p = makeProject(WERF);
  writeFile(p.dir, "Dockerfile", DOCKERFILE);
  p.commit("dockerfile");
  t.after(() => p.cleanup());
  const repo = uniqueRepo("df");
  const plan = await planProject({ dir: p.dir, environ: {} });
  const dfDigest = plan.dockerfileImages[0].digest;

  const first = await build(p.dir, repo, ["v1-{image}"]);
  const web = first.images.find((i) => i.image === "web")!;
  assert.deepEqual(web.stages.map((s) => [s.stage, s.status, s.digest]), [["dockerfile", "built", dfDigest]]);
  assert.match(web.stages[0].tag, new RegExp(`:${dfDigest}-\\d+$`));
  assert.deepEqual(web.tags, [`${repo}:web-${dfDigest}`, `${repo}:v1-web`]);
  const app = first.images.find((i) => i.image === "app")!;
  assert.deepEqual(app.stages.map((s) => s.status), ["built", "built"]);
  assert.equal(await sh(web.tags[1], "cat /df.txt /df-readme.txt"), "hi built\nhello\n");
  assert.equal(await sh(app.tags[0], "cat /app-saw.txt"), "hi built\n");
  const c = new RegistryClient();
  assert.equal((await c.headManifest(web.tags[0]))!.digest, (await c.headManifest(web.stages[0].tag))!.digest);

  const second = await build(p.dir, repo);
  assert.equal(second.bake, false, "everything stored: no bake");
  assert.deepEqual(second.images.map((i) => i.stages.map((s) => s.status)), [["reused", "reused"], ["reused"]]);
  assert.equal(second.images.find((i) => i.image === "web")!.stages[0].tag, web.stages[0].tag);

  // a new Dockerfile image digest (an edited file of its context) rebuilds it, and the Stapel image on top
  writeFile(p.dir, "src/readme.txt", "changed\n");
  p.commit("context edit");
  const third = await build(p.dir, repo);
  const web3 = third.images.find((i) => i.image === "web")!;
  assert.notEqual(web3.digest, dfDigest);
  assert.equal(web3.stages[0].status, "built");
  assert.equal(await sh(web3.tags[0], "cat /df-readme.txt"), "changed\n");
  assert.deepEqual(third.images.find((i) => i.image === "app")!.stages.map((s) => s.status), ["built", "built"]);
});
