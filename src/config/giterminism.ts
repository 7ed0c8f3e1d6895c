// werf-giterminism.yaml: the allow-lists that let werf.yaml reach outside the project, with werf's own file and key
// names (werf's pkg/giterminism_manager/config):
//   config.goTemplateRendering.allowEnvVariables  names, or /regexps/ (anchored), that `{{ env }}` may read
//   config.stapel.mount.allowFromPaths            globs of `mount: fromPath` host paths outside the project
//   config.stapel.mount.allowBuildDir             werf's gate for `from: build_dir` (here a BuildKit cache, never a
//                                                 host directory, so it is read but nothing depends on it)
//   config.secrets.allowEnvVariables              variables a remote git mapping's basicAuth.password.env may read
//   config.secrets.allowFiles                     globs of host files (outside the project) basicAuth.password.src
//                                                 may read (`~` expanded)
// Without an entry, `{{ env }}` reads nothing from the environment and a host path outside the project is refused.
// The file is read from the project (`werf-giterminism.yaml`, links confined as every project read), or from
// `--giterminism-config FILE`: a branch author can edit the project's copy, so a CI that builds untrusted branches
// points the flag at a copy it controls (docs/security.md).

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from "yaml";
import { type Diagnostic, type SourcePos, UserError, redactUrl } from "../diagnostics.js";
import { ProjectFiles, ProjectPathError } from "../project/files.js";
import type { ProjectReader } from "../project/reader.js";
import { pathMatch } from "../git/doublestar.js";
import { compileWholeMatch } from "../template/sprig/goregexp.js";
import { secretId, type WerfConfig } from "./model.js";

export const GITERMINISM_FILE = "werf-giterminism.yaml";

export interface Giterminism {
  /** Where it was read from (as the user knows it), or undefined when there is none. */
  file?: string;
  /** Read from --giterminism-config (the operator's file), not from the project (a branch's author writes that). */
  operator?: boolean;
  allowEnvVariables: string[];
  allowFromPaths: string[];
  allowBuildDir: boolean;
  secretsAllowEnvVariables: string[];
  secretsAllowFiles: string[];
  /** config.secrets.allowValueIds: ids of `value:` secrets werf accepts. */
  secretsAllowValueIds: string[];
  /** config.allowUncommitted: werf.yaml is read from the work tree. */
  allowUncommitted: boolean;
  /** config.allowUncommittedTemplates: globs of `.werf/**\/*.tmpl` files read from the work tree. */
  allowUncommittedTemplates: string[];
  /** config.goTemplateRendering.allowUncommittedFiles: globs of `.Files.*` paths read from the work tree. */
  allowUncommittedFiles: string[];
  /** config.dockerfile.allowUncommitted: globs of Dockerfiles (project-relative) read from the work tree. */
  dockerfileAllowUncommitted: string[];
  /** config.dockerfile.allowUncommittedDockerignoreFiles: globs of .dockerignore files read from the work tree. */
  dockerfileAllowUncommittedDockerignoreFiles: string[];
  /** config.dockerfile.allowContextAddFiles: globs of `contextAddFiles` (project-relative) werf accepts. */
  dockerfileAllowContextAddFiles: string[];
  /** config.stapel.allowFromLatest. */
  allowFromLatest: boolean;
  /** config.stapel.git.allowBranch: remote git mappings may follow a branch. */
  allowGitBranch: boolean;
  /** cli.allowCustomTags (werf's --use-custom-tag; read, nothing here depends on it: docs/security.md). */
  allowCustomTags: boolean;
  /** Keys werf's schema does not know: werf ignores them; each is a located warning (a typo is never silent). */
  warnings: Diagnostic[];
}

export const NO_GITERMINISM: Giterminism = {
  allowEnvVariables: [],
  allowFromPaths: [],
  allowBuildDir: false,
  secretsAllowEnvVariables: [],
  secretsAllowFiles: [],
  secretsAllowValueIds: [],
  allowUncommitted: false,
  allowUncommittedTemplates: [],
  allowUncommittedFiles: [],
  dockerfileAllowUncommitted: [],
  dockerfileAllowUncommittedDockerignoreFiles: [],
  dockerfileAllowContextAddFiles: [],
  allowFromLatest: false,
  allowGitBranch: false,
  allowCustomTags: false,
  warnings: [],
};

