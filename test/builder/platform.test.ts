// Multi-platform builds for real (up.sh --hosts): dockerd "c" with the containerd image store builds a Stapel image
// for linux/amd64 and linux/arm64 (arm64 RUNs through qemu-user-static in binfmt_misc), as werf: each platform's
// stages under their own digests and tags, the final tag an index over the platforms; the arm64 image runs and says
// aarch64; an amd64-only build then reuses the amd64 stages. The toolchain is an index of both platforms.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { buildProject, formatBuildPlan, planBuild, type BuildOptions, type BuildReport } from "../../src/builder/index.js";
import { planProject } from "../../src/plan/plan.js";
import { MEDIA_TYPES, RegistryClient } from "../../src/registry/index.js";
import { UserError } from "../../src/diagnostics.js";
import { tempDir } from "../git/gitFixture.js";
import { MULTI_BASE, makeProject, multiPlatformHost, run, uniqueRepo } from "./support.js";
import { repoRoot } from "../support/paths.js";

const BASE = MULTI_BASE;

const work = tempDir("platform");
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
const lockDir = path.join(work, "locks");
let dockerC = "";
let toolchain = "";

before(async () => {
  ({ dockerC, toolchain } = await multiPlatformHost(work));
});

const WERF = (platform: string, salt = "") => `project: multi
configVersion: 1
---
image: app
from: ${BASE}
${platform}
shell:
  install:
  - uname -m > /arch.txt${salt ? ` && true ${salt}` : ""}
  setup:
  - echo "built for $(cat /arch.txt)" > /setup.txt
`;

function build(dir: string, repo: string, more: Partial<BuildOptions> = {}): Promise<BuildReport> {
  return buildProject({ dir, repo, environ: {}, lockDir, docker: dockerC, toolchain, buildOutput: "ignore", log: () => {}, ...more });
}

