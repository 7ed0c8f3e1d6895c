// Makes a git repository that a corpus werf.yaml can be compiled against.
//
// The corpus holds only werf.yaml (and the few files its templates read), not the projects' sources, so
// every git mapping would match nothing. synthesizeRepo copies a folder into a temp dir, renders and
// loads its config, and creates, for every git mapping of every Stapel image, what the mapping needs to
// match files: its `add` path (a file or a directory with a file), a file for each includePaths mask and
// each stageDependencies mask (a concrete path derived from the mask, checked with the real matcher, not
// excluded), and the Dockerfiles that Dockerfile images name. Remote mappings (`url:`) get a local bare
// repository per URL, with their branch or tag, served through git's `url.<base>.insteadOf` set in the
// environment (GIT_CONFIG_COUNT/KEY/VALUE). Commits use a fixed author and date: the same folder gives
// the same commit ids on any machine. A pinned `commit:` of a remote cannot be synthesized (that would
// need a SHA-1 preimage); such a mapping fails to compile, as it would against a repository without it.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { UserError } from "../../src/diagnostics.js";
import { renderWerfConfig } from "../../src/template/render.js";
import { loadWerfConfig, type GitMapping, type WerfConfig } from "../../src/config/index.js";
import { PathMatcher, normalizeBasePath } from "../../src/git/pathMatcher.js";
import { addGeneratedFiles, type CorpusSetup } from "./setup.js";
import { checkHostPaths } from "../../src/config/giterminism.js";
import { ProjectFiles } from "../../src/project/files.js";

/** The environment of every git command the synthesizer runs: fixed identity and dates, no user config. */
export const SYNTH_GIT_ENV: Record<string, string> = {
  GIT_AUTHOR_NAME: "stapel2docker corpus",
  GIT_AUTHOR_EMAIL: "corpus@stapel2docker.invalid",
  GIT_COMMITTER_NAME: "stapel2docker corpus",
  GIT_COMMITTER_EMAIL: "corpus@stapel2docker.invalid",
  GIT_AUTHOR_DATE: "2024-01-02T03:04:05Z",
  GIT_COMMITTER_DATE: "2024-01-02T03:04:05Z",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_TERMINAL_PROMPT: "0",
};

export interface SynthRemote {
  url: string;
  /** Absolute path of the bare repository that `url` is rewritten to. */
  bare: string;
  /** Branches and tags made (all point at the one commit). */
  refs: string[];
  commit: string;
  /** The synthesized files, repository-relative, in creation order. */
  files: string[];
}

export interface SynthRepo {
  /** The temp dir holding everything (removed by cleanup). */
  root: string;
  /** The project dir: the repository's worktree, holding werf.yaml. */
  dir: string;
  /** An empty directory for the planner's remote clones. */
  gitCacheDir: string;
  /** GIT_CONFIG_COUNT/KEY_n/VALUE_n rewriting every remote URL to its bare repository (plus SYNTH_GIT_ENV). */
  env: Record<string, string>;
  /** HEAD of the project repository. */
  commit: string;
  /** The synthesized files of the project repository, repository-relative, in creation order. */
  created: string[];
  remotes: SynthRemote[];
  /** The loaded config; undefined when the folder does not render or validate. */
  config?: WerfConfig;
  /** Why there is no config. */
  failure?: { stage: "render" | "validate"; error: UserError };
  cleanup(): void;
}

const execFileAsync = promisify(execFile);

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync("git", args, { cwd, env: { ...process.env, ...SYNTH_GIT_ENV }, encoding: "utf8" });
  return stdout.trim();
}

// ---------------------------------------------------------------------------------------------
// Masks → concrete paths

/** Replaces each `{a,b}` with its first alternative (innermost first). */
function firstAlternatives(mask: string): string {
  let s = mask;
  for (let guard = 0; guard < 50; guard++) {
    const m = /\{([^{}]*)\}/.exec(s);
    if (!m) break;
    let depth = 0;
    let cut = m[1].length;
    for (let i = 0; i < m[1].length; i++) {
      if (m[1][i] === "\\") i++;
      else if (m[1][i] === "," && depth === 0) {
        cut = i;
        break;
      }
    }
    s = s.slice(0, m.index) + m[1].slice(0, cut) + s.slice(m.index + m[0].length);
  }
  return s;
}

