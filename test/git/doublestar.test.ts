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

/** Every gold answer again through the linear matcher (sequenceMatch), forced for every pattern. */
function checkLinear(cases: Case[], gold: Gold): number {
  let checked = 0;
  for (const c of cases) {
    const expected = gold[c.pattern];
    if (Object.values(expected).some((v) => typeof v === "string" && v.startsWith("ERR:"))) continue;
    const g = compileGlob(c.pattern, { linear: true });
    for (const p of c.paths) {
      assert.equal(g.match(p), expected[p], `linear PathMatch(${JSON.stringify(c.pattern)}, ${JSON.stringify(p)})`);
      checked++;
    }
  }
  return checked;
}

test("doublestar: the linear matcher gives doublestar's answers (shared conformance and fixtures/git vectors)", () => {
  const extra = path.resolve(repoRoot, "fixtures/git");
  let n = checkLinear(...(Object.values(load(path.join(extra, "doublestar-cases.json"), path.join(extra, "doublestar-gold.json"))) as [Case[], Gold]));
  if (!sharedMissing("conformance/doublestar")) {
    const dir = path.join(sharedDir, "conformance/doublestar");
    n += checkLinear(...(Object.values(load(path.join(dir, "cases.json"), path.join(dir, "gold.json"))) as [Case[], Gold]));
  }
  assert.ok(n >= 300);
});

test("doublestar: the linear matcher and the RegExp agree on random patterns and names (seeded)", () => {
  let seed = 20261206;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const parts = ["a", "b", "/", "*", "**", "?", "[ab]", "[!a]", "{a,b}", "{a/,}", "**/", "/**", "é", "\\*", "{,*}"];
  const chars = ["a", "b", "/", "é", "*", "c"];
  let compared = 0;
  for (let n = 0; n < 3000; n++) {
    const pattern = Array.from({ length: 1 + rnd(6) }, () => parts[rnd(parts.length)]).join("");
    let regex;
    let linear;
    try {
      regex = compileGlob(pattern, { linear: false });
      linear = compileGlob(pattern, { linear: true });
    } catch (e) {
      assert.ok(e instanceof BadPatternError);
      continue;
    }
    for (let m = 0; m < 12; m++) {
      const name = Array.from({ length: rnd(7) }, () => chars[rnd(chars.length)]).join("");
      assert.equal(linear.match(name), regex.match(name), `${JSON.stringify(pattern)} against ${JSON.stringify(name)}`);
      compared++;
    }
  }
  assert.ok(compared > 20000);
});

test("doublestar: a glob with many stars in a name is matched without backtracking (answers, not timings)", () => {
  // the RegExp took seconds for 8 stars against 40 characters, and each further star multiplied that
  const pattern = `${"*a".repeat(30)}*c`;
  assert.equal(pathMatch(pattern, "a".repeat(5000)), false);
  assert.equal(pathMatch(pattern, `${"a".repeat(5000)}c`), true);
  assert.equal(pathMatch(`**/${"*x".repeat(10)}/**/*.go`, `${"x/".repeat(2000)}${"x".repeat(10)}/y.go`), true);
});

test("doublestar: mayMatchBelow of a segment with many stars answers as its RegExp, without backtracking", () => {
  const g = compileGlob(`${"*a".repeat(4)}*/x`);
  const regex = new RegExp(`^${"[^/]*a".repeat(4)}[^/]*$`, "u");
  for (const dir of ["aaaa", "aaa", "xaxaxaxa", "aaaa/b", "", "baaaab", "ééaaaa"]) {
    const first = dir.split("/")[0];
    assert.equal(g.mayMatchBelow(dir), dir === "" || (regex.test(first) && !dir.includes("/")), dir);
  }
  assert.equal(compileGlob(`${"*a".repeat(30)}*c/x`).mayMatchBelow("a".repeat(5000)), false);
});