/**
 * Reads the giterminism config: `configFile` when given (relative to the project directory, or absolute: the
 * operator's choice, read as given), else the project's werf-giterminism.yaml when there is one.
 */
export function loadGiterminism(project: ProjectReader, configFile?: string): Giterminism {
  let text: string;
  let shown: string;
  if (configFile !== undefined) {
    const abs = path.resolve(project.dir, configFile);
    shown = configFile;
    try {
      text = fs.readFileSync(abs, "utf8");
    } catch (e) {
      throw new UserError({
        message: `giterminism config ${configFile}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`,
        hint: "--giterminism-config names a werf-giterminism.yaml, relative to the project directory or absolute",
      });
    }
  } else {
    shown = GITERMINISM_FILE;
    try {
      text = project.readFile(GITERMINISM_FILE).toString("utf8");
    } catch (e) {
      if (e instanceof ProjectPathError && e.problem === "missing") return { ...NO_GITERMINISM, warnings: [] };
      if (e instanceof ProjectPathError) {
        throw new UserError({ message: `giterminism config ${e.message}`, hint: "keep werf-giterminism.yaml a regular file inside the project" });
      }
      throw e;
    }
  }
  const g = parseGiterminism(text, shown);
  return configFile !== undefined ? { ...g, operator: true } : g;
}

type KeyType = "bool" | "strings" | "version";
interface KeySpec {
  [key: string]: KeyType | KeySpec;
}

/**
 * Every key of werf's giterminism config (pkg/giterminism_manager/config: the openapi schema and the Go struct,
 * which also reads config.secrets and includes). werf accepts other keys and ignores them (its schema has
 * `additionalProperties: {}`); here each one is a located warning.
 */
const SCHEMA: KeySpec = {
  giterminismConfigVersion: "version",
  cli: { allowCustomTags: "bool" },
  config: {
    allowUncommitted: "bool",
    allowUncommittedTemplates: "strings",
    goTemplateRendering: { allowEnvVariables: "strings", allowUncommittedFiles: "strings" },
    stapel: { allowFromLatest: "bool", git: { allowBranch: "bool" }, mount: { allowBuildDir: "bool", allowFromPaths: "strings" } },
    dockerfile: { allowUncommitted: "strings", allowUncommittedDockerignoreFiles: "strings", allowContextAddFiles: "strings" },
    secrets: { allowEnvVariables: "strings", allowFiles: "strings", allowValueIds: "strings" },
  },
  helm: { allowUncommittedFiles: "strings" },
  includes: { allowIncludesUpdate: "bool" },
};

/** Parses the text of a werf-giterminism.yaml (YAML 1.1, as werf's yaml.v2 reads it); wrong types and a missing
 *  `giterminismConfigVersion` are located UserErrors, as werf refuses them; unknown keys are warnings. */