/** A character that the class `[content]` matches (content without brackets, `!` or `^` negating). */
function classChar(content: string): string {
  const negated = content.startsWith("!") || content.startsWith("^");
  const body = (negated ? content.slice(1) : content).replace(/[\]\[]/g, "\\$&");
  const candidates = negated ? "xyzqw0_" : body.replace(/\\/g, "");
  try {
    const re = new RegExp(`^[${negated ? "^" : ""}${body}]$`, "u");
    for (const c of candidates) if (c !== "/" && re.test(c)) return c;
  } catch {
    // fall through
  }
  return negated ? "x" : candidates[0] ?? "x";
}

/** One path segment of a mask made concrete: `*` → "x", `?` → "x", `[set]` → a member, `\c` → c. */
function concreteSegment(seg: string): string {
  let out = "";
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === "\\" && i + 1 < seg.length) out += seg[++i];
    else if (c === "*") {
      while (seg[i + 1] === "*") i++;
      out += "x";
    } else if (c === "?") out += "x";
    else if (c === "[") {
      const end = seg.indexOf("]", i + 2);
      if (end < 0) out += c;
      else {
        out += classChar(seg.slice(i + 1, end));
        i = end;
      }
    } else out += c;
  }
  return out;
}

function looksLikeFile(name: string): boolean {
  return /^\.[^.]/.test(name) || /[^.]\.[A-Za-z0-9_-]+$/.test(name) || /^[A-Z][A-Za-z]*$/.test(name);
}

/**
 * Concrete paths (relative to the mask's base) that may match `mask`, best first: each `**` segment
 * dropped or replaced by "d", and each path also as a directory holding a file.
 */
export function pathsForMask(mask: string): string[] {
  const segs = firstAlternatives(mask.replace(/^\.\//, "")).split("/").filter((s) => s !== "" && s !== ".");
  let variants: string[][] = [[]];
  let globstars = 0;
  for (const seg of segs) {
    if (seg === "**") {
      globstars++;
      variants = globstars <= 3 ? variants.flatMap((v) => [v, [...v, "d"]]) : variants.map((v) => [...v, "d"]);
    } else {
      const c = concreteSegment(seg);
      variants = variants.map((v) => [...v, c]);
    }
  }
  const out: string[] = [];
  for (const v of variants) {
    if (v.length === 0) {
      out.push("file.txt");
      continue;
    }
    const p = v.join("/");
    const asFile = looksLikeFile(v[v.length - 1]);
    if (asFile) out.push(p, `${p}/file.txt`);
    else out.push(`${p}/file.txt`, p);
  }
  return [...new Set(out)];
}

// ---------------------------------------------------------------------------------------------
// One repository's file set

class FileSet {
  readonly files = new Set<string>();
  readonly created: string[] = [];

  /** A path that can be added: not under .git, not equal to a file, not a file's parent or child. */
  canAdd(p: string): boolean {
    if (p === "" || p === ".git" || p.startsWith(".git/") || p.split("/").some((s) => s === "" || s === "." || s === "..")) return false;
    if (this.files.has(p)) return false;
    for (const f of this.files) if (f.startsWith(p + "/") || p.startsWith(f + "/")) return false;
    return true;
  }

  add(p: string): void {
    this.files.add(p);
    this.created.push(p);
  }

  someMatches(pred: (p: string) => boolean): boolean {
    for (const f of this.files) if (pred(f)) return true;
    return false;
  }

  /** Makes sure some file satisfies `pred`: an existing one, else the first addable candidate. */
  ensure(candidates: string[], pred: (p: string) => boolean): boolean {
    if (this.someMatches(pred)) return true;
    for (const c of candidates) {
      if (this.canAdd(c) && pred(c)) {
        this.add(c);
        return true;
      }
    }
    return false;
  }
}

function join(base: string, rel: string): string {
  return base === "" ? rel : `${base}/${rel}`;
}

function matcher(opts: ConstructorParameters<typeof PathMatcher>[0]): PathMatcher | undefined {
  try {
    return new PathMatcher(opts);
  } catch (e) {
    if (e instanceof UserError) return undefined; // a malformed mask: the planner reports it
    throw e;
  }
}

/** Adds to `set` what `m` needs to match files (see the file comment). */
export function satisfyMapping(set: FileSet, m: GitMapping): void {
  const add = normalizeBasePath(m.add);
  const whole = matcher({ basePath: add, includeGlobs: m.includePaths, excludeGlobs: m.excludePaths });
  if (!whole) return;
  const ok = (p: string) => whole.isPathMatched(p);
  const fileish = add !== "" && (looksLikeFile(path.posix.basename(add)) || /\.[A-Za-z0-9]+$/.test(path.posix.basename(m.to)));
  const inside = ["README.md", "main.txt", "src/main.c", "d/e/data.bin"].map((f) => join(add, f));
  const forAdd = add === "" ? inside : fileish ? [add, ...inside] : [...inside, add];

  for (const mask of m.includePaths) {
    const one = matcher({ basePath: add, includeGlobs: [mask] });
    if (one) set.ensure(pathsForMask(mask).map((p) => join(add, p)), (p) => ok(p) && one.isPathMatched(p));
  }
  set.ensure(forAdd, ok);
  const deps = [...m.stageDependencies.install, ...m.stageDependencies.beforeSetup, ...m.stageDependencies.setup];
  for (const mask of deps) {
    const one = matcher({ basePath: add, includeGlobs: [mask] });
    if (one) set.ensure(pathsForMask(mask).map((p) => join(add, p)), (p) => ok(p) && one.isPathMatched(p));
  }
}

/** Deterministic content for a synthesized file. */
function contentFor(p: string): { text: string; mode: number } {
  if (p.endsWith(".sh")) return { text: `#!/bin/sh\n# synthesized by stapel2docker's corpus test: ${p}\n`, mode: 0o755 };
  if (p.endsWith(".json")) return { text: "{}\n", mode: 0o644 };
  return { text: `synthesized by stapel2docker's corpus test: ${p}\n`, mode: 0o644 };
}

function writeFiles(dir: string, files: string[]): void {
  for (const rel of files) {
    const abs = path.join(dir, ...rel.split("/"));
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    const { text, mode } = contentFor(rel);
    fs.writeFileSync(abs, text);
    fs.chmodSync(abs, mode);
  }
}

function listFiles(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (p !== ".git") out.push(...listFiles(dir, p));
    } else out.push(p);
  }
  return out.sort();
}

