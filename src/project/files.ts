// Reads of project files (werf.yaml, .werf/**/*.tmpl, .Files.*) confined to the project directory.
//
// The project and everything in it come from whoever can push a branch, while the process reading it may hold CI
// secrets. So every read resolves symlinks first and refuses a target outside the project directory (a committed
// link `leak -> /proc/self/environ` must not turn into the environment). werf does the same (its giterminism file
// reader resolves every link component by component and fails with "not found in the project directory" for a link
// leading outside the work tree); here the boundary is the project directory itself.
//
// Paths are project-relative with "/" separators. A leading "/" is project-relative too, as in werf, whose reader
// joins the path with the project directory: "/build/versions.yml" is "<project>/build/versions.yml". A path whose
// `..` parts climb above the project is refused before anything is read.

import * as fs from "node:fs";
import * as path from "node:path";

/** Why a project path could not be used. */
export type ProjectPathProblem = "outside" | "link-outside" | "missing" | "loop" | "git-dir";

export class ProjectPathError extends Error {
  constructor(
    readonly rel: string,
    readonly problem: ProjectPathProblem,
    detail?: string,
  ) {
    super(detail ?? describeProblem(rel, problem));
    this.name = "ProjectPathError";
  }
}

export function describeProblem(rel: string, problem: ProjectPathProblem): string {
  switch (problem) {
    case "outside":
      return `${JSON.stringify(rel)} is outside the project directory`;
    case "link-outside":
      return `${JSON.stringify(rel)} is a symbolic link (or lies below one) that leads outside the project directory`;
    case "missing":
      return `${JSON.stringify(rel)} does not exist in the project directory`;
    case "loop":
      return `${JSON.stringify(rel)}: too many levels of symbolic links`;
    case "git-dir":
      return `${JSON.stringify(rel)} lies in a git directory (.git), which holds no project file (a CI clone keeps its credentials there)`;
  }
}

/**
 * `rel` (leading slashes allowed) as a clean project-relative path ("" for the project itself), or undefined when
 * its `..` parts leave the project.
 */
export function cleanProjectPath(rel: string): string | undefined {
  const trimmed = rel.replace(/\\/g, "/").replace(/^\/+/, "");
  const clean = path.posix.normalize(trimmed === "" ? "." : trimmed).replace(/\/+$/, "");
  if (clean === ".") return "";
  if (clean === ".." || clean.startsWith("../")) return undefined;
  return clean;
}

/** True when a path (either separator) has a `.git` component, in any case: git never tracks one (verify_path), and
 *  the git directory of a work tree holds the clone's credentials (`.git/config`), its hooks and every branch. */
export function hasGitComponent(p: string): boolean {
  return p.split(/[\\/]/).some((c) => c.toLowerCase() === ".git");
}

/** True when `abs` is `root` or lies below it (both absolute, resolved). */
export function isWithin(root: string, abs: string): boolean {
  if (abs === root) return true;
  const back = path.relative(root, abs);
  return back !== "" && back !== ".." && !back.startsWith(".." + path.sep) && !path.isAbsolute(back);
}

export interface ResolvedProjectPath {
  /** The clean project-relative path as given (links not resolved). */
  rel: string;
  /** The real absolute path (every link resolved), inside the project. */
  real: string;
  stat: fs.Stats;
}

/** The files of one project directory, read only inside it. */
export class ProjectFiles {
  /** The project directory with its own links resolved (the boundary every target is checked against). */
  readonly root: string;

  constructor(readonly dir: string) {
    this.root = fs.realpathSync(path.resolve(dir));
  }

  /**
   * Resolves `rel` with every symlink followed. Throws ProjectPathError: "outside" for `..` leaving the project,
   * "link-outside" for a link leading out of it, "missing" when nothing is there (a dangling link included),
   * "git-dir" for a path in a `.git` folder (written so, or reached through a link).
   */
  resolve(rel: string): ResolvedProjectPath {
    const clean = cleanProjectPath(rel);
    if (clean === undefined) throw new ProjectPathError(rel, "outside");
    // the work tree's git directory is no project file, whatever leads there (a name, a link)
    if (hasGitComponent(clean)) throw new ProjectPathError(rel, "git-dir");
    const lexical = path.join(this.root, ...(clean === "" ? [] : clean.split("/")));
    let real: string;
    try {
      real = fs.realpathSync(lexical);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ELOOP") throw new ProjectPathError(rel, "loop");
      if (code === "ENOENT" || code === "ENOTDIR") throw new ProjectPathError(rel, "missing");
      throw e;
    }
    if (!isWithin(this.root, real)) throw new ProjectPathError(rel, "link-outside");
    if (hasGitComponent(path.relative(this.root, real))) throw new ProjectPathError(rel, "git-dir");
    return { rel: clean, real, stat: fs.statSync(real) };
  }

  /** Like resolve, but undefined instead of "missing" and "link-outside" (werf's Exists/IsDir answer false for a
   *  link leading outside: nothing about the host is revealed either way). `..` leaving the project still throws. */
  tryResolve(rel: string): ResolvedProjectPath | undefined {
    try {
      return this.resolve(rel);
    } catch (e) {
      if (e instanceof ProjectPathError && e.problem !== "outside") return undefined;
      throw e;
    }
  }

