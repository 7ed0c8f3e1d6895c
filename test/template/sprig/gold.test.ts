// Renders every case of fixtures/template/sprig/cases.json with our template
// engine and sprig functions and compares with the Go oracle's gold output.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { TemplateSet } from "../../../src/template/template.js";
import { filesObject, werfFuncs } from "../../../src/template/werf.js";
import { type GoMap, type GoValue } from "../../../src/template/value.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const dir = path.join(repoRoot, "fixtures/template/sprig");
// regen.sh runs the oracle with TZ=UTC; time.Local must be the same here (it is read on first use).
process.env.TZ = "UTC";
/** Cases named tz_* need the system's zoneinfo files, as Go does (without them both fall back to UTC). */
const haveZoneinfo = existsSync("/usr/share/zoneinfo/Europe/Berlin");

const cases: { name: string; tpl: string }[] = JSON.parse(readFileSync(path.join(dir, "cases.json"), "utf8"));
const gold: Record<string, { out: string; err?: string }> = JSON.parse(readFileSync(path.join(dir, "gold.json"), "utf8"));
/** Where we follow Go 1.22+ (werf v2's Go) and the oracle (Go 1.19) differs: `(?<n>a)` is a named group. */
const GO_1_23 = new Map<string, { out: string; err?: string }>([
  ["regex_edge_bad_exprs", { out: "false true false false false false true" }],
]);

/** The oracle's fixed data (see the oracle's main.go), as Go values. */
export function oracleData(): GoMap {
  const m = (o: Record<string, GoValue>): GoMap => new Map(Object.entries(o));
  return m({
    // regen.sh points the oracle's .Files at this directory (the test keys under keys/).
    Files: filesObject(dir),
    Env: "production",
    Commit: m({ Hash: "deadbeef", Date: m({ Human: "2026-01-01 00:00:00 +0000 UTC", Unix: "1767225600" }) }),
    list: ["a", "b", "c"],
    m: m({ zeta: 1, alpha: 2, mid: 3 }),
    n: null,
  });
}

/** Render like werf: sprig plus werf's include/tpl/env/required, as the oracle registers them. */
function render(tpl: string, data: GoValue): string {
  let set: TemplateSet | undefined;
  set = new TemplateSet(werfFuncs(() => set!, { environ: {} }));
  set.parse("werfConfig", tpl);
  return set.execute("werfConfig", data).text;
}

test("every case has gold output", () => {
  assert.ok(cases.length >= 150);
  for (const c of cases) assert.ok(gold[c.name], `gold for ${c.name}`);
});

test("sprig cases match Go's text/template + sprig", async (t) => {
  for (const c of cases) {
    await t.test(c.name, (tc) => {
      if (c.name.startsWith("tz_") && !haveZoneinfo) {
        tc.skip("no /usr/share/zoneinfo on this machine");
        return;
      }
      const want = GO_1_23.get(c.name) ?? gold[c.name];
      let out: string | undefined;
      let err: unknown;
      try {
        out = render(c.tpl, oracleData());
      } catch (e) {
        err = e;
      }
      if (want.err !== undefined) {
        assert.ok(err !== undefined, `Go fails with: ${want.err}\nwe printed: ${JSON.stringify(out)}`);
      } else {
        assert.equal(err, undefined, `Go printed ${JSON.stringify(want.out)}`);
        assert.equal(out, want.out);
      }
    });
  }
});
