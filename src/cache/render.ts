// The rendered werf.yaml through the persistent cache (docs/cache.md, kind `render`).
//
// A render read from a commit depends on: the entries of the commit it looked up (werf.yaml, .werf/**/*.tmpl, the
// giterminism file, every `.Files` path; and the folders it listed), the blobs those entries name, the environment
// variables `env` read, the commit itself when the template read `.Commit`, and the options. The record of a render
// keeps all of them beside the result, under the tree id. It is used again for:
// - the same tree, when every env variable read has the same value (and the same commit, if `.Commit` was read);
// - a tree made from that tree by a commit (the `diff-tree` changes the listing cache knows), when moreover no change
//   is an entry the render looked up or adds, removes or retypes one in a folder it listed, and `.Commit` was not
//   read.
// Never cached: renders that read the work tree (giterminism's allowUncommitted* lists, a config outside the
// project), and renders that called a function whose result is not a function of its arguments (dates, random
// values, keys and certificates, DNS): only the pure sprig families and werf's own functions count.

import v8 from "node:v8";
import { builtinFuncs } from "../template/builtins.js";
import { SegmentSourceMap, type SourceMapData } from "../template/sourcemap.js";
import type { Diagnostic } from "../diagnostics.js";
import type { Giterminism } from "../config/giterminism.js";
import type { FuncMap } from "../template/value.js";
import { registerConversion } from "../template/sprig/conversion.js";
import { registerDefaults } from "../template/sprig/defaults.js";
import { registerDicts } from "../template/sprig/dicts.js";
import { registerEncoding } from "../template/sprig/encoding.js";
import { registerLists } from "../template/sprig/lists.js";
import { registerMath } from "../template/sprig/math.js";
import { registerPaths } from "../template/sprig/paths.js";
import { registerRegex } from "../template/sprig/regex.js";
import { registerSemver } from "../template/sprig/semver.js";
import { registerStrings } from "../template/sprig/strings.js";
import { registerURL } from "../template/sprig/url.js";
import { registerYaml } from "../template/sprig/yaml.js";
import type { TreeChange } from "./listing.js";
import { codeStamp } from "./config.js";
import { keyOf, type CacheStore } from "./store.js";

const KIND = "render";

/** Counts for tests: renders answered from the cache, by how. */
export const renderCounts = { sameTree: 0, derived: 0, rendered: 0, uncacheable: 0 };

/** What a listing's `wanted` filter was, as data (the ignored-changes notice is made again from it). */
export type WantedSpec = { all: true } | { suffix: string } | { glob: string };

/** What a render gave, as stored. */
export interface RenderResultData {
  file: string;
  absPath: string;
  text: string;
  map: SourceMapData;
  unsetEnv: string[];
  refusedEnv: string[];
  giterminism: Giterminism;
  warnings: Diagnostic[];
  /** Project paths asked for, and folders listed: what the ignored-changes notice compares with. */
  asked: string[];
  listings: { dir: string; wanted: WantedSpec }[];
}

export interface RenderRecord {
  tree: string;
  /** Set when the render read `.Commit`. */
  commit?: { hash: string; time: number };
  /** Every variable `env` read, with the value it had (null: unset). */
  env: [string, string | null][];
  /** Repository paths looked up, and folders (with a trailing "/", "" = the whole repository) listed. */
  exact: string[];
  under: string[];
  result: RenderResultData;
}

/** The names of functions whose result depends on their arguments alone (besides werf's, handled by the render). */
let pure: Set<string> | undefined;
export function pureFunctions(): ReadonlySet<string> {
  if (!pure) {
    const fm: FuncMap = new Map();
    for (const register of [registerStrings, registerLists, registerDicts, registerDefaults, registerConversion, registerMath, registerRegex, registerEncoding, registerPaths, registerSemver, registerURL, registerYaml]) register(fm);
    // strings.ts registers the random-string helpers of xstrings? keep out anything named after randomness
    pure = new Set([...fm.keys(), ...builtinFuncs().keys(), "include", "tpl", "env", "required", "fromYaml", "toYaml"].filter((n) => !/rand|shuffle|uuid|now|date|Date/.test(n)));
  }
  return pure;
}

export interface RenderKeyParts {
  repoRoot: string;
  subdir: string;
  dir: string;
  configFile?: string;
  env?: string;
  strictEnv: boolean;
}

function keyFor(parts: RenderKeyParts, tree: string): string {
  return keyOf(codeStamp(), parts.repoRoot, parts.subdir, parts.dir, parts.configFile ?? null, parts.env ?? null, parts.strictEnv, tree);
}

function read(store: CacheStore, key: string): RenderRecord | undefined {
  const buf = store.get(KIND, key);
  if (!buf) return undefined;
  try {
    const r = v8.deserialize(buf) as RenderRecord;
    return r && typeof r.tree === "string" && Array.isArray(r.env) && Array.isArray(r.exact) && Array.isArray(r.under) && r.result && typeof r.result.text === "string" ? r : undefined;
  } catch {
    return undefined;
  }
}

function sameEnv(r: RenderRecord, environ: Record<string, string | undefined>): boolean {
  return r.env.every(([name, value]) => (environ[name] ?? null) === value);
}

/** Whether a change is an entry the render looked up, or adds, removes or retypes one in a folder it listed (what a
 *  folder's listing says depends on its entries' names and types only: src/project/commit-files.ts). */
function touches(r: RenderRecord, changes: readonly TreeChange[]): boolean {
  const exact = new Set(r.exact);
  const under = new Set(r.under);
  for (const c of changes) {
    if (exact.has(c.path)) return true;
    if (c.before && c.after && c.before.type === c.after.type) continue;
    if (under.has("")) return true;
    for (let i = c.path.indexOf("/"); i >= 0; i = c.path.indexOf("/", i + 1)) if (under.has(c.path.slice(0, i + 1))) return true;
  }
  return false;
}

/** The record that answers a render of `tree` (commit `commit`), or undefined. */
export function findRender(
  store: CacheStore,
  parts: RenderKeyParts,
  tree: string,
  commit: string,
  base: { tree: string; changes: readonly TreeChange[] } | undefined,
  environ: Record<string, string | undefined>,
): RenderRecord | undefined {
  const own = read(store, keyFor(parts, tree));
  if (own && own.tree === tree && sameEnv(own, environ) && (!own.commit || own.commit.hash === commit)) {
    renderCounts.sameTree++;
    return own;
  }
  if (!base) return undefined;
  const prev = read(store, keyFor(parts, base.tree));
  if (!prev || prev.tree !== base.tree || prev.commit || !sameEnv(prev, environ) || touches(prev, base.changes)) return undefined;
  renderCounts.derived++;
  const record = { ...prev, tree };
  store.putSoon(KIND, keyFor(parts, tree), v8.serialize(record));
  return record;
}

export function storeRender(store: CacheStore, parts: RenderKeyParts, record: RenderRecord): void {
  renderCounts.rendered++;
  store.put(KIND, keyFor(parts, record.tree), v8.serialize(record));
}

/** The source map of a stored result. */
export function mapOf(result: RenderResultData): SegmentSourceMap {
  return SegmentSourceMap.fromData(result.map);
}
