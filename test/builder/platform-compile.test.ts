// compile of a project with an image of several platforms, built for real by its build.sh (`docker buildx bake
// --push`) on dockerd "c" (up.sh --hosts: containerd image store, arm64 through qemu): it pushes each platform's
// stages under the stage tags `build` looks up (each platform's own digests, src/emit/platforms.ts) and the final tag
// as an index over the platforms, so a `stapel2docker build` of the same commit afterwards builds nothing.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { buildProject } from "../../src/builder/index.js";
import { planProject } from "../../src/plan/plan.js";
import { attachPerPlatform, planPerPlatform } from "../../src/plan/platforms.js";
import { indexStageTags } from "../../src/storage/tags.js";
import { MEDIA_TYPES, RegistryClient } from "../../src/registry/index.js";
import { tempDir } from "../git/gitFixture.js";
import { HOST_C, MULTI_BASE, makeProject, multiPlatformHost, run, uniqueRepo } from "./support.js";
import { repoRoot } from "../support/paths.js";

const BASE = MULTI_BASE;
const cli = path.join(repoRoot, "dist", "src", "cli", "main.js");

const work = tempDir("platform-compile");
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
let dockerC = "";
let toolchain = "";

/** One image for amd64 and arm64 (a RUN text of its own per test: BuildKit's cache does not stand in for a build). */
const twoPlatformApp = (salt: string) => `project: multi
configVersion: 1
---
image: app
from: ${BASE}
platform: [linux/amd64, linux/arm64]
shell:
  install:
  - uname -m > /arch.txt && true ${salt}
`;

before(async () => {
  ({ dockerC, toolchain } = await multiPlatformHost(work));
});

