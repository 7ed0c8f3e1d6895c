import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { werfConfigJsonSchema } from "../../src/config/index.js";
import { load, sharedDir, sharedMissing } from "./helpers.js";

type Json = Record<string, unknown>;

test("the JSON schema is one document kind of four, with described fields", () => {
  const schema = werfConfigJsonSchema() as Json;
  assert.match(String(schema.$schema), /2020-12/);
  const kinds = (schema.anyOf ?? schema.oneOf) as Json[];
  assert.equal(kinds.length, 4);
  const props = kinds.map((k) => Object.keys((k.properties ?? {}) as Json));
  assert.ok(props[0]!.includes("configVersion"));
  assert.ok(props[1]!.includes("image") && props[1]!.includes("git") && props[1]!.includes("shell"));
  assert.ok(props[2]!.includes("artifact"));
  assert.ok(props[3]!.includes("dockerfile"));
  for (const k of kinds) assert.equal(k.additionalProperties, false);
  const git = ((kinds[1]!.properties as Json).git as Json);
  assert.ok(JSON.stringify(git).includes("stageDependencies"));
  assert.equal(typeof ((kinds[1]!.properties as Json).fromLatest as Json).description, "string");
  // serialisable and self-contained ($refs resolve inside the document)
  const text = JSON.stringify(schema);
  for (const m of text.matchAll(/"\$ref":"#\/(\$defs|definitions)\/([^"]+)"/g)) assert.ok(((schema[m[1]!] ?? {}) as Json)[m[2]!], m[0]);
});

test("corpus configs without templates are accepted by the validator", { skip: sharedMissing("corpus") }, () => {
  const root = path.join(sharedDir, "corpus");
  let accepted = 0;
  for (const folder of ["Alignfig__alignfig", "Ivinco__tenis", "GlobalArtInc__nestcord", "open-condo-software__condo", "werf__werf__test-e2e-build-_fixtures-images_dependencies-state0", "werf__werf__test-legacy_e2e-suites-build-secrets-_fixtures-build_with_secrets"]) {
    const cfg = load(fs.readFileSync(path.join(root, folder, "werf.yaml"), "utf8"));
    assert.ok(cfg.images.length + cfg.dockerfileImages.length > 0, folder);
    accepted++;
  }
  assert.equal(accepted, 6);
});
