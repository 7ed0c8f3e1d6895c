// werf's template functions and data (pkg/config/parser.go): include, tpl, env,
// required, fromYaml/toYaml on top of sprig, and the .Files/.Env/.Commit data.
import { ProjectFiles, ProjectPathError } from "../project/files.js";
import type { ProjectReader } from "../project/reader.js";
import { envNotAllowedMessage } from "../config/giterminism.js";
import { fromYaml, sprigFuncs, toYaml } from "./sprig/index.js";
import { adler32 } from "./sprig/encoding.js";
import type { TemplateSet } from "./template.js";
import { compileGlob } from "../git/doublestar.js";
import { type FuncMap, type GoFunc, type GoMap, type GoObject, type GoValue, NO_FIELD, goFunc } from "./value.js";
import { formatValue } from "./format.js";
import type { FileOrigins } from "./origins.js";

export interface WerfFuncOptions {
  /** Environment for `env`; defaults to process.env. */
  environ?: Record<string, string | undefined>;
  /** `env NAME` without default fails when NAME is unset (werf's giterminism); otherwise "". */
  strictEnv?: boolean;
  /** Project files read by `.Files`, so that `tpl` of a file's content is located in that file. */
  origins?: FileOrigins;
  /** Told the name of each unset variable that `env` rendered as "" (for hints on empty values). */
  onUnsetEnv?: (name: string) => void;
  /** Which variables `env` may read (werf-giterminism.yaml allowEnvVariables); default: every one. A refused
   *  name reads as unset (its default, or ""), or fails under strictEnv with werf's message. */
  allowEnv?: (name: string) => boolean;
  /** Told each refused name (once per call), for a warning. */
  onRefusedEnv?: (name: string) => void;
}


/** werf's name for the template that `tpl` parses. */
export function tplTemplateName(content: string): string {
  return `tpl-${adler32(Buffer.from(content, "utf8"))}`;
}

function str(v: GoValue): string {
  return typeof v === "string" ? v : formatValue(v);
}

/**
 * The function map werf renders werf.yaml with: sprig (without expandenv and
 * sprig's env), then include, tpl, env, required, fromYaml, toYaml.
 */
export function werfFuncs(set: () => TemplateSet, opts: WerfFuncOptions = {}): FuncMap {
  const funcs: FuncMap = sprigFuncs();
  funcs.delete("expandenv");
  funcs.delete("env");
  const environ = opts.environ ?? process.env;

  funcs.set(
    "include",
    goFunc(2, 2, (name, data) => set().executeNested(str(name), data)),
  );
  funcs.set(
    "tpl",
    goFunc(2, 2, (content, data) => {
      const text = str(content);
      const name = tplTemplateName(text);
      const s = set();
      s.parse(name, text, opts.origins?.fileOf(text));
      return s.executeNested(name, data);
    }),
  );
  funcs.set(
    "env",
    goFunc(1, 2, (name, ...rest) => {
      const key = str(name);
      const fallback = rest.length === 1 ? str(rest[0]) : undefined;
      let value = environ[key];
      if (opts.allowEnv && !opts.allowEnv(key)) {
        if (opts.strictEnv) throw new Error(envNotAllowedMessage(key));
        opts.onRefusedEnv?.(key);
        value = undefined;
      }
      if (value === undefined) {
        if (fallback !== undefined) return fallback;
        if (opts.strictEnv) throw new Error(`the environment variable ${JSON.stringify(key)} must be set or default must be provided`);
        opts.onUnsetEnv?.(key);
        return "";
      }
      if (value === "" && fallback !== undefined) return fallback;
      return value;
    }),
  );
  funcs.set(
    "required",
    goFunc(2, 2, (msg, val) => {
      if (val === null || val === undefined || val === "") throw new Error(str(msg));
      return val;
    }),
  );
  // werf's fromYaml (yaml.v2 Unmarshal into a map) and toYaml (yaml.v2 Marshal; the final newline
  // trimmed, as Helm's toYaml that werf.yaml authors copy from charts expects).
  funcs.set("fromYaml", goFunc(1, 1, (s) => fromYaml(str(s))));
  funcs.set("toYaml", goFunc(1, 1, (v) => toYaml(v).replace(/\n$/, "")));
  return funcs;
}

// ---- data ---------------------------------------------------------------------------------

class GoStruct implements GoObject {
  constructor(
    readonly goType: string,
    private readonly fields: Record<string, GoValue>,
    private readonly methods: Record<string, GoFunc> = {},
  ) {}
  field(name: string): GoValue | typeof NO_FIELD {
    return Object.prototype.hasOwnProperty.call(this.fields, name) ? this.fields[name] : NO_FIELD;
  }
  method(name: string): GoFunc | undefined {
    return Object.prototype.hasOwnProperty.call(this.methods, name) ? this.methods[name] : undefined;
  }
}

