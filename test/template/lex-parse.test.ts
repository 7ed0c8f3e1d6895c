// Lexer items, trim markers, and parse errors located like Go.
import assert from "node:assert/strict";
import { test } from "node:test";
import { lex } from "../../src/template/lex.js";
import { TemplateError, TemplateSet } from "../../src/template/template.js";
import { goFunc } from "../../src/template/value.js";

const items = (s: string) => lex(s).map((i) => `${i.type}:${i.val}@${i.pos}`);

test("lexer: items carry their offsets; trim markers eat neighbouring spaces", () => {
  assert.deepEqual(items("a {{- .b | c -}} d"), [
    "text:a@0",
    "leftDelim:{{@2",
    "field:.b@6",
    "space: @8",
    "pipe:|@9",
    "space: @10",
    "identifier:c@11",
    "rightDelim:}}@14",
    "text:d@17",
    "eof:@18",
  ]);
});

test("lexer: {{-3}} is a number, not a trim marker", () => {
  assert.deepEqual(items("x {{-3}}"), ["text:x @0", "leftDelim:{{@2", "number:-3@4", "rightDelim:}}@6", "eof:@8"]);
});

test("lexer: keywords, variables, strings, chars, comments", () => {
  const got = lex('{{/* c */}}{{ range $i, $v := .x }}{{ "s\\n" }}{{ `r` }}{{ \'a\' }}{{ end }}').map((i) => i.type);
  assert.deepEqual(got.filter((t) => t !== "space"), [
    "comment", "leftDelim", "range", "variable", "char", "variable", "declare", "field", "rightDelim",
    "leftDelim", "string", "rightDelim", "leftDelim", "rawString", "rightDelim", "leftDelim", "charConstant", "rightDelim",
    "leftDelim", "end", "rightDelim", "eof",
  ]);
});

test("lexer: line numbers count newlines inside actions and raw strings", () => {
  const its = lex("a\n{{ `x\ny` }}\n{{ .z }}");
  const z = its.find((i) => i.val === ".z");
  assert.equal(z?.line, 4);
});

function parseError(text: string): TemplateError {
  const set = new TemplateSet(new Map([["f", goFunc(0, 0, () => "")]]));
  try {
    set.parse("werfConfig", text, "werf.yaml");
  } catch (e) {
    assert.ok(e instanceof TemplateError);
    return e;
  }
  assert.fail("expected a parse error");
}

test("parse errors: Go wording and line, real file and column in the diagnostic", () => {
  const e = parseError("a: 1\nb: {{ if .x }}\nc: 3\n");
  assert.equal(e.goError, "template: werfConfig:4: unexpected EOF");
  assert.equal(e.pos.file, "werf.yaml");
  assert.equal(e.pos.line, 4);

  const u = parseError("x\n  {{ $nope }}");
  assert.equal(u.goError, 'template: werfConfig:2: undefined variable "$nope"');
  assert.deepEqual(u.pos, { file: "werf.yaml", line: 2, col: 6 });
  assert.match(u.message, /^werf\.yaml:2:6: undefined variable "\$nope"$/);
});

test("parse errors: unknown function suggests the closest name", () => {
  const e = parseError("{{ g 1 }}");
  assert.equal(e.goError, 'template: werfConfig:1: function "g" not defined');
  assert.equal(e.diagnostics[0].hint, 'did you mean "f"?');
});

test("parse: variables end at the {{end}} of the block that declared them", () => {
  assert.match(parseError("{{ with 1 }}{{ $a := 1 }}{{ end }}{{ $a }}").goError, /undefined variable "\$a"/);
  assert.match(parseError("{{ range $i, $v := 1 }}{{ end }}{{ $v }}").goError, /undefined variable "\$v"/);
  // A define body sees only $.
  assert.match(parseError('{{ $x := 1 }}{{ define "d" }}{{ $x }}{{ end }}').goError, /undefined variable "\$x"/);
});

test("parse: break and continue only inside range", () => {
  assert.match(parseError("{{ continue }}").goError, /\{\{continue\}\} outside \{\{range\}\}/);
  assert.match(parseError('{{ range 1 }}{{ define "x" }}{{ break }}{{ end }}{{ end }}').goError, /unexpected <define>|outside/);
});

test("parse: unclosed action reports where it started", () => {
  assert.equal(parseError("{{ .x\n\n").goError, "template: werfConfig:3: unclosed action started at werfConfig:1");
});

test("parse: multiple definition of a template in one text", () => {
  assert.match(parseError('{{ define "a" }}1{{ end }}{{ define "a" }}2{{ end }}').goError, /multiple definition of template "a"/);
});
