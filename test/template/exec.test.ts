// Executor behaviour beyond the oracle's Go 1.19: Go 1.22/1.23 forms, scoping, errors, source maps.
import assert from "node:assert/strict";
import { test } from "node:test";
import { TemplateError, TemplateSet, renderString } from "../../src/template/template.js";
import { type GoValue, goFunc } from "../../src/template/value.js";
import { oracleData, werfSet } from "./helpers.js";

const run = (tpl: string, data: GoValue = oracleData()) => renderString(tpl, new Map(), data);

test("range over an integer (Go 1.22)", () => {
  assert.equal(run("{{ range 3 }}{{ . }}{{ end }}|{{ range $i := 2 }}{{ $i }}{{ end }}|{{ range 0 }}x{{ else }}none{{ end }}"), "012|01|none");
});

test("range over an integer with two variables is an error", () => {
  assert.throws(() => run("{{ range $i, $v := 3 }}{{ end }}"), (e: unknown) => e instanceof TemplateError && /can't use 3 to iterate over more than one variable/.test(e.goError));
});

test("else with (Go 1.23) chains", () => {
  assert.equal(run("{{ with .missing }}a{{ else with .n }}b{{ else with .Env }}{{ . }}{{ else }}d{{ end }}"), "production");
});

test("break and continue in nested ranges affect the innermost loop", () => {
  const tpl = "{{ range $a := .list }}{{ range $b := $.list }}{{ if eq $b \"b\" }}{{ break }}{{ end }}{{ $a }}{{ $b }} {{ end }}{{ if eq $a \"b\" }}{{ continue }}{{ end }}|{{ end }}";
  assert.equal(run(tpl), "aa |ba ca |");
});

test("variables: assignment reaches the outer variable, declaration shadows it", () => {
  assert.equal(run("{{ $x := 1 }}{{ range .list }}{{ $x = . }}{{ end }}{{ $x }}"), "c");
  assert.equal(run("{{ $x := 1 }}{{ with 2 }}{{ $x := . }}{{ $x }}{{ end }}{{ $x }}"), "21");
});

test("missing keys print <no value>; nil is passed to functions", () => {
  const funcs = new Map([["kind", goFunc(1, 1, (v) => (v === null ? "nil" : typeof v))]]);
  assert.equal(renderString("{{ .missing }} {{ kind .missing }} {{ .missing | kind }}", funcs, new Map()), "<no value> nil nil");
});

test("methods receive the piped value as their last argument", () => {
  assert.equal(run('{{ "a.txt" | .Files.Get | len }}'), "12");
});

test("function errors: arity and thrown errors in Go's words", () => {
  const funcs = new Map([
    ["two", goFunc(2, 2, () => "")],
    ["boom", goFunc(0, 0, () => { throw new Error("kaput"); })],
  ]);
  const err = (tpl: string) => {
    try {
      renderString(tpl, funcs, null);
    } catch (e) {
      assert.ok(e instanceof TemplateError);
      return e.goError;
    }
    assert.fail("no error");
  };
  assert.equal(err("{{ two 1 }}"), 'template: template:1:3: executing "template" at <two>: wrong number of args for two: want 2 got 1');
  assert.equal(err("\n  {{ boom }}"), 'template: template:2:5: executing "template" at <boom>: error calling boom: kaput');
});

test("exec errors inside include and tpl keep the inner position and name the call site", () => {
  const set = werfSet();
  set.parse("base.tmpl", '{{ define "x" }}\nok\n  {{ .n.foo }}{{ end }}', ".werf/base.tmpl");
  set.parse("werfConfig", 'a: 1\nb: {{ include "x" . }}\nc: {{ tpl "{{ .n.bar }}" . }}', "werf.yaml");
  assert.throws(
    () => set.execute("werfConfig", new Map([["n", null]])),
    (e: unknown) => {
      assert.ok(e instanceof TemplateError);
      // The field node of a chain sits at its last link (".foo"), as in Go.
      assert.deepEqual(e.pos, { file: ".werf/base.tmpl", line: 3, col: 8 });
      assert.deepEqual(e.diagnostics[0].context, ["included from werf.yaml:2:7"]);
      assert.equal(
        e.goError,
        'template: werfConfig:2:6: executing "werfConfig" at <include "x" .>: error calling include: template: base.tmpl:3:7: executing "x" at <.n.foo>: nil pointer evaluating interface {}.foo',
      );
      return true;
    },
  );
  const set2 = werfSet();
  set2.parse("werfConfig", 'a: 1\nc:  {{ tpl "{{ .n.bar }}" . }}', "werf.yaml");
  assert.throws(
    () => set2.execute("werfConfig", new Map([["n", null]])),
    (e: unknown) => {
      assert.ok(e instanceof TemplateError);
      assert.match(e.pos.file, /^tpl-\d+$/);
      assert.equal(e.pos.line, 1);
      assert.deepEqual(e.diagnostics[0].context, ["rendered by tpl from werf.yaml:2:8"]);
      return true;
    },
  );
});

test("errors inside {{ template }} are located in the define and name the call", () => {
  const set = new TemplateSet(new Map());
  set.parse("werfConfig", '{{ define "d" }}\n\n  {{ .n.x }}{{ end }}\n{{ template "d" . }}', "werf.yaml");
  assert.throws(
    () => set.execute("werfConfig", new Map([["n", null]])),
    (e: unknown) => {
      assert.ok(e instanceof TemplateError);
      assert.deepEqual(e.pos, { file: "werf.yaml", line: 3, col: 8 });
      assert.equal(e.goError, 'template: werfConfig:3:7: executing "d" at <.n.x>: nil pointer evaluating interface {}.x');
      assert.deepEqual(e.diagnostics[0].context, ['template "d" called from werf.yaml:4:13']);
      return true;
    },
  );
});

test("runaway recursion stops with an error, not a crash", () => {
  const set = werfSet();
  set.parse("werfConfig", '{{ define "r" }}{{ include "r" . }}{{ end }}{{ include "r" . }}');
  assert.throws(() => set.execute("werfConfig", null), (e: unknown) => e instanceof TemplateError && /exceeded maximum template depth/.test(e.goError));
});

test("source map: text maps character by character, action output to the action", () => {
  const set = new TemplateSet(new Map());
  set.parse("werfConfig", "a: {{ .x }}\nb: |\n  {{- range .l }}\n  x{{ . }}\n  {{- end }}\n", "werf.yaml");
  const { text, map } = set.execute("werfConfig", new Map<string, GoValue>([["x", "hello"], ["l", [1, 2]]]));
  assert.equal(text, "a: hello\nb: |\n  x1\n  x2\n");
  assert.deepEqual(map.lookup(0), { file: "werf.yaml", line: 1, col: 1 });
  assert.deepEqual(map.lookup(text.indexOf("hello") + 3), { file: "werf.yaml", line: 1, col: 7 });
  assert.deepEqual(map.lookup(text.indexOf("b:")), { file: "werf.yaml", line: 2, col: 1 });
  // Both loop iterations come from line 4.
  assert.deepEqual(map.lookup(text.indexOf("x1")), { file: "werf.yaml", line: 4, col: 3 });
  assert.deepEqual(map.lookup(text.indexOf("x2")), { file: "werf.yaml", line: 4, col: 3 });
  assert.deepEqual(map.lookup(text.indexOf("2")), { file: "werf.yaml", line: 4, col: 7 });
});

test("source map: output of {{ template }} maps into the define", () => {
  const set = new TemplateSet(new Map());
  set.parse("p.tmpl", '{{ define "p" }}\nfrom: partial\n{{ end }}', ".werf/p.tmpl");
  set.parse("werfConfig", 'image: x\n{{- template "p" }}', "werf.yaml");
  const { text, map } = set.execute("werfConfig", null);
  assert.equal(text, "image: x\nfrom: partial\n");
  assert.deepEqual(map.lookup(text.indexOf("from")), { file: ".werf/p.tmpl", line: 2, col: 1 });
});
