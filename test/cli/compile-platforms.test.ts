// compile of images of several platforms (src/emit/platforms.ts) without an engine: the files carry each platform's
// digests (those of `plan --json`'s perPlatform, what build stores), the final tag is named over them, a stage picks
// the platform being built, and the output is the same on every run. (Built for real: test/builder/platform-compile.)
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "../support/paths.js";

const cli = path.join(repoRoot, "dist", "src", "cli", "main.js");
const TOOLCHAIN = `127.0.0.1:5000/tc@sha256:${"ab".repeat(32)}`;

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), XDG_CACHE_HOME: process.env.XDG_CACHE_HOME ?? os.tmpdir(), STAPEL2DOCKER_CACHE: "off" } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const made: string[] = [];
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function project(werf: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "s2d-compile-platforms-"));
  made.push(dir);
  fs.writeFileSync(path.join(dir, "werf.yaml"), werf);
  return dir;
}

interface Target { target?: string; tags: string[]; platforms?: string[]; contexts?: Record<string, string> }

test("compile: an image of several platforms gets each platform's stages, stage tags and an index named over them; the other images their stage tags", () => {
  const dir = project(`project: p
configVersion: 1
---
image: app
from: scratch
platform: [linux/amd64, linux/arm64]
shell:
  install:
  - echo hi
---
image: tool
fromImage: app
shell:
  install:
  - echo tool
`);
  const plan = JSON.parse(run(["plan", "--json", "--dir", dir, "--toolchain", TOOLCHAIN]));
  const app = plan.images.find((i: { name: string }) => i.name === "app");
  const tool = plan.images.find((i: { name: string }) => i.name === "tool");
  const out = path.join(dir, ".stapel2docker");
  const files = ["Dockerfile", "docker-bake.json", "build.sh"];
  run(["compile", "--dir", dir, "--repo", "r.example/p", "--toolchain", TOOLCHAIN]);
  const first = files.map((f) => fs.readFileSync(path.join(out, f), "utf8"));
  run(["compile", "--dir", dir, "--repo", "r.example/p", "--toolchain", TOOLCHAIN]);
  for (const [i, f] of files.entries()) assert.equal(fs.readFileSync(path.join(out, f), "utf8"), first[i], `${f} is deterministic`);
  const bake = JSON.parse(fs.readFileSync(path.join(out, "docker-bake.json"), "utf8")) as { variable: Record<string, unknown>; target: Record<string, Target>; group: { default: { targets: string[] } } };
  assert.deepEqual(bake.variable, { STAPEL_STAGE_MS: { default: "" } });
  // the final image: an index over both platforms, named as build names it
  assert.deepEqual(bake.target.app.tags, [`r.example/p:app-${app.perPlatform.digest}`]);
  assert.deepEqual(bake.target.app.platforms, ["linux/amd64", "linux/arm64"]);
  // every stage of each platform: its own target, its platform, its stage tag
  for (const p of app.perPlatform.platforms as { platform: string; stages: { name: string; digest: string }[] }[]) {
    for (const s of p.stages) {
      const name = `app--${s.name.toLowerCase()}--${p.platform.replace("/", "-")}`;
      assert.deepEqual(bake.target[name]?.tags, [`r.example/p:${s.digest}-\${STAPEL_STAGE_MS}`], name);
      assert.deepEqual(bake.target[name].platforms, [p.platform]);
      assert.ok(bake.group.default.targets.includes(name));
    }
  }
  // the image without platform is built on amd64's stages (its plan's digests) and pushed with its stage tags too
  assert.deepEqual(bake.target.tool.tags, [`r.example/p:tool-${tool.digest}`]);
  for (const s of tool.stages as { target: string; digest: string }[]) assert.deepEqual(bake.target[s.target].tags, [`r.example/p:${s.digest}-\${STAPEL_STAGE_MS}`]);
  const dockerfile = fs.readFileSync(path.join(out, "Dockerfile"), "utf8");
  const amd = app.perPlatform.platforms[0].stages.at(-1).digest as string;
  const arm = app.perPlatform.platforms[1].stages.at(-1).digest as string;
  assert.match(dockerfile, new RegExp(`"io.stapel2docker.stage-digest"="${amd}"`));
  assert.match(dockerfile, new RegExp(`"io.stapel2docker.stage-digest"="${arm}"`));
  assert.doesNotMatch(dockerfile, new RegExp(app.digest), "no digest over the platform list");
  assert.match(dockerfile, /^FROM app--install--\$\{TARGETOS\}-\$\{TARGETARCH\}\$\{TARGETVARIANT:\+-\$\{TARGETVARIANT\}\} AS app--install$/m);
  assert.match(dockerfile, /^FROM app--install AS tool--from$/m);
  const buildSh = fs.readFileSync(path.join(out, "build.sh"), "utf8");
  assert.match(buildSh, /STAPEL_STAGE_MS=\$\(date \+%s%3N\)/);
  assert.match(buildSh, /^export STAPEL_STAGE_MS$/m);
});

