// Render a project's werf.yaml the way werf does: .werf/**/*.tmpl partials and
// the config in one template set, executed as "werfConfig" with werf's data.
import * as fs from "node:fs";
import * as path from "node:path";
import { type Diagnostic, type SourceMap, UserError } from "../diagnostics.js";
import { templateText } from "./read.js";
import { GITERMINISM_FILE, type Giterminism, giterminismPathAccepted, isEnvAllowed, loadGiterminism } from "../config/giterminism.js";
import { TemplateSet } from "./template.js";
import { FileOrigins } from "./origins.js";
import { werfData, werfFuncs } from "./werf.js";
import { ProjectFiles, ProjectPathError } from "../project/files.js";
import { CommitFiles } from "../project/commit-files.js";
import { projectCommit, worktreeChanges, type ProjectCommit } from "../project/commit.js";
import type { ProjectReader } from "../project/reader.js";
import { withUncommitted } from "../project/uncommitted-files.js";
import type { Listing, TreeEntry } from "../git/tree.js";
import { compileGlob } from "../git/doublestar.js";
import type { CacheStore } from "../cache/store.js";
import type { TreeChange } from "../cache/listing.js";
import type { WantedSpec } from "../cache/render.js";
import type { SourceMapData } from "./sourcemap.js";

export interface RenderOptions {
  dir: string;
  configFile?: string;
  env?: string;
  strictEnv?: boolean;
  environ?: Record<string, string | undefined>;
  /** Read the work tree as it is (werf's `--dev`): a commit is made of it. */
  dev?: boolean;
  /** The commit to read (already resolved by the caller); null reads the work tree; default: found here. */
  commit?: ProjectCommit | null;
  /** The whole tree of that commit when the caller already lists it (read once for the render and the plan). */
  tree?: Promise<TreeEntry[] | Listing | undefined>;
  /** werf's --giterminism-config: the allow-lists file (default: the project's werf-giterminism.yaml). */
  giterminismConfig?: string;
  /** The persistent cache, with the commit's tree id and its changes from the last tree listed (the listing cache
   *  knows them): a render it proves is not done again (src/cache/render.ts). */
  cache?: CacheStore;
  treeChanges?: Promise<{ tree: string; base?: { tree: string; changes: TreeChange[] } } | undefined>;
  /** Return at once with empty ignoredChanges/worktreeChanges and give them in `changesLater` (the work tree's
   *  status is then not waited for). */
  deferChanges?: boolean;
}

export interface RenderedConfig {
  /** As the user sees it, e.g. "werf.yaml". */
  file: string;
  absPath: string;
  text: string;
  map: SourceMap;
  /** Variables that `env` read unset and rendered as "", in first-read order. */
  unsetEnv: string[];
  /** The commit the files were read from; undefined when they came from a directory outside git. */
  commit?: ProjectCommit;
  /**
   * Files the render read (or whose absence or presence it asked about) that differ in the work tree from the
   * commit: uncommitted edits that werf, and so stapel2docker, does not use (empty with `--dev`).
   */
  ignoredChanges: string[];
  /** Every project path whose work-tree state differs from the commit (empty with `--dev` or outside git). */
  worktreeChanges: string[];
  /** Variables `env` did not read because the allow-list refused them (sorted); they count as unset too. */
  refusedEnv: string[];
  /** The allow-lists the config was rendered with (and host paths are checked against). */
  giterminism: Giterminism;
  /** Things to tell the user that did not stop the rendering (env names the allow-list refused). */
  warnings: Diagnostic[];
  /** Set when the render read something that is not in the commit (a --config outside the project, work-tree files
   *  werf-giterminism.yaml accepts uncommitted, a project outside git): its result then depends on more than the
   *  commit and `git status` show (the no-op cache records no entry for it). */
  readOutsideCommit?: true;
  /** With `deferChanges`: ignoredChanges and worktreeChanges, when git's status is in. */
  changesLater?: Promise<{ ignoredChanges: string[]; worktreeChanges: string[] }>;
}

/** Where partial templates live, relative to the project dir. */
export const TEMPLATES_DIR = ".werf";

