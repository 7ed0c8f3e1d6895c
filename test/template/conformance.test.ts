// Every case of /work/shared/conformance/gotemplate, against Go's own output.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { type Case, type Gold, goErrorLine, renderCase, sharedDir, sharedMissing } from "./helpers.js";

const dir = path.join(sharedDir, "conformance/gotemplate");
const missing = sharedMissing("conformance/gotemplate");
if (missing) test("Go template conformance", { skip: missing }, () => {});
const cases = missing ? [] : (JSON.parse(readFileSync(path.join(dir, "cases.json"), "utf8")) as Case[]);
const gold = missing ? {} : (JSON.parse(readFileSync(path.join(dir, "gold.json"), "utf8")) as Record<string, Gold>);

for (const c of cases) {
  test(`conformance ${c.name}`, () => {
    const want = gold[c.name];
    const got = renderCase(c.tpl);
    if (want.err) {
      assert.ok(got.err, `expected an error like ${want.err}, got output ${JSON.stringify(got.out)}`);
      assert.equal(goErrorLine(got.err), goErrorLine(want.err), "same line");
      assert.equal(got.err, want.err);
    } else {
      assert.equal(got.err, undefined);
      assert.equal(got.out, want.out);
    }
  });
}
