// The real candi/version_map.yml of the Deckhouse projects in the shared corpus (anchors,
// `!!merge <<` overrides, whole-map aliases), read with fromYaml as their werf.yaml does: our
// values print exactly as Go's (fixtures/template/yaml/corpus-gold.json, from the oracle).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { type Case, type Gold, renderCase, repoRoot, sharedDir } from "./helpers.js";

const dir = path.join(repoRoot, "fixtures/template/yaml");
const cases = JSON.parse(readFileSync(path.join(dir, "corpus-cases.json"), "utf8")) as Case[];
const gold = JSON.parse(readFileSync(path.join(dir, "corpus-gold.json"), "utf8")) as Record<string, Record<string, Gold>>;
const corpus = path.join(sharedDir, "corpus");

test("corpus gold covers the Deckhouse version maps", () => {
  assert.ok(Object.keys(gold).length >= 6);
});

for (const [project, golds] of Object.entries(gold)) {
  const files = path.join(corpus, project);
  for (const c of cases) {
    test(`version_map ${project} ${c.name}`, { skip: existsSync(path.join(files, "candi/version_map.yml")) ? false : "shared corpus not present" }, () => {
      const want = golds[c.name]!;
      assert.equal(want.err, undefined);
      assert.deepEqual(renderCase(c.tpl, files), { out: want.out });
    });
  }
}
