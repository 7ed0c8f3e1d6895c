// maskToRegex / globToRegex / maskBelowRegex against doublestar's gold vectors and werf's matcher,
// evaluated both as JavaScript RegExps and by real bash (`[[ =~ ]]`, LC_ALL=C), and the script's text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { bashQuote, globToRegex, importFilterScript, maskBelowRegex, maskToRegex } from "../../src/emit/import-filter.js";
import { compileGlob } from "../../src/git/doublestar.js";
import { WerfMask } from "../../src/git/pathMatcher.js";
import { UserError } from "../../src/diagnostics.js";
import { fixturesDir, sharedDir, sharedMissing } from "../support/paths.js";

type Gold = Record<string, Record<string, boolean | string>>;

/** A path as the byte string bash sees under LC_ALL=C (one char per UTF-8 byte). */
const bytes = (p: string) => Buffer.from(p, "utf8").toString("latin1");

function goldSuites(): { name: string; gold: Gold }[] {
  return [
    { name: "fixtures/git/doublestar-gold.json", gold: JSON.parse(readFileSync(path.join(fixturesDir, "git/doublestar-gold.json"), "utf8")) },
    // the shared vectors when ../shared is there (a clone elsewhere has the project's own gold only)
    ...(sharedMissing("conformance/doublestar")
      ? []
      : [{ name: "shared/conformance/doublestar/gold.json", gold: JSON.parse(readFileSync(path.join(sharedDir, "conformance/doublestar/gold.json"), "utf8")) as Gold }]),
  ];
}

/** Every valid gold (pattern, path, expected) triple. */
function goldCases(): { pattern: string; path: string; expected: boolean }[] {
  const out: { pattern: string; path: string; expected: boolean }[] = [];
  for (const { gold } of goldSuites()) {
    for (const [pattern, paths] of Object.entries(gold)) {
      if (Object.values(paths).some((v) => typeof v === "string")) continue; // malformed: see below
      for (const [p, expected] of Object.entries(paths)) out.push({ pattern, path: p, expected: expected as boolean });
    }
  }
  return out;
}

/** Runs `[[ path =~ re ]]` for each pair in one bash process (host bash, as the toolchain's: GNU bash + glibc regex). */
function bashMatches(pairs: { re: string; path: string }[]): boolean[] {
  const script = ["export LC_ALL=C", ...pairs.map(({ re, path: p }) => `re=${bashQuote(re)}; if [[ ${bashQuote(p)} =~ $re ]]; then echo 1; else echo 0; fi`)].join("\n");
  const out = execFileSync("bash", ["-s"], { input: script, encoding: "utf8", maxBuffer: 64 << 20 });
  return out.trim().split("\n").map((l) => l === "1");
}

test("globToRegex: every doublestar gold case, as a JavaScript RegExp", () => {
  const cases = goldCases();
  assert.ok(cases.length > 1400, `only ${cases.length} gold cases`);
  for (const c of cases) {
    const re = new RegExp(globToRegex(c.pattern));
    assert.equal(re.test(bytes(c.path)), c.expected, `PathMatch(${JSON.stringify(c.pattern)}, ${JSON.stringify(c.path)}) via ${JSON.stringify(globToRegex(c.pattern))}`);
  }
});

test("globToRegex: every doublestar gold case in real bash [[ =~ ]] (C locale)", () => {
  const cases = goldCases().filter((c) => !c.path.includes("\0"));
  const got = bashMatches(cases.map((c) => ({ re: globToRegex(c.pattern), path: bytes(c.path) })));
  assert.equal(got.length, cases.length);
  const wrong = cases.filter((c, i) => got[i] !== c.expected).map((c) => `${JSON.stringify(c.pattern)} ${JSON.stringify(c.path)} → ${!c.expected}`);
  assert.deepEqual(wrong, []);
});

test("globToRegex/maskToRegex: a malformed gold pattern is refused, by maskToRegex with a UserError", () => {
  let refused = 0;
  for (const { gold } of goldSuites()) {
    for (const [pattern, paths] of Object.entries(gold)) {
      if (!Object.values(paths).some((v) => typeof v === "string" && v.startsWith("ERR:"))) continue;
      assert.throws(() => maskToRegex(pattern), (e: unknown) => e instanceof UserError && /malformed mask/.test(e.message) && !/\n\s+at /.test(e.message));
      refused++;
    }
  }
  assert.ok(refused >= 10, `only ${refused} malformed patterns`);
});