export function parseGiterminism(text: string, file: string): Giterminism {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, version: "1.1" });
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const at = (node: Node | null | undefined): SourcePos => {
    const { line, col } = lines.linePos(node?.range?.[0] ?? 0);
    return { file, line, col };
  };
  for (const e of doc.errors) {
    const { line, col } = lines.linePos(e.pos[0]);
    errors.push({ pos: { file, line, col }, message: `invalid YAML: ${e.message.split("\n")[0]}` });
  }
  const values = new Map<string, boolean | string[]>();
  if (errors.length === 0) {
    const isNull = (n: unknown) => n === null || n === undefined || (isScalar(n) && n.value === null);
    const walk = (node: unknown, spec: KeySpec, keys: string[]) => {
      if (isNull(node)) return;
      if (!isMap(node)) {
        errors.push({ pos: at(node as Node), message: `${keys.length ? keys.join(".") : "the giterminism config"} must be a mapping`, hint: `keys: ${Object.keys(spec).join(", ")}` });
        return;
      }
      for (const pair of node.items) {
        const keyNode = pair.key as Node;
        const key = isScalar(keyNode) ? String(keyNode.value) : "";
        const name = [...keys, key].join(".");
        const sub = Object.prototype.hasOwnProperty.call(spec, key) ? spec[key] : undefined;
        if (sub === undefined) {
          warnings.push({
            pos: at(keyNode),
            message: `${name}: unknown key in ${file}; werf ignores it, and so does stapel2docker`,
            hint: `keys here: ${Object.keys(spec).join(", ")} (werf's pkg/giterminism_manager/config)`,
          });
          continue;
        }
        const value = pair.value as Node | null;
        if (typeof sub === "object") walk(value, sub, [...keys, key]);
        else if (sub === "bool") {
          if (isNull(value)) continue;
          if (isScalar(value) && typeof value.value === "boolean") values.set(name, value.value);
          else errors.push({ pos: at(value), message: `${name} must be true or false` });
        } else if (sub === "strings") {
          if (isNull(value)) continue;
          if (!isSeq(value) || value.items.some((i) => !isScalar(i) || typeof i.value !== "string")) {
            errors.push({ pos: at(value), message: `${name} must be a list of strings`, hint: name.endsWith("allowEnvVariables") ? "e.g. [GOPROXY, /CI_.+/]" : "e.g. [\"path/*.yaml\"]" });
          } else values.set(name, value.items.map((i) => String((i as { value: unknown }).value)));
        } else {
          const v = isScalar(value) ? value.value : undefined;
          if (v !== 1 && v !== "1") errors.push({ pos: at(value), message: `giterminismConfigVersion must be 1`, hint: "werf knows version 1 only" });
          values.set(name, true);
        }
      }
    };
    walk(doc.contents, SCHEMA, []);
    if (errors.length === 0 && !values.has("giterminismConfigVersion")) {
      errors.push({ pos: { file, line: 1, col: 1 }, message: "giterminismConfigVersion is required", hint: "werf refuses a giterminism config without it: start the file with `giterminismConfigVersion: 1`" });
    }
  }
  const strings = (k: string) => (values.get(k) as string[] | undefined) ?? [];
  const bool = (k: string) => (values.get(k) as boolean | undefined) ?? false;
  const out: Giterminism = {
    file,
    allowEnvVariables: strings("config.goTemplateRendering.allowEnvVariables"),
    allowFromPaths: strings("config.stapel.mount.allowFromPaths"),
    allowBuildDir: bool("config.stapel.mount.allowBuildDir"),
    secretsAllowEnvVariables: strings("config.secrets.allowEnvVariables"),
    secretsAllowFiles: strings("config.secrets.allowFiles"),
    secretsAllowValueIds: strings("config.secrets.allowValueIds"),
    allowUncommitted: bool("config.allowUncommitted"),
    allowUncommittedTemplates: strings("config.allowUncommittedTemplates"),
    allowUncommittedFiles: strings("config.goTemplateRendering.allowUncommittedFiles"),
    dockerfileAllowUncommitted: strings("config.dockerfile.allowUncommitted"),
    dockerfileAllowUncommittedDockerignoreFiles: strings("config.dockerfile.allowUncommittedDockerignoreFiles"),
    dockerfileAllowContextAddFiles: strings("config.dockerfile.allowContextAddFiles"),
    allowFromLatest: bool("config.stapel.allowFromLatest"),
    allowGitBranch: bool("config.stapel.git.allowBranch"),
    allowCustomTags: bool("cli.allowCustomTags"),
    warnings,
  };
  for (const [i, p] of out.allowEnvVariables.entries()) {
    if (isRegexPattern(p)) {
      try {
        envPattern(p);
      } catch (e) {
        const node = doc.getIn(["config", "goTemplateRendering", "allowEnvVariables"], true) as Node | undefined;
        const item = isSeq(node) ? (node.items[i] as Node) : node;
        errors.push({ pos: at(item), message: `config.goTemplateRendering.allowEnvVariables: invalid regexp ${p}: ${(e as Error).message}` });
      }
    }
  }
  if (errors.length) throw new UserError(errors);
  return out;
}

/** werf's path matcher over a giterminism list of globs (project-relative paths): a glob matches the path, or a
 *  directory above it (`dir`, `dir/*`, `dir/**` all accept `dir/a/b`). No globs: nothing is accepted. */
export function giterminismPathAccepted(globs: readonly string[], p: string): boolean {
  return globs.length > 0 && fromPathMatches(globs, p);
}

function isRegexPattern(p: string): boolean {
  return p.length >= 2 && p.startsWith("/") && p.endsWith("/");
}

const envPatterns = new Map<string, (name: string) => boolean>();

/** A `/regexp/` entry as a whole-name matcher: Go's regexp (RE2, linear time, as werf reads it), compiled once. */
function envPattern(p: string): (name: string) => boolean {
  let m = envPatterns.get(p);
  if (!m) {
    m = compileWholeMatch(p.slice(1, -1));
    envPatterns.set(p, m);
  }
  return m;
}

