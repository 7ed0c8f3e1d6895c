// Dependencies as build data: argument names, waves in dependency order, bake targets and build.sh of a config
// whose images use ImageID/ImageDigest of other images (Stapel targetEnv and Dockerfile targetBuildArg).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { buildWaves, dependencyArg } from "../../src/emit/dependencies.js";
import { emitProject } from "../../src/emit/index.js";
import { planProject } from "../../src/plan/plan.js";
import { assumedImageConfigResolver } from "../../src/docker/image-config.js";
import { git, tempDir, writeFile } from "../git/gitFixture.js";

test("argument names and waves", () => {
  assert.equal(dependencyArg("images-echo.v2", "ImageDigest"), "STAPEL_DEP_IMAGES_ECHO_2eV2_IMAGE_DIGEST");
  assert.equal(dependencyArg("base", "ImageID"), "STAPEL_DEP_BASE_IMAGE_ID");
  // every slug character set gives its own name: a-b, a_b, a.b and a-5f never collide
  const names = ["a-b", "a_b", "a.b", "a-5f", "a_", "a-2e"].map((t) => dependencyArg(t, "ImageID"));
  assert.equal(new Set(names).size, names.length, names.join(" "));
  const needs = new Map([["app", ["lib"]], ["lib", ["base"]], ["tool", ["base"]], ["base", []], ["other", []]]);
  assert.deepEqual(buildWaves(["app", "lib", "tool", "base", "other"], needs), [["base", "other"], ["lib", "tool"], ["app"]]);
  assert.deepEqual(buildWaves(["a", "b"], new Map()), [["a", "b"]]);
});

test("compile: dependency sources get targets and tags, values are build arguments, build.sh runs in waves", async () => {
  const dir = tempDir("deps-emit");
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", [
    "project: deps",
    "configVersion: 1",
    "---",
    "image: base",
    "final: false",
    "from: alpine",
    "shell: {install: [echo base]}",
    "---",
    "image: web",
    "dockerfile: Dockerfile",
    "dependencies:",
    "- image: base",
    "  imports:",
    "  - {type: ImageDigest, targetBuildArg: BASE_DIGEST}",
    "  - {type: ImageName, targetBuildArg: BASE_NAME}",
    "---",
    "image: app",
    "from: alpine",
    "dependencies:",
    "- image: web",
    "  before: setup",
    "  imports: [{type: ImageID, targetEnv: WEB_ID}, {type: ImageRepo, targetEnv: WEB_REPO}]",
    "shell: {setup: [echo app]}",
    "",
  ].join("\n"));
  writeFile(dir, "Dockerfile", "FROM alpine\nARG BASE_DIGEST\n");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "x");
  const plan = await planProject({ dir, environ: {}, baseImages: assumedImageConfigResolver });
  const out = path.join(dir, ".stapel2docker");
  await emitProject(plan, { out, repo: "registry.example/deps" });
  const bake = JSON.parse(fs.readFileSync(path.join(out, "docker-bake.json"), "utf8"));
  const base = plan.images.find((i) => i.name === "base")!;
  assert.deepEqual(bake.target.base.tags, [`registry.example/deps:base-${base.digest}`], "a final: false dependency is tagged");
  assert.deepEqual(bake.target.web.args, { BASE_DIGEST: "", BASE_NAME: `registry.example/deps:base-${base.digest}` });
  assert.equal(bake.target.app.args.STAPEL_DEP_WEB_IMAGE_ID, "");
  // STAPEL_REPO only for the target whose Dockerfile stages use it (app's ImageRepo)
  assert.equal(bake.target.app.args.STAPEL_REPO, "registry.example/deps");
  assert.equal(bake.target.base.args?.STAPEL_REPO, undefined);
  const dockerfile = fs.readFileSync(path.join(out, "Dockerfile"), "utf8");
  assert.match(dockerfile, /^ARG STAPEL_DEP_WEB_IMAGE_ID$/m);
  assert.match(dockerfile, /^ENV WEB_ID="\$\{STAPEL_DEP_WEB_IMAGE_ID\}"$/m);
  assert.match(dockerfile, /^ENV WEB_REPO="\$\{STAPEL_REPO\}"$/m);
  const sh = fs.readFileSync(path.join(out, "build.sh"), "utf8");
  const bakes = sh.split("\n").filter((l) => l.startsWith("docker buildx bake"));
  assert.equal(bakes.length, 3, "base, then web, then app");
  assert.match(bakes[0]!, / "\$@" base$/);
  assert.match(bakes[1]!, /--set web\.args\.BASE_DIGEST="\$stapel_v1" "\$@" web$/);
  assert.match(bakes[2]!, /--set app\.args\.STAPEL_DEP_WEB_IMAGE_ID="\$stapel_v2" "\$@" app$/);
  assert.match(sh, /^stapel_v1=\$\(stapel_value 1 base containerimage\.digest\)$/m);
  assert.match(sh, /^stapel_v2=\$\(stapel_value 2 web containerimage\.config\.digest\)$/m);
  fs.rmSync(dir, { recursive: true, force: true });
});
