// The string fast paths of WerfMask (literal paths, "**" + "/*SUFFIX") give exactly the RegExp's answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { WerfMask, cleanPath, fastMatcher, trimTrailingGlobs } from "../../src/git/pathMatcher.js";
import { compileGlob } from "../../src/git/doublestar.js";

/** werf's three globs as one RegExp, without the fast path. */
function slowMatcher(mask: string): (rel: string) => boolean {
  const cleaned = cleanPath(mask);
  const trimmed = trimTrailingGlobs(cleaned);
  const recursive = trimmed === "" ? "**/*" : `${trimmed}/**/*`;
  const re = new RegExp([...new Set([cleaned, trimmed, recursive])].map((g) => compileGlob(g).regexSource).join("|"), "u");
  return (rel) => re.test(rel);
}

const masks = [
  "src", "src/lib", "a.b", "package.json", "deep/er/path.txt", ".hidden", "dir with space", "日本",
  "**/go.mod", "**/src/lib", "**/a.b", "**/日本", "**/.hidden",
  "**/*.go", "**/*.png", "**/*.lock", "**/*.test.js", "**/*_test", "**/*x", "**/*.", "**/*-", "**/*é",
  // only `*` segments: every path
  "*", "**/*", "*/**", "*/*", "**/**",
  // a literal path then `*`-only segments; literal leading segments then a fast shape; one brace group
  "src/*", "src/**", "src/lib/*/**", "deep/**/*.txt", "src/**/*.go", "src/**/go.mod", "src/lib/**/x.go", "deep/er/**/*.txt",
  "**/*.{js,ts}", "src/**/*.{go,lock}", "{src,deep}/**/*.txt", "**/{go.mod,a.b}", "{src,lib}", "a{.b,x}", "src/**/*{x,-}",
  // shapes that must fall back to the RegExp
  "*.go", "**/*[ab]", "**/*?x", "**", "**/*.go/x", "src/*.go", "**/*.{go,}", "{a,b}/{c,d}", "**/*.{g*,x}", "src/{.,x}/a", "src/*/lib/**/*.go",
];
const names = ["", "x", "go.mod", "go.modx", "xgo.mod", "a.b", "src", "lib", "main.go", "a.png", ".png", "x.lock", "t.test.js", "y_test", "ax", "é", "日本", "dir with space", "path.txt", ".hidden", "a.", "b-"];

function paths(): string[] {
  const out = new Set<string>();
  for (const a of names) {
    if (a === "") continue;
    out.add(a);
    for (const b of names) {
      if (b === "") continue;
      out.add(`${a}/${b}`);
      out.add(`${a}/${b}/${a}`);
      out.add(`src/${a}/${b}`);
      out.add(`deep/er/${b}`);
    }
  }
  out.add("deep/er/path.txt");
  out.add("deep/er/path.txt/inner");
  out.add("src/lib");
  out.add("src/lib/x.go");
  out.add("src/lib/deep/x.go");
  out.add("src/lib/a/b/x.go/c");
  out.add("deep/er/a/path.txt");
  out.add("deep/x.txt");
  out.add("src/x/a");
  out.add("src/./a");
  return [...out];
}

test("fast matchers agree with werf's globs", () => {
  const all = paths();
  let fastCount = 0;
  for (const mask of masks) {
    const fast = fastMatcher(cleanPath(mask));
    if (!fast) continue;
    fastCount++;
    const slow = slowMatcher(mask);
    for (const p of [...all, ""]) assert.equal(fast(p), slow(p), `mask ${JSON.stringify(mask)} on ${JSON.stringify(p)}`);
  }
  assert.ok(fastCount >= 40, `${fastCount} masks took a fast path`);
});

test("odd paths (leading, trailing or doubled slashes) get the globs' answer", () => {
  for (const mask of ["**/a/", "a", "**/*.go", "**/a/b", "**/*"]) {
    const m = new WerfMask(mask);
    const slow = slowMatcher(mask);
    for (const p of ["a/", "/a", "a//b", "x/a/", "x.go/", "/x.go", "a/b/", "x//a/b"]) assert.equal(m.matches(p), slow(p), `${mask} on ${p}`);
  }
});

test("other shapes have no fast path", () => {
  for (const mask of ["*.go", "**/*[ab]", "**/*?x", "**/*.go/x", "src/*.go", "**/*.{go,}", "{a,b}/{c,d}", "**/*.{g*,x}", "src/{.,x}/a", "src/*/lib/**/*.go", ".", ""]) {
    assert.equal(fastMatcher(cleanPath(mask)), undefined, mask);
  }
});
