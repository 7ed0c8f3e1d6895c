// Every function name the real werf.yaml corpus calls in a template action
// must be a sprig function, a werf function or a text/template builtin.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { sprigFuncs } from "../../../src/template/sprig/index.js";
import { sharedDir } from "../../support/paths.js";

const corpus = path.join(sharedDir, "corpus");

const WERF = ["include", "tpl", "env", "required", "fromYaml", "tpl_debug", "include_debug", "printf_debug", "dump_debug"];
const BUILTINS = ["and", "or", "not", "len", "index", "slice", "print", "printf", "println", "html", "js", "urlquery", "call", "eq", "ne", "lt", "le", "gt", "ge"];
const KEYWORDS = ["if", "else", "end", "range", "with", "define", "template", "block", "break", "continue", "nil", "true", "false"];

function templateFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) out.push(...templateFiles(p));
    else if (/^werf[^/]*\.ya?ml$/.test(e) || e.endsWith(".tmpl")) out.push(p);
  }
  return out;
}

/** The inside of each {{ }} action, with comments and string literals blanked (raw strings may contain "}}"). */
function actions(text: string): string[] {
  const out: string[] = [];
  let i = text.indexOf("{{");
  while (i >= 0) {
    let j = i + 2;
    let body = "";
    while (j < text.length && !text.startsWith("}}", j)) {
      const c = text[j];
      if (text.startsWith("/*", j)) {
        const end = text.indexOf("*/", j + 2);
        j = end < 0 ? text.length : end + 2;
        body += " ";
      } else if (c === "`" || c === '"' || c === "'") {
        let k = j + 1;
        while (k < text.length && text[k] !== c) k += c !== "`" && text[k] === "\\" ? 2 : 1;
        j = k + 1;
        body += " ";
      } else {
        body += c;
        j++;
      }
    }
    out.push(body);
    i = text.indexOf("{{", j + 2);
  }
  return out;
}

/** Identifiers in command or argument position (fields .X and variables $x excluded), with counts. */
export function functionNames(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const action of actions(text)) {
    for (const w of action.matchAll(/(^|[\s(|])-?([A-Za-z_][A-Za-z0-9_]*)/g)) {
      const name = w[2];
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  return counts;
}

test("the corpus only calls functions we provide", (t) => {
  if (!existsSync(corpus)) {
    t.skip(`no corpus at ${corpus}`);
    return;
  }
  const total = new Map<string, number>();
  for (const f of templateFiles(corpus)) {
    for (const [k, v] of functionNames(readFileSync(f, "utf8"))) total.set(k, (total.get(k) ?? 0) + v);
  }
  const known = new Set([...sprigFuncs().keys(), ...WERF, ...BUILTINS, ...KEYWORDS]);
  const used = [...total].filter(([k]) => known.has(k));
  assert.ok(used.length > 10, "the scan finds the corpus' function calls");
  // Words that are not functions at all (YAML text inside actions of broken templates) show up as unknown; list them.
  const unknown = [...total].filter(([k]) => !known.has(k)).map(([k]) => k);
  const calledLikeFunctions = unknown.filter((k) => /^[a-z][a-zA-Z0-9]*$/.test(k) && k.length > 2);
  assert.deepEqual(calledLikeFunctions.filter((k) => !NOT_FUNCTIONS.has(k)), [], "unknown function names in the corpus");
});

/** Words the scan finds in the corpus that are not template functions (text from YAML or shell inside broken braces). Extend with care. */
const NOT_FUNCTIONS = new Set<string>();
