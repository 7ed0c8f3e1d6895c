// planProblems through the persistent cache: a plan without problems is checked once per plan JSON; a plan with
// problems is checked (and refused, with the same messages) every time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { planProject } from "../../src/plan/plan.js";
import { CacheStore } from "../../src/cache/store.js";
import { problemsCounts, problemsKeyJson } from "../../src/cache/problems.js";
import { planProblems } from "../../src/emit/check.js";
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

test("a re-plan after a commit (new digests, checksums and commit ids) is answered from the cache; other changes are not", async () => {
  const cacheDir = tempDir("problems-store");
  const dir = tempDir("problems-commit");
  git(dir, "init", "-q", "-b", "main");
  const yaml = (v: string) =>
    `project: probcache2\nconfigVersion: 1\n---\nimage: app\nfrom: stapel2docker/base-busybox:latest\ngit:\n- add: /src\n  to: /app\n  stageDependencies:\n    install: ["*.sh"]\nshell:\n  install: [echo ${v}]\n`;
  writeFile(dir, "werf.yaml", yaml("one"));
  writeFile(dir, "src/a.sh", "echo a\n");
  commitAll(dir, "initial");
  const plan = () => planProject({ dir, environ: {}, baseImages: ASSUMED, cache: new CacheStore({ dir: cacheDir }) });
  const first = await plan();
  writeFile(dir, "src/a.sh", "echo b\n");
  commitAll(dir, "second");
  const c0 = { ...problemsCounts };
  const second = await plan();
  assert.notEqual(first.images[0].digest, second.images[0].digest, "the commit changed the digests");
  assert.notEqual(first.commit?.hash, second.commit?.hash);
  assert.equal(problemsKeyJson(first), problemsKeyJson(second));
  assert.deepEqual(problemsCounts, { cache: c0.cache + 1, checked: c0.checked }, "answered from the cache");
  // equal ids stay equal, different ones different; a value holding an id among other text is kept
  const renamed = JSON.parse(problemsKeyJson(second)) as typeof second;
  assert.equal(renamed.images[0].stages.at(-1)!.digest, renamed.images[0].digest);
  assert.notEqual(renamed.images[0].stages[0].digest, renamed.images[0].digest);
  assert.deepEqual(planProblems(renamed), planProblems(second));
  // anything else (here a command) is a new key: checked again
  writeFile(dir, "werf.yaml", yaml("two"));
  commitAll(dir, "third");
  await plan();
  assert.equal(problemsCounts.checked, c0.checked + 1);
});