/** werf's IsEnvNameAccepted: an exact name, or a /regexp/ matching the whole name. */
export function isEnvAllowed(g: Giterminism, name: string): boolean {
  return g.allowEnvVariables.some((p) => (isRegexPattern(p) ? envPattern(p)(name) : p === name));
}

/** The message werf gives for a refused env name. */
export function envNotAllowedMessage(name: string): string {
  return `the configuration with potential external dependency found in the werf config: env name ${JSON.stringify(name)} not allowed by giterminism`;
}

/** The glob without its trailing `/`, `/*`, `/**` parts (as `/(\/\**)+$/`, in linear time: that regexp backtracks
 *  quadratically on a long run of slashes). */
function trimSlashStars(g: string): string {
  let end = g.length;
  for (;;) {
    let j = end;
    while (j > 0 && g[j - 1] === "*") j--;
    if (j === 0 || g[j - 1] !== "/") return g.slice(0, end);
    end = j - 1;
  }
}

/** werf's path matcher over allowFromPaths: a glob matches the path, or a directory above it. */
function fromPathMatches(globs: readonly string[], p: string): boolean {
  return globs.some((g) => {
    const trimmed = trimSlashStars(g);
    for (const candidate of [g, trimmed, `${trimmed}/**/*`]) {
      try {
        if (candidate !== "" && pathMatch(candidate, p)) return true;
      } catch {
        return false; // a malformed glob matches nothing
      }
    }
    return false;
  });
}

/** The host path a `fromPath` names: `~` is the home directory, a relative path is relative to the project. */
export function fromPathOnHost(fromPath: string, dir: string): string {
  if (fromPath === "~" || fromPath.startsWith("~/")) return path.join(os.homedir(), fromPath.slice(1));
  return path.resolve(dir, fromPath);
}

/** A project path that reaches the work tree's git directory: refused whatever werf-giterminism.yaml says (the
 *  git directory is not the project's content: a CI clone keeps its token in `.git/config`). */
function gitDirError(pos: Diagnostic["pos"], what: string, hint: string): Diagnostic {
  return { pos, message: `${what} reaches the repository's git directory (.git), which holds the clone's credentials, not project files`, hint };
}

/**
 * Refuses every `mount: fromPath` that reaches the host outside the project (an absolute path, `~`, `..`, or a
 * link inside the project leading out) unless config.stapel.mount.allowFromPaths allows it, and every remote git
 * password read from a variable or a host file that config.secrets does not allow, and every Dockerfile image whose
 * context or Dockerfile leads out of the project through a link; all problems at once, located.
 */
