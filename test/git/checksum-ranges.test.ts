// stageDependenciesChecksums over a sorted listing reads only the ranges the masks' literal prefixes name, in one pass
// for several stages: its results must be exactly those of the plain per-stage computation over every entry.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ChecksumScan, stageDependenciesChecksum, stageDependenciesChecksums } from "../../src/git/checksum.js";
import { WerfMask } from "../../src/git/pathMatcher.js";
import { compareGitPaths, encodeRecord, ListingRange, ListingStream, listingLowerBound, lsTreeStreamed, RawListing, type TreeEntry } from "../../src/git/tree.js";
import type { GitMappingSpec } from "../../src/git/mapping.js";

const PATHS = [
  "README.md",
  "app",
  "app-old/src/a.go",
  "app.txt",
  "app/.hidden/x.sh",
  "app/config/a.yaml",
  "app/config/b.json",
  "app/config/deep/c.yaml",
  "app/configs/d.yaml",
  "app/main.go",
  "app/main_test.go",
  "app/scripts.sh",
  "app/scripts/build.sh",
  "app/scripts/lib/util.sh",
  "app/scripts0/nope.sh",
  "app/src",
  "app/src-old/x.ts",
  "app/src.ts",
  "app/src/a.ts",
  "app/src/b.tsx",
  "app/src/c.test.ts",
  "app/src/deep/d.ts",
  "app/vendor/mod/x.go",
  "app/документы/файл.md",
  "app/日本/テスト.go",
  // above U+FFFF and above U+E000: git's (UTF-8) order is not JavaScript's (UTF-16) for these two
  "app/\u{1F600}.go",
  "app/\uFF21.go",
  // a path longer than the short-field copy (and than a ustar name)
  `app/long/${"d".repeat(150)}/${"e".repeat(120)}.go`,
  "app/{odd}/x",
  "lib/x.go",
  "scripts/root.sh",
  "src/top.ts",
];

function entries(): TreeEntry[] {
  return PATHS.map((p, i) => ({
    path: p,
    mode: i % 7 === 3 ? "100755" : p === "app/src" ? "120000" : "100644",
    type: "blob" as const,
    oid: (i + 1).toString(16).padStart(40, "0"),
  })).sort((a, b) => compareGitPaths(a.path, b.path));
}

function range(scope: string, bmpOnly = false): { raw: ListingRange; list: TreeEntry[] } {
  const list = entries().filter((e) => !bmpOnly || !/[\u{10000}-\u{10FFFF}]/u.test(e.path));
  const l = RawListing.parse(Buffer.from(list.map(encodeRecord).join(""), "utf8"))!;
  const from = scope === "" ? 0 : listingLowerBound(l, scope);
  const to = scope === "" ? l.length : listingLowerBound(l, `${scope}0`, from);
  return { raw: new ListingRange(l, from, to, scope), list: list.filter((e) => scope === "" || e.path === scope || e.path.startsWith(`${scope}/`)) };
}

const STAGES = [
  ["scripts/*.sh", "config"],
  ["src/**/*.{ts,tsx}", "src"],
  ["**/*.go"],
  ["*.sh", "main.go"],
  ["документы", "日本/*.go", "{odd,x}/x", "\\{odd\\}/x"],
  ["config/*.yaml", "configs"],
  ["**", "."],
];

const MAPPINGS: GitMappingSpec[] = [
  { add: "/app", to: "/srv", includePaths: [], excludePaths: [] },
  { add: "/app", to: "/srv", includePaths: ["config", "scripts/**", "src"], excludePaths: ["**/*_test.go", "src/deep"] },
  { add: "/app", to: "/srv", includePaths: ["**/*.go", "**/*.sh"], excludePaths: ["vendor"] },
  { add: "/", to: "/srv", includePaths: [], excludePaths: ["app/src"] },
  { add: "/", to: "/srv", includePaths: ["app/scripts", "scripts"], excludePaths: [] },
  { add: "/app/main.go", to: "/srv/main.go", includePaths: [], excludePaths: [] },
];

test("checksums from a listing's prefix ranges, several stages in one pass, equal the plain computation", () => {
  for (const mapping of MAPPINGS) {
    const scope = mapping.add.replace(/^\/+/, "").replace(/\/+$/, "");
    const { raw, list } = range(scope);
    const requests = STAGES.map((masks, i) => ({ masks, label: `stage${i}` }));
    const batch = stageDependenciesChecksums(raw, mapping, requests);
    requests.forEach((r, i) => {
      const plain = stageDependenciesChecksum(list, mapping, r.masks, r.label);
      assert.deepEqual(batch[i], plain, `${JSON.stringify(mapping)} ${JSON.stringify(r.masks)}`);
      // and one stage alone from the listing
      assert.deepEqual(stageDependenciesChecksum(raw, mapping, r.masks, r.label), plain);
      // without the ids (no cache): the same checksum and paths
      const { ids: _ids, ...lean } = plain;
      assert.deepEqual(stageDependenciesChecksums(raw, mapping, [r], { ids: false })[0], lean);
    });
    const matched = batch.reduce((n, b) => n + b.paths.length, 0);
    assert.ok(matched > 0, "the cases match files");
  }
  // a stage without masks in a batch
  const { raw } = range("app");
  assert.deepEqual(stageDependenciesChecksums(raw, MAPPINGS[0], [{ masks: [] }, { masks: ["main.go"] }])[0], { checksum: "", paths: [], masks: [] });
});

