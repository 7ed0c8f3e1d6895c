// compile through the persistent cache gives exactly what it gives without: cold, warm, after commits that modify,
// add, delete and retype files, and when cache entries were truncated or rewritten.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { planProject } from "../../src/plan/plan.js";
import { emitProject } from "../../src/emit/index.js";
import { CacheStore } from "../../src/cache/store.js";
import { cachedListTree } from "../../src/cache/listing.js";
import { archiveCounts } from "../../src/cache/archives.js";
import { GitRepo } from "../../src/git/repo.js";
import { listTree } from "../../src/git/tree.js";
import type { BaseImageResolver } from "../../src/plan/model.js";
import { binaryData, commitAll, git, tempDir, writeFile } from "../git/gitFixture.js";

const ASSUMED: BaseImageResolver = { resolve: async () => ({ user: "", workdir: "", source: "assumed" }) };

const WERF_YAML = `project: cachetest
configVersion: 1
---
image: app
from: stapel2docker/base-busybox:latest
git:
- add: /
  to: /src
  excludePaths: ["**/*.md"]
  stageDependencies:
    install: ["**/*.go", "go.mod"]
    setup: ["web/**"]
- add: /cmd
  to: /srv
  owner: app
  includePaths: ["**/*.go"]
- add: /web/index.html
  to: /var/www/index.html
shell:
  install: ["true"]
  setup: ["true"]
`;

