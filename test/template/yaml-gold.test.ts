// fromYaml cases (merge keys, aliases, yaml.v2 scalar resolution, alias-expansion limit, errors)
// whose expected output was produced by the Go oracle (text/template + sprig + yaml.v2 2.4.0) and
// committed under fixtures/template/yaml/ (regenerate with its regen.sh).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { type Case, type Gold, renderCase, repoRoot } from "./helpers.js";

const dir = path.join(repoRoot, "fixtures/template/yaml");
const cases = JSON.parse(readFileSync(path.join(dir, "cases.json"), "utf8")) as Case[];
const gold = JSON.parse(readFileSync(path.join(dir, "gold.json"), "utf8")) as Record<string, Gold>;

const at = (tpl: string): string => `template: werfConfig:1:9: executing "werfConfig" at <${tpl}>: error calling fromYaml: yaml: `;

/**
 * Where we knowingly differ from Go, what we print instead: syntax errors are worded by the `yaml`
 * package's parser (the line is still the one it stops at), an invalid nested key is not
 * printed with Go's %#v, and we stop nesting at MAX_YAML_DEPTH (256) where yaml.v2 allows 10000.
 */
const OURS: Record<string, Gold> = {
  syntax_error_line: { out: "", err: at('fromYaml "a: b\\n c: d\\n"') + "line 1: Nested mappings are not allowed in compact mappings" },
  depth_300_flow: { out: "", err: at('fromYaml (printf "a: %s1%s" (repeat 300 "[") (repeat 300 "]"))') + "line 1: exceeded max depth of 256" },
  complex_key_nested_error: { out: "", err: at('fromYaml "x:\\n  ? [a]\\n  : 1\\n"') + "invalid map key: []interface {}{...}" },
};

test("every yaml case has gold output", () => {
  assert.ok(cases.length >= 60);
  for (const c of cases) assert.ok(gold[c.name], `gold for ${c.name}`);
});

for (const c of cases) {
  test(`yaml ${c.name}`, () => {
    const want = OURS[c.name] ?? gold[c.name]!;
    const got = renderCase(c.tpl, path.join(dir, "files"));
    if (want.err) {
      assert.equal(got.err, want.err);
    } else {
      assert.equal(got.err, undefined, `unexpected error ${got.err}`);
      assert.equal(got.out, want.out);
    }
  });
}
