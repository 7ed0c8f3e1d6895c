import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { UserError, type Diagnostic, type SourceMap } from "../../src/diagnostics.js";
import { loadWerfConfig, type WerfConfig } from "../../src/config/index.js";

/** Repository root (dist/test/config → ../../..). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export { sharedDir, sharedMissing } from "../support/paths.js";

export const META = "configVersion: 1\nproject: demo\n---\n";

export function load(text: string, map?: SourceMap): WerfConfig {
  return loadWerfConfig(map ? { file: "werf.yaml", text, map } : { file: "werf.yaml", text });
}

/** The diagnostics loadWerfConfig throws for `text` (fails if it does not throw a UserError). */
export function diagnosticsOf(text: string, map?: SourceMap): Diagnostic[] {
  try {
    load(text, map);
  } catch (e) {
    assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
    return e.diagnostics;
  }
  assert.fail("expected the config to be rejected");
}

/** "line:col message" of each diagnostic. */
export function located(text: string): string[] {
  return diagnosticsOf(text).map((d) => `${d.pos?.line}:${d.pos?.col} ${d.message}`);
}

/** The one diagnostic whose message includes `part`. */
export function find(diags: Diagnostic[], part: string): Diagnostic {
  const found = diags.filter((d) => d.message.includes(part));
  assert.equal(found.length, 1, `expected one diagnostic with "${part}", got:\n${diags.map((d) => d.message).join("\n")}`);
  return found[0]!;
}