/** Every file of an output folder (path → bytes, base64), build.sh and the bake file without the folder's name. */
function snapshot(out: string, rel = ""): Record<string, string> {
  const res: Record<string, string> = {};
  for (const e of fs.readdirSync(path.join(out, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(res, snapshot(out, r));
    else res[r] = fs.readFileSync(path.join(out, r)).toString("base64");
  }
  return res;
}

async function compile(dir: string, out: string, cache: CacheStore | false): Promise<{ plan: string; files: Record<string, string> }> {
  const plan = await planProject({ dir, environ: {}, baseImages: ASSUMED, cache });
  fs.rmSync(out, { recursive: true, force: true });
  await emitProject(plan, { out });
  return { plan: JSON.stringify(plan), files: snapshot(out) };
}

function makeProject(astral = true): string {
  const dir = tempDir("cache-compile");
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", WERF_YAML);
  writeFile(dir, "go.mod", "module x\n");
  writeFile(dir, "README.md", "# readme\n");
  for (let i = 0; i < 30; i++) writeFile(dir, `cmd/tool${i % 4}/main${i}.go`, `package main // ${i}\n`);
  writeFile(dir, "cmd/run.sh", "#!/bin/sh\n", 0o755);
  writeFile(dir, "web/index.html", "<html></html>\n");
  writeFile(dir, "web/assets/logo.bin", binaryData(3000));
  writeFile(dir, "web/日本/語 file.txt", "unicode\n");
  if (astral) writeFile(dir, "web/\u{1F600}.txt", "astral\n");
  writeFile(dir, "web/\uFF21.txt", "fullwidth A\n");
  writeFile(dir, `deep/${"d".repeat(120)}/${"n".repeat(120)}.go`, "package deep\n");
  fs.symlinkSync("../go.mod", path.join(dir, "cmd/link.mod"));
  commitAll(dir, "initial");
  return dir;
}

test("plans and outputs are byte-identical with a cold, a warm and no cache, across commits", async () => {
  const dir = makeProject();
  const cacheDir = tempDir("cache-dir");
  const outs = tempDir("cache-outs");
  try {
    // how the 3 archives are made from the previous commit's: cache (same bytes), modified (entries rewritten in
    // place), spliced (re-planned, equal entries copied), written (from git alone)
    const steps: [string, () => void, Partial<typeof archiveCounts>][] = [
      ["initial", () => {}, { written: 3 }],
      ["modify one file", () => writeFile(dir, "cmd/tool1/main1.go", "package main // changed\n"), { cache: 1, modified: 2 }],
      ["modify a file no mapping sees", () => writeFile(dir, "README.md", "# changed\n"), { cache: 3 }],
      ["add files", () => {
        writeFile(dir, "cmd/newtool/new.go", "package main\n");
        writeFile(dir, "web/a-new.txt", "new\n");
      }, { cache: 1, spliced: 2 }],
      ["delete files", () => {
        fs.rmSync(path.join(dir, "cmd/tool3"), { recursive: true });
        fs.rmSync(path.join(dir, "web/assets/logo.bin"));
      }, { cache: 1, spliced: 2 }],
      ["a file becomes a link and a mode changes", () => {
        fs.rmSync(path.join(dir, "cmd/tool0/main0.go"));
        fs.symlinkSync("../tool1/main1.go", path.join(dir, "cmd/tool0/main0.go"));
        fs.chmodSync(path.join(dir, "cmd/tool1/main5.go"), 0o755);
      }, { cache: 1, modified: 2 }],
      ["modify the single-file mapping and a deep file", () => {
        writeFile(dir, "web/index.html", "<html>2</html>\n");
        writeFile(dir, `deep/${"d".repeat(120)}/${"n".repeat(120)}.go`, "package deep // 2\n");
      }, { modified: 2, cache: 1 }],
    ];
    for (const [what, change, expected] of steps) {
      change();
      commitAll(dir, what);
      const none = await compile(dir, path.join(outs, "out"), false);
      // the cache holds the previous commit's results: the listing is derived with diff-tree, the archives spliced
      const store = new CacheStore({ dir: cacheDir });
      const before = { ...archiveCounts };
      const incremental = await compile(dir, path.join(outs, "out"), store);
      const made = Object.fromEntries(Object.entries(archiveCounts).map(([k, v]) => [k, v - before[k as keyof typeof before]]).filter(([, v]) => v !== 0));
      assert.deepEqual(made, expected, `${what}: how the archives were made`);
      assert.equal(incremental.plan, none.plan, `${what}: plan`);
      assert.deepEqual(incremental.files, none.files, `${what}: files`);
      if (what !== "initial") assert.ok(store.stats.hits > 0, `${what}: the previous commit's entries were used`);
      const warm = await compile(dir, path.join(outs, "out"), new CacheStore({ dir: cacheDir }));
      assert.equal(warm.plan, none.plan, `${what}: warm plan`);
      assert.deepEqual(warm.files, none.files, `${what}: warm files`);
      const cold = await compile(dir, path.join(outs, "out"), new CacheStore({ dir: tempDir("cache-cold") }));
      assert.deepEqual(cold.files, none.files, `${what}: cold files`);
    }
  } finally {
    for (const d of [dir, cacheDir, outs]) fs.rmSync(d, { recursive: true, force: true });
  }
});

test("without a character above U+FFFF (archive indexes made from the names' bytes), the same outputs and reuse", async () => {
  const dir = makeProject(false);
  const cacheDir = tempDir("cache-dir");
  const outs = tempDir("cache-outs");
  try {
    const steps: [string, () => void, Partial<typeof archiveCounts>][] = [
      ["initial", () => {}, { written: 3 }],
      ["modify one file", () => writeFile(dir, "cmd/tool1/main1.go", "package main // changed\n"), { cache: 1, modified: 2 }],
      ["add files", () => {
        writeFile(dir, "cmd/newtool/new.go", "package main\n");
        writeFile(dir, "web/a-new.txt", "new\n");
      }, { cache: 1, spliced: 2 }],
    ];
    for (const [what, change, expected] of steps) {
      change();
      commitAll(dir, what);
      const none = await compile(dir, path.join(outs, "out"), false);
      const before = { ...archiveCounts };
      const incremental = await compile(dir, path.join(outs, "out"), new CacheStore({ dir: cacheDir }));
      const made = Object.fromEntries(Object.entries(archiveCounts).map(([k, v]) => [k, v - before[k as keyof typeof before]]).filter(([, v]) => v !== 0));
      assert.deepEqual(made, expected, `${what}: how the archives were made`);
      assert.deepEqual(incremental.files, none.files, `${what}: files`);
      const warm = await compile(dir, path.join(outs, "out"), new CacheStore({ dir: cacheDir }));
      assert.deepEqual(warm.files, none.files, `${what}: warm files`);
    }
  } finally {
    for (const d of [dir, cacheDir, outs]) fs.rmSync(d, { recursive: true, force: true });
  }
});

test("a truncated or rewritten cached archive is never copied from, and is made again", async () => {
  const dir = makeProject();
  const cacheDir = tempDir("cache-dir");
  const outs = tempDir("cache-outs");
  try {
    const none = await compile(dir, path.join(outs, "out"), false);
    await compile(dir, path.join(outs, "out"), new CacheStore({ dir: cacheDir }));
    const archiveDir = path.join(cacheDir, "v1", "archive");
    const tars = fs.readdirSync(archiveDir).filter((n) => n.endsWith(".tar"));
    assert.equal(tars.length, 3, "one per mapping");
    // truncate one (a read-only file: made writable first, as a careless tool would), garble another in place
    const [a, b] = tars.map((n) => path.join(archiveDir, n));
    fs.chmodSync(a, 0o644);
    fs.truncateSync(a, 1024);
    fs.chmodSync(b, 0o644);
    const fd = fs.openSync(b, "r+");
    fs.writeSync(fd, Buffer.from("garbage"), 0, 7, 700);
    fs.closeSync(fd);
    const store = new CacheStore({ dir: cacheDir });
    const again = await compile(dir, path.join(outs, "out"), store);
    assert.deepEqual(again.files, none.files);
    // and the next commit, spliced from entries that are whole again
    writeFile(dir, "cmd/tool2/main2.go", "package main // after corruption\n");
    commitAll(dir, "next");
    const none2 = await compile(dir, path.join(outs, "out"), false);
    const next = await compile(dir, path.join(outs, "out"), new CacheStore({ dir: cacheDir }));
    assert.deepEqual(next.files, none2.files);
    // a garbled listing entry is refused by its checksum, the listing is made again
    const listingDir = path.join(cacheDir, "v1", "listing");
    for (const n of fs.readdirSync(listingDir)) {
      const f = path.join(listingDir, n);
      const buf = fs.readFileSync(f);
      buf[buf.length - 3] ^= 0x55;
      fs.writeFileSync(f, buf);
    }
    const third = await compile(dir, path.join(outs, "out"), new CacheStore({ dir: cacheDir }));
    assert.deepEqual(third.files, none2.files);
  } finally {
    for (const d of [dir, cacheDir, outs]) fs.rmSync(d, { recursive: true, force: true });
  }
});

test("a cached listing, and one derived with diff-tree, equal git's own listing", async () => {
  const dir = makeProject();
  const cacheDir = tempDir("cache-dir");
  try {
    const repo = await GitRepo.open(dir);
    const store = new CacheStore({ dir: cacheDir });
    const c1 = git(dir, "rev-parse", "HEAD");
    const first = await cachedListTree(store, repo, c1);
    assert.equal(first.how, "ls-tree");
    assert.deepEqual(first.listing.all(), await listTree(repo, c1));
    const again = await cachedListTree(new CacheStore({ dir: cacheDir }), repo, c1);
    assert.equal(again.how, "cache");
    assert.deepEqual(again.listing.all(), first.listing.all());
    writeFile(dir, "web/\u{1F601}.txt", "astral 2\n");
    writeFile(dir, "web/\uFFFD.txt", "replacement char\n");
    writeFile(dir, "a.go", "package a\n");
    writeFile(dir, "cmd.go", "package cmd\n"); // between "cmd" and "cmd/..." in git's order
    fs.rmSync(path.join(dir, "cmd/tool2"), { recursive: true });
    const c2 = commitAll(dir, "changes");
    const derived = await cachedListTree(new CacheStore({ dir: cacheDir }), repo, c2);
    assert.equal(derived.how, "diff");
    assert.deepEqual(derived.listing.all(), await listTree(repo, c2));
    assert.ok(derived.base!.changes.length > 5);
    // many changes: stored whole (binary), read back the same
    const back = await cachedListTree(new CacheStore({ dir: cacheDir }), repo, c2);
    assert.equal(back.how, "cache");
    assert.deepEqual(back.listing.all(), derived.listing.all());
    // one change: stored as the change, read back through the chain
    writeFile(dir, "a.go", "package a // 2\n");
    const c3 = commitAll(dir, "one change");
    assert.equal((await cachedListTree(new CacheStore({ dir: cacheDir }), repo, c3)).how, "diff");
    assert.ok(fs.readdirSync(path.join(cacheDir, "v1", "listing-delta")).length > 0, "a delta entry");
    const chained = await cachedListTree(new CacheStore({ dir: cacheDir }), repo, c3);
    assert.equal(chained.how, "cache");
    assert.deepEqual(chained.listing.all(), await listTree(repo, c3));
  } finally {
    for (const d of [dir, cacheDir]) fs.rmSync(d, { recursive: true, force: true });
  }
});

test("file names that are not UTF-8 (out of git's order once decoded) are found and archived as without the cache", async () => {
  const dir = makeProject();
  const cacheDir = tempDir("cache-dir");
  const outs = tempDir("cache-outs");
  try {
    // 0xC0 sorts before "ü" (C3 BC) in git, after it once decoded as U+FFFD
    fs.writeFileSync(Buffer.concat([Buffer.from(path.join(dir, "web") + "/"), Buffer.from([0xc0, 0x61]), Buffer.from(".txt")]), "latin\n");
    writeFile(dir, "web/ü.txt", "umlaut\n");
    writeFile(dir, "web/ü0.txt", "umlaut 0\n");
    writeFile(dir, "werf.yaml", WERF_YAML.replace('install: ["true"]', 'install: ["echo {{ .Files.Get "web/ü.txt" | trim }} {{ .Files.Get "web/ü0.txt" | trim }}"]'));
    commitAll(dir, "latin-1 name");
    const none = await compile(dir, path.join(outs, "out"), false);
    assert.match(fs.readFileSync(path.join(outs, "out", "Dockerfile"), "utf8"), /echo umlaut umlaut 0/);
    const cold = await compile(dir, path.join(outs, "out"), new CacheStore({ dir: cacheDir }));
    assert.deepEqual(cold.files, none.files);
    writeFile(dir, "web/ü.txt", "umlaut 2\n");
    commitAll(dir, "change");
    const none2 = await compile(dir, path.join(outs, "out"), false);
    const next = await compile(dir, path.join(outs, "out"), new CacheStore({ dir: cacheDir }));
    assert.equal(next.plan, none2.plan);
    assert.deepEqual(next.files, none2.files);
  } finally {
    for (const d of [dir, cacheDir, outs]) fs.rmSync(d, { recursive: true, force: true });
  }
});