/** The user-facing name of a path inside the project ("werf.yaml", ".werf/x.tmpl"). */
function displayPath(dir: string, abs: string): string {
  const rel = path.relative(dir, abs);
  return rel.startsWith("..") || path.isAbsolute(rel) ? abs : rel.split(path.sep).join("/");
}

function findConfig(project: ProjectReader, configFile?: string): { abs: string; text: () => Buffer } {
  const dir = project.dir;
  if (configFile) {
    const abs = path.resolve(dir, configFile);
    const rel = path.relative(dir, abs);
    if (rel.startsWith("..") || path.isAbsolute(rel)) {
      // a path the operator gave outside the project: theirs to choose, read as given
      if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) {
        throw new UserError({ message: `werf config ${configFile} not found in ${dir}`, hint: "check the --config path; it is relative to the project directory" });
      }
      return { abs, text: () => fs.readFileSync(abs) };
    }
    return configInProject(project, rel.split(path.sep).join("/"), abs, `werf config ${configFile} not found in ${dir}`, "check the --config path; it is relative to the project directory");
  }
  for (const name of ["werf.yaml", "werf.yml"]) {
    const abs = path.join(dir, name);
    if (project instanceof CommitFiles) {
      if (project.tryResolve(name) === undefined) continue;
      return configInProject(project, name, abs, `no werf.yaml or werf.yml found in ${dir}`, "run in the project directory, pass --dir, or name the config with --config");
    }
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs);
    } catch {
      continue;
    }
    if (st.isFile() || st.isSymbolicLink()) return configInProject(project, name, abs, `no werf.yaml or werf.yml found in ${dir}`, "run in the project directory, pass --dir, or name the config with --config");
  }
  if (project instanceof CommitFiles && ["werf.yaml", "werf.yml"].some((n) => fs.existsSync(path.join(dir, n)))) {
    throw new UserError({
      message: `werf.yaml in ${dir} is not committed: werf reads the config from the commit (${project.commit.slice(0, 12)})`,
      hint: "commit it (git add werf.yaml && git commit), or build the work tree as it is with --dev",
    });
  }
  throw new UserError({
    message: `no werf.yaml or werf.yml found in ${dir}`,
    hint: "run in the project directory, pass --dir, or name the config with --config",
  });
}

/** A config file inside the project: links followed inside it only. */
function configInProject(project: ProjectReader, rel: string, abs: string, missing: string, hint: string): { abs: string; text: () => Buffer } {
  try {
    const r = project.resolve(rel);
    if (!r.stat.isFile()) throw new UserError({ message: missing, hint });
  } catch (e) {
    if (!(e instanceof ProjectPathError)) throw e;
    if (e.problem === "missing") throw new UserError({ message: missing, hint });
    throw new UserError({ message: `werf config ${e.message}`, hint: "the config and everything it reads must be inside the project; replace the link with the file" });
  }
  return { abs, text: () => project.readFile(rel) };
}

/** Every `**\/*.tmpl` below the templates directory, as "/"-separated paths relative to it, sorted. Links are
 *  followed inside the project; a `.tmpl` link leading outside is a UserError, a directory link leading outside is
 *  not entered. */
function templateFiles(project: ProjectReader): string[] {
  try {
    return project
      .listFiles(TEMPLATES_DIR, { wanted: describedWanted((f: string) => f.endsWith(".tmpl"), { suffix: ".tmpl" }) })
      .filter((f) => f.endsWith(".tmpl"))
      .map((f) => f.slice(TEMPLATES_DIR.length + 1));
  } catch (e) {
    if (!(e instanceof ProjectPathError)) throw e;
    throw new UserError({
      message: `template ${e.message}`,
      hint: "templates under .werf/ must be inside the project; replace the link with the file",
    });
  }
}