test("platform: [linux/amd64, linux/arm64]: each platform's stages stored apart, the final tag an index; arm64 runs as aarch64; an amd64-only build builds nothing", async (t) => {
  // (a RUN text of its own: BuildKit's cache of an earlier run does not stand in for the arm64 build)
  const salt = `s${Date.now()}`;
  const p = makeProject(WERF("platform: [linux/amd64, linux/arm64]", salt));
  t.after(() => p.cleanup());
  const repo = uniqueRepo("multi");
  const r = await build(p.dir, repo);
  assert.equal(r.bake, true);
  const client = new RegistryClient();
  const image = r.images.find((i) => i.image === "app")!;
  assert.deepEqual(image.platforms, ["linux/amd64", "linux/arm64"]);
  const final = await client.getManifest(image.tags[0]);
  assert.equal(final.mediaType, MEDIA_TYPES.ociIndex);
  const entries = final.json.manifests as { platform: { architecture: string }; digest: string }[];
  assert.deepEqual(entries.map((m) => m.platform.architecture), ["amd64", "arm64"]);
  // one stage tag per platform and stage, each holding that platform's image only
  const byPlatform = (pl: string) => image.stages.filter((s) => s.platform === pl);
  const amd = byPlatform("linux/amd64");
  const arm = byPlatform("linux/arm64");
  assert.deepEqual(amd.map((s) => s.stage), ["from", "install", "setup"]);
  assert.deepEqual(arm.map((s) => s.stage), ["from", "install", "setup"]);
  for (const [i, s] of amd.entries()) assert.notEqual(s.digest, arm[i].digest, `${s.stage}: a digest per platform`);
  for (const s of image.stages) {
    const m = await client.getManifest(s.tag);
    const archs = m.json.manifests
      ? (m.json.manifests as { platform?: { architecture?: string } }[]).map((x) => x.platform?.architecture).filter((a) => a && a !== "unknown")
      : [JSON.parse((await client.getBlob(repo, m.json.config.digest)).toString("utf8")).architecture];
    assert.deepEqual(archs, [s.platform!.split("/")[1]], `${s.tag} holds ${s.platform} only`);
  }
  // the final index names each platform's last stage image
  const plan = await planProject({ dir: p.dir, environ: {}, platform: ["linux/amd64"] });
  assert.equal(plan.images[0].digest, amd[amd.length - 1].digest, "amd64's digests are those of an amd64-only plan");
  assert.equal((await run("docker", ["run", "--rm", "--pull", "always", "--platform", "linux/arm64", image.tags[0], "uname", "-m"])).trim(), "aarch64");
  assert.equal((await run("docker", ["run", "--rm", "--pull", "always", "--platform", "linux/arm64", image.tags[0], "cat", "/setup.txt"])).trim(), "built for aarch64");
  assert.equal((await run("docker", ["run", "--rm", "--pull", "always", "--platform", "linux/amd64", image.tags[0], "cat", "/setup.txt"])).trim(), "built for x86_64");
  // build --print: each platform's stages, all reused, the final tag listed once
  const printed = await planBuild({ dir: p.dir, repo, environ: {}, toolchain, labelCacheDir: null });
  assert.equal(printed.build.length, 0);
  assert.deepEqual(printed.images.map((i) => [i.image, i.platform, i.stages.map((s) => s.action).join()]), [
    ["app", "linux/amd64", "reuse,reuse,reuse"],
    ["app", "linux/arm64", "reuse,reuse,reuse"],
  ]);
  assert.deepEqual(printed.images.flatMap((i) => i.finalTags), image.tags);
  assert.match(formatBuildPlan(printed), /image app \(linux\/arm64\) [0-9a-f]{56}/);
  // a second build reuses every stage
  const again = await build(p.dir, repo);
  assert.equal(again.bake, false);
  assert.equal(again.built, 0);
  // a tag listing per platform and one for the index, already in place; and the base image's config, read once from
  // the registry (the default daemon, which build asks first, does not have it): its index, manifest and config blob
  assert.equal(again.registryRequests, 6, "a tag listing per platform, one for the index, three for the base image's config");
  assert.deepEqual(again.images[0].tags, image.tags);
  // an amd64-only build (--platform, or no platform at all, as werf: linux/amd64 is not in the digest) builds nothing
  const amd64 = await build(p.dir, repo, { platform: ["linux/amd64"] });
  assert.equal(amd64.bake, false);
  assert.deepEqual(amd64.images[0].stages.map((s) => s.tag), amd.map((s) => s.tag));
  const q = makeProject(WERF("", salt));
  t.after(() => q.cleanup());
  const plain = await build(q.dir, repo);
  assert.equal(plain.bake, false, "a build without platform reuses the amd64 stages");
  assert.deepEqual(plain.images[0].stages.map((s) => s.tag), amd.map((s) => s.tag));
  // an arm64-only build reuses the arm64 stages
  const arm64 = await build(p.dir, repo, { platform: ["linux/arm64"] });
  assert.equal(arm64.bake, false);
  assert.deepEqual(arm64.images[0].stages.map((s) => s.tag), arm.map((s) => s.tag));
});

test("a project of a multi-platform Stapel image, a multi-platform Dockerfile image and one without platform; --final-repo gets the indexes", async (t) => {
  const salt = `m${Date.now()}`;
  const p = makeProject(WERF("platform: [linux/amd64, linux/arm64]", salt) + `---
image: tool
from: ${BASE}
shell:
  install:
  - echo ${salt} > /tool.txt
---
image: web
dockerfile: Dockerfile
platform: [linux/amd64, linux/arm64]
`);
  t.after(() => p.cleanup());
  writeFileSync(path.join(p.dir, "Dockerfile"), `FROM ${BASE}\nRUN uname -m > /df.txt && true ${salt}\n`);
  p.commit("Dockerfile");
  const repo = uniqueRepo("multi");
  const finalRepo = uniqueRepo("multi-final");
  const r = await build(p.dir, repo, { finalRepo });
  const client = new RegistryClient();
  const tool = r.images.find((i) => i.image === "tool")!;
  const app = r.images.find((i) => i.image === "app")!;
  assert.equal(tool.platforms, undefined);
  assert.deepEqual(tool.stages.map((s) => s.platform), [undefined, undefined]);
  assert.ok(tool.tags[0].startsWith(`${finalRepo}:tool-`));
  // (the containerd image store pushes one platform as an index of its image and an attestation)
  const images = ((await client.getManifest(tool.tags[0])).json.manifests ?? [{ platform: { architecture: "amd64" } }]) as { platform: { architecture: string } }[];
  assert.deepEqual(images.map((m) => m.platform.architecture).filter((a) => a !== "unknown"), ["amd64"], "the image without platform: this machine's");
  assert.ok(app.tags[0].startsWith(`${finalRepo}:app-${app.digest}`));
  const index = await client.getManifest(app.tags[0]);
  assert.deepEqual((index.json.manifests as { platform: { architecture: string } }[]).map((m) => m.platform.architecture), ["amd64", "arm64"]);
  // the Dockerfile image: a digest per platform, the final tag an index
  const web = r.images.find((i) => i.image === "web")!;
  assert.deepEqual(web.stages.map((s) => [s.stage, s.platform]), [["dockerfile", "linux/amd64"], ["dockerfile", "linux/arm64"]]);
  assert.notEqual(web.stages[0].digest, web.stages[1].digest);
  const webIndex = await client.getManifest(web.tags[0]);
  assert.deepEqual((webIndex.json.manifests as { platform: { architecture: string } }[]).map((m) => m.platform.architecture), ["amd64", "arm64"]);
  assert.equal((await run("docker", ["run", "--rm", "--pull", "always", "--platform", "linux/arm64", web.tags[0], "cat", "/df.txt"])).trim(), "aarch64");
  assert.equal(r.images.length, 3);
  const again = await build(p.dir, repo, { finalRepo });
  assert.equal(again.bake, false);
  assert.deepEqual(again.images.find((i) => i.image === "app")!.tags, app.tags);
});

