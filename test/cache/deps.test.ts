// stageDependencies checksums through the persistent cache (src/cache/deps.ts) equal the ones computed from the
// listing, across commits that add, delete, modify and retype files, with one mask and several, when the mapping
// sees no change (an alias), and when an entry is garbled.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { CacheStore } from "../../src/cache/store.js";
import { cachedListTree } from "../../src/cache/listing.js";
import { cachedDependencies, depsCounts } from "../../src/cache/deps.js";
import { stageDependenciesChecksum } from "../../src/git/checksum.js";
import type { GitMappingSpec } from "../../src/git/mapping.js";
import { GitRepo } from "../../src/git/repo.js";
import { commitAll, git, tempDir, writeFile } from "../git/gitFixture.js";

const CASES: { spec: GitMappingSpec; masks: string[] }[] = [
  { spec: { add: "/", to: "/src", includePaths: [], excludePaths: ["**/*.md"] }, masks: ["**/*.go"] },
  { spec: { add: "/", to: "/src", includePaths: [], excludePaths: [] }, masks: ["**/*.go", "go.mod", "web/**", "nothing/*", "a", "b", "c", "d", "**/*.txt"] },
  { spec: { add: "/web", to: "/www", includePaths: ["**/*.txt", "index.html"], excludePaths: [] }, masks: ["*.txt", "**/*"] },
  { spec: { add: "/cmd", to: "/srv", includePaths: [], excludePaths: [] }, masks: ["tool1/**"] },
];

test("cached stageDependencies checksums equal computed ones across commits", async () => {
  const dir = tempDir("deps-cache");
  const storeDir = tempDir("deps-store");
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "go.mod", "module x\n");
  writeFile(dir, "README.md", "# r\n");
  for (let i = 0; i < 20; i++) writeFile(dir, `cmd/tool${i % 3}/main${i}.go`, `package main // ${i}\n`);
  writeFile(dir, "web/index.html", "<html></html>\n");
  writeFile(dir, "web/\u{1F600}.txt", "astral\n");
  writeFile(dir, "web/\uFF21.txt", "fullwidth\n");
  writeFile(dir, "web/日本/語.txt", "u\n");
  writeFile(dir, "web/new\nline.txt", "a name with a line feed\n");
  commitAll(dir, "initial");
  const repo = await GitRepo.open(dir);
  const steps: [string, () => void][] = [
    ["initial", () => {}],
    ["modify", () => {
      writeFile(dir, "cmd/tool1/main1.go", "package main // changed\n");
      writeFile(dir, "web/new\nline.txt", "changed\n");
    }],
    ["nothing the mappings mask", () => writeFile(dir, "README.md", "# changed\n")],
    ["add", () => {
      writeFile(dir, "cmd/tool1/new.go", "package main\n");
      writeFile(dir, "web/\u{1F601}.txt", "astral 2\n");
      writeFile(dir, "web/\uFF22.txt", "fullwidth 2\n");
    }],
    ["delete", () => {
      fs.rmSync(path.join(dir, "cmd/tool2"), { recursive: true });
      fs.rmSync(path.join(dir, "web/\uFF21.txt"));
    }],
    ["retype and mode", () => {
      fs.rmSync(path.join(dir, "cmd/tool0/main0.go"));
      fs.symlinkSync("../tool1/main1.go", path.join(dir, "cmd/tool0/main0.go"));
      fs.chmodSync(path.join(dir, "cmd/tool1/main4.go"), 0o755);
    }],
    ["a file becomes a folder", () => {
      fs.rmSync(path.join(dir, "go.mod"));
      writeFile(dir, "go.mod/inner.go", "package inner\n");
    }],
  ];
  const seen = { updated: 0, unchanged: 0, cache: 0 };
  for (const [what, change] of steps) {
    change();
    commitAll(dir, what);
    const commit = git(dir, "rev-parse", "HEAD");
    const store = new CacheStore({ dir: storeDir });
    const listed = await cachedListTree(store, repo, commit);
    const entries = listed.listing.all();
    for (const { spec, masks } of CASES) {
      const expected = stageDependenciesChecksum(entries, spec, masks, "git.stageDependencies.setup");
      const before = { ...depsCounts };
      const got = await cachedDependencies(store, listed.tree, listed.base, spec, masks, "git.stageDependencies.setup", async () => expected);
      assert.deepEqual(got, { checksum: expected.checksum, paths: expected.paths, masks: expected.masks }, `${what}: ${spec.add} ${masks.join(",")}`);
      seen.updated += depsCounts.updated - before.updated;
      seen.unchanged += depsCounts.unchanged - before.unchanged;
      // read again: from the entry (or alias) just stored
      const c0 = depsCounts.cache;
      const again = await cachedDependencies(new CacheStore({ dir: storeDir }), listed.tree, listed.base, spec, masks, "git.stageDependencies.setup", async () => {
        throw new Error("must come from the cache");
      });
      assert.equal(depsCounts.cache, c0 + 1);
      assert.deepEqual(again, { checksum: expected.checksum, paths: expected.paths, masks: expected.masks }, `${what} again`);
    }
  }
  assert.ok(seen.updated >= 8, `updated from the previous commit's entries (${seen.updated})`);
  assert.ok(seen.unchanged >= 4, `aliases for mappings the commit did not touch (${seen.unchanged})`);
});

test("a garbled checksum entry is refused and computed again", async () => {
  const dir = tempDir("deps-garbled");
  const storeDir = tempDir("deps-store");
  git(dir, "init", "-q", "-b", "main");
  for (let i = 0; i < 5; i++) writeFile(dir, `src/f${i}.go`, `package f // ${i}\n`);
  commitAll(dir, "initial");
  const repo = await GitRepo.open(dir);
  const spec: GitMappingSpec = { add: "/", to: "/src", includePaths: [], excludePaths: [] };
  const store = new CacheStore({ dir: storeDir });
  const listed = await cachedListTree(store, repo, git(dir, "rev-parse", "HEAD"));
  const expected = stageDependenciesChecksum(listed.listing.all(), spec, ["**/*.go"]);
  await cachedDependencies(store, listed.tree, undefined, spec, ["**/*.go"], "l", async () => expected);
  const folder = path.join(storeDir, "v1", "deps2");
  for (const n of fs.readdirSync(folder)) {
    const f = path.join(folder, n);
    const buf = fs.readFileSync(f);
    buf[buf.length - 20] ^= 0x01;
    fs.writeFileSync(f, buf);
  }
  let computed = 0;
  const store2 = new CacheStore({ dir: storeDir });
  const got = await cachedDependencies(store2, listed.tree, undefined, spec, ["**/*.go"], "l", async () => {
    computed++;
    return expected;
  });
  assert.equal(computed, 1);
  assert.equal(store2.stats.rejected, 1);
  assert.equal(got.checksum, expected.checksum);
});