export async function renderWerfConfig(opts: RenderOptions): Promise<RenderedConfig> {
  const dir = path.resolve(opts.dir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new UserError({ message: `project directory ${opts.dir} does not exist`, hint: "pass an existing directory with --dir" });
  }
  const commit = opts.commit === null ? undefined : (opts.commit ?? (await projectCommit(dir, { dev: opts.dev, changes: !opts.dev })));
  const environ = opts.environ ?? process.env;
  // the persistent cache (src/cache/render.ts): a render of this tree, or of the tree the commit changed, that the
  // changes, the env values and the commit prove
  const cache = commit && opts.cache && opts.treeChanges && (opts.configFile === undefined || isInside(dir, opts.configFile)) && opts.giterminismConfig === undefined ? opts.cache : undefined;
  const parts = cache && commit ? { repoRoot: commit.repo.root, subdir: commit.subdir, dir, configFile: opts.configFile, env: opts.env, strictEnv: opts.strictEnv ?? false } : undefined;
  // the cache's module loaded while git compares the trees
  const renderCache = cache ? import("../cache/render.js") : undefined;
  renderCache?.catch(() => {});
  const changed = cache ? await opts.treeChanges! : undefined;
  if (cache && parts && changed && commit) {
    const { findRender, mapOf } = await renderCache!;
    const hit = findRender(cache, parts, changed.tree, commit.commit, changed.base, environ);
    if (hit) {
      const r = hit.result;
      const later = (async () => {
        const changes = !commit.dev ? await worktreeChanges(commit) : [];
        return { worktreeChanges: changes, ignoredChanges: changedFromRecord(r.asked, r.listings, changes) };
      })();
      later.catch(() => {}); // waited for by the caller (deferChanges) or below
  const now = opts.deferChanges ? { worktreeChanges: [], ignoredChanges: [] } : await later;
      return {
        file: r.file,
        absPath: r.absPath,
        text: r.text,
        map: mapOf(r),
        unsetEnv: r.unsetEnv,
        commit,
        ...now,
        ...(opts.deferChanges ? { changesLater: later } : {}),
        refusedEnv: r.refusedEnv,
        giterminism: r.giterminism,
        warnings: r.warnings,
      };
    }
  }
  // the render with what it reads first (werf.yaml, the giterminism file, `.werf`) listed alone, while the whole
  // listing is still on its way; again with the whole listing when it asks about anything else
  if (commit) {
    const roots = firstReads(dir, opts);
    const partial = roots ? await CommitFiles.openPaths(dir, commit.repo, commit.commit, commit.subdir, roots) : undefined;
    if (partial) {
      try {
        const r = await renderWith(partial);
        if (!partial.missed) return r;
      } catch (e) {
        if (!partial.missed) throw e;
      }
    }
  }
  return renderWith(commit ? await CommitFiles.open(dir, commit.repo, commit.commit, commit.subdir, opts.commit ? opts.tree : undefined) : new ProjectFiles(dir));

  async function renderWith(project: ProjectReader): Promise<RenderedConfig> {
    // werf reads the giterminism config itself from the commit, never from the work tree
    const giterminism = loadGiterminism(project, opts.giterminismConfig);
    // what werf-giterminism.yaml lets werf read from the work tree (src/project/uncommitted-files.ts)
    const accepted = uncommittedAccepted(giterminism);
    const configReader = withUncommitted(project, giterminism.allowUncommitted, () => true, "config.allowUncommitted");
    const templatesReader = withUncommitted(project, giterminism.allowUncommittedTemplates.length > 0, accepted.template, "config.allowUncommittedTemplates");
    const filesReader = withUncommitted(project, giterminism.allowUncommittedFiles.length > 0, accepted.file, "config.goTemplateRendering.allowUncommittedFiles");
    const config = findConfig(configReader, opts.configFile);
    const absPath = config.abs;
    const file = displayPath(dir, absPath);

    // with the cache: what the render reads (env values, functions called, whether .Commit is read)
    const envRead = new Map<string, string | null>();
    const called = new Set<string>();
    let commitRead = false;
    const recorded = cache ? new Proxy(environ, { get: (t, k) => {
      const v = Reflect.get(t, k) as string | undefined;
      if (typeof k === "string") envRead.set(k, v ?? null);
      return v;
    } }) : environ;

    const refused = new Set<string>();
    let set: TemplateSet | undefined = undefined;
    const origins = new FileOrigins();
    const unsetEnv = new Set<string>();
    const funcs = werfFuncs(() => set!, {
      environ: recorded,
      strictEnv: opts.strictEnv,
      origins,
      onUnsetEnv: (n) => unsetEnv.add(n),
      allowEnv: (name) => isEnvAllowed(giterminism, name),
      onRefusedEnv: (name) => refused.add(name),
    });
    if (cache) {
      const get = funcs.get.bind(funcs);
      funcs.get = (name: string) => (called.add(name), get(name));
    }
    set = new TemplateSet(funcs);

    for (const rel of templateFiles(templatesReader)) {
      const text = templateText(templatesReader.readFile(`${TEMPLATES_DIR}/${rel}`), `${TEMPLATES_DIR}/${rel}`);
      set.parse(rel, text, `${TEMPLATES_DIR}/${rel}`);
    }
    const text = templateText(config.text(), file);
    set.parse("werfConfig", text, file);

    const commitData = commit ? { hash: commit.commit, unix: await commitTime(commit) } : null;
    const data = werfData({ dir, env: opts.env, origins, files: filesReader, commit: commitData });
    if (cache) watchCommit(data, () => (commitRead = true));
    const out = set.execute("werfConfig", data);
    const later = (async () => {
      const changes = commit && !commit.dev ? await worktreeChanges(commit) : [];
      // a change werf-giterminism.yaml lets the render read from the work tree was used: not reported
      const ignoredChanges =
        project instanceof CommitFiles ? readChanges(project, changes).filter((p) => !(configReader !== project && p === file) && !accepted.any(p, configReader !== project)) : [];
      return { worktreeChanges: changes, ignoredChanges };
    })();
    later.catch(() => {}); // waited for by the caller (deferChanges) or below
    const now = opts.deferChanges ? { worktreeChanges: [], ignoredChanges: [] } : await later;
    const warnings: Diagnostic[] = [...giterminism.warnings, ...[...refused].sort().map((name) => ({
      message: `{{ env ${JSON.stringify(name)} }} read as unset: the variable is not in config.goTemplateRendering.allowEnvVariables of ${giterminism.file ?? GITERMINISM_FILE}`,
      hint: "the build environment may hold secrets, so werf.yaml reads only the variables the giterminism config allows; add the name there",
    }))];
    const commitOnly = project instanceof CommitFiles && configReader === project && templatesReader === project && filesReader === project && isInside(dir, absPath);
    const result: RenderedConfig = {
      file, absPath, text: out.text, map: out.map, unsetEnv: [...unsetEnv], commit, ...now, ...(opts.deferChanges ? { changesLater: later } : {}), refusedEnv: [...refused].sort(), giterminism, warnings,
      ...(commitOnly ? {} : { readOutsideCommit: true as const }),
    };
    if (cache && parts && changed && commit && commitOnly) {
      const { pureFunctions, storeRender } = await import("../cache/render.js");
      const pure = pureFunctions();
      const listings = project.listings.map((l) => ({ dir: l.dir, wanted: l.wanted === undefined ? { all: true as const } : (l.wanted as { spec?: WantedSpec }).spec }));
      const map = out.map as { toData?: () => SourceMapData };
      if ([...called].every((n) => pure.has(n)) && listings.every((l) => l.wanted !== undefined) && typeof map.toData === "function") {
        storeRender(cache, parts, {
          tree: changed.tree,
          ...(commitRead && commitData ? { commit: { hash: commitData.hash, time: commitData.unix } } : {}),
          env: [...envRead],
          exact: [...project.seen.exact],
          under: [...project.seen.under],
          result: {
            file, absPath, text: out.text, map: map.toData(), unsetEnv: result.unsetEnv, refusedEnv: result.refusedEnv, giterminism, warnings,
            asked: [...project.asked],
            listings: listings as { dir: string; wanted: WantedSpec }[],
          },
        });
      }
    }
    return result;
  }
}