test("from a listing whose order is the paths' (no character above U+FFFF), the checksum keeps the records it hashed instead of the ids", () => {
  for (const mapping of MAPPINGS) {
    const scope = mapping.add.replace(/^\/+/, "").replace(/\/+$/, "");
    const { raw, list } = range(scope, true);
    const requests = STAGES.map((masks, i) => ({ masks, label: `stage${i}` }));
    const batch = stageDependenciesChecksums(raw, mapping, requests);
    requests.forEach((r, i) => {
      const { ids, ...plain } = stageDependenciesChecksum(list, mapping, r.masks, r.label);
      const { records, ...got } = batch[i];
      assert.deepEqual(got, plain, `${JSON.stringify(mapping)} ${JSON.stringify(r.masks)}`);
      const expected = plain.paths.map((p, k) => `${p}\0${ids![k].replace(" ", "\0")}\n`).join("");
      assert.equal(records?.toString("utf8"), expected);
      assert.deepEqual(stageDependenciesChecksums(raw, mapping, [r], { ids: false })[0], plain);
    });
  }
});

test("a mask's literal prefix: the leading segments every match is or is below", () => {
  const cases: [string, string][] = [
    ["scripts/*.sh", "scripts"],
    ["src", "src"],
    ["src/", "src"],
    ["./src/**", "src"],
    ["a/b/c.txt", "a/b/c.txt"],
    ["a/*/c", "a"],
    ["**/*.go", ""],
    ["*.lock", ""],
    ["{a,b}/x", ""],
    ["a\\*b/c", ""],
    ["a/[bc]/d", "a"],
    ["**", ""],
    [".", ""],
    ["/abs/x", ""],
    ["../x", ""],
    ["документы/*.md", "документы"],
  ];
  for (const [mask, prefix] of cases) assert.equal(new WerfMask(mask).literalPrefix(), prefix, mask);
});

for (const bmpOnly of [false, true])
test(`checksums fed window by window while the listing streams in (ChecksumScan.scanWindow) equal the batch${bmpOnly ? " (records kept)" : ""}`, () => {
  const list = entries().filter((e) => !bmpOnly || !/[\u{10000}-\u{10FFFF}]/u.test(e.path));
  const buf = Buffer.from(list.map(encodeRecord).join(""), "utf8");
  const starts = [0];
  for (let i = buf.indexOf(0); i >= 0; i = buf.indexOf(0, i + 1)) starts.push(i + 1);
  const all = Uint32Array.from(starts);
  const whole = RawListing.indexed(buf, all)!;
  const n = whole.length;
  const requests = STAGES.map((masks, i) => ({ masks, label: `stage${i}` }));
  for (const mapping of MAPPINGS) {
    const scope = mapping.add.replace(/^\/+/, "").replace(/\/+$/, "");
    const { raw } = range(scope, bmpOnly);
    const batch = stageDependenciesChecksums(raw, mapping, requests);
    if (bmpOnly) assert.ok(batch.some((b) => b.records), "records kept");
    for (const size of [1, 2, 3, 5, 8, n]) {
      const scan = new ChecksumScan(mapping, requests);
      for (let from = 0; from < n; from += size) {
        const to = Math.min(n, from + size);
        // the records in so far, as lsTreeStreamed hands them over
        const view = RawListing.indexed(buf.subarray(0, all[to]), all.subarray(0, to + 1))!;
        scan.scanWindow(view, from, to);
      }
      assert.deepEqual(scan.finish(whole), batch, `${JSON.stringify(mapping)} in windows of ${size}`);
    }
  }
});

test("a listing streamed from git feeds its watchers in order; a listing with a name that is not UTF-8 is not streamed", async () => {
  const { GitRepo } = await import("../../src/git/repo.js");
  const { execFileSync } = await import("node:child_process");
  const fs = await import("node:fs");
  const path = await import("node:path");
  const { tempDir } = await import("./gitFixture.js");
  const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" };
  for (const bad of [false, true]) {
    const root = tempDir("stream");
    execFileSync("git", ["init", "-q", "-b", "main", root], { env });
    // enough records for several chunks of git's output
    for (let d = 0; d < 40; d++) {
      fs.mkdirSync(path.join(root, `d${d}`), { recursive: true });
      for (let f = 0; f < 60; f++) fs.writeFileSync(path.join(root, `d${d}`, `${"f".repeat(60)}${f}.go`), `${d} ${f}`);
    }
    // "d30\xff.go": not UTF-8 (a Buffer path, written as its bytes)
    if (bad) fs.writeFileSync(Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x64, 0x33, 0x30, 0xff, 0x2e, 0x67, 0x6f])]), "x");
    execFileSync("git", ["-C", root, "add", "-A"], { env });
    execFileSync("git", ["-C", root, "commit", "-qm", "c"], { env });
    const repo = await GitRepo.open(root);
    const stream = new ListingStream();
    const windows: [number, number][] = [];
    const mapping: GitMappingSpec = { add: "/", to: "/srv", includePaths: [], excludePaths: ["d1"] };
    const requests = [{ masks: ["**/*1.go"], label: "a" }, { masks: ["d3*", "d2/**/*"], label: "b" }];
    const scan = new ChecksumScan(mapping, requests);
    const streamed = lsTreeStreamed(repo, "HEAD", { stream, windowBytes: 4096 });
    stream.started = true;
    assert.equal(stream.watch((l, from, to) => (windows.push([from, to]), scan.scanWindow(l, from, to))), true);
    const { listing } = await streamed;
    assert.equal(stream.ended, true);
    const raw = new ListingRange(listing!, 0, listing!.length, "");
    if (bad) {
      assert.equal(stream.failed, true);
      continue;
    }
    assert.equal(stream.failed, false);
    assert.ok(windows.length > 1, `several windows (${windows.length})`);
    windows.forEach(([from], i) => assert.equal(from, i === 0 ? 0 : windows[i - 1][1]));
    assert.equal(windows[windows.length - 1][1], listing!.length);
    assert.deepEqual(scan.finish(listing!), stageDependenciesChecksums(raw, mapping, requests));
  }
});
