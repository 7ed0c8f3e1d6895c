// Direct calls for behaviour the oracle cannot show: toYaml (not in sprig v3
// nor werf v2's oracle), and regexps JavaScript cannot express like Go.
import assert from "node:assert/strict";
import { test } from "node:test";
import { sprigFuncs, toYaml } from "../../../src/template/sprig/index.js";
import { GoFloat, type GoValue } from "../../../src/template/value.js";

const call = (name: string, ...args: GoValue[]): GoValue => sprigFuncs().get(name)!.call(...args);

test("toYaml writes yaml.v2 style: sorted keys, unindented sequences, block style", () => {
  const v = new Map<string, GoValue>([["b", ["x", "z"]], ["a", new Map<string, GoValue>([["num", 1], ["f", new GoFloat(1.5)]])]]);
  assert.equal(toYaml(v), "a:\n  f: 1.5\n  num: 1\nb:\n- x\n- z\n");
  assert.equal(call("toYaml", v), "a:\n  f: 1.5\n  num: 1\nb:\n- x\n- z");
});

test("fromYaml keeps yaml.v2 types: ints, float64, YAML 1.1 booleans", () => {
  const m = call("fromYaml", "a: 1\nb: 1.0\nc: yes\n") as Map<string, GoValue>;
  assert.equal(m.get("a"), 1);
  assert.ok(m.get("b") instanceof GoFloat);
  assert.equal(m.get("c"), true);
});

test("Go regexp is RE2: flags anywhere in the expression, no backreferences", () => {
  assert.equal(call("mustRegexMatch", "a(?i)b", "aB"), true);
  assert.equal(call("regexFind", "a(?i:b)c", "aBc aBC"), "aBc");
  assert.throws(() => call("regexFind", "(a)\\1", "aa"), /^Error: regexp: Compile\(`\(a\)\\1`\): error parsing regexp: invalid escape sequence: `\\1`$/);
  assert.throws(() => call("mustRegexFind", "(?<=a)b", "ab"), /^Error: error parsing regexp: invalid named capture: `\(\?<=a\)b`$/);
});

test("catastrophic patterns for a backtracking engine get RE2's answer", () => {
  // Each of these takes minutes to hours in a backtracking engine (V8's irregexp included).
  const a = "a".repeat(5000) + "!";
  assert.equal(call("regexMatch", "^(a+)+$", a), false);
  assert.equal(call("regexMatch", "^(a|aa)+$", a), false);
  assert.equal(call("regexMatch", "^(a|a?)+$", a), false);
  assert.deepEqual(call("regexFindAll", "(a*)*b", a, -1), []);
  assert.equal(call("regexReplaceAll", "^(a+)+$", a, "x"), a);
  assert.deepEqual(call("regexSplit", "(a+)+b", a, -1), [a]);
  assert.equal(call("regexFind", "(.*a){30}", a), "a".repeat(5000));
});

test("regexp.MustCompile quotes the expression as Go's regexp.quote does", () => {
  assert.throws(() => call("regexFind", "a\n(", "x"), /^Error: regexp: Compile\("a\\n\("\): error parsing regexp: missing closing \): `a\n\(`$/);
  assert.throws(() => call("regexFind", "`(", "x"), /^Error: regexp: Compile\("`\("\): /);
  assert.throws(() => call("regexFind", "\t(", "x"), /^Error: regexp: Compile\(`\t\(`\): /);
});

test("semver's expressions run as Go's (RE2): blanks that made a JS regexp backtrack for hours get Go's answer", () => {
  // As JavaScript regexps, 3000 blanks took 13 s (polynomial); 30000 would take hours.
  const blanks = " ".repeat(30000);
  assert.throws(() => call("semverCompare", `1${blanks}!`, "1.0.0"), (e: Error) => e.message === `improper constraint: 1${blanks}!`);
  assert.equal(call("semverCompare", `>=1.0${blanks}<2`, "1.5.0"), true);
  assert.equal(call("semverCompare", `>=1.0${blanks}<2`, "2.5.0"), false);
});

