// Language and printf cases whose expected output was produced by the Go oracle
// (real text/template + sprig) and committed under fixtures/template/.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { type Case, type Gold, renderCase, repoRoot } from "./helpers.js";

function load(name: string): { cases: Case[]; gold: Record<string, Gold> } {
  const dir = path.join(repoRoot, "fixtures/template");
  return {
    cases: JSON.parse(readFileSync(path.join(dir, `${name}-cases.json`), "utf8")) as Case[],
    gold: JSON.parse(readFileSync(path.join(dir, `${name}-gold.json`), "utf8")) as Record<string, Gold>,
  };
}

/**
 * Where we follow Go 1.23 and the oracle (Go 1.19) differs, the Go 1.23 text.
 * `slice` is overridden by sprig's own slice (a sprig concern, tested there).
 */
const GO_1_23: Record<string, Gold> = {
  call_nonfunc: {
    out: "",
    err: 'template: werfConfig:1:3: executing "werfConfig" at <call .Env>: error calling call: non-function .Env of type string',
  },
  // Go 1.22 reads `(?<name>` as a named group like `(?P<name>`; a lookbehind `(?<=`/`(?<!` is then a bad name.
  re2_angle_named_group: { out: "x<a>" },
  re2_refuses_lookbehind: {
    out: "",
    err: 'template: werfConfig:1:6: executing "werfConfig" at <mustRegexReplaceAll "(?<=a)b" "ab" "x">: error calling mustRegexReplaceAll: error parsing regexp: invalid named capture: `(?<=a)b`',
  },
  re2_refuses_negative_lookbehind: {
    out: "",
    err: 'template: werfConfig:1:6: executing "werfConfig" at <mustRegexSplit "(?<!a)b" "cb" -1>: error calling mustRegexSplit: error parsing regexp: invalid named capture: `(?<!a)b`',
  },
};
const NOT_OURS = new Set(["slice_bad"]);

// regex: Go's regexp (RE2) through sprig, catastrophic patterns for a backtracking engine among them (they must
// give Go's answer; RE2 matching is linear, so they finish at once), RE2-only syntax and what RE2 refuses.
for (const suite of ["lang", "printf", "regex"]) {
  const { cases, gold } = load(suite);
  for (const c of cases) {
    if (NOT_OURS.has(c.name)) continue;
    test(`${suite} ${c.name}`, () => {
      const want = (Object.hasOwn(GO_1_23, c.name) ? GO_1_23[c.name] : undefined) ?? gold[c.name];
      const got = renderCase(c.tpl);
      if (want.err) {
        assert.equal(got.err, want.err);
      } else {
        assert.equal(got.err, undefined, `unexpected error ${got.err}`);
        assert.equal(got.out, want.out);
      }
    });
  }
}