/** The `.Files` object: Get, Glob, Exists, IsDir over the project directory. Paths are project-relative (a
 *  leading "/" too, as in werf); symlinks are followed inside the project only (src/project/files.ts). */
export function filesObject(source: string | ProjectReader, origins?: FileOrigins): GoObject {
  let project: ProjectReader | undefined = typeof source === "string" ? undefined : source;
  const files = () => (project ??= new ProjectFiles(source as string));
  const fail = (what: string, arg: string, e: unknown): never => {
    if (e instanceof ProjectPathError) throw new Error(`{{ ${what} ${JSON.stringify(arg)} }}: ${e.message}`);
    throw e;
  };
  const get = goFunc(1, 1, (p) => {
    const rel = str(p);
    try {
      const text = files().readFile(rel).toString("utf8");
      origins?.note(text, rel.replace(/^(\.?\/)+/, ""));
      return text;
    } catch (e) {
      return fail(".Files.Get", rel, e);
    }
  });
  const glob = goFunc(1, 1, (p) => {
    const arg = str(p);
    const pattern = arg.replace(/^\.\//, "").replace(/^\/+/, "");
    const matcher = compileGlob(pattern);
    // werf returns an empty map when nothing matches (file_reader.ConfigGoTemplateFilesGlob); it follows links
    // inside the project and fails on a matching one that leads outside
    const m: GoMap = new Map();
    try {
      const list = files().listFiles("", {
        descend: (d) => matcher.mayMatchBelow(d),
        // described, so that a cached render makes the same filter again (src/cache/render.ts)
        wanted: Object.assign((f: string) => matcher.match(f) || matcher.mayMatchBelow(f), { spec: { glob: pattern } }),
      });
      const matched = list.filter((f) => matcher.match(f));
      const reader: ProjectReader = files();
      const texts = reader.readFiles ? reader.readFiles(matched) : matched.map((f) => reader.readFile(f));
      matched.forEach((f, i) => {
        const text = texts[i]!.toString("utf8");
        origins?.note(text, f);
        m.set(f, text);
      });
    } catch (e) {
      return fail(".Files.Glob", arg, e);
    }
    return m;
  });
  const exists = goFunc(1, 1, (p) => {
    const rel = str(p);
    try {
      return files().tryResolve(rel) !== undefined;
    } catch (e) {
      return fail(".Files.Exists", rel, e);
    }
  });
  const isDir = goFunc(1, 1, (p) => {
    const rel = str(p);
    try {
      return files().tryResolve(rel)?.stat.isDirectory() ?? false;
    } catch (e) {
      return fail(".Files.IsDir", rel, e);
    }
  });
  return new GoStruct("config.files", {}, { Get: get, Glob: glob, Exists: exists, IsDir: isDir });
}

export interface CommitInfo {
  hash: string;
  /** Seconds since the epoch. */
  unix: number;
}

/** Go's time.Time.String() of a UTC time: "2026-01-01 00:00:00 +0000 UTC". */
export function goTimeString(unix: number): string {
  const d = new Date(unix * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000 UTC`;
}

export interface WerfDataOptions {
  dir: string;
  /** Where `.Files` reads: the commit (giterminism) or the work tree; default: the work tree of `dir`. */
  files?: ProjectReader;
  /** Shared with werfFuncs: see FileOrigins. */
  origins?: FileOrigins;
  env?: string;
  /** The commit `.Commit` describes (the renderer passes the one it read the files from); none: empty. */
  commit?: CommitInfo | null;
}

/**
 * The data werf.yaml is rendered with. Outside a git repository (or before the
 * first commit) .Commit.Hash is "" and .Commit.Date is the epoch (Unix "0").
 */
export function werfData(opts: WerfDataOptions): GoMap {
  // the commit is read once, by the renderer (src/project/commit.ts); without one .Commit is empty
  const commit = opts.commit ?? undefined;
  const unix = commit?.unix ?? 0;
  const date: GoMap = new Map<string, GoValue>([
    ["Human", goTimeString(unix)],
    ["Unix", String(unix)],
  ]);
  return new Map<string, GoValue>([
    ["Files", filesObject(opts.files ?? opts.dir, opts.origins)],
    ["Env", opts.env ?? ""],
    ["Commit", new Map<string, GoValue>([["Hash", commit?.hash ?? ""], ["Date", date]])],
  ]);
}

