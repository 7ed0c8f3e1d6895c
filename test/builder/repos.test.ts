// --cache-repo, --secondary-repo and --final-repo on the real engine and registry (src/storage/repos.ts).
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { buildProject, formatBuildPlan, planBuild, type BuildOptions, type BuildReport } from "../../src/builder/index.js";
import { RegistryClient } from "../../src/registry/index.js";
import { tempDir, writeFile } from "../git/gitFixture.js";
import { makeProject, sh, stackUp, uniqueRepo } from "./support.js";

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
