// Execution limits: recursion through template/include/tpl, huge ranges and repeats, output size
// and total work each stop with a located error (file:line:col and a hint) in bounded time and
// memory, and a recursive call chain is shown once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_EXEC_DEPTH, MAX_EXEC_STEPS, MAX_LIST_LEN, MAX_OUTPUT_CHARS, compressRepeats } from "../../src/template/exec.js";
import { TemplateError } from "../../src/template/template.js";
import { werfSet } from "./helpers.js";

function fail(tpl: string): TemplateError {
  const set = werfSet();
  set.parse("werfConfig", tpl, "werf.yaml");
  const t0 = Date.now();
  try {
    set.execute("werfConfig", new Map());
  } catch (e) {
    assert.ok(e instanceof TemplateError, String(e));
    assert.ok(Date.now() - t0 < 20_000, `took ${Date.now() - t0} ms`);
    return e;
  }
  assert.fail("expected a template error");
}

test("limits are the documented values", () => {
  assert.deepEqual([MAX_EXEC_DEPTH, MAX_OUTPUT_CHARS, MAX_EXEC_STEPS, MAX_LIST_LEN], [200, 16 * 1024 * 1024, 5_000_000, 10_000_000]);
});

test("endless include recursion: one located error, the call chain shown once", () => {
  const e = fail('{{ define "r" }}{{ include "r" . }}{{ end }}\nimage: {{ include "r" . }}');
  const d = e.diagnostics[0]!;
  assert.equal(e.message.split("\n")[0], `werf.yaml:1:17: executing "r" at <r>: exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
  assert.deepEqual(d.context, ["included from werf.yaml:1:20", `(the line above repeats ${MAX_EXEC_DEPTH - 2} more times)`, "included from werf.yaml:2:11"]);
  assert.match(d.hint ?? "", /endless recursion/);
});

test("mutual recursion: the two-call cycle is shown once", () => {
  const e = fail('{{ define "a" }}{{ include "b" . }}{{ end }}{{ define "b" }}{{ include "a" . }}{{ end }}{{ include "a" . }}');
  assert.deepEqual(e.diagnostics[0]!.context, [
    "included from werf.yaml:1:20",
    "included from werf.yaml:1:64",
    `(the 2 lines above repeat ${MAX_EXEC_DEPTH / 2 - 2} more times)`,
    "included from werf.yaml:1:20",
    "included from werf.yaml:1:92",
  ]);
});

test("recursive template and tpl stop at the same depth", () => {
  const t = fail('{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}');
  assert.match(t.message, /exceeded maximum template depth \(200\)/);
  assert.deepEqual(t.diagnostics[0]!.context, ['template "r" called from werf.yaml:1:29', "(the line above repeats 198 more times)", 'template "r" called from werf.yaml:1:58']);
  const tpl = fail('{{ $t := "{{ tpl $.t $ }}" }}{{ $_ := set . "t" $t }}{{ tpl $t . }}');
  assert.match(tpl.message, /exceeded maximum template depth \(200\)/);
  assert.equal(tpl.diagnostics[0]!.context!.length, 3);
  assert.match(tpl.diagnostics[0]!.context![1]!, /^\(the line above repeats 198 more times\)$/);
});

test("a recursion that branches stops on the work limit with a short chain", () => {
  const e = fail('{{ define "r" }}{{ if lt . 60 }}{{ include "r" (add . 1) }}{{ include "r" (add . 1) }}{{ end }}{{ end }}{{ include "r" 0 }}');
  assert.match(e.message, new RegExp(`executed more than ${MAX_EXEC_STEPS} template nodes`));
  assert.ok(e.diagnostics[0]!.context!.length <= 13);
  assert.equal(e.diagnostics[0]!.context!.at(-1), "included from werf.yaml:1:108");
});

test("range over until with a huge count fails at the call, before building the list", () => {
  const e = fail("a: 1\n{{ range until 100000000 }}x{{ end }}");
  assert.equal(e.goError, 'template: werfConfig:2:9: executing "werfConfig" at <until 100000000>: error calling until: the result would have 100000000 elements, over the limit of 10000000');
  assert.deepEqual(e.pos, { file: "werf.yaml", line: 2, col: 10 });
  for (const call of ["untilStep 0 100000000 1", "untilStep 100000000 0 -1", "seq 100000000", "seq 1 2 300000000"]) {
    assert.match(fail(`{{ range ${call} }}{{ end }}`).message, /over the limit of 10000000/, call);
  }
});

test("range over a huge int or long list runs into the work limit at the range", () => {
  const e = fail("{{ range 100000000 }}{{ end }}");
  assert.equal(e.goError, `template: werfConfig:1:9: executing "werfConfig" at <{{range 100000000}}{{end}}>: executed more than ${MAX_EXEC_STEPS} template nodes`);
  assert.match(e.diagnostics[0]!.hint ?? "", /huge range/);
  assert.match(fail("{{ range $i := until 9000000 }}{{ $i }}{{ end }}").message, /template output exceeds|executed more than/);
});

test("repeat with a huge count fails before allocating; a negative one keeps Go's message", () => {
  const e = fail('{{ repeat 100000000 "ab" }}');
  assert.equal(e.goError, 'template: werfConfig:1:3: executing "werfConfig" at <repeat 100000000 "ab">: error calling repeat: the result would be 200000000 characters, over the limit of 16777216 (16 MiB)');
  assert.match(fail('{{ repeat -1 "ab" }}').goError, /error calling repeat: strings: negative Repeat count$/);
  const set = werfSet();
  set.parse("werfConfig", '{{ repeat 3 "ab" }}');
  assert.equal(set.execute("werfConfig", null).text, "ababab");
});

test("output over 16 MiB stops at the action that crosses it", () => {
  const e = fail('{{ range until 100 }}{{ repeat 1000000 "x" }}{{ end }}');
  assert.equal(e.goError, `template: werfConfig:1:24: executing "werfConfig" at <{{repeat 1000000 "x"}}>: template output exceeds ${MAX_OUTPUT_CHARS} characters (16 MiB)`);
  // Through include, too: the included text counts where it is printed.
  const inc = fail('{{ define "big" }}{{ repeat 9000000 "x" }}{{ end }}{{ include "big" . }}{{ include "big" . }}');
  assert.match(inc.message, /template output exceeds/);
});

test("compressRepeats writes each repeating block once", () => {
  assert.deepEqual(compressRepeats(["a", "a", "a", "b"]), ["a", "(the line above repeats 2 more times)", "b"]);
  assert.deepEqual(compressRepeats(["a", "b", "a", "b", "a", "b", "c"]), ["a", "b", "(the 2 lines above repeat 2 more times)", "c"]);
  assert.deepEqual(compressRepeats(["x", "a", "b", "a", "b"]), ["x", "a", "b", "(the 2 lines above repeat 1 more time)"]);
  assert.deepEqual(compressRepeats(["a", "b", "c"]), ["a", "b", "c"]);
});

test("values nested deeper than the JS stack allows give a located error, not a crash", () => {
  const e = fail('{{ $d := dict }}{{ range until 100000 }}{{ $d = dict "a" $d }}{{ end }}{{ $d }}');
  assert.equal(e.message.split("\n")[0], 'werf.yaml:1:75: executing "werfConfig" at <{{$d}}>: nesting too deep: the JS stack is exhausted');
});

test("deeply nested actions and parentheses: a located parse error, not a stack overflow", () => {
  for (const tpl of ["{{ if true }}".repeat(20000) + "x" + "{{ end }}".repeat(20000), `{{ ${"(".repeat(100000)}1${")".repeat(100000)} }}`]) {
    const set = werfSet();
    assert.throws(() => set.parse("werfConfig", tpl, "werf.yaml"), (e: unknown) => {
      assert.ok(e instanceof TemplateError, String(e));
      assert.match(e.message, /^werf\.yaml:1:\d+: .*max expression depth exceeded/);
      return true;
    });
  }
  // as deep as real templates go parses as before
  const set = werfSet();
  set.parse("werfConfig", "{{ if true }}".repeat(100) + "ok" + "{{ end }}".repeat(100), "werf.yaml");
  assert.equal(set.execute("werfConfig", new Map()).text, "ok");
});