  /**
   * True when the absolute path `abs` lies inside the project once every existing link on it is resolved (a path
   * that does not exist yet counts by its nearest existing parent).
   */
  contains(abs: string): boolean {
    const lexical = path.resolve(abs);
    const dirAbs = path.resolve(this.dir);
    if (!isWithin(dirAbs, lexical) && !isWithin(this.root, lexical)) return false;
    let probe = lexical;
    const rest: string[] = [];
    for (;;) {
      try {
        const real = fs.realpathSync(probe);
        return isWithin(this.root, path.join(real, ...rest.reverse()));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "ENOENT" && code !== "ENOTDIR") return false;
        // a dangling link is not a missing path: where it would lead is unknown, so it is not inside
        try {
          if (fs.lstatSync(probe).isSymbolicLink()) return false;
        } catch {
          // absent: look at the parent
        }
        const parent = path.dirname(probe);
        if (parent === probe) return false;
        rest.push(path.basename(probe));
        probe = parent;
      }
    }
  }

  /**
   * True when the host path `abs` (links resolved as far as they exist) lies in a `.git` folder below the project,
   * or holds the git directory of the repository around the project (a `mount: fromPath: .` would hand the build
   * `.git/config`, where a CI clone keeps its token). Only meaningful for a path `contains` accepts.
   */
  reachesGitDir(abs: string): boolean {
    const real = realAsFarAsExists(path.resolve(abs));
    if (isWithin(this.root, real) && hasGitComponent(path.relative(this.root, real))) return true;
    for (let dir = this.root; ; dir = path.dirname(dir)) {
      const dotGit = path.join(dir, ".git");
      let gitDir: string | undefined;
      try {
        const st = fs.lstatSync(dotGit);
        if (st.isDirectory()) gitDir = dotGit;
        else if (st.isFile()) {
          const m = /^gitdir: (.+)$/m.exec(fs.readFileSync(dotGit, "utf8"));
          if (m) gitDir = path.resolve(dir, m[1]!.trim());
        } else gitDir = dotGit;
      } catch {
        // no .git here: look further up
      }
      if (gitDir !== undefined) return isWithin(real, realAsFarAsExists(gitDir)) || isWithin(real, dotGit);
      if (path.dirname(dir) === dir) return false;
    }
  }

  /** The content of the regular file at `rel` (links inside the project followed). */
  readFile(rel: string): Buffer {
    const r = this.resolve(rel);
    if (!r.stat.isFile()) {
      throw new ProjectPathError(rel, "missing", `${JSON.stringify(rel)} is ${r.stat.isDirectory() ? "a directory" : "not a regular file"}, not a file`);
    }
    return fs.readFileSync(r.real);
  }

  /**
   * Every regular file below directory `relDir` ("" = the project), as project-relative paths through the links
   * as written (not their targets), sorted; `.git` is skipped. Links are followed inside the project; a link that
   * leads outside is skipped unless `wanted(path, isDir)` says it matters, then it is a ProjectPathError
   * (werf fails such a glob too). `descend(dir)` prunes directories (default: every one).
   */
  listFiles(
    relDir: string,
    opts: { descend?: (rel: string) => boolean; wanted?: (rel: string) => boolean } = {},
  ): string[] {
    const out: string[] = [];
    const start = this.tryResolve(relDir);
    if (!start || !start.stat.isDirectory()) return out;
    const walk = (real: string, rel: string, seen: Set<string>) => {
      for (const e of fs.readdirSync(real, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        if (e.name === ".git") continue;
        const p = rel ? `${rel}/${e.name}` : e.name;
        let childReal = path.join(real, e.name);
        let isDir = e.isDirectory();
        let isFile = e.isFile();
        if (e.isSymbolicLink()) {
          let target: string;
          try {
            target = fs.realpathSync(childReal);
          } catch {
            continue; // dangling or looping: there is nothing to read
          }
          const st = fs.statSync(target);
          if (!isWithin(this.root, target)) {
            if (opts.wanted?.(p) ?? true) throw new ProjectPathError(p, "link-outside");
            continue;
          }
          childReal = target;
          isDir = st.isDirectory();
          isFile = st.isFile();
        }
        if (isDir) {
          if (seen.has(childReal) || !(opts.descend?.(p) ?? true)) continue;
          walk(childReal, p, new Set(seen).add(childReal));
        } else if (isFile) out.push(p);
      }
    };
    walk(start.real, start.rel, new Set([start.real]));
    return out.sort();
  }
}

/** `abs` with the links of its longest existing prefix resolved (the rest appended as written). */
function realAsFarAsExists(abs: string): string {
  const rest: string[] = [];
  for (let probe = abs; ; probe = path.dirname(probe)) {
    try {
      return path.join(fs.realpathSync(probe), ...rest.reverse());
    } catch {
      if (path.dirname(probe) === probe) return abs;
      rest.push(path.basename(probe));
    }
  }
}
