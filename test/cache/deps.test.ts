// stageDependencies checksums through the persistent cache (src/cache/deps.ts) equal the ones computed from the
// listing, across commits that add, delete, modify and retype files, with one mask and several, when the mapping
// sees no change (an alias), and when an entry is garbled.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { CacheStore } from "../../src/cache/store.js";
import { cachedListTree } from "../../src/cache/listing.js";
import { depsCounts, findDependencies, storeDependencies } from "../../src/cache/deps.js";
import { stageDependenciesChecksum, type DependenciesChecksum, type PathChange } from "../../src/git/checksum.js";
import type { GitMappingSpec } from "../../src/git/mapping.js";
import { GitRepo } from "../../src/git/repo.js";
import { commitAll, git, tempDir, writeFile } from "../git/gitFixture.js";

/** findDependencies, else `compute()` stored (what GitSources.dependenciesOf does, one stage at a time). */
async function cachedDependencies(
  store: CacheStore,
  tree: string,
  base: { tree: string; changes: readonly PathChange[] } | undefined,
  spec: GitMappingSpec,
  masks: readonly string[],
  label: string,
  compute: () => Promise<DependenciesChecksum>,
): Promise<DependenciesChecksum> {
  const found = findDependencies(store, tree, base, spec, masks, label);
  // an update or alias is written in the background: on disk for the next store
  await store.flush();
  if (found) return found;
  const sum = await compute();
  storeDependencies(store, tree, spec, masks, label, sum);
  return { checksum: sum.checksum, paths: sum.paths, masks: sum.masks };
}

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

test("updates found by a search of the stored records (first, last, long, line-feed and astral names) equal computed ones", async () => {
  const dir = tempDir("deps-search");
  const storeDir = tempDir("deps-store");
  git(dir, "init", "-q", "-b", "main");
  // a deterministic pseudo-random set of names: many records, so the search probes, and names that sort around the
  // probes' edges (a line feed, a long name that spans a probe, astral and BMP characters above U+E000)
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  const names = new Set<string>(["a.go", "zz.go", `long/${`${"x".repeat(200)}/`.repeat(14)}z.go`, "lf/a\nb.go", "lf/\n.go", "u/\u{1F600}.go", "u/\uFF21.go", "u/\uE000.go"]);
  while (names.size < 1500) names.add(`d${rnd(30)}/${rnd(5) ? "" : "sub/"}f${rnd(100000)}.${rnd(4) ? "go" : "txt"}`);
  for (const n of names) writeFile(dir, n, `${n}\n`);
  commitAll(dir, "initial");
  const repo = await GitRepo.open(dir);
  const cases: { spec: GitMappingSpec; masks: string[] }[] = [
    { spec: { add: "/", to: "/src", includePaths: [], excludePaths: [] }, masks: ["**/*.go"] },
    { spec: { add: "/", to: "/src", includePaths: [], excludePaths: ["d1*/**"] }, masks: ["**/*.go", "**/*.txt", "u/**"] },
  ];
  const all = [...names];
  for (let round = 0; round < 8; round++) {
    // modify, delete and add files at random places, and at the very start and end
    for (let k = 0; k < 6; k++) {
      const n = all[rnd(all.length)];
      if (fs.existsSync(path.join(dir, n))) {
        if (rnd(2)) fs.rmSync(path.join(dir, n));
        else writeFile(dir, n, `changed ${round}\n`);
      } else writeFile(dir, n, `back ${round}\n`);
    }
    writeFile(dir, `d${rnd(30)}/new${round}.go`, "new\n");
    writeFile(dir, round % 2 ? "a.go" : "zz.go", `edge ${round}\n`);
    if (round === 3) fs.rmSync(path.join(dir, "a.go"));
    if (round === 5) writeFile(dir, "a.go", "again\n");
    if (round === 4) writeFile(dir, "lf/a\nb.go", "lf changed\n");
    commitAll(dir, `round ${round}`);
    const store = new CacheStore({ dir: storeDir });
    const listed = await cachedListTree(store, repo, git(dir, "rev-parse", "HEAD"));
    for (const { spec, masks } of cases) {
      const expected = stageDependenciesChecksum(listed.listing.all(), spec, masks, "l");
      const before = depsCounts.updated;
      const got = await cachedDependencies(store, listed.tree, listed.base, spec, masks, "l", async () => expected);
      if (round > 0) assert.equal(depsCounts.updated, before + 1, `round ${round}: updated from the last entry`);
      assert.equal(got.checksum, expected.checksum, `round ${round} ${masks.join(",")}`);
      assert.equal(got.paths.length, expected.paths.length);
      assert.deepEqual(got.masks.map((m) => m.paths.length), expected.masks.map((m) => m.paths.length));
      // decoded when looked at: the same arrays, element for element and as JSON
      assert.equal(JSON.stringify(got.masks), JSON.stringify(expected.masks));
      assert.deepEqual(got.paths, expected.paths);
      assert.deepEqual(got.paths.slice(0, 5), expected.paths.slice(0, 5));
    }
  }
});