test("compile of an amd64+arm64 image: build.sh --push stores each platform's stages under build's tags, the final tag an index; build then builds nothing", async (t) => {
  const salt = `c${Date.now()}`;
  const p = makeProject(`project: multi
configVersion: 1
---
image: app
from: ${BASE}
platform: [linux/amd64, linux/arm64]
shell:
  install:
  - uname -m > /arch.txt && true ${salt}
  setup:
  - echo "built for $(cat /arch.txt)" > /setup.txt
---
image: tool
fromImage: app
shell:
  install:
  - cat /setup.txt > /tool.txt
---
image: web
dockerfile: Dockerfile
platform: [linux/amd64, linux/arm64]
`);
  t.after(() => p.cleanup());
  writeFileSync(path.join(p.dir, "Dockerfile"), `FROM ${BASE}\nRUN uname -m > /df.txt && true ${salt}\n`);
  p.commit("Dockerfile");
  const repo = uniqueRepo("multi-compile");
  await run(process.execPath, [cli, "compile", "--dir", p.dir, "--repo", repo, "--toolchain", toolchain], { env: { ...process.env, STAPEL2DOCKER_CACHE: "off" } });
  const out = path.join(p.dir, ".stapel2docker");
  const dockerfile = readFileSync(path.join(out, "Dockerfile"), "utf8");
  assert.match(dockerfile, /^FROM app--setup--\$\{TARGETOS\}-\$\{TARGETARCH\}\$\{TARGETVARIANT:\+-\$\{TARGETVARIANT\}\} AS app--setup$/m);
  // The Debian docker-registry (2.8) writes a tag's link file in place: a HEAD of a tag while it is being written may
  // be answered 500 ("invalid checksum digest format" in the registry's log; seen once in a full run, under load).
  // build.sh is then run once more for that answer only, with the same stage time: the same tags, pushed again.
  const env = { ...process.env, DOCKER_HOST: HOST_C, STAPEL_STAGE_MS: String(Date.now()) };
  try {
    await run(path.join(out, "build.sh"), ["--push"], { cwd: p.dir, env });
  } catch (e) {
    if (!/unexpected status from HEAD request to \S+: 500 Internal Server Error/.test(String(e))) throw e;
    await run(path.join(out, "build.sh"), ["--push"], { cwd: p.dir, env });
  }

  // the stage tags: every stage of each platform (and of the image without platform) under its own digest
  const plan = await planProject({ dir: p.dir, environ: {} });
  const planned = await planPerPlatform({ dir: p.dir, environ: {} }, plan, planProject);
  attachPerPlatform(plan, planned);
  const client = new RegistryClient();
  const stored = indexStageTags(await client.listTags(repo));
  const app = plan.images.find((i) => i.name === "app")!;
  for (const pl of app.perPlatform!.platforms) {
    for (const s of pl.stages) assert.equal(stored.get(s.digest)?.length, 1, `${pl.platform} ${s.name} is stored once under its digest`);
  }
  // each platform's stage holds that platform's image, labelled with that platform's digest
  for (const pl of app.perPlatform!.platforms) {
    const last = pl.stages[pl.stages.length - 1];
    const { config } = await client.getImageConfig(`${repo}:${stored.get(last.digest)![0].tag}`, pl.platform);
    const c = config as { architecture: string; config: { Labels: Record<string, string> } };
    assert.equal(c.architecture, pl.platform.split("/")[1]);
    assert.equal(c.config.Labels["io.stapel2docker.stage-digest"], last.digest);
  }
  // the final tag is named over the platforms' digests and is an index of both
  const final = await client.getManifest(`${repo}:app-${app.perPlatform!.digest}`);
  assert.equal(final.mediaType, MEDIA_TYPES.ociIndex);
  const archs = (final.json.manifests as { platform: { architecture: string } }[]).map((m) => m.platform.architecture).filter((a) => a !== "unknown");
  assert.deepEqual(archs.sort(), ["amd64", "arm64"]);
  assert.equal((await run("docker", ["run", "--rm", "--pull", "always", "--platform", "linux/arm64", `${repo}:app-${app.perPlatform!.digest}`, "cat", "/setup.txt"])).trim(), "built for aarch64");

  // build of the same commit: every stage found, nothing built
  const r = await buildProject({ dir: p.dir, repo, environ: {}, docker: dockerC, toolchain, buildOutput: "ignore", log: () => {}, lockDir: path.join(work, "locks") });
  assert.equal(r.bake, false);
  assert.equal(r.built, 0);
  const built = r.images.find((i) => i.image === "app")!;
  assert.deepEqual(built.tags, [`${repo}:app-${app.perPlatform!.digest}`]);
  assert.ok(built.stages.every((s) => s.status === "reused"));
  assert.ok(r.images.find((i) => i.image === "tool")!.stages.every((s) => s.status === "reused"), "the image without platform: its stages too");
  // the Dockerfile image: each platform's build stored under its digest, the final tag an index named over them
  const web = plan.dockerfileImages.find((d) => d.image.name === "web")!;
  const webBuilt = r.images.find((i) => i.image === "web")!;
  assert.deepEqual(webBuilt.stages.map((s) => [s.platform, s.status]), [["linux/amd64", "reused"], ["linux/arm64", "reused"]]);
  assert.deepEqual(webBuilt.tags, [`${repo}:web-${web.perPlatform!.digest}`]);
  assert.equal((await run("docker", ["run", "--rm", "--pull", "always", "--platform", "linux/arm64", webBuilt.tags[0], "cat", "/df.txt"])).trim(), "aarch64");
});

