// A commit's changes from its first parent, read with HEAD (`git log --raw`, src/project/commit.ts), are what
// `git diff-tree` gives between the two trees, for every kind of change; the listing cache takes them instead of
// running diff-tree only when its last tree is that parent's, and a plan made with them is the plan made without the
// cache.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { projectCommit } from "../../src/project/commit.js";
import { cachedTreeChanges, diffTrees } from "../../src/cache/listing.js";
import { CacheStore } from "../../src/cache/store.js";
import { planProject } from "../../src/plan/plan.js";
import type { BaseImageResolver } from "../../src/plan/model.js";
import { commitAll, git, tempDir, writeFile } from "../git/gitFixture.js";

const ASSUMED: BaseImageResolver = { resolve: async () => ({ user: "", workdir: "", source: "assumed" }) };

const WERF_YAML = `project: parentchanges
configVersion: 1
---
image: app
from: stapel2docker/base-busybox:latest
git:
- add: /
  to: /src
  stageDependencies:
    install: ["**/*.go"]
    setup: ["**/*"]
shell:
  install: ["true"]
  setup: ["true"]
`;

async function parentDiff(dir: string) {
  const pc = (await projectCommit(dir, { changes: false }))!;
  const parent = git(dir, "rev-parse", "HEAD^1");
  const expected = await diffTrees(pc.repo, git(dir, "rev-parse", "HEAD^1^{tree}"), pc.tree!);
  return { pc, parent, expected };
}

test("the changes read with HEAD are diff-tree's from the first parent, for every kind of change", async () => {
  const dir = tempDir("parent-changes");
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", WERF_YAML);
  writeFile(dir, "a.go", "package a\n");
  writeFile(dir, "dir/b.go", "package b\n");
  writeFile(dir, "mode.sh", "echo\n");
  writeFile(dir, "link-me.txt", "x\n");
  writeFile(dir, "becomes-dir", "file\n");
  commitAll(dir, "root");
  const root = (await projectCommit(dir, { changes: false }))!;
  assert.equal(root.parentChanges, undefined, "a root commit has no parent");
  const steps: [string, () => void][] = [
    ["modify", () => writeFile(dir, "a.go", "package a // changed\n")],
    ["add names with a space, a tab, a line feed, non-ASCII", () => {
      writeFile(dir, "sp ace.go", "1\n");
      writeFile(dir, "t\tab.go", "2\n");
      writeFile(dir, "new\nline.go", "3\n");
      writeFile(dir, "日本/語.go", "4\n");
    }],
    ["delete", () => fs.rmSync(path.join(dir, "dir"), { recursive: true })],
    ["mode and retype", () => {
      fs.chmodSync(path.join(dir, "mode.sh"), 0o755);
      fs.rmSync(path.join(dir, "link-me.txt"));
      fs.symlinkSync("a.go", path.join(dir, "link-me.txt"));
    }],
    ["a file becomes a folder", () => {
      fs.rmSync(path.join(dir, "becomes-dir"));
      writeFile(dir, "becomes-dir/inner.go", "package inner\n");
    }],
    ["nothing", () => {}],
  ];
  for (const [what, change] of steps) {
    change();
    commitAll(dir, what);
    const { pc, parent, expected } = await parentDiff(dir);
    assert.ok(pc.parentChanges, what);
    assert.equal(pc.parentChanges.commit, parent);
    assert.equal(pc.parentChanges.tree, pc.tree);
    assert.deepEqual(pc.parentChanges.changes(), expected, what);
  }
  // a merge: the changes from its first parent
  git(dir, "checkout", "-q", "-b", "side", "HEAD~2");
  writeFile(dir, "side.go", "package side\n");
  commitAll(dir, "side");
  git(dir, "checkout", "-q", "main");
  git(dir, "merge", "-q", "--no-edit", "-m", "merge", "side");
  const merged = await parentDiff(dir);
  assert.ok(merged.pc.parentChanges);
  assert.equal(merged.pc.parentChanges.commit, merged.parent);
  assert.deepEqual(merged.pc.parentChanges.changes(), merged.expected);
});

