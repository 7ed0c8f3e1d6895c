// Shared setup for template tests: werf's function map and the oracle's data.
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { TemplateError, TemplateSet } from "../../src/template/template.js";
import type { GoValue } from "../../src/template/value.js";
import { werfData, werfFuncs } from "../../src/template/werf.js";

/** Repo root (tests run from dist/test/template). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export { sharedDir, sharedMissing } from "../support/paths.js";
/** The oracle's `.Files` folder (the two files of shared/conformance/gotemplate/files, kept in the project so that
 *  a clone elsewhere runs the language cases too). */
export const conformanceFiles = path.join(repoRoot, "fixtures/template/files");

export interface Case {
  name: string;
  tpl: string;
}
export interface Gold {
  out: string;
  err?: string;
}

/** A template set with werf's functions, as werf builds it. */
export function werfSet(environ: Record<string, string | undefined> = { HOME: "/root" }, strictEnv = false): TemplateSet {
  let set: TemplateSet | undefined = undefined;
  set = new TemplateSet(werfFuncs(() => set!, { environ, strictEnv }));
  return set;
}

/** The data of the Go oracle (/tmp/oracle/main.go): .Env, .Commit, .list, .m, .n, .Files over `filesDir`. */
export function oracleData(filesDir = conformanceFiles): Map<string, GoValue> {
  const data = werfData({ dir: filesDir, env: "production", commit: { hash: "deadbeef", unix: 1767225600 } });
  data.set("list", ["a", "b", "c"]);
  data.set("m", new Map<string, GoValue>([["zeta", 1], ["alpha", 2], ["mid", 3]]));
  data.set("n", null);
  return data;
}

/** Render like the oracle: output so far and Go's error text. */
export function renderCase(tpl: string, filesDir = conformanceFiles): { out: string; err?: string } {
  const set = werfSet();
  try {
    set.parse("werfConfig", tpl);
    return { out: set.execute("werfConfig", oracleData(filesDir)).text };
  } catch (e) {
    if (e instanceof TemplateError) return { out: "", err: e.goError };
    throw e;
  }
}

/** The line number in a Go error message "template: NAME:LINE[:COL]: ...". */
export function goErrorLine(err: string): number | undefined {
  const m = /^template: [^:]+:(\d+)/.exec(err);
  return m ? Number(m[1]) : undefined;
}