/** The project paths a render reads before anything the template asks for: the config, the giterminism file and
 *  the templates' folder (undefined: no such list, e.g. a config outside the project). */
function firstReads(dir: string, opts: RenderOptions): string[] | undefined {
  const out = [TEMPLATES_DIR];
  if (opts.giterminismConfig === undefined) out.push(GITERMINISM_FILE);
  if (opts.configFile === undefined) return [...out, "werf.yaml", "werf.yml"];
  const rel = path.relative(dir, path.resolve(dir, opts.configFile));
  if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel)) return undefined;
  return [...out, rel.split(path.sep).join("/")];
}

/** True when `p` (relative to `dir`, or absolute) lies inside `dir`. */
function isInside(dir: string, p: string): boolean {
  const rel = path.relative(dir, path.resolve(dir, p));
  return !rel.startsWith("..") && !path.isAbsolute(rel);
}

/** Calls `onRead` when the template reads `.Commit` (or looks at the whole data, e.g. `toJson .`). */
function watchCommit(data: Map<string, unknown>, onRead: () => void): void {
  const get = data.get.bind(data);
  data.get = (k: string) => (k === "Commit" && onRead(), get(k));
  for (const m of ["entries", "keys", "values", "forEach", Symbol.iterator] as const) {
    const f = (data as unknown as Record<PropertyKey, (...a: unknown[]) => unknown>)[m].bind(data);
    (data as unknown as Record<PropertyKey, unknown>)[m] = (...a: unknown[]) => (onRead(), f(...a));
  }
}