/** Masks as werf.yaml writes them, and paths around them (files, dirs, their contents, unicode, specials). */
const WERF_MASKS = [
  "src", "src/", "src/*", "src/**", "src/**/*", "*.php", "**/*.php", "app/*.js", "{a,b}/c", "a*/b", "*/b/**",
  "x?z", "[a-c]*", "[!.]*", "é*", "日本/*.txt", "a\\*b", "[[]x]", "**/.git/**", ".", "", "**", "*", "./src",
  "dir with space/*", "it's", "$HOME", "a[/]b", "**/test_*.go", "vendor/**/*.{c,h}", "-rf",
];
const PATHS = [
  "", "src", "src/a", "src/a/b", "srcx", "x/src", "a.php", "x/a.php", "x.php/y", "app/a.js", "app/x/a.js", "a/c", "b/c",
  "c/c", "a/c/d", "ab/b", "a/b", "q/b/z", "q/b", "xyz", "x/z", "xz", "b", "d", ".env", ".git", "a/.git/HEAD", "été",
  "étéx/y", "日本/a.txt", "日本/b/a.txt", "a*b", "axb", "[x]", "x", "dir with space/f", "it's", "$HOME", "a/b/c",
  "test_a.go", "p/test_b.go", "vendor/z/q.c", "vendor/q.h", "vendor/q.cc", "-rf", "-rf/x", "a\nb", "é/é",
];

test("maskToRegex: agrees with WerfMask.matches (JavaScript and bash)", () => {
  const masks = [...WERF_MASKS, ...goldSuites().flatMap(({ gold }) => Object.entries(gold).filter(([, v]) => !Object.values(v).some((x) => typeof x === "string")).map(([p]) => p))];
  const pairs: { re: string; path: string; expected: boolean; mask: string }[] = [];
  for (const mask of [...new Set(masks)]) {
    const wm = new WerfMask(mask);
    const re = maskToRegex(mask);
    const js = new RegExp(re);
    const gold = goldSuites().flatMap(({ gold }) => Object.keys(gold[mask] ?? {}));
    for (const p of [...new Set([...PATHS, ...gold, ...gold.map((g) => `${g}/x`)])]) {
      const expected = wm.matches(p);
      assert.equal(js.test(bytes(p)), expected, `mask ${JSON.stringify(mask)} path ${JSON.stringify(p)}: ${JSON.stringify(re)}`);
      if (WERF_MASKS.includes(mask)) pairs.push({ re, path: bytes(p), expected, mask });
    }
  }
  const got = bashMatches(pairs);
  assert.deepEqual(pairs.filter((c, i) => got[i] !== c.expected).map((c) => `${c.mask} ${JSON.stringify(c.path)}`), []);
});

test("maskBelowRegex: a directory above a matching path is entered; unrelated directories are not", () => {
  for (const mask of WERF_MASKS) {
    const wm = new WerfMask(mask);
    const below = new RegExp(maskBelowRegex(mask));
    for (const p of PATHS) {
      if (!wm.matches(p)) continue;
      const parts = p.split("/");
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join("/");
        assert.ok(below.test(bytes(dir)), `mask ${JSON.stringify(mask)}: ${JSON.stringify(dir)} must be entered for ${JSON.stringify(p)}`);
      }
    }
  }
  const no = (mask: string, dir: string) => assert.equal(new RegExp(maskBelowRegex(mask)).test(bytes(dir)), false, `${mask} ${dir}`);
  const yes = (mask: string, dir: string) => assert.equal(new RegExp(maskBelowRegex(mask)).test(bytes(dir)), true, `${mask} ${dir}`);
  no("src/*.go", "lib");
  no("app/x/*.js", "app/y");
  no("{a,b}/c", "c");
  yes("{a,b}/c", "b");
  yes("**/*.php", "deep/er");
  yes("app/x/*.js", "app/x");
  // never stricter than the matcher's own conservative answer where the matcher is exact
  for (const [mask, dir] of [["a*/b", "ax"], ["src", "src/q"], ["*/b/**", "z/b"]] as const) {
    assert.equal(new WerfMask(mask).mayMatchBelow(dir), true);
    yes(mask, dir);
  }
});

