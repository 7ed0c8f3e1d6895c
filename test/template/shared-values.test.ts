// Template values that share parts: `$d = dict "a" $d "b" $d` thirty times is a billion leaves made in thirty steps,
// and `set $d "self" $d` a cycle. Every function that walks a value in full refuses such a value, located at the
// call, before it walks it (before: minutes of CPU and 2 GB for one toJson, a hang for a cycle); ordinary shared
// values (a dict used twice) work as before.
import assert from "node:assert/strict";
import { test } from "node:test";
import { renderWerfConfig } from "../../src/template/render.js";
import { TemplateError } from "../../src/template/template.js";
import { tempDir, writeFile } from "../git/gitFixture.js";

async function render(body: string): Promise<string> {
  const dir = tempDir("tpl-shared");
  writeFile(dir, "werf.yaml", `project: p\nconfigVersion: 1\nx: "${body}"\n`);
  return (await renderWerfConfig({ dir, environ: {} })).text;
}

const DOUBLED = '{{ $d := dict "a" 1 }}{{ range until 30 }}{{ $d = dict "a" $d "b" $d }}{{ end }}';
const CYCLE = '{{ $d := dict "a" 1 }}{{ $_ := set $d "self" $d }}';

test("a value doubled in a loop, or put into itself, is refused by every function that walks it, located", async () => {
  for (const [prefix, use, what] of [
    [DOUBLED, "{{ toJson $d }}", "toJson"],
    [DOUBLED, "{{ mustToPrettyJson $d }}", "toJson"],
    [DOUBLED, "{{ toYaml $d }}", "toYaml"],
    [DOUBLED, "{{ $d }}", "printing a value"],
    [DOUBLED, '{{ printf "%v" $d }}', "printf"],
    [DOUBLED, "{{ print $d }}", "print"],
    [DOUBLED, "{{ toString $d }}", "printing a value"],
    [DOUBLED, "{{ deepCopy $d | len }}", "deepCopy"],
    [DOUBLED, "{{ deepEqual $d $d }}", "comparing values"],
    [DOUBLED, "{{ has $d (list $d) }}", "comparing values"],
    [DOUBLED, "{{ merge (dict) $d | len }}", "merge"],
    [CYCLE, "{{ toJson $d }}", "toJson"],
    [CYCLE, "{{ $d }}", "printing a value"],
    [CYCLE, "{{ deepCopy $d | len }}", "deepCopy"],
  ] as const) {
    await assert.rejects(render(prefix + use), (e: unknown) => {
      assert.ok(e instanceof TemplateError, `${use}: ${String(e)}`);
      assert.match(e.message, /^werf\.yaml:3:\d+: /, use);
      assert.ok(e.message.includes(`${what}: the value holds itself, or is over 64 Mi values and characters`), `${use}: ${e.message}`);
      return true;
    });
  }
});

test("values that share parts within the bound print and compare as before", async () => {
  const shared = '{{ $l := list 1 "two" }}{{ $d := dict "a" $l "b" $l }}';
  assert.equal(
    await render(shared + '{{ toJson $d }} {{ $d }} {{ deepEqual (index $d "a") (index $d "b") }} {{ len (deepCopy $d) }}'),
    'project: p\nconfigVersion: 1\nx: "{"a":[1,"two"],"b":[1,"two"]} map[a:[1 two] b:[1 two]] true 2"\n',
  );
  // a dict doubled 20 times (a million leaves: 18·2^20 − 11 characters of JSON) is under the bound
  assert.equal(await render('{{ $d := dict "a" 1 }}{{ range until 20 }}{{ $d = dict "a" $d "b" $d }}{{ end }}{{ toJson $d | len }}'), 'project: p\nconfigVersion: 1\nx: "18874357"\n');
});
