// Date functions when time.Local is not UTC: this process sets TZ before anything reads it, like
// running werf with TZ=Europe/Berlin. Expected outputs come from the oracle run with the same TZ
// (fixtures/template/sprig/local-zone.json); they need the system's zoneinfo files, as Go does.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { TemplateSet } from "../../../src/template/template.js";
import { werfFuncs } from "../../../src/template/werf.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const fixture: { tz: string; cases: { name: string; tpl: string; out: string }[] } = JSON.parse(
  readFileSync(path.join(repoRoot, "fixtures/template/sprig/local-zone.json"), "utf8"),
);
process.env.TZ = fixture.tz;

function render(tpl: string): string {
  let set: TemplateSet | undefined;
  set = new TemplateSet(werfFuncs(() => set!, { environ: {} }));
  set.parse("werfConfig", tpl);
  return set.execute("werfConfig", new Map()).text;
}

for (const c of fixture.cases) {
  test(`local zone ${fixture.tz}: ${c.name}`, (t) => {
    if (!existsSync(path.join("/usr/share/zoneinfo", fixture.tz))) {
      t.skip("no zoneinfo for the zone on this machine");
      return;
    }
    assert.equal(render(c.tpl), c.out);
  });
}
