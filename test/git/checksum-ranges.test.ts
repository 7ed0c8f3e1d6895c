// stageDependenciesChecksums over a sorted listing reads only the ranges the masks' literal prefixes name, in one pass
// for several stages: its results must be exactly those of the plain per-stage computation over every entry.

import { test } from "node:test";
import assert from "node:assert/strict";
import { stageDependenciesChecksum, stageDependenciesChecksums } from "../../src/git/checksum.js";
import { WerfMask } from "../../src/git/pathMatcher.js";
import { compareGitPaths, encodeRecord, ListingRange, listingLowerBound, RawListing, type TreeEntry } from "../../src/git/tree.js";
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

function range(scope: string): { raw: ListingRange; list: TreeEntry[] } {
  const list = entries();
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