test("the listing cache takes the parent's changes only when its last tree is that parent's; plans equal uncached ones", async () => {
  const dir = tempDir("parent-changes-plan");
  const storeDir = tempDir("parent-changes-store");
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", WERF_YAML);
  for (let i = 0; i < 10; i++) writeFile(dir, `src/f${i}.go`, `package f // ${i}\n`);
  const first = commitAll(dir, "first");
  const plan = (cache: CacheStore | false) => planProject({ dir, environ: {}, baseImages: ASSUMED, cache }).then((p) => JSON.stringify(p));
  assert.equal(await plan(new CacheStore({ dir: storeDir })), await plan(false));

  // a child of the last commit planned: the changes read with HEAD
  writeFile(dir, "src/f3.go", "package f // changed\n");
  writeFile(dir, "src/new.go", "package f\n");
  commitAll(dir, "second");
  const pc = (await projectCommit(dir, { changes: false }))!;
  const store = new CacheStore({ dir: storeDir });
  const viaParent = await cachedTreeChanges(store, pc.repo, pc.commit, pc.tree, undefined, pc.parentChanges);
  await store.flush();
  assert.equal(viaParent.how, "diff");
  assert.equal(viaParent.base?.changes, pc.parentChanges!.changes(), "taken as read with HEAD");
  assert.equal(await plan(new CacheStore({ dir: storeDir })), await plan(false));

  // HEAD moved to a commit whose parent is not the last one planned (another branch): diff-tree from the last tree
  git(dir, "checkout", "-q", "-b", "other", first);
  writeFile(dir, "src/f7.go", "package f // other\n");
  commitAll(dir, "other");
  const other = (await projectCommit(dir, { changes: false }))!;
  assert.ok(other.parentChanges);
  const store2 = new CacheStore({ dir: storeDir });
  const viaDiff = await cachedTreeChanges(store2, other.repo, other.commit, other.tree, undefined, other.parentChanges);
  assert.equal(viaDiff.how, "diff");
  assert.notEqual(viaDiff.base?.changes, other.parentChanges!.changes());
  assert.deepEqual(viaDiff.base?.changes, await diffTrees(other.repo, viaDiff.base!.tree, other.tree!));
  // and parent changes that do not lead to this tree are never taken
  git(dir, "checkout", "-q", "main");
  const again = (await projectCommit(dir, { changes: false }))!;
  const wrong = { commit: again.parentChanges!.commit, tree: other.tree!, changes: () => [] };
  const store3 = new CacheStore({ dir: tempDir("parent-changes-store3") });
  // listed (its pointer is written once the listing is in)
  await (await cachedTreeChanges(store3, again.repo, first, git(dir, "rev-parse", `${first}^{tree}`))).load();
  await store3.flush();
  const guarded = await cachedTreeChanges(store3, again.repo, again.commit, again.tree, undefined, { ...wrong, tree: "0".repeat(40) });
  assert.deepEqual(guarded.base?.changes, await diffTrees(again.repo, guarded.base!.tree, again.tree!));
  assert.equal(await plan(new CacheStore({ dir: storeDir })), await plan(false));
});

test("the parent's changes are git's whatever the user's diff settings (diff.relative, diff.ignoreSubmodules, diff.renames): plans equal uncached ones", async () => {
  const dir = tempDir("parent-changes-config");
  const storeDir = tempDir("parent-changes-config-store");
  git(dir, "init", "-q", "-b", "main");
  const proj = path.join(dir, "proj");
  writeFile(proj, "werf.yaml", WERF_YAML.replace("- add: /\n", "- add: /proj/app\n"));
  for (let i = 0; i < 5; i++) writeFile(proj, `app/f${i}.go`, `package f // ${i}\n`);
  writeFile(dir, "top.txt", "t1\n");
  commitAll(dir, "first");
  const plan = (cache: CacheStore | false) => planProject({ dir: proj, environ: {}, baseImages: ASSUMED, cache }).then((p) => JSON.stringify(p));
  assert.equal(await plan(new CacheStore({ dir: storeDir })), await plan(false));
  // a change inside the project, one outside it, a rename
  writeFile(proj, "app/f1.go", "package f // changed\n");
  writeFile(dir, "top.txt", "t2\n");
  git(dir, "mv", "proj/app/f2.go", "proj/app/g2.go");
  commitAll(dir, "second");
  const settings = [["diff.relative", "true"], ["diff.ignoreSubmodules", "all"], ["diff.renames", "copies"]];
  const saved = { ...process.env };
  Object.assign(process.env, { GIT_CONFIG_COUNT: String(settings.length) }, ...settings.map(([k, v], i) => ({ [`GIT_CONFIG_KEY_${i}`]: k, [`GIT_CONFIG_VALUE_${i}`]: v })));
  try {
    const pc = (await projectCommit(proj, { changes: false }))!;
    assert.deepEqual(
      pc.parentChanges!.changes()!.map((c) => c.path),
      ["proj/app/f1.go", "proj/app/f2.go", "proj/app/g2.go", "top.txt"],
      "every changed path, from the repository's top, no rename pairs",
    );
    const cached = await plan(new CacheStore({ dir: storeDir }));
    assert.equal(cached, await plan(false));
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  }
  assert.equal(await plan(new CacheStore({ dir: storeDir })), await plan(false));
});