test("a multi-platform image built on an image without platform: that image is built for each platform too, and keeps its own final tag", async (t) => {
  const salt = `f${Date.now()}`;
  const p = makeProject(`project: multi
configVersion: 1
---
image: tool
from: ${BASE}
shell:
  install:
  - uname -m > /tool.txt && true ${salt}
---
image: app
fromImage: tool
platform: [linux/amd64, linux/arm64]
shell:
  install:
  - cat /tool.txt > /app.txt
`);
  t.after(() => p.cleanup());
  const repo = uniqueRepo("multi");
  const r = await build(p.dir, repo);
  const tool = r.images.filter((i) => i.image === "tool");
  assert.equal(tool.length, 1, "one entry per image");
  assert.ok(tool[0].tags[0].startsWith(`${repo}:tool-`));
  assert.deepEqual([...new Set(tool[0].stages.map((s) => s.platform ?? "none"))], ["none", "linux/arm64"], "amd64's stages are the ones without platform");
  const app = r.images.find((i) => i.image === "app")!;
  assert.equal((await run("docker", ["run", "--rm", "--pull", "always", "--platform", "linux/arm64", app.tags[0], "cat", "/app.txt"])).trim(), "aarch64");
  assert.equal((await run("docker", ["run", "--rm", "--pull", "always", "--platform", "linux/amd64", app.tags[0], "cat", "/app.txt"])).trim(), "x86_64");
});

test("an image without platform built on a multi-platform image: built on that image's build for its platform (no bake of several platforms)", async (t) => {
  const salt = `x${Date.now()}`;
  const p = makeProject(`project: multi
configVersion: 1
---
image: base
platform: [linux/amd64, linux/arm64]
from: ${BASE}
shell:
  install:
  - uname -m > /base.txt && true ${salt}
---
image: x
fromImage: base
shell:
  install:
  - cat /base.txt > /x.txt
`);
  t.after(() => p.cleanup());
  const repo = uniqueRepo("multi");
  // build --print first: what the build then does
  const printed = await planBuild({ dir: p.dir, repo, environ: {}, toolchain, labelCacheDir: null });
  // the classic docker driver refuses a bake of several platforms: it builds this
  const r = await build(p.dir, repo, { docker: "docker" });
  assert.deepEqual(printed.images.map((i) => [i.image, i.platform ?? "none", i.stages.map((s) => s.digest).join()]), [
    ["x", "none", r.images.find((i) => i.image === "x")!.stages.map((s) => s.digest).join()],
    ...["linux/amd64", "linux/arm64"].map((pl) => ["base", pl, r.images.find((i) => i.image === "base")!.stages.filter((s) => s.platform === pl).map((s) => s.digest).join()]),
  ]);
  const x = r.images.find((i) => i.image === "x")!;
  const base = r.images.find((i) => i.image === "base")!;
  assert.deepEqual(base.platforms, ["linux/amd64", "linux/arm64"]);
  const amd64 = await planProject({ dir: p.dir, environ: {}, platform: ["linux/amd64"] });
  assert.equal(x.digest, amd64.images.find((i) => i.name === "x")!.digest, "x is built on base's amd64 stages");
  assert.equal((await run("docker", ["run", "--rm", "--pull", "always", x.tags[0], "cat", "/x.txt"])).trim(), "x86_64");
  assert.equal(r.images.filter((i) => i.image === "base").length, 1);
  // base's final tag is its index only (not a tag of the amd64 build x needed)
  assert.deepEqual((await new RegistryClient().listTags(repo)).filter((t) => t.startsWith("base-")), [base.tags[0].slice(repo.length + 1)]);
  assert.equal((await new RegistryClient().getManifest(base.tags[0])).mediaType, MEDIA_TYPES.ociIndex);
});

