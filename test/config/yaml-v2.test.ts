// werf.yaml documents are read with yaml.v2's UnmarshalStrict: merge keys, aliases, duplicate keys
// (also through merges), alias-expansion and size limits, control characters, located errors.
// The expected values and errors of fixtures/template/yaml/strict come from yaml.v2 itself
// (its main.go and regen.sh).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { parseYamlDocument } from "../../src/config/yaml.js";
import { Locator } from "../../src/config/locate.js";
import { MAX_YAML_CHARS, MAX_YAML_DEPTH } from "../../src/yaml-v2.js";
import { META, diagnosticsOf, find, load, repoRoot } from "./helpers.js";

const dir = path.join(repoRoot, "fixtures/template/yaml/strict");
const cases = JSON.parse(readFileSync(path.join(dir, "cases.json"), "utf8")) as { name: string; yaml: string }[];
const gold = JSON.parse(readFileSync(path.join(dir, "gold.json"), "utf8")) as Record<string, { value?: unknown; err?: string }>;

function parse(text: string) {
  return parseYamlDocument({ index: 0, offset: 0, text }, new Locator("werf.yaml", text));
}

/** yaml.v2's error text without "yaml: " and the "unmarshal errors:" / "line N: " framing. */
function goDetails(err: string): string[] {
  const body = err.replace(/^yaml: /, "");
  if (!body.startsWith("unmarshal errors:")) return [body];
  return body
    .split("\n")
    .slice(1)
    .map((l) => l.trim().replace(/^line \d+: /, ""));
}

for (const c of cases) {
  test(`UnmarshalStrict ${c.name}`, () => {
    const want = gold[c.name]!;
    const { doc, errors } = parse(c.yaml);
    if (want.err !== undefined) {
      assert.deepEqual(
        errors.map((e) => e.message.replace(/^invalid YAML: /, "")),
        goDetails(want.err),
      );
    } else {
      assert.deepEqual(errors, []);
      assert.deepEqual(doc!.value, want.value);
    }
  });
}

test("a key a merge brought in cannot be set again: located at the second one", () => {
  const text = `${META}image: app\nfrom: alpine\ngit:\n- &g\n  add: /src\n  to: /app\n- <<: *g\n  to: /other\n`;
  const d = find(diagnosticsOf(text), "already set");
  assert.equal(d.message, 'invalid YAML: key "to" already set in map');
  assert.deepEqual([d.pos?.line, d.pos?.col], [11, 3]);
  assert.match(d.hint ?? "", /merge/);
});

test("a merge that brings in a key already set is located at the `<<`", () => {
  const text = `${META}image: app\nfrom: alpine\ngit:\n- &g\n  add: /src\n  to: /app\n- to: /other\n  <<: *g\n`;
  const d = find(diagnosticsOf(text), "already set");
  assert.deepEqual([d.pos?.line, d.pos?.col], [11, 3]);
});

test("merged entries keep the position of the anchored mapping they come from", () => {
  const text = `${META}image: app\nfrom: alpine\ngit:\n- &g\n  add: /src\n  to: 5\n- <<: *g\n  includePaths: [a]\n`;
  const diags = diagnosticsOf(text);
  // `to: 5` is not a string: reported where it is written, for both git entries.
  const at = diags.filter((d) => /to/.test(d.message) || d.pos?.line === 9).map((d) => `${d.pos?.line}:${d.pos?.col}`);
  assert.ok(at.length >= 1, diags.map((d) => d.message).join("\n"));
  assert.ok(at.every((p) => p === "9:7"), at.join(" "));
});

test("merges and aliases give the configuration werf reads", () => {
  const cfg = load(`${META}image: app\nfrom: alpine\nshell:\n  install: &cmds\n  - echo 1\n  setup: *cmds\ngit:\n- &g\n  add: /src\n  to: /app\n- <<: *g\n  includePaths: [x]\n`);
  const img = cfg.images[0]!;
  assert.deepEqual(img.git.map((g) => [g.add, g.to, g.includePaths]), [
    ["/src", "/app", []],
    ["/src", "/app", ["x"]],
  ]);
});

