// --cache-repo, --secondary-repo and --final-repo on the real engine and registry (src/storage/repos.ts).
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { buildProject, formatBuildPlan, planBuild, type BuildOptions, type BuildReport } from "../../src/builder/index.js";
import { RegistryClient } from "../../src/registry/index.js";
import { tempDir, writeFile } from "../git/gitFixture.js";
import { dockerRecorder, makeProject, sh, stackUp, uniqueRepo } from "./support.js";

before(async () => {
  await stackUp();
});

const lockDir = tempDir("repos-locks");
process.on("exit", () => rmSync(lockDir, { recursive: true, force: true }));
const client = new RegistryClient();

function build(dir: string, repo: string, more: Partial<BuildOptions> = {}): Promise<BuildReport> {
  return buildProject({ dir, repo, environ: {}, lockDir, buildOutput: "ignore", log: () => {}, ...more });
}
const stageTagsOf = (r: BuildReport) => r.images[0].stages.map((s) => s.tag.split(":").pop()!);
const stageTags = (tags: string[]) => tags.filter((t) => /^[0-9a-f]{56}-\d+$/.test(t));

test("--final-repo: the final tags go there, the stages stay in --repo", async (t) => {
  const p = makeProject();
  t.after(() => p.cleanup());
  const repo = uniqueRepo("stages");
  const finalRepo = uniqueRepo("final");
  const r = await build(p.dir, repo, { finalRepo, addTags: ["latest"] });
  assert.deepEqual(r.images[0].tags, [`${finalRepo}:app-${r.images[0].digest}`, `${finalRepo}:latest`]);
  const inFinal = await client.listTags(finalRepo);
  assert.deepEqual(inFinal, [`app-${r.images[0].digest}`, "latest"].sort());
  const inRepo = await client.listTags(repo);
  assert.ok(!inRepo.includes("latest") && !inRepo.includes(`app-${r.images[0].digest}`), "no final tag in --repo");
  assert.deepEqual(stageTags(inRepo).sort(), [...new Set(stageTagsOf(r))].sort());
  assert.equal(await sh(`${finalRepo}:latest`, "cat /app/deps/list.txt"), "dep-1\n");
});

test("--final-repo in another registry (the stack's second one, 127.0.0.1:5001): the final tags copied there with imagetools, the stages stay in --repo", async (t) => {
  const p = makeProject();
  t.after(() => p.cleanup());
  const repo = uniqueRepo("stages");
  const finalRepo = uniqueRepo("final").replace("127.0.0.1:5000/", "127.0.0.1:5001/");
  const docker = dockerRecorder();
  t.after(() => docker.cleanup());
  const r = await build(p.dir, repo, { finalRepo, addTags: ["latest"], docker: docker.docker });
  const digest = r.images[0].digest;
  assert.deepEqual(r.images[0].tags, [`${finalRepo}:app-${digest}`, `${finalRepo}:latest`]);
  assert.deepEqual(await client.listTags(finalRepo), [`app-${digest}`, "latest"].sort());
  assert.ok(r.images[0].stages.every((s) => s.tag.startsWith(`${repo}:`)), "the stages in --repo");
  const inRepo = await client.listTags(repo);
  assert.deepEqual(stageTags(inRepo).sort(), [...new Set(stageTagsOf(r))].sort(), "no final tag in --repo");
  assert.deepEqual(await client.listTags(finalRepo.replace("127.0.0.1:5001/", "127.0.0.1:5000/")), [], "nothing in the first registry's path of that name");
  // copied between registries by `docker buildx imagetools create`, once: the other tag is copied from there inside
  // that registry (two imagetools copies into one repository at once race on its blobs)
  const copies = docker.calls().filter((c) => c.startsWith("buildx imagetools create"));
  assert.deepEqual(copies, [`buildx imagetools create --tag ${finalRepo}:app-${digest} ${r.images[0].stages.at(-1)!.tag}`], docker.calls().join("\n"));
  // the same image: its config and layers (the last stage's), and it runs from the other registry
  const last = r.images[0].stages[r.images[0].stages.length - 1].tag;
  assert.equal((await client.getImageConfig(`${finalRepo}:latest`)).digest, (await client.getImageConfig(last)).digest);
  assert.equal(await sh(`${finalRepo}:latest`, "cat /app/deps/list.txt"), "dep-1\n");
  // a second build: nothing built, the final tags in place
  const again = await build(p.dir, repo, { finalRepo, addTags: ["latest"] });
  assert.equal(again.bake, false);
  assert.deepEqual(again.images[0].tags, r.images[0].tags);
  assert.deepEqual(await client.listTags(finalRepo), [`app-${digest}`, "latest"].sort());
});