test("cleanup keeps every platform's stages of a kept multi-platform image and deletes an old one's", async (t) => {
  const policy = "cleanup:\n  keepImagesBuiltWithinLastNHours: 0\n  keepPolicies:\n  - references:\n      branch: /.*/\n    imagesPerReference:\n      last: 1\n";
  const salt = `k${Date.now()}`;
  const yaml = (v: string) => WERF("platform: [linux/amd64, linux/arm64]", `${salt}-${v}`).replace("configVersion: 1\n", `configVersion: 1\n${policy}`);
  const p = makeProject(yaml("1"));
  t.after(() => p.cleanup());
  const repo = uniqueRepo("multi");
  const old = await build(p.dir, repo);
  writeFileSync(path.join(p.dir, "werf.yaml"), yaml("2"));
  // (a later commit time than the first commit's, whatever the clock: the policy keeps the newest)
  const later = `${Math.floor(Date.now() / 1000) + 60} +0000`;
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "second"], { cwd: p.dir, env: { ...process.env, GIT_COMMITTER_DATE: later, GIT_AUTHOR_DATE: later } });
  const now = await build(p.dir, repo);
  const cli = path.join(repoRoot, "dist/src/cli/main.js");
  const out = JSON.parse(await run(process.execPath, [cli, "cleanup", "--dir", p.dir, "--repo", repo, "--json", "--dry-run"], { env: { ...process.env, XDG_CACHE_HOME: path.join(work, "cache") } })) as {
    tags: { tag: string; action: string }[];
  };
  const action = new Map(out.tags.map((x) => [x.tag, x.action]));
  const short = (ref: string) => ref.slice(ref.lastIndexOf(":") + 1);
  const kept = [...now.images[0].stages.map((s) => short(s.tag)), short(now.images[0].tags[0])];
  for (const tag of kept) assert.equal(action.get(tag), "keep", `${tag} is kept`);
  const gone = old.images[0].stages.filter((s) => s.stage !== "from").map((s) => short(s.tag));
  assert.equal(gone.length, 4, "install and setup of both platforms");
  for (const tag of gone) assert.equal(action.get(tag), "delete", `${tag} is deleted`);
});