test("compile: a project without images of several platforms writes no stage targets and no variable", () => {
  const dir = project(`project: p
configVersion: 1
---
image: app
from: scratch
platform: [linux/arm64]
shell:
  install:
  - echo hi
`);
  run(["compile", "--dir", dir, "--repo", "r.example/p", "--toolchain", TOOLCHAIN]);
  const bake = JSON.parse(fs.readFileSync(path.join(dir, ".stapel2docker", "docker-bake.json"), "utf8"));
  assert.equal(bake.variable, undefined);
  assert.deepEqual(Object.keys(bake.target), ["app"]);
  assert.doesNotMatch(fs.readFileSync(path.join(dir, ".stapel2docker", "build.sh"), "utf8"), /STAPEL_STAGE_MS/);
});

test("compile: a dependency between images of several platforms: each platform's ImageName, and that tag pushed; ImageID is refused at its position", () => {
  const werf = (imports: string) => `project: p
configVersion: 1
---
image: base
from: scratch
platform: [linux/amd64, linux/arm64]
shell:
  install:
  - echo base
---
image: app
from: scratch
platform: [linux/amd64, linux/arm64]
dependencies:
- image: base
  before: install
  imports:
${imports}shell:
  install:
  - echo app
`;
  const dir = project(werf("  - type: ImageName\n    targetEnv: BASE_NAME\n"));
  const plan = JSON.parse(run(["plan", "--json", "--dir", dir, "--toolchain", TOOLCHAIN]));
  run(["compile", "--dir", dir, "--repo", "r.example/p", "--toolchain", TOOLCHAIN]);
  const out = path.join(dir, ".stapel2docker");
  const bake = JSON.parse(fs.readFileSync(path.join(out, "docker-bake.json"), "utf8")) as { target: Record<string, Target> };
  const dockerfile = fs.readFileSync(path.join(out, "Dockerfile"), "utf8");
  const base = plan.images.find((i: { name: string }) => i.name === "base");
  for (const p of base.perPlatform.platforms as { platform: string; digest: string }[]) {
    assert.match(dockerfile, new RegExp(`^ENV BASE_NAME="\\$\\{STAPEL_REPO\\}:base-${p.digest}"$`, "m"), p.platform);
    assert.ok(bake.target[`base--install--${p.platform.replace("/", "-")}`].tags.includes(`r.example/p:base-${p.digest}`), `${p.platform}: the tag ImageName names is pushed`);
  }
  // equal digests (both images' `from scratch` stage of a platform) are pushed by one target: a tag is never pushed twice
  const tags = Object.values(bake.target).flatMap((t) => t.tags);
  assert.equal(new Set(tags).size, tags.length, "each tag pushed once");
  assert.ok(bake.target["base--from--linux-arm64"] && !bake.target["app--from--linux-arm64"]);
  const refused = project(werf("  - type: ImageID\n    targetEnv: BASE_ID\n"));
  const r = spawnSync(process.execPath, [cli, "compile", "--dir", refused, "--toolchain", TOOLCHAIN], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), XDG_CACHE_HOME: process.env.XDG_CACHE_HOME ?? os.tmpdir(), STAPEL2DOCKER_CACHE: "off" } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^werf\.yaml:15:3: image app is built for several platforms \(linux\/amd64, linux\/arm64\) and uses ImageID of image base: compile cannot pass each platform's value$/m);
  assert.match(r.stderr, /stapel2docker build/);
  assert.equal(fs.existsSync(path.join(refused, ".stapel2docker")), false, "nothing written");
  // validate says it at the same position, as a warning (build takes it), and exits 0
  const v = spawnSync(process.execPath, [cli, "validate", "--dir", refused], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), XDG_CACHE_HOME: process.env.XDG_CACHE_HOME ?? os.tmpdir(), STAPEL2DOCKER_CACHE: "off" } });
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stderr, /^warning: werf\.yaml:15:3: image app is built for several platforms \(linux\/amd64, linux\/arm64\) and uses ImageID of image base: compile cannot pass each platform's value \(build can\)$/m);
  // ImageName only: nothing to say
  assert.doesNotMatch(spawnSync(process.execPath, [cli, "validate", "--dir", dir], { encoding: "utf8" }).stderr, /several platforms/);
});

test("the per-platform build stage names follow BuildKit's normalized platform (what TARGETOS/TARGETARCH/TARGETVARIANT pick)", async () => {
  const { platformStageName } = await import("../../src/bake/write.js");
  assert.deepEqual(
    ["linux/amd64", "linux/arm64", "linux/arm64/v8", "linux/arm", "linux/arm/v6", "linux/amd64/v1", "linux/amd64/v3", "linux/s390x"].map((p) => platformStageName("a--setup", p)),
    ["a--setup--linux-amd64", "a--setup--linux-arm64", "a--setup--linux-arm64", "a--setup--linux-arm-v7", "a--setup--linux-arm-v6", "a--setup--linux-amd64", "a--setup--linux-amd64-v3", "a--setup--linux-s390x"],
  );
});
