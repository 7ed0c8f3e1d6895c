import { test } from "node:test";
import assert from "node:assert/strict";
import { MultiPathMatcher, PathMatcher, WerfMask, trimTrailingGlobs, cleanPath } from "../../src/git/pathMatcher.js";
import { UserError } from "../../src/diagnostics.js";

test("werf mask: trailing *-only segments are trimmed, so a directory mask matches everything below", () => {
  assert.equal(trimTrailingGlobs("src/*"), "src");
  assert.equal(trimTrailingGlobs("src/**/*"), "src");
  assert.equal(trimTrailingGlobs("**/*"), "");
  assert.equal(trimTrailingGlobs("a/*.go"), "a/*.go");
  for (const mask of ["module1", "module1/", "module1/*", "module1/**/*", "module1/**"]) {
    const m = new WerfMask(mask);
    assert.ok(m.matches("module1/a"), `${mask} matches module1/a`);
    assert.ok(m.matches("module1/x/y/z.txt"), `${mask} matches module1/x/y/z.txt`);
    assert.equal(m.matches("module10/a"), false, `${mask} does not match module10/a`);
    assert.equal(m.matches("other/module1"), false);
  }
});

test("werf mask: *.php is top-level only (plus what is inside a dir named x.php); **/*.php recurses", () => {
  const top = new WerfMask("*.php");
  assert.ok(top.matches("index.php"));
  assert.equal(top.matches("src/index.php"), false);
  assert.ok(top.matches("weird.php/inner.txt"));
  const all = new WerfMask("**/*.php");
  assert.ok(all.matches("src/a/b.php"));
  assert.ok(all.matches("b.php"));
  assert.equal(all.matches("src/a/b.phpx"), false);
});

test("werf mask: '.', '' and '**' are universal; masks are cleaned", () => {
  for (const u of [".", "", "**", "./"]) assert.ok(new WerfMask(u).matches("any/thing"), `${JSON.stringify(u)} is universal`);
  assert.equal(cleanPath("./a//b/"), "a/b");
  assert.ok(new WerfMask("./src//").matches("src/x"));
});

test("path matcher: include AND NOT exclude, relative to the base path", () => {
  const m = new PathMatcher({ basePath: "/app/", includeGlobs: ["src", "*.json"], excludeGlobs: ["src/**/*_test.go", "src/vendor"] });
  assert.ok(m.isPathMatched("app/src/main.go"));
  assert.ok(m.isPathMatched("app/package.json"));
  assert.equal(m.isPathMatched("app/src/main_test.go"), false, "excluded");
  assert.equal(m.isPathMatched("app/src/vendor/x/y.go"), false, "excluded dir excludes below");
  assert.equal(m.isPathMatched("app/README.md"), false, "not included");
  assert.equal(m.isPathMatched("src/main.go"), false, "outside add");
  assert.equal(m.isPathMatched("application/src/main.go"), false, "a sibling with the same prefix is outside add");
});

test("path matcher: no includes means everything under add; a single-file add", () => {
  const all = new PathMatcher({ basePath: "/app" });
  assert.ok(all.isPathMatched("app/x/y"));
  assert.equal(all.isPathMatched("docs/x"), false);
  const file = new PathMatcher({ basePath: "/app/main.go" });
  assert.ok(file.isPathMatched("app/main.go"));
  assert.equal(file.isPathMatched("app/main.go.bak"), false);
  assert.equal(file.relative("app/main.go"), "");
  const root = new PathMatcher({ basePath: "/", includeGlobs: ["**/*.md"] });
  assert.ok(root.isPathMatched("docs/guide.md"));
  assert.ok(root.isPathMatched("README.md"));
});

test("path matcher: walk decisions (shouldGoThrough, isDirFullyMatched) never skip a matching file", () => {
  const m = new PathMatcher({ basePath: "/app", includeGlobs: ["src/**/*.go", "assets"], excludeGlobs: ["src/gen"] });
  assert.ok(m.shouldGoThrough(""), "root leads to add");
  assert.ok(m.shouldGoThrough("app"));
  assert.ok(m.shouldGoThrough("app/src/pkg"));
  assert.equal(m.shouldGoThrough("app/docs"), false);
  assert.equal(m.shouldGoThrough("app/src/gen"), false, "excluded directory");
  assert.equal(m.shouldGoThrough("lib"), false, "outside add");
  assert.ok(m.isDirFullyMatched("app/assets"));
  assert.ok(m.isDirFullyMatched("app/assets/img"));
  assert.equal(m.isDirFullyMatched("app/src"), false, "only .go files below src");
  // brute force: for every matched file, every ancestor dir must be walked
  const files = ["app/src/a.go", "app/src/x/y/b.go", "app/assets/i.png", "app/src/gen/z.go", "app/docs/a.go", "app/src/readme.md"];
  for (const f of files) {
    if (!m.isPathMatched(f)) continue;
    const parts = f.split("/");
    for (let i = 0; i < parts.length; i++) assert.ok(m.shouldGoThrough(parts.slice(0, i).join("/")), `walk towards ${f}`);
  }
  // a fully matched dir has only matched files below
  const full = new PathMatcher({ basePath: "/app", includeGlobs: ["src"], excludeGlobs: ["**/*.tmp"] });
  assert.equal(full.isDirFullyMatched("app/src"), false, "an exclude could match below");
});

test("multi path matcher ANDs matchers (mapping + stage-dependency mask)", () => {
  const mapping = new PathMatcher({ basePath: "/app", excludeGlobs: ["vendor"] });
  const mask = new PathMatcher({ basePath: "/app", includeGlobs: ["**/*.go"] });
  const both = new MultiPathMatcher([mapping, mask]);
  assert.ok(both.isPathMatched("app/x/a.go"));
  assert.equal(both.isPathMatched("app/vendor/a.go"), false);
  assert.equal(both.isPathMatched("app/x/a.txt"), false);
});

test("malformed masks are UserErrors naming the setting", () => {
  assert.throws(
    () => new PathMatcher({ includeGlobs: ["src/[abc"], label: { include: "git[0].includePaths" } }),
    (e: unknown) => e instanceof UserError && /git\[0\]\.includePaths: malformed mask "src\/\[abc"/.test(e.message) && !!e.diagnostics[0].hint,
  );
});