test("a no-op build of an amd64+arm64 image takes the no-op fast path: one tag listing after a full no-op build (werf.yaml platform, then --platform)", async (t) => {
  const salt = `n${Date.now()}`;
  const p = makeProject(twoPlatformApp(salt));
  t.after(() => p.cleanup());
  const repo = uniqueRepo("multi-noop");
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: HOST_C, XDG_CACHE_HOME: path.join(work, `cache-${salt}`), STAPEL2DOCKER_LOCK_DIR: path.join(work, "locks") };
  delete env.STAPEL2DOCKER_NO_NOOP_CACHE;
  const build = async (...more: string[]) => {
    const r = spawnSync(process.execPath, [cli, "build", "--dir", p.dir, "--repo", repo, "--toolchain", toolchain, ...more], { encoding: "utf8", env });
    assert.equal(r.status, 0, r.stderr);
    const m = /(\d+) stage\(s\) built, (\d+) reused, (\d+) registry request\(s\)/.exec(r.stdout);
    assert.ok(m, r.stdout);
    return { fast: /nothing changed since the last build on this host/.test(r.stderr), built: Number(m[1]), requests: Number(m[3]), stdout: r.stdout };
  };
  const first = await build();
  assert.equal(first.built, 4, "two stages per platform");
  const full = await build();
  assert.deepEqual([full.fast, full.built], [false, 0], "a full no-op build writes the entry");
  const fast = await build();
  assert.deepEqual([fast.fast, fast.built, fast.requests], [true, 0, 1], "one tag listing");
  // the same table: every platform's stages, the index's final tag
  const rows = (out: string) => out.split("\n").filter((l) => !/registry request/.test(l)).map((l) => l.replace(/\s+\d+\.\d{3}\s+/, " "));
  assert.deepEqual(rows(fast.stdout), rows(full.stdout));
  // --platform is part of the entry's key: a build of one platform is a build of its own, then fast too
  const amd = await build("--platform", "linux/amd64");
  assert.deepEqual([amd.fast, amd.built], [false, 0]);
  await build("--platform", "linux/amd64");
  const amdFast = await build("--platform", "linux/amd64");
  assert.deepEqual([amdFast.fast, amdFast.requests], [true, 1]);
  // a stage tag of another build of the same digest appears: no longer proved, the full build runs
  const client = new RegistryClient();
  const stored = indexStageTags(await client.listTags(repo));
  const [digest, [one]] = [...stored][0];
  await client.copyTag(`${repo}:${one.tag}`, `${repo}:${digest}-${one.ms - 1}`);
  const after = await build();
  assert.equal(after.fast, false, "the listing disagrees with the entry");
});

test("--final-repo in another registry (127.0.0.1:5001) for an image of several platforms: the index copied there with imagetools, each platform runs from there", async (t) => {
  const salt = `r${Date.now()}`;
  const p = makeProject(twoPlatformApp(salt));
  t.after(() => p.cleanup());
  const repo = uniqueRepo("multi-stages");
  const finalRepo = uniqueRepo("multi-final").replace("127.0.0.1:5000/", "127.0.0.1:5001/");
  const r = await buildProject({ dir: p.dir, repo, finalRepo, addTags: ["latest"], environ: {}, docker: dockerC, toolchain, buildOutput: "ignore", log: () => {}, lockDir: path.join(work, "locks") });
  const app = r.images[0];
  assert.deepEqual(app.tags, [`${finalRepo}:app-${app.digest}`, `${finalRepo}:latest`]);
  const client = new RegistryClient();
  assert.deepEqual(await client.listTags(finalRepo), [`app-${app.digest}`, "latest"].sort());
  for (const tag of app.tags) {
    const index = await client.getManifest(tag);
    assert.equal(index.mediaType, MEDIA_TYPES.ociIndex, tag);
    assert.deepEqual((index.json.manifests as { platform: { architecture: string } }[]).map((m) => m.platform.architecture), ["amd64", "arm64"], tag);
  }
  assert.ok(!(await client.listTags(repo)).includes("latest"), "no final tag with the stages");
  assert.equal((await run("docker", ["run", "--rm", "--pull", "always", "--platform", "linux/arm64", `${finalRepo}:latest`, "cat", "/arch.txt"])).trim(), "aarch64");
  assert.equal((await run("docker", ["run", "--rm", "--pull", "always", "--platform", "linux/amd64", `${finalRepo}:latest`, "cat", "/arch.txt"])).trim(), "x86_64");
});
