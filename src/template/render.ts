// Render a project's werf.yaml the way werf does: .werf/**/*.tmpl partials and
// the config in one template set, executed as "werfConfig" with werf's data.
import * as fs from "node:fs";
import * as path from "node:path";
import { type Diagnostic, type SourceMap, UserError } from "../diagnostics.js";
import { GITERMINISM_FILE, type Giterminism, isEnvAllowed, loadGiterminism } from "../config/giterminism.js";
import { TemplateSet } from "./template.js";
import { werfData, werfFuncs } from "./werf.js";
import { ProjectFiles, ProjectPathError } from "../project/files.js";

export interface RenderOptions {
  dir: string;
  configFile?: string;
  env?: string;
  strictEnv?: boolean;
  environ?: Record<string, string | undefined>;
  /** werf's --giterminism-config: the allow-lists file (default: the project's werf-giterminism.yaml). */
  giterminismConfig?: string;
}

export interface RenderedConfig {
  /** As the user sees it, e.g. "werf.yaml". */
  file: string;
  absPath: string;
  text: string;
  map: SourceMap;
  /** The allow-lists the config was rendered with (and host paths are checked against). */
  giterminism: Giterminism;
  /** Things to tell the user that did not stop the rendering (env names the allow-list refused). */
  warnings: Diagnostic[];
}

/** Where partial templates live, relative to the project dir. */
export const TEMPLATES_DIR = ".werf";

/** The user-facing name of a path inside the project ("werf.yaml", ".werf/x.tmpl"). */
function displayPath(dir: string, abs: string): string {
  const rel = path.relative(dir, abs);
  return rel.startsWith("..") || path.isAbsolute(rel) ? abs : rel.split(path.sep).join("/");
}

function findConfig(project: ProjectFiles, configFile?: string): { abs: string; text: () => Buffer } {
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
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs);
    } catch {
      continue;
    }
    if (st.isFile() || st.isSymbolicLink()) return configInProject(project, name, abs, `no werf.yaml or werf.yml found in ${dir}`, "run in the project directory, pass --dir, or name the config with --config");
  }
  throw new UserError({
    message: `no werf.yaml or werf.yml found in ${dir}`,
    hint: "run in the project directory, pass --dir, or name the config with --config",
  });
}

/** A config file inside the project: links followed inside it only. */
function configInProject(project: ProjectFiles, rel: string, abs: string, missing: string, hint: string): { abs: string; text: () => Buffer } {
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
function templateFiles(project: ProjectFiles): string[] {
  try {
    return project
      .listFiles(TEMPLATES_DIR, { wanted: (f) => f.endsWith(".tmpl") })
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
  const project = new ProjectFiles(dir);
  const config = findConfig(project, opts.configFile);
  const absPath = config.abs;
  const file = displayPath(dir, absPath);

  const giterminism = loadGiterminism(project, opts.giterminismConfig);
  const refused = new Set<string>();
  let set: TemplateSet | undefined = undefined;
  const funcs = werfFuncs(() => set!, {
    environ: opts.environ,
    strictEnv: opts.strictEnv,
    allowEnv: (name) => isEnvAllowed(giterminism, name),
    onRefusedEnv: (name) => refused.add(name),
  });
  set = new TemplateSet(funcs);

  for (const rel of templateFiles(project)) {
    const text = project.readFile(`${TEMPLATES_DIR}/${rel}`).toString("utf8");
    set.parse(rel, text, `${TEMPLATES_DIR}/${rel}`);
  }
  const text = config.text().toString("utf8");
  set.parse("werfConfig", text, file);

  const out = set.execute("werfConfig", werfData({ dir, env: opts.env }));
  const warnings: Diagnostic[] = [...refused].sort().map((name) => ({
    message: `{{ env ${JSON.stringify(name)} }} read as unset: the variable is not in config.goTemplateRendering.allowEnvVariables of ${giterminism.file ?? GITERMINISM_FILE}`,
    hint: "the build environment may hold secrets, so werf.yaml reads only the variables the giterminism config allows; add the name there",
  }));
  return { file, absPath, text: out.text, map: out.map, giterminism, warnings };
}