export function checkHostPaths(config: WerfConfig, project: ProjectFiles, g: Giterminism): void {
  const errors: Diagnostic[] = [];
  for (const image of config.images) {
    for (const m of image.mount) {
      if (m.fromPath === undefined) continue;
      const host = fromPathOnHost(m.fromPath, project.dir);
      if (project.contains(host)) {
        // werf gates every fromPath; a project folder is fine here unless it reaches .git: then only when the
        // operator's giterminism file (--giterminism-config) allows it, never the project's own (the branch's author
        // writes that one, and .git/config holds a CI clone's token)
        const allowed = g.operator === true && (fromPathMatches(g.allowFromPaths, m.fromPath) || fromPathMatches(g.allowFromPaths, host));
        if (!allowed && project.reachesGitDir(host)) {
          errors.push(gitDirError(m.pos, `"mount { fromPath: ${m.fromPath}, ... }"`, `mount a folder that holds no .git (a cache folder of the project, say); an operator who wants the clone's git directory in the build allows the path under config.stapel.mount.allowFromPaths of a giterminism file given with --giterminism-config (the project's ${GITERMINISM_FILE} cannot allow it)`));
        }
        continue;
      }
      if (fromPathMatches(g.allowFromPaths, m.fromPath) || fromPathMatches(g.allowFromPaths, host)) continue;
      errors.push({
        pos: m.pos,
        message: `"mount { fromPath: ${m.fromPath}, ... }" not allowed by giterminism: the path leads outside the project directory`,
        hint: `a host directory is readable by every build of this config; allow it in ${g.file ?? GITERMINISM_FILE} under config.stapel.mount.allowFromPaths, or mount a project directory`,
      });
    }
    // a remote mapping's password is sent to its URL, which the config names too: only allowed sources
    for (const git of image.git) {
      const pw = git.basicAuth?.password;
      if (pw?.env !== undefined && !g.secretsAllowEnvVariables.includes(pw.env)) {
        errors.push({
          pos: git.pos,
          message: `basicAuth.password.env ${JSON.stringify(pw.env)} not allowed by giterminism (git ${redactUrl(git.url ?? "")})`,
          hint: `the password is sent to the mapping's URL; allow the variable in ${g.file ?? GITERMINISM_FILE} under config.secrets.allowEnvVariables`,
        });
      }
      if (pw?.src !== undefined) {
        const host = fromPathOnHost(pw.src, project.dir);
        const allowed = g.secretsAllowFiles.map((p) => (p === "~" || p.startsWith("~/") ? path.join(os.homedir(), p.slice(1)) : p));
        if (project.contains(host) && project.reachesGitDir(host)) {
          errors.push(gitDirError(git.pos, `basicAuth.password.src ${JSON.stringify(pw.src)}`, "keep the password in a file of the project, or take it from `env` (allowed in config.secrets.allowEnvVariables)"));
        } else if (!project.contains(host) && !fromPathMatches(allowed, host)) {
          errors.push({
            pos: git.pos,
            message: `basicAuth.password.src ${JSON.stringify(pw.src)} not allowed by giterminism: the file is outside the project directory`,
            hint: `the file's content is sent to the mapping's URL; allow it in ${g.file ?? GITERMINISM_FILE} under config.secrets.allowFiles`,
          });
        }
      }
    }
  }
  // build secrets: a variable of the build environment or a host file goes into the build, where the config's
  // commands can read it; werf allows only what config.secrets lists (a `value:` is in werf.yaml itself)
  for (const owner of [...config.images, ...config.dockerfileImages]) {
    for (const s of owner.secrets) {
      if (s.env !== undefined && !g.secretsAllowEnvVariables.includes(s.env)) {
        errors.push({
          pos: s.pos,
          message: `secret env ${JSON.stringify(s.env)} not allowed by giterminism`,
          hint: `the build's commands can read the variable; allow it in ${g.file ?? GITERMINISM_FILE} under config.secrets.allowEnvVariables`,
        });
      }
      if (s.src !== undefined) {
        const host = fromPathOnHost(s.src, project.dir);
        const allowed = g.secretsAllowFiles.map((p) => (p === "~" || p.startsWith("~/") ? path.join(os.homedir(), p.slice(1)) : p));
        if (project.contains(host) && project.reachesGitDir(host)) {
          errors.push(gitDirError(s.pos, `secret src ${JSON.stringify(s.src)}`, "name a file of the project, not of its git directory"));
        } else if (!project.contains(host) && !fromPathMatches(allowed, host) && !fromPathMatches(g.secretsAllowFiles, s.src)) {
          errors.push({
            pos: s.pos,
            message: `secret src ${JSON.stringify(s.src)} not allowed by giterminism: ${host} is a host file outside the project`,
            hint: `the build's commands can read the file; allow it in ${g.file ?? GITERMINISM_FILE} under config.secrets.allowFiles`,
          });
        } else if (!fs.existsSync(host) || !fs.statSync(host).isFile()) {
          errors.push({ pos: s.pos, message: `secret src ${JSON.stringify(s.src)}: no such file (${host})`, hint: "the path is relative to the project directory" });
        }
      }
    }
  }
  // a Dockerfile image's `ssh` socket or key paths are host paths buildx reads: inside the project only (the
  // build's own agents are given to `build --ssh`, and reach every image)
  for (const d of config.dockerfileImages) {
    if (d.ssh === undefined) continue;
    const eq = d.ssh.indexOf("=");
    const id = eq < 0 ? d.ssh : d.ssh.slice(0, eq);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) {
      errors.push({ pos: d.pos, message: `ssh ${JSON.stringify(d.ssh)} of image ${JSON.stringify(d.name)}: ${JSON.stringify(id)} is not an agent id`, hint: "write `ssh: default`, or `ssh: ID=PATH[,PATH]` with a socket or key inside the project" });
      continue;
    }
    for (const p of eq < 0 ? [] : d.ssh.slice(eq + 1).split(",")) {
      // `~` is the home folder wherever buildx expands it: a host path
      if (p !== "" && project.contains(fromPathOnHost(p, project.dir)) && !project.reachesGitDir(fromPathOnHost(p, project.dir))) continue;
      errors.push({
        pos: d.pos,
        message: `ssh ${JSON.stringify(d.ssh)} of image ${JSON.stringify(d.name)}: ${JSON.stringify(p)} is not a path inside the project`,
        hint: "a socket or key of the build machine is the operator's to give: write `ssh: default` (or the id alone) and forward it with `build --ssh ID=PATH`",
      });
    }
  }
  // a Dockerfile image's context folder and Dockerfile are read by buildx from the host: a link on the way that
  // leads out of the project would send the host's files to the build
  for (const d of config.dockerfileImages) {
    const context = path.resolve(project.dir, d.context ?? ".");
    for (const [key, abs] of [["context", context], ["dockerfile", path.resolve(context, d.dockerfile)]] as const) {
      if (project.contains(abs)) continue;
      errors.push({
        pos: d.pos,
        message: `\`${key}: ${key === "context" ? d.context ?? "." : d.dockerfile}\` leads outside the project directory`,
        hint: "the context and the Dockerfile must be inside the project; replace the symbolic link on the way with the real folder or file",
      });
    }
  }
  if (errors.length) throw new UserError(errors);
}