test("--secondary-repo: stages --repo lacks are copied from it, nothing is built, the secondary repo is left as it was", async (t) => {
  const p = makeProject();
  t.after(() => p.cleanup());
  const secondary = uniqueRepo("secondary");
  const first = await build(p.dir, secondary);
  const before = await client.listTags(secondary);
  const repo = uniqueRepo("primary");
  // build --print says what the build will do: every stage reused, copied from the secondary repo (git stages
  // chosen by the labels read there); it copies nothing
  const printed = await planBuild({ dir: p.dir, repo, environ: {}, secondaryRepos: [secondary], labelCacheDir: null });
  assert.deepEqual(printed.build, []);
  assert.deepEqual(printed.secondaryRepos, [secondary]);
  assert.deepEqual(printed.images[0].stages.map((s) => [s.action, s.tag, s.copiedFrom]), first.images[0].stages.map((s) => ["reuse", `${repo}:${s.tag.split(":").pop()}`, secondary]));
  assert.match(formatBuildPlan(printed), new RegExp(`reuse ${repo}:[0-9a-f]{56}-\\d+ \\(copied from ${secondary}\\)`));
  assert.deepEqual(await client.listTags(repo), [], "--print copies nothing");
  const r = await build(p.dir, repo, { secondaryRepos: [secondary] });
  assert.equal(r.bake, false, "nothing built");
  assert.ok(r.images[0].stages.every((s) => s.status === "reused"));
  assert.deepEqual(stageTagsOf(r), stageTagsOf(first), "the same stage tags, now in --repo");
  const inRepo = await client.listTags(repo);
  for (const tag of stageTagsOf(r)) assert.ok(inRepo.includes(tag), `${tag} copied into --repo`);
  assert.deepEqual(await client.listTags(secondary), before, "the secondary repo is read only");
  assert.equal(await sh(r.images[0].tags[0], "cat /before-setup-saw.txt"), "dep-1\n");
});

test("--cache-repo: built stages are copied into it; a build with an empty --repo takes them from it", async (t) => {
  const p = makeProject();
  t.after(() => p.cleanup());
  const cache = uniqueRepo("cache");
  const repo1 = uniqueRepo("primary1");
  const first = await build(p.dir, repo1, { cacheRepos: [cache] });
  assert.ok(first.bake);
  const inCache = await client.listTags(cache);
  for (const tag of stageTagsOf(first)) assert.ok(inCache.includes(tag), `${tag} in the cache repo`);
  assert.equal(inCache.filter((x) => x.startsWith("app-")).length, 0, "no final tag in the cache repo");

  // another primary repo (another project copy, another region): everything comes from the cache
  const repo2 = uniqueRepo("primary2");
  const second = await build(p.dir, repo2, { cacheRepos: [cache] });
  assert.equal(second.bake, false);
  assert.deepEqual(stageTagsOf(second), stageTagsOf(first));

  // a stage of the primary repo that the cache lacks is copied into the cache when used
  writeFile(p.dir, "src/deps/list.txt", "dep-2\n");
  p.commit("masked edit");
  const third = await build(p.dir, repo1);
  const cache2 = uniqueRepo("cache2");
  const fourth = await build(p.dir, repo1, { cacheRepos: [cache2] });
  assert.equal(fourth.bake, false);
  const inCache2 = await client.listTags(cache2);
  for (const tag of stageTagsOf(third)) assert.ok(inCache2.includes(tag), `${tag} filled into the new cache repo`);
});

test("--cache-repo: the builder pulls the stored stages it builds on from the cache repo", async (t) => {
  const p = makeProject();
  t.after(() => p.cleanup());
  const repo = uniqueRepo("primary");
  const cache = uniqueRepo("cache");
  const first = await build(p.dir, repo);
  writeFile(p.dir, "src/deps/list.txt", "dep-2\n");
  p.commit("masked edit");
  let out = "";
  const second = await build(p.dir, repo, { cacheRepos: [cache], buildOutput: (b) => void (out += b.toString("utf8")) });
  assert.deepEqual(second.images[0].stages.filter((s) => s.status === "built").map((s) => s.stage), ["beforeSetup", "setup"]);
  const install = first.images[0].stages.find((s) => s.stage === "install")!.tag.split(":").pop()!;
  assert.match(out, new RegExp(`load metadata for ${cache.replace(/[.]/g, "\\.")}:${install}`), "FROM the cache repo");
  assert.doesNotMatch(out, new RegExp(`load metadata for ${repo.replace(/[.]/g, "\\.")}:`), "nothing pulled from --repo");
});

test("--cache-repo in another registry (127.0.0.1:5001): filled with imagetools after the build; an empty --repo takes every stage from it, nothing built", async (t) => {
  const p = makeProject();
  t.after(() => p.cleanup());
  const cache = uniqueRepo("cache").replace("127.0.0.1:5000/", "127.0.0.1:5001/");
  const first = await build(p.dir, uniqueRepo("primary1"), { cacheRepos: [cache] });
  assert.ok(first.bake);
  const inCache = await client.listTags(cache);
  for (const tag of stageTagsOf(first)) assert.ok(inCache.includes(tag), `${tag} in the cache repo of the other registry`);
  const repo2 = uniqueRepo("primary2");
  const docker = dockerRecorder();
  t.after(() => docker.cleanup());
  const second = await build(p.dir, repo2, { cacheRepos: [cache], docker: docker.docker });
  assert.equal(second.bake, false);
  assert.deepEqual(stageTagsOf(second), stageTagsOf(first));
  const inRepo2 = await client.listTags(repo2);
  for (const tag of stageTagsOf(second)) assert.ok(inRepo2.includes(tag), `${tag} copied into --repo`);
  assert.ok(docker.calls().some((c) => c.startsWith(`buildx imagetools create --tag ${repo2}:`)), "copied across registries by imagetools");
  assert.equal(await sh(second.images[0].tags[0], "cat /app/deps/list.txt"), "dep-1\n");
});
