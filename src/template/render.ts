// Render a project's werf.yaml the way werf does: .werf/**/*.tmpl partials and
// the config in one template set, executed as "werfConfig" with werf's data.
import * as fs from "node:fs";
import * as path from "node:path";
import { type SourceMap, UserError } from "../diagnostics.js";
import { readTemplateFile } from "./read.js";
import { TemplateSet } from "./template.js";
import { werfData, werfFuncs } from "./werf.js";

export interface RenderOptions {
  dir: string;
  configFile?: string;
  env?: string;
  strictEnv?: boolean;
  environ?: Record<string, string | undefined>;
}

export interface RenderedConfig {
  /** As the user sees it, e.g. "werf.yaml". */
  file: string;
  absPath: string;
  text: string;
  map: SourceMap;
}

/** Where partial templates live, relative to the project dir. */
export const TEMPLATES_DIR = ".werf";

/** The user-facing name of a path inside the project ("werf.yaml", ".werf/x.tmpl"). */
function displayPath(dir: string, abs: string): string {
  const rel = path.relative(dir, abs);
  return rel.startsWith("..") || path.isAbsolute(rel) ? abs : rel.split(path.sep).join("/");
}

function findConfig(dir: string, configFile?: string): string {
  if (configFile) {
    const abs = path.resolve(dir, configFile);
    if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) {
      throw new UserError({ message: `werf config ${configFile} not found in ${dir}`, hint: "check the --config path; it is relative to the project directory" });
    }
    return abs;
  }
  for (const name of ["werf.yaml", "werf.yml"]) {
    const abs = path.join(dir, name);
    if (fs.existsSync(abs) && fs.statSync(abs).isFile()) return abs;
  }
  throw new UserError({
    message: `no werf.yaml or werf.yml found in ${dir}`,
    hint: "run in the project directory, pass --dir, or name the config with --config",
  });
}

/** Every `**\/*.tmpl` below `root`, as "/"-separated paths relative to it, sorted. */
function templateFiles(root: string, rel = ""): string[] {
  if (!fs.existsSync(path.join(root, rel))) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...templateFiles(root, p));
    else if (e.isFile() && e.name.endsWith(".tmpl")) out.push(p);
  }
  return out.sort();
}

export async function renderWerfConfig(opts: RenderOptions): Promise<RenderedConfig> {
  const dir = path.resolve(opts.dir);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new UserError({ message: `project directory ${opts.dir} does not exist`, hint: "pass an existing directory with --dir" });
  }
  const absPath = findConfig(dir, opts.configFile);
  const file = displayPath(dir, absPath);

  let set: TemplateSet | undefined = undefined;
  const funcs = werfFuncs(() => set!, { environ: opts.environ, strictEnv: opts.strictEnv });
  set = new TemplateSet(funcs);

  const tmplRoot = path.join(dir, TEMPLATES_DIR);
  for (const rel of templateFiles(tmplRoot)) {
    const text = await readTemplateFile(path.join(tmplRoot, rel), `${TEMPLATES_DIR}/${rel}`);
    set.parse(rel, text, `${TEMPLATES_DIR}/${rel}`);
  }
  const text = await readTemplateFile(absPath, file);
  set.parse("werfConfig", text, file);

  const out = set.execute("werfConfig", werfData({ dir, env: opts.env }));
  return { file, absPath, text: out.text, map: out.map };
}