test("maskToRegex: the ERE stays in the POSIX/JavaScript common subset", () => {
  for (const mask of [...WERF_MASKS, "[\\]a]", "[\\]]", "[\\\\]", "[a\\-z]", "[^^]", "[!-]", "{x,[[]}", "a{b,c{d,e}}"]) {
    const re = maskToRegex(mask);
    assert.match(re, /^\^.*\$$/s);
    assert.doesNotMatch(re, /\(\?|\(\)|\(\||\|\)|\|\||\[\]|\\[dwsbDWSBnrtux0-9]/, `${mask}: ${re}`);
    // a backslash inside a bracket would differ between POSIX and JavaScript
    for (const m of re.matchAll(/\[(\^?)([^\]]*)\]/g)) {
      if (m.index! > 0 && re[m.index! - 1] === "\\") continue;
      assert.doesNotMatch(m[2], /[\\[]/, `${mask}: bracket ${m[0]}`);
    }
    new RegExp(re); // parses
  }
});

test("maskToRegex: classes with special characters and non-ASCII ranges (bash and JavaScript)", () => {
  const cases: [string, string[], string[]][] = [
    ["[\\]a]x", ["]x", "ax"], ["bx", "x"]],
    ["[\\]\\\\]", ["]", "\\"], ["a", "[", "]\\"]],
    ["[!^-]", ["a", "é", "/"], ["^", "-"]],
    ["[à-ü]", ["à", "é", "ü"], ["a", "ÿ", "àà"]],
    ["[^é]", ["e", "日", "/"], ["é"]],
    ["?", ["日", "a", "😀"], ["ab", "/"]],
    ["[😀-😂]z", ["😁z"], ["😃z", "z"]],
    ["{(,|}x", ["(x", "|x"], ["x", "(|x"]],
    ["^a$.b", ["^a$.b"], ["a", "^a$xb"]],
  ];
  const pairs: { re: string; path: string; expected: boolean }[] = [];
  for (const [pattern, yes, no] of cases) {
    const g = compileGlob(pattern);
    for (const p of [...yes, ...no]) {
      assert.equal(g.match(p), yes.includes(p), `doublestar sanity ${pattern} ${p}`);
      const re = globToRegex(pattern);
      assert.equal(new RegExp(re).test(bytes(p)), yes.includes(p), `${pattern} ${JSON.stringify(p)}: ${JSON.stringify(re)}`);
      pairs.push({ re, path: bytes(p), expected: yes.includes(p) });
    }
  }
  const got = bashMatches(pairs);
  assert.deepEqual(pairs.filter((c, i) => got[i] !== c.expected).map((c) => `${JSON.stringify(c.re)} ${JSON.stringify(c.path)}`), []);
});

test("maskToRegex: masks that cannot become an ERE are UserErrors", () => {
  assert.throws(() => maskToRegex("a\0b"), (e: unknown) => e instanceof UserError && /NUL/.test(e.message));
  assert.throws(() => maskToRegex("[abc"), (e: unknown) => e instanceof UserError && /malformed mask "\[abc"/.test(e.message));
  const huge = "{a,b,c,d}{e,f,g,h}{i,j,k,l}{m,n,o,p}{q,r,s,t}*{u,v}";
  assert.throws(() => maskToRegex(huge), (e: unknown) => e instanceof UserError && /too complex/.test(e.message));
  assert.throws(
    () => importFilterScript({ add: "/app", includePaths: ["ok"], excludePaths: ["x{"] }, "/.stapel-src", "/.stapel-out"),
    (e: unknown) => e instanceof UserError && /excludePaths\[0\]: malformed mask/.test(e.message),
  );
});

test("importFilterScript: deterministic printable-ASCII text, quoted values, PATH set", () => {
  const f = { add: "/app", includePaths: ["été/*", "it's", "$(reboot)"], excludePaths: ["**/*.log"] };
  const a = importFilterScript(f, "/.stapel-src", "/.stapel-out");
  assert.equal(importFilterScript({ ...f, includePaths: [...f.includePaths] }, "/.stapel-src", "/.stapel-out"), a);
  assert.match(a, /^export PATH=\/\.stapel\/bin LC_ALL=C$/m);
  assert.match(a, /^[\x20-\x7e\n]*$/);
  assert.doesNotMatch(a, /^EOF$/m);
  // the whole script is valid bash
  execFileSync("bash", ["-n", "-c", a]);
  // the regex assignment reads back exactly
  const line = a.split("\n").find((l) => l.startsWith("S2D_INC="))!;
  const back = execFileSync("bash", ["-c", `export LC_ALL=C; ${line}; printf %s "$S2D_INC"`]).toString("latin1");
  assert.equal(new RegExp(back).test(bytes("été/x")), true);
  assert.equal(new RegExp(back).test(bytes("$(reboot)")), true);
  assert.equal(new RegExp(back).test(bytes("x")), false);
});

test("bashQuote: round-trips byte strings through bash", () => {
  const values = ["", "plain", "it's", "a\\b", "$x `y` \"z\"", "\x01\n\t\x7f\x80\xff", bytes("日本")];
  const out = execFileSync("bash", ["-c", values.map((v) => `printf '%s\\0' ${bashQuote(v)}`).join("\n")]).toString("latin1");
  assert.deepEqual(out.split("\0").slice(0, -1), values);
});
