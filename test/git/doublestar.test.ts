import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BadPatternError, compileGlob, pathMatch } from "../../src/git/doublestar.js";
import { sharedDir, sharedMissing } from "../support/paths.js";

// dist/test/git/doublestar.test.js → repo root is three levels up
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

interface Case {
  pattern: string;
  paths: string[];
}
type Gold = Record<string, Record<string, boolean | string>>;

function load(casesFile: string, goldFile: string): { cases: Case[]; gold: Gold } {
  return {
    cases: JSON.parse(readFileSync(casesFile, "utf8")) as Case[],
    gold: JSON.parse(readFileSync(goldFile, "utf8")) as Gold,
  };
}

function checkSuite(cases: Case[], gold: Gold): number {
  let checked = 0;
  for (const c of cases) {
    const expected = gold[c.pattern];
    assert.ok(expected, `gold has no entry for ${JSON.stringify(c.pattern)}`);
    const malformed = Object.values(expected).some((v) => typeof v === "string" && v.startsWith("ERR:"));
    if (malformed) {
      // doublestar validates lazily; we reject a malformed pattern for every name (documented difference)
      assert.throws(() => compileGlob(c.pattern), BadPatternError, `pattern ${JSON.stringify(c.pattern)} should be rejected`);
      checked++;
      continue;
    }
    for (const p of c.paths) {
      assert.equal(pathMatch(c.pattern, p), expected[p], `PathMatch(${JSON.stringify(c.pattern)}, ${JSON.stringify(p)})`);
      checked++;
    }
  }
  return checked;
}

test("doublestar: shared conformance vectors (real doublestar.PathMatch)", { skip: sharedMissing("conformance/doublestar") }, () => {
  const dir = path.join(sharedDir, "conformance/doublestar");
  const { cases, gold } = load(path.join(dir, "cases.json"), path.join(dir, "gold.json"));
  assert.ok(cases.length >= 35);
  assert.ok(checkSuite(cases, gold) >= 90);
});

test("doublestar: extra oracle-generated vectors (fixtures/git)", () => {
  const dir = path.resolve(repoRoot, "fixtures/git");
  const { cases, gold } = load(path.join(dir, "doublestar-cases.json"), path.join(dir, "doublestar-gold.json"));
  assert.ok(cases.length >= 100);
  assert.ok(checkSuite(cases, gold) >= 300);
});

test("doublestar: malformed patterns carry doublestar's message and a detail", () => {
  for (const [pattern, detail] of [
    ["[abc", /never closed/],
    ["a{b", /never closed/],
    ["a\\", /ends with/],
    ["[]", /empty/],
  ] as const) {
    assert.throws(
      () => compileGlob(pattern),
      (e: unknown) => e instanceof BadPatternError && e.message === "syntax error in pattern" && detail.test(e.detail) && e.pattern === pattern,
    );
  }
});

test("doublestar: mayMatchBelow never prunes a directory that has a matching path below", () => {
  const patterns = ["src/*.go", "src/**/*.go", "**/x", "a/b/c", "{a,b}/c/*", "a*/b", "*/b/**", "a/[/]b", "x", "a/**"];
  const paths = ["src/a.go", "src/x/b.go", "a/b/c", "b/c/d", "ab/b", "q/b/z/y", "a/x", "x/x/x", "a", "src"];
  for (const pattern of patterns) {
    const g = compileGlob(pattern);
    for (const p of paths) {
      if (!g.match(p)) continue;
      const parts = p.split("/");
      for (let i = 0; i < parts.length; i++) {
        const dir = parts.slice(0, i).join("/");
        assert.ok(g.mayMatchBelow(dir), `${pattern} matches ${p}, so it may match below "${dir}"`);
      }
    }
  }
  assert.equal(compileGlob("src/*.go").mayMatchBelow("lib"), false);
  assert.equal(compileGlob("src/*.go").mayMatchBelow("src/x"), false);
  assert.equal(compileGlob("src/**/*.go").mayMatchBelow("src/x/y"), true);
  assert.equal(compileGlob("a/b/c").mayMatchBelow("a/b/c"), false);
});
