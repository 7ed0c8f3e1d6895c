// fromYaml on hostile input: alias bombs, deep nesting, huge documents and control characters give
// yaml.v2-style errors quickly and in bounded memory; aliases decode to independent copies.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fromYaml } from "../../src/template/sprig/yaml.js";
import type { GoMap, GoValue } from "../../src/template/value.js";
import { MAX_YAML_CHARS, MAX_YAML_DEPTH } from "../../src/yaml-v2.js";
import { TemplateError } from "../../src/template/template.js";
import { renderCase, werfSet } from "./helpers.js";

function timed<T>(f: () => T, maxMs: number): T {
  const t0 = Date.now();
  const r = f();
  assert.ok(Date.now() - t0 < maxMs, `took ${Date.now() - t0} ms`);
  return r;
}

test("a billion-laughs document fails fast, in bounded memory, with yaml.v2's message", () => {
  const levels = ["a: &a [" + Array(10).fill('"lol"').join(",") + "]"];
  for (let i = 1; i < 10; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    levels.push(`${name}: &${name} [${Array(10).fill("*" + prev).join(",")}]`);
  }
  const before = process.memoryUsage().heapUsed;
  assert.throws(() => timed(() => fromYaml(levels.join("\n")), 3000), { message: "yaml: document contains excessive aliasing" });
  assert.ok(process.memoryUsage().heapUsed - before < 200e6);
});

test("aliases and merges decode to copies: changing one leaves the others alone", () => {
  const v = fromYaml("a: &a {x: 1, l: [1]}\nb: *a\nc:\n  <<: *a\n");
  const a = v.get("a") as GoMap;
  const b = v.get("b") as GoMap;
  const c = v.get("c") as GoMap;
  assert.notEqual(a, b);
  a.set("x", 2);
  (a.get("l") as GoValue[]).push(2);
  assert.equal(b.get("x"), 1);
  assert.deepEqual(b.get("l"), [1]);
  assert.deepEqual(c.get("l"), [1]);
});

test(`nesting beyond ${MAX_YAML_DEPTH} levels is an error with the line, not a stack overflow`, () => {
  const flow = "a: 1\nb: " + "[".repeat(100000) + "]".repeat(100000);
  assert.throws(() => timed(() => fromYaml(flow), 3000), { message: `yaml: line 2: exceeded max depth of ${MAX_YAML_DEPTH}` });
  const block = Array.from({ length: 400 }, (_, i) => " ".repeat(i) + "k:").join("\n");
  assert.throws(() => fromYaml(block), { message: `yaml: line ${MAX_YAML_DEPTH + 1}: exceeded max depth of ${MAX_YAML_DEPTH}` });
  const ok = fromYaml("a: " + "[".repeat(MAX_YAML_DEPTH - 1) + "1" + "]".repeat(MAX_YAML_DEPTH - 1));
  assert.equal(ok.size, 1);
});

test("deep YAML at the bottom of deep template recursion still works (the JS stack holds both)", () => {
  const y = JSON.stringify("x: " + "[".repeat(MAX_YAML_DEPTH - 1) + "1" + "]".repeat(MAX_YAML_DEPTH - 1));
  const got = renderCase(`{{ define "r" }}{{ if lt (len .) 195 }}{{ include "r" (append . 1) }}{{ else }}{{ $v := fromYaml ${y} }}{{ len $v.x }}{{ end }}{{ end }}{{ include "r" list }}`);
  assert.deepEqual(got, { out: "1" });
});

test(`a document over ${MAX_YAML_CHARS} characters is refused without parsing it`, () => {
  const big = "a: " + "x".repeat(MAX_YAML_CHARS);
  assert.throws(() => timed(() => fromYaml(big), 1000), {
    message: `yaml: document too large: ${MAX_YAML_CHARS + 3} characters, over the limit of ${MAX_YAML_CHARS} (8 MiB)`,
  });
});

test("control characters and lone surrogates are refused as yaml.v2's reader does", () => {
  assert.throws(() => fromYaml("a: b\u0001"), { message: "yaml: control characters are not allowed" });
  assert.throws(() => fromYaml("a: \ud800"), { message: "yaml: invalid Unicode character" });
  assert.equal(fromYaml("a: \ud83d\ude42 \u00e9").get("a"), "\ud83d\ude42 \u00e9");
});

test("fromYaml errors say where in the YAML text they are", () => {
  const set = werfSet();
  set.parse("werfConfig", 'x: {{ fromYaml "a: &a [1]\\nb:\\n  <<: *a\\n" }}', "werf.yaml");
  assert.throws(
    () => set.execute("werfConfig", null),
    (e: unknown) => {
      assert.ok(e instanceof TemplateError);
      assert.deepEqual(e.pos, { file: "werf.yaml", line: 1, col: 7 });
      assert.match(e.goError, /error calling fromYaml: yaml: map merge requires map or sequence of maps as the value$/);
      assert.equal(e.diagnostics[0]!.hint, "at line 3, column 7 of the YAML text given to fromYaml");
      return true;
    },
  );
});

test("aliases that nest collections deeper than the limit stop there too", () => {
  // 300 anchors, each a list holding the previous one: 300 levels once expanded. Padding keeps
  // yaml.v2's alias ratio rule from tripping first (yaml.v2 itself has no depth limit here).
  let y = `pad: [${"x,".repeat(3000)}x]\na0: &a0 [1]\n`;
  for (let i = 1; i < 300; i++) y += `a${i}: &a${i} [*a${i - 1}]\n`;
  assert.throws(() => fromYaml(y), { message: `yaml: line 2: exceeded max depth of ${MAX_YAML_DEPTH}` });
  let ok = `pad: [${"x,".repeat(2000)}x]\na0: &a0 [1]\n`;
  for (let i = 1; i < 200; i++) ok += `a${i}: &a${i} [*a${i - 1}]\n`;
  assert.equal(fromYaml(ok).size, 201);
});