test("number syntax checks take linear time on long digit runs (they were quadratic), with the same answers", async () => {
  const { parseGoFloat } = await import("../../../src/template/sprig/args.js");
  assert.equal(parseGoFloat("1".repeat(200000) + "x"), undefined);
  assert.equal(parseGoFloat("0x" + "1".repeat(200000) + "x"), undefined);
  assert.equal(parseGoFloat("1_2".repeat(2) + ".5e1_0"), 1212.5e10);
  assert.equal(parseGoFloat("1.5e3"), 1500);
  assert.equal(parseGoFloat("12"), 12);
  assert.equal(parseGoFloat("0x1_f.8p1"), 63);
  assert.equal(parseGoFloat("0x1p-2"), 0.25);
  assert.equal(parseGoFloat("0xp1"), undefined);
});

test("a name may repeat (Go allows it): $name expands the first such group that took part", () => {
  assert.equal(call("regexReplaceAll", "(?P<d>x)|(?P<d>y)", "xy", "[$d]"), "[x][y]");
  assert.equal(call("regexReplaceAll", "(?P<d>x)(?P<d>y)?", "x xy", "[${d}]"), "[x] [x]");
  // Group names are found past escapes, \Q...\E and classes holding parentheses.
  assert.equal(call("regexReplaceAll", "\\((?P<d>a)[(]\\Q(\\E(?P<d>b)", "(a((b", "$d"), "a");
  assert.equal(call("regexReplaceAll", "[]()](?P<n>x)|(?P<n>y)", ")x y", "<$n>"), "<x> <y>");
  assert.throws(() => call("mustRegexFind", "(?P<d>x)(?P<d>", "x"), /^Error: error parsing regexp: missing closing \): `\(\?P<d>x\)\(\?P<d>`$/);
});

test("a leading (?U) makes repetitions lazy and their ? greedy, like RE2", () => {
  assert.equal(call("regexFind", "(?U)a+", "aaa"), "a");
  assert.equal(call("regexFind", "(?U)a+?", "aaa"), "aaa");
  assert.equal(call("regexFind", "(?U)a{2,3}", "aaaa"), "aa");
});

test("argument types are checked the way text/template converts them", () => {
  assert.throws(() => call("upper", 1), /expected string; got int/);
  assert.throws(() => call("repeat", "3", "x"), /expected int/);
  assert.throws(() => call("hasKey", ["a"], "a"), /expected map\[string\]interface \{\}/);
});

test("bcrypt matches the published $2a$ test vector (OpenBSD/Openwall)", async () => {
  const { bcryptHash } = await import("../../../src/template/sprig/bcrypt.js");
  // Salt "CCCCCCCCCCCCCCCCCCCCC." in bcrypt's base64 alphabet, decoded.
  const alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const salt = Buffer.from([..."CCCCCCCCCCCCCCCCCCCCC."].map((c) => std[alphabet.indexOf(c)]).join("") + "==", "base64");
  assert.equal(bcryptHash(Buffer.from("U*U"), 5, salt), "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
});

test("getHostByName is refused with a located, explained error (no DNS lookups while compiling)", async () => {
  const { TemplateSet } = await import("../../../src/template/template.js");
  const { werfFuncs } = await import("../../../src/template/werf.js");
  let set: InstanceType<typeof TemplateSet> | undefined;
  set = new TemplateSet(werfFuncs(() => set!, { environ: {} }));
  set.parse("werfConfig", 'a: 1\nb: {{ getHostByName "example.com" }}\n');
  assert.throws(
    () => set!.execute("werfConfig", new Map()),
    (e: Error & { goError?: string }) => {
      assert.match(e.goError ?? "", /werfConfig:2:\d+: .*error calling getHostByName: .*not supported by stapel2docker/);
      assert.doesNotMatch(e.message, /not a defined function/);
      return true;
    },
  );
});