async function commitAll(dir: string, branch: string): Promise<string> {
  await git(dir, ["init", "-q", "-b", branch]);
  await git(dir, ["add", "-A", "-f"]);
  await git(dir, ["commit", "-q", "--allow-empty", "--no-verify", "-m", "synthesized by stapel2docker's corpus test"]);
  return await git(dir, ["rev-parse", "HEAD"]);
}

export interface SynthOptions {
  /** Variables for the templates' `env` (default: none set, like the corpus test). */
  environ?: Record<string, string | undefined>;
  /** Parent of the temp dir (default os.tmpdir()). */
  tmpRoot?: string;
  /** `--env` and generated files, as the folder's own CI has them (setup.ts). */
  setup?: CorpusSetup;
}

/** Copies corpus folder `source` into a fresh git repository and adds what its git mappings need. */
export async function synthesizeRepo(source: string, opts: SynthOptions = {}): Promise<SynthRepo> {
  const root = fs.mkdtempSync(path.join(opts.tmpRoot ?? os.tmpdir(), "s2d-corpus-"));
  const cleanup = () => fs.rmSync(root, { recursive: true, force: true });
  try {
    const dir = path.join(root, "project");
    const gitCacheDir = path.join(root, "git-cache");
    fs.mkdirSync(gitCacheDir);
    fs.cpSync(source, dir, { recursive: true, filter: (src) => path.basename(src) !== ".git" });
    if (opts.setup) addGeneratedFiles(opts.setup, dir);

    let config: WerfConfig | undefined;
    let failure: SynthRepo["failure"];
    try {
      const rendered = await renderWerfConfig({ dir, environ: opts.environ ?? {}, env: opts.setup?.env });
      try {
        config = loadWerfConfig(rendered);
        // what `validate` refuses too: host paths and credentials the giterminism config does not allow
        checkHostPaths(config, new ProjectFiles(dir), rendered.giterminism);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        failure = { stage: "validate", error: e };
      }
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      failure = failure ?? { stage: "render", error: e };
    }

    const own = new FileSet();
    for (const f of listFiles(dir)) own.files.add(f);
    const remoteSets = new Map<string, { set: FileSet; refs: Set<string> }>();
    for (const image of config?.images ?? []) {
      for (const m of image.git) {
        if (m.local || !m.url) {
          satisfyMapping(own, m);
          continue;
        }
        let r = remoteSets.get(m.url);
        if (!r) remoteSets.set(m.url, (r = { set: new FileSet(), refs: new Set() }));
        if (m.branch) r.refs.add(`branch:${m.branch}`);
        if (m.tag) r.refs.add(`tag:${m.tag}`);
        satisfyMapping(r.set, m);
      }
    }
    for (const d of config?.dockerfileImages ?? []) {
      const context = normalizeBasePath(d.context ?? ".");
      const rel = path.posix.normalize(join(context, d.dockerfile.replace(/^\/+/, "")));
      if (own.canAdd(rel)) own.add(rel);
      for (const f of d.contextAddFiles) {
        const p = path.posix.normalize(join(context, f));
        if (own.canAdd(p)) own.add(p);
      }
    }
    writeFiles(dir, own.created);
    for (const rel of own.created) {
      if (/(^|\/)Dockerfile[^/]*$/.test(rel)) fs.writeFileSync(path.join(dir, rel), "FROM stapel2docker/base-busybox:latest\n");
    }
    const commit = await commitAll(dir, "main");

    const remotes: SynthRemote[] = [];
    const env: Record<string, string> = { ...SYNTH_GIT_ENV };
    let n = 0;
    for (const url of [...remoteSets.keys()].sort()) {
      const { set, refs } = remoteSets.get(url)!;
      const work = path.join(root, "remotes", `r${n}`);
      const bare = path.join(root, "remotes", `r${n}.git`);
      n++;
      fs.mkdirSync(work, { recursive: true });
      if (set.created.length === 0) set.add("README.md");
      writeFiles(work, set.created);
      const sortedRefs = [...refs].sort();
      const firstBranch = sortedRefs.find((r) => r.startsWith("branch:"))?.slice("branch:".length) ?? "main";
      const rcommit = await commitAll(work, firstBranch);
      for (const r of sortedRefs) {
        const [kind, name] = [r.slice(0, r.indexOf(":")), r.slice(r.indexOf(":") + 1)];
        if (kind === "branch" && name !== firstBranch) await git(work, ["branch", name]);
        if (kind === "tag") await git(work, ["tag", name]);
      }
      await git(root, ["clone", "-q", "--bare", work, bare]);
      fs.rmSync(work, { recursive: true, force: true });
      remotes.push({ url, bare, refs: sortedRefs, commit: rcommit, files: set.created });
    }
    if (remotes.length > 0) {
      env.GIT_CONFIG_COUNT = String(remotes.length);
      remotes.forEach((r, i) => {
        env[`GIT_CONFIG_KEY_${i}`] = `url.file://${r.bare}.insteadOf`;
        env[`GIT_CONFIG_VALUE_${i}`] = r.url;
      });
    }
    return { root, dir, gitCacheDir, env, commit, created: own.created, remotes, config, failure, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

export { FileSet };

async function lsTree(dir: string, rev: string): Promise<string[]> {
  const { stdout } = await execFileAsync("git", ["ls-tree", "-r", "--name-only", "-z", rev], { cwd: dir, env: { ...process.env, ...SYNTH_GIT_ENV }, encoding: "utf8" });
  return stdout.split("\0").filter(Boolean);
}

/** The files of the commit a mapping reads: the project's HEAD, or the remote's branch, tag or default branch. */
export async function mappingFiles(s: SynthRepo, m: GitMapping): Promise<string[]> {
  if (!m.url) return lsTree(s.dir, "HEAD");
  const remote = s.remotes.find((r) => r.url === m.url);
  if (!remote) throw new Error(`no synthesized remote for ${m.url}`);
  return lsTree(remote.bare, m.branch ?? (m.tag ? `refs/tags/${m.tag}` : "HEAD"));
}

/** What mapping `m` fails to match in `files` (checked with werf's matcher): [] when it matches files and
 *  each of its includePaths and stageDependencies masks matches one of them. */
export function unmetMasks(m: GitMapping, files: string[]): string[] {
  const whole = new PathMatcher({ basePath: m.add, includeGlobs: m.includePaths, excludeGlobs: m.excludePaths });
  const hit = files.filter((p) => whole.isPathMatched(p));
  if (hit.length === 0) return [`${m.add}: nothing matched`];
  const masks = [...m.includePaths, ...m.stageDependencies.install, ...m.stageDependencies.beforeSetup, ...m.stageDependencies.setup];
  return masks
    .filter((mask) => {
      const one = new PathMatcher({ basePath: m.add, includeGlobs: [mask] });
      return !hit.some((p) => one.isPathMatched(p));
    })
    .map((mask) => `${m.add}: mask ${mask} matched nothing`);
}

/** unmetMasks of every mapping of every image of the synthesized config, prefixed with the image and URL. */
export async function unmetMappings(s: SynthRepo): Promise<string[]> {
  const out: string[] = [];
  for (const image of s.config?.images ?? []) {
    for (const m of image.git) {
      for (const u of unmetMasks(m, await mappingFiles(s, m))) out.push(`image ${image.name || "~"} ${m.url ?? "git"} ${u}`);
    }
  }
  return out;
}