test("an alias bomb fails fast with yaml.v2's message, located at the alias that tips it over", () => {
  const levels = ["a: &a [" + Array(10).fill("x").join(",") + "]"];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    levels.push(`${name}: &${name} [${Array(10).fill("*" + prev).join(",")}]`);
  }
  const text = `${META}image: app\nfrom: alpine\n${levels.join("\n")}\n`;
  const t0 = Date.now();
  const diags = diagnosticsOf(text);
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  const d = find(diags, "excessive aliasing");
  assert.equal(d.message, "invalid YAML: document contains excessive aliasing");
  // The third *c of `d: &d [*c,*c,...]` is where yaml.v2's ratio rule trips.
  assert.deepEqual([d.pos?.line, d.pos?.col], [9, 14]);
  assert.match(d.hint ?? "", /aliases/);
});

test("an alias to its own anchor and an unknown anchor are located errors", () => {
  const self = find(diagnosticsOf(`${META}image: &i\n  x: *i\n`), "contains itself");
  assert.equal(self.message, "invalid YAML: anchor 'i' value contains itself");
  assert.deepEqual([self.pos?.line, self.pos?.col], [5, 6]);
  const unknown = find(diagnosticsOf(`${META}image: app\nfrom: *base\n`), "unknown anchor");
  assert.equal(unknown.message, "invalid YAML: unknown anchor 'base' referenced");
  assert.deepEqual([unknown.pos?.line, unknown.pos?.col], [5, 7]);
});

test(`nesting deeper than ${MAX_YAML_DEPTH} levels is a located error, not a stack overflow`, () => {
  // Located at the first collection nested one level too deep.
  for (const [body, at] of [
    ["x: " + "[".repeat(20000) + "]".repeat(20000), "6:259"],
    [Array.from({ length: 1000 }, (_, i) => " ".repeat(i) + "k:").join("\n"), "262:257"],
    ["x:\n  " + "- ".repeat(20000) + "v", "7:513"],
  ] as const) {
    const d = find(diagnosticsOf(`${META}image: app\nfrom: alpine\n${body}\n`), "max depth");
    assert.equal(d.message, `invalid YAML: exceeded max depth of ${MAX_YAML_DEPTH}`);
    assert.equal(`${d.pos?.file}:${d.pos?.line}:${d.pos?.col}`, `werf.yaml:${at}`);
  }
  // At the limit it is fine.
  const ok = parse("x: " + "[".repeat(MAX_YAML_DEPTH - 1) + "]".repeat(MAX_YAML_DEPTH - 1) + "\n");
  assert.deepEqual(ok.errors, []);
});

test("NUL and other control characters are located errors, as yaml.v2 refuses them", () => {
  const d = find(diagnosticsOf(`${META}image: app\nfrom: alp\u0000ine\n`), "control characters");
  assert.equal(d.message, "invalid YAML: control characters are not allowed");
  assert.deepEqual([d.pos?.line, d.pos?.col], [5, 10]);
  assert.match(d.hint ?? "", /U\+0000/);
  const del = find(diagnosticsOf(`${META}image: app\nfrom: alpine\nshell:\n  install: [a\u007f]\n`), "control characters");
  assert.deepEqual([del.pos?.line, del.pos?.col], [7, 14]);
  // Tabs inside values, NEL and non-ASCII text are allowed.
  assert.deepEqual(parse("a: \"x\ty\"\nb: héllo \u0085 ✓ 🙂\n").errors, []);
});

test(`a document over ${MAX_YAML_CHARS} characters is refused at once`, () => {
  const big = `${META}image: app\nfrom: alpine\nlabels: "${"x".repeat(MAX_YAML_CHARS)}"\n`;
  const t0 = Date.now();
  const d = find(diagnosticsOf(big), "too large");
  assert.ok(Date.now() - t0 < 5000);
  assert.match(d.message, /^invalid YAML: document too large: \d+ characters, over the limit of 8388608 \(8 MiB\)$/);
  assert.deepEqual([d.pos?.line, d.pos?.col], [4, 1]);
});