/**
 * What werf's giterminism refuses for reproducibility, not for safety, when werf-giterminism.yaml does not allow
 * it: `fromLatest` (config.stapel.allowFromLatest), a remote git mapping that follows a branch
 * (config.stapel.git.allowBranch), a `build_dir` mount (config.stapel.mount.allowBuildDir), a `value:` secret
 * (config.secrets.allowValueIds) and `contextAddFiles` (config.dockerfile.allowContextAddFiles). stapel2docker
 * builds them (each one's input is in the digest: the base image's id, the branch's commit, the files' content;
 * a build_dir is a BuildKit cache, never a host folder), so each is a located warning naming the key to add.
 */
export function giterminismWarnings(config: WerfConfig, g: Giterminism): Diagnostic[] {
  const file = g.file ?? GITERMINISM_FILE;
  const out: Diagnostic[] = [];
  const warn = (pos: SourcePos, what: string, key: string, why: string) =>
    out.push({ pos, message: `${what} not allowed by giterminism: werf refuses it unless ${file} sets ${key}; stapel2docker builds it`, hint: why });
  for (const image of config.images) {
    if (image.fromLatest && !g.allowFromLatest) {
      warn(image.pos, "fromLatest", "config.stapel.allowFromLatest: true", "a new base image under the same tag changes the digest of every stage; pin a tag, or allow it");
    }
    for (const m of image.git) {
      if (m.local || g.allowGitBranch) continue;
      if (m.commit === undefined && m.tag === undefined) {
        warn(m.pos, `git ${redactUrl(m.url ?? "")} ${m.branch !== undefined ? `branch ${m.branch}` : "(its default branch)"}`, "config.stapel.git.allowBranch: true", "a new commit on the branch rebuilds the image; name a tag or a commit, or allow it");
      }
    }
    for (const m of image.mount) {
      if (m.type === "build_dir" && !g.allowBuildDir) {
        warn(m.pos, '"mount { from: build_dir, ... }"', "config.stapel.mount.allowBuildDir: true", "here it is a BuildKit cache kept between builds of this project");
      }
    }
  }
  for (const owner of [...config.images, ...config.dockerfileImages]) {
    for (const s of owner.secrets) {
      const id = secretId(s) ?? s.id;
      if (s.value !== undefined && (id === undefined || !g.secretsAllowValueIds.includes(id))) {
        warn(s.pos, `secret ${JSON.stringify(id ?? "")} (value)`, `config.secrets.allowValueIds: [${id ?? ""}]`, "the value is written in werf.yaml; werf wants its id listed");
      }
    }
  }
  for (const d of config.dockerfileImages) {
    const context = (d.context ?? ".").replace(/^\.\/+/, "").replace(/\/+$/, "");
    for (const f of d.contextAddFiles) {
      const rel = path.posix.join(context === "" ? "." : context, f);
      if (!giterminismPathAccepted(g.dockerfileAllowContextAddFiles, rel)) {
        warn(d.pos, `contextAddFile ${JSON.stringify(rel)}`, `config.dockerfile.allowContextAddFiles: [${rel}]`, "the file is taken from the work tree, not the commit; its content is in the image's digest");
      }
    }
  }
  return out;
}
