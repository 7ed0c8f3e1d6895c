import assert from "node:assert/strict";
import { test } from "node:test";
import type { SourceMap, SourcePos } from "../../src/diagnostics.js";
import { META, diagnosticsOf, find, load } from "./helpers.js";

test("YAML 1.1 scalars: yes/no/on/off are booleans, 0755 stays as written in string fields", () => {
  const cfg = load(`${META}image: app\nfrom: alpine\nfinal: no\nfromLatest: on\ngit:\n- add: /\n  to: /app\n  owner: 0755\n  group: 1000\ndocker:\n  ENV:\n    DEBUG: yes\n    PORT: 8080\n  USER: 0:0\n`);
  const img = cfg.images[0]!;
  assert.equal(img.final, false);
  assert.equal(img.fromLatest, true);
  assert.equal(img.git[0]!.owner, "0755");
  assert.equal(img.git[0]!.group, "1000");
  assert.deepEqual(img.docker!.env, { DEBUG: "yes", PORT: "8080" });
  assert.equal(img.docker!.user, "0:0");
});

test("a boolean field given a string is a type error at the value", () => {
  const d = find(diagnosticsOf(`${META}image: app\nfrom: alpine\nfinal: "no"\n`), "boolean expected");
  assert.deepEqual([d.pos?.line, d.pos?.col], [6, 8]);
});

test("duplicate keys are an error at the repeated key", () => {
  const diags = diagnosticsOf(`${META}image: app\nfrom: alpine\nfrom: debian\n`);
  const d = find(diags, "invalid YAML");
  assert.equal(d.message, 'invalid YAML: key "from" already set in map');
  assert.deepEqual([d.pos?.line, d.pos?.col], [6, 1]);
  assert.match(d.hint ?? "", /once/);
});

test("all YAML errors of all documents are reported together", () => {
  const diags = diagnosticsOf(`${META}image: a\nfrom: x\nfrom: y\n---\nimage: b\n  from: [unclosed\n`);
  assert.ok(diags.filter((d) => d.message.startsWith("invalid YAML")).length >= 2);
  assert.ok(diags.some((d) => d.pos?.line === 6));
  assert.ok(diags.some((d) => (d.pos?.line ?? 0) >= 8));
});

test("anchors, aliases and merge keys are resolved", () => {
  const cfg = load(`${META}image: app\nfrom: alpine\ngit:\n- &g\n  add: /src\n  stageDependencies: &sd\n    install: package.json\n  to: /app\n- <<: *g\n  excludePaths: [tmp]\n`);
  const [a, b] = cfg.images[0]!.git;
  assert.equal(a!.to, "/app");
  assert.equal(b!.to, "/app");
  assert.equal(b!.add, "/src");
  assert.deepEqual(b!.stageDependencies.install, ["package.json"]);
});

/** A fake template SourceMap: rendered line N comes from `base.tmpl` line N + 100. */
class ShiftedMap implements SourceMap {
  constructor(private readonly text: string) {}
  lookup(offset: number): SourcePos | undefined {
    const before = this.text.slice(0, offset);
    const line = before.split("\n").length;
    if (line < 4) return undefined;
    return { file: ".werf/base.tmpl", line: line + 100, col: offset - before.lastIndexOf("\n") };
  }
}

test("positions go through the SourceMap; unmapped ones show rendered lines", () => {
  const text = `${META}image: app\nfrom: alpine\nfromLatest: "maybe"\n`;
  const d = find(diagnosticsOf(text, new ShiftedMap(text)), "boolean expected");
  assert.deepEqual(d.pos, { file: ".werf/base.tmpl", line: 106, col: 13 });

  const bad = "configVersion: 1\nproject: Bad_Name\n---\nimage: a\nfrom: b\n";
  const m = find(diagnosticsOf(bad, new ShiftedMap(bad)), "bad project name");
  assert.deepEqual(m.pos, { file: "werf.yaml", line: 2, col: 10 });
  assert.ok(m.context && m.context.some((l) => l.includes("rendered 2 | project: Bad_Name")));
});