test("dependencies between images of several platforms: each platform's image gets its platform's ImageName and ImageDigest", async (t) => {
  const salt = `d${Date.now()}`;
  const p = makeProject(`project: multi
configVersion: 1
build:
  platform: [linux/amd64, linux/arm64]
---
image: base
final: false
from: ${BASE}
shell:
  install:
  - uname -m > /base.txt && true ${salt}
---
image: app
from: ${BASE}
dependencies:
- image: base
  after: install
  imports:
  - type: ImageName
    targetEnv: BASE_NAME
  - type: ImageDigest
    targetEnv: BASE_DIGEST
shell:
  install:
  - echo app ${salt} > /app.txt
`);
  t.after(() => p.cleanup());
  const repo = uniqueRepo("multi");
  const r = await build(p.dir, repo);
  const app = r.images.find((i) => i.image === "app")!;
  const base = r.images.find((i) => i.image === "base")!;
  const client = new RegistryClient();
  for (const platform of ["linux/amd64", "linux/arm64"]) {
    const { config } = await client.getImageConfig(app.tags[0], platform);
    const env = Object.fromEntries((config.config.Env as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
    const baseLast = base.stages.filter((s) => s.platform === platform).pop()!;
    assert.equal(env.BASE_NAME, `${repo}:base-${baseLast.digest}`, `${platform}: ImageName names this platform's base`);
    const named = await client.getImageConfig(env.BASE_NAME, platform);
    assert.equal(named.config.architecture, platform.split("/")[1]);
    // (the digest of what the tag holds: with the containerd store, an index of the one image and its attestation)
    assert.equal(env.BASE_DIGEST, (await client.getManifest(env.BASE_NAME)).digest, `${platform}: ImageDigest is the named image's`);
    assert.equal(env.BASE_DIGEST, (await client.getManifest(baseLast.tag)).digest);
  }
});

test("the platform is part of each platform's digest: --platform, werf.yaml platform and meta build.platform; linux/amd64 leaves digests as they were", async (t) => {
  const a = makeProject(WERF("platform: [linux/amd64, linux/arm64]"));
  const b = makeProject(WERF("").replace("configVersion: 1\n", "configVersion: 1\nbuild:\n  platform: [linux/amd64, linux/arm64]\n"));
  const c = makeProject(WERF(""));
  t.after(() => (a.cleanup(), b.cleanup(), c.cleanup()));
  const digest = async (dir: string, platform?: string[]) => (await planProject({ dir, environ: {}, ...(platform ? { platform } : {}) })).images[0].digest;
  const none = await digest(c.dir);
  assert.equal(await digest(c.dir, ["linux/amd64"]), none, "linux/amd64 is not in the digest (werf)");
  assert.equal(await digest(a.dir, ["linux/amd64"]), none);
  const arm = await digest(c.dir, ["linux/arm64"]);
  assert.notEqual(arm, none);
  assert.equal(await digest(a.dir, ["linux/arm64"]), arm, "--platform overrides werf.yaml's");
  assert.equal(await digest(b.dir, ["linux/arm64"]), arm);
  assert.equal((await planProject({ dir: a.dir, environ: {}, platform: ["linux/arm64"] })).images[0].platform.join(), "linux/arm64");
  // per-platform plans of a multi-platform image, and its name over them
  const { attachPerPlatform, planPerPlatform, multiPlatformDigest } = await import("../../src/plan/platforms.js");
  for (const dir of [a.dir, b.dir]) {
    const plan = await planProject({ dir, environ: {} });
    attachPerPlatform(plan, await planPerPlatform({ dir, environ: {} }, plan, planProject));
    const pp = plan.images[0].perPlatform!;
    assert.deepEqual(pp.platforms.map((x) => [x.platform, x.digest]), [["linux/amd64", none], ["linux/arm64", arm]]);
    assert.equal(pp.digest, multiPlatformDigest([{ platform: "linux/arm64", digest: arm }, { platform: "linux/amd64", digest: none }]));
  }
});

test("the classic docker driver builds each platform in a bake of its own; no arm64 toolchain: says how to push one, before building", async (t) => {
  const p = makeProject(WERF("platform: [linux/amd64, linux/arm64]", `c${Date.now()}`));
  t.after(() => p.cleanup());
  const repo = uniqueRepo("multi");
  // (werf builds per platform too: the classic driver's refusal of several platforms in one bake does not apply)
  const lines: string[] = [];
  const r = await build(p.dir, repo, { docker: "docker", log: (l) => lines.push(l) });
  const index = await new RegistryClient().getManifest(r.images[0].tags[0]);
  assert.deepEqual((index.json.manifests as { platform: { architecture: string } }[]).map((m) => m.platform.architecture), ["amd64", "arm64"]);
  assert.equal(lines.filter((l) => l.startsWith("warning:")).length, lines.filter((l) => l.includes("warning:")).length, "the plan's warnings said once");
  const q = makeProject(WERF("platform: [linux/amd64, linux/arm64]", `n${Date.now()}`));
  t.after(() => q.cleanup());
  const before = (await new RegistryClient().listTags(repo).catch(() => [])).length;
  await assert.rejects(build(q.dir, repo, { toolchain: undefined }), (e: unknown) => e instanceof UserError && /toolchain --push REPO --also DIR/.test(e.message));
  assert.equal((await new RegistryClient().listTags(repo)).length, before, "nothing built or pushed");
});