/** A `wanted` filter with its description, so a stored render can make the filter again. */
export function describedWanted<F extends (rel: string) => boolean>(f: F, spec: WantedSpec): F {
  return Object.assign(f, { spec });
}

/** readChanges for a stored render: its asked paths and listings. */
function changedFromRecord(asked: readonly string[], listings: readonly { dir: string; wanted: WantedSpec }[], changed: readonly string[]): string[] {
  if (changed.length === 0) return [];
  const askedSet = new Set(asked);
  const filters = listings.map((l) => ({ dir: l.dir, wanted: wantedOf(l.wanted) }));
  return changed.filter(
    (p) =>
      askedSet.has(p) ||
      p === "werf.yaml" ||
      p === "werf.yml" ||
      (p.startsWith(`${TEMPLATES_DIR}/`) && p.endsWith(".tmpl")) ||
      filters.some((l) => (l.dir === "" || p.startsWith(`${l.dir}/`)) && l.wanted(p)),
  );
}

function wantedOf(spec: WantedSpec): (rel: string) => boolean {
  if ("suffix" in spec) return (f) => f.endsWith(spec.suffix);
  if ("glob" in spec) {
    const matcher = compileGlob(spec.glob);
    return (f) => matcher.match(f) || matcher.mayMatchBelow(f);
  }
  return () => true;
}

/** Which project paths the giterminism config lets the render read from the work tree, per kind of read. */
function uncommittedAccepted(g: Giterminism) {
  const template = (p: string) => giterminismPathAccepted(g.allowUncommittedTemplates, p);
  const file = (p: string) => giterminismPathAccepted(g.allowUncommittedFiles, p);
  const isConfig = (p: string) => p === "werf.yaml" || p === "werf.yml";
  return {
    template,
    file,
    /** A changed path the render took from the work tree (configFromWorkTree: config.allowUncommitted). */
    any: (p: string, configFromWorkTree: boolean) =>
      (configFromWorkTree && isConfig(p)) || (p.startsWith(`${TEMPLATES_DIR}/`) && p.endsWith(".tmpl") && template(p)) || file(p),
  };
}

async function commitTime(pc: ProjectCommit): Promise<number> {
  return pc.time ?? pc.repo.commitTime(pc.commit);
}

/** The changed paths that the render depended on: read or asked about, under .werf/, or found by a listing. */
function readChanges(files: CommitFiles, changed: readonly string[]): string[] {
  return changed.filter(
    (p) =>
      files.asked.has(p) ||
      p === "werf.yaml" ||
      p === "werf.yml" ||
      (p.startsWith(`${TEMPLATES_DIR}/`) && p.endsWith(".tmpl")) ||
      files.listings.some((l) => (l.dir === "" || p.startsWith(`${l.dir}/`)) && (l.wanted?.(p) ?? true)),
  );
}

/** The one-line notice of uncommitted changes that were not used, or undefined. */
export function ignoredChangesNotice(paths: readonly string[]): string | undefined {
  if (paths.length === 0) return undefined;
  const shown = paths.slice(0, 5).join(", ") + (paths.length > 5 ? ` and ${paths.length - 5} more` : "");
  return `uncommitted changes are not used (werf reads the commit): ${shown}; commit them, or build the work tree as it is with --dev`;
}
