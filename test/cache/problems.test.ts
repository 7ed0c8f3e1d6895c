// planProblems through the persistent cache: a plan without problems is checked once per plan JSON; a plan with
// problems is checked (and refused, with the same messages) every time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { planProject } from "../../src/plan/plan.js";
import { CacheStore } from "../../src/cache/store.js";
import { problemsCounts } from "../../src/cache/problems.js";
import type { BaseImageResolver } from "../../src/plan/model.js";
import { commitAll, git, tempDir, writeFile } from "../git/gitFixture.js";

const ASSUMED: BaseImageResolver = { resolve: async () => ({ user: "", workdir: "", source: "assumed" }) };

function project(env: string): string {
  const dir = tempDir("problems-cache");
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", `project: probcache\nconfigVersion: 1\n---\nimage: app\nfrom: stapel2docker/base-busybox:latest\ndocker:\n  ENV:\n    V: ${env}\n`);
  commitAll(dir, "initial");
  return dir;
}

test("a plan without problems is checked once; one with problems every time", async () => {
  const cacheDir = tempDir("problems-store");
  const good = project("fine");
  const before = { ...problemsCounts };
  const a = await planProject({ dir: good, environ: {}, baseImages: ASSUMED, cache: new CacheStore({ dir: cacheDir }) });
  const b = await planProject({ dir: good, environ: {}, baseImages: ASSUMED, cache: new CacheStore({ dir: cacheDir }) });
  assert.deepEqual(problemsCounts, { cache: before.cache + 1, checked: before.checked + 1 });
  assert.equal(JSON.stringify(a), JSON.stringify(b));

  const bad = project('"a\\nRUN evil"');
  const message = (cache: CacheStore | false) => planProject({ dir: bad, environ: {}, baseImages: ASSUMED, cache }).then(() => "", (e: Error) => e.message);
  const plain = await message(false);
  assert.match(plain, /werf\.yaml:\d+:\d+/);
  const c0 = problemsCounts.cache;
  assert.equal(await message(new CacheStore({ dir: cacheDir })), plain);
  assert.equal(await message(new CacheStore({ dir: cacheDir })), plain);
  assert.equal(problemsCounts.cache, c0, "never answered from the cache");
});
