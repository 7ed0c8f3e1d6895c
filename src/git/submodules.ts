// Submodules as werf treats them: a gitlink (mode 160000) that a mapping reaches is replaced by the files of the
// submodule at the recorded commit, recursively (werf's ls_tree walks into submodules; gitArchive,
// stageDependencies and patches see their files at paths inside the superproject).
//
// The submodule's objects are read from where `git submodule update --init` puts them: the superproject's
// `<git dir>/modules/<name>` (nested: `<that>/modules/<name>`), or the directory the checkout's `.git` file names
// when that lies inside `modules/` too (after a rename); nothing outside `modules/` is ever opened. The name comes
// from `.gitmodules` at the superproject commit (`submodule.<name>.path`), else the path itself; a name or path
// that git would refuse (`..` or `.git` components, absolute) is refused the same way.
// Nothing is fetched: a submodule that is not there (or lacks the recorded commit) is a UserError naming the path,
// with the hint `git submodule update --init --recursive`.

import { existsSync, lstatSync, readFileSync, realpathSync } from "node:fs";
import path from "node:path";
import { UserError, type SourcePos } from "../diagnostics.js";
import { GitRepo, runGit } from "./repo.js";
import { listTree, parseTreeRecord, type TreeEntry } from "./tree.js";

/** A tree entry with the repository that holds its object (the superproject's or a submodule's). */
export interface RepoTreeEntry extends TreeEntry {
  repo: GitRepo;
  /** The submodule path (superproject-relative) the entry comes from; undefined for the superproject's own. */
  submodule?: string;
}

export interface SubmoduleListOptions {
  /** As ListTreeOptions.scope: only this superproject-relative path and below; may lie inside a submodule. */
  scope?: string;
  /** Whether to walk into the submodule at this superproject-relative path (default: always). A submodule not
   *  walked into stays a "commit" entry, so one the mapping excludes needs no local objects. */
  descend?: (submodulePath: string) => boolean;
  /** The werf.yaml position to report a missing submodule at. */
  pos?: SourcePos;
}

/** The files of `commit` with every reached submodule expanded into its files (paths in the superproject). */
export async function listTreeWithSubmodules(
  repo: GitRepo,
  commit: string,
  opts: SubmoduleListOptions = {},
): Promise<RepoTreeEntry[]> {
  const out: RepoTreeEntry[] = [];
  await walk(repo, commit, opts.scope ?? "", "", undefined, opts, out);
  return out;
}

async function walk(
  repo: GitRepo,
  commit: string,
  scope: string,
  prefix: string,
  submodule: string | undefined,
  opts: SubmoduleListOptions,
  out: RepoTreeEntry[],
): Promise<void> {
  const entries = await listTree(repo, commit, scope ? { scope } : {});
  if (scope && entries.length === 0) {
    // the scope may lie inside a submodule: find the gitlink among its parents
    const link = await gitlinkAbove(repo, commit, scope);
    if (link && (opts.descend?.(prefix + link.path) ?? true)) {
      const sub = await openSubmodule(repo, commit, link.path, link.oid, prefix, opts.pos);
      await walk(sub, link.oid, scope.slice(link.path.length + 1), `${prefix}${link.path}/`, prefix + link.path, opts, out);
    }
    return;
  }
  for (const e of entries) {
    const full = prefix + e.path;
    if (e.type === "commit" && (opts.descend?.(full) ?? true)) {
      const sub = await openSubmodule(repo, commit, e.path, e.oid, prefix, opts.pos);
      await walk(sub, e.oid, "", `${full}/`, full, opts, out);
      continue;
    }
    out.push({ ...e, path: full, repo, ...(submodule !== undefined ? { submodule } : {}) });
  }
}

/** The gitlink entry that is a proper parent of `scope` at `commit`, if any. */
async function gitlinkAbove(repo: GitRepo, commit: string, scope: string): Promise<TreeEntry | undefined> {
  const parts = scope.split("/");
  const parents = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
  if (parents.length === 0) return undefined;
  const r = await runGit(repo.root, ["ls-tree", "-z", "--full-tree", commit, "--", ...parents]);
  if (r.code !== 0) return undefined;
  for (const rec of r.stdout.toString("utf8").split("\0")) {
    if (!rec) continue;
    const e = parseTreeRecord(rec);
    if (e.type === "commit" && parents.includes(e.path)) return e;
  }
  return undefined;
}

const gitDirCache = new Map<string, string[]>();

/** The git directories whose `modules/` may hold this repository's submodules (git dir, common dir). */
async function moduleBases(repo: GitRepo): Promise<string[]> {
  if (repo.gitDirOnly) return [repo.root];
  let dirs = gitDirCache.get(repo.root);
  if (!dirs) {
    const r = await runGit(repo.root, ["rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir"]);
    dirs = r.code === 0 ? [...new Set(r.stdout.toString("utf8").trim().split("\n"))] : [];
    gitDirCache.set(repo.root, dirs);
  }
  return dirs;
}

/** `submodule.<name>.path` → name, from `.gitmodules` at `commit`. */
async function submoduleNames(repo: GitRepo, commit: string): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const r = await runGit(repo.root, ["config", "--blob", `${commit}:.gitmodules`, "-z", "--get-regexp", "^submodule\\..*\\.path$"]);
  if (r.code !== 0) return names; // no .gitmodules: git's default name is the path
  for (const rec of r.stdout.toString("utf8").split("\0")) {
    const nl = rec.indexOf("\n");
    if (nl < 0) continue;
    const key = rec.slice(0, nl);
    names.set(rec.slice(nl + 1), key.slice("submodule.".length, -".path".length));
  }
  return names;
}

/**
 * Why git itself would refuse `value` as a submodule name or path, or undefined when it is fine: empty, absolute
 * (or a drive letter), a `..` or `.git` component (either separator, any case, as git's `check_submodule_name`
 * and `verify_path` do), or a control character. Such a name could make `.git/modules/<name>` point anywhere.
 */
export function unsafeSubmodulePath(value: string): string | undefined {
  if (value === "") return "it is empty";
  if (/^[/\\]/.test(value) || /^[A-Za-z]:/.test(value)) return "it is an absolute path";
  if (/[\u0000-\u001f\u007f]/.test(value)) return "it holds a control character";
  for (const part of value.split(/[/\\]/)) {
    if (part === "..") return "it has a `..` component";
    if (part.toLowerCase() === ".git") return "it has a `.git` component";
  }
  return undefined;
}

/** The directory a `.git` file ("gitdir: DIR") names, absolute; undefined for anything else (read, not run:
 *  no git is started inside a checkout to find out). */
function gitfileTarget(file: string): string | undefined {
  try {
    if (!lstatSync(file).isFile()) return undefined;
    const m = /^gitdir: (.+?)\r?\n?$/.exec(readFileSync(file, "utf8"));
    return m ? path.resolve(path.dirname(file), m[1]!) : undefined;
  } catch {
    return undefined;
  }
}

function refuseSubmodule(where: string, what: string, value: string, why: string, pos?: SourcePos): UserError {
  return new UserError({
    ...(pos ? { pos } : {}),
    message: `git submodule ${where}: its ${what} ${JSON.stringify(value)} is refused: ${why}`,
    hint: "git refuses such submodules too; fix .gitmodules (or exclude the submodule's path with excludePaths)",
  });
}

/** Opens the local repository of the submodule at `subPath` (relative to `repo`) that must hold `oid`. Only git
 *  directories inside the repository's own `<git dir>/modules/` are ever opened. */
export async function openSubmodule(
  repo: GitRepo,
  commit: string,
  subPath: string,
  oid: string,
  prefix = "",
  pos?: SourcePos,
): Promise<GitRepo> {
  const where = prefix + subPath;
  const badPath = unsafeSubmodulePath(subPath);
  if (badPath) throw refuseSubmodule(where, "path", subPath, badPath, pos);
  const name = (await submoduleNames(repo, commit)).get(subPath) ?? subPath;
  const badName = unsafeSubmodulePath(name);
  if (badName) throw refuseSubmodule(where, "name", name, badName, pos);
  const bases = await moduleBases(repo);
  // the real `modules/` directories: a git directory found any other way must lie below one of them
  const moduleRoots = bases.flatMap((b) => {
    try {
      return [realpathSync(path.join(b, "modules"))];
    } catch {
      return [];
    }
  });
  const insideModules = (dir: string): boolean => {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      return false;
    }
    return moduleRoots.some((r) => real.startsWith(r + path.sep));
  };
  const opens: (() => Promise<GitRepo | undefined>)[] = [];
  for (const base of bases) {
    const dir = path.join(base, "modules", ...name.split("/"));
    opens.push(async () => (existsSync(path.join(dir, "HEAD")) && insideModules(dir) ? GitRepo.openGitDir(dir) : undefined));
  }
  if (!repo.gitDirOnly) {
    // the checkout's `.git` file names its git directory (after a rename in .gitmodules it may not be at
    // modules/<name>); it is used only when that directory lies inside modules/ too
    const checkout = path.join(repo.root, ...subPath.split("/"));
    opens.push(async () => {
      const gitDir = gitfileTarget(path.join(checkout, ".git"));
      if (!gitDir || !existsSync(path.join(gitDir, "HEAD")) || !insideModules(gitDir)) return undefined;
      return GitRepo.openGitDir(gitDir);
    });
  }
  let sawRepo = false;
  for (const tryOpen of opens) {
    const sub = await tryOpen().catch(() => undefined);
    if (!sub) continue;
    sawRepo = true;
    if (await sub.hasCommit(oid)) return sub;
  }
  throw new UserError({
    ...(pos ? { pos } : {}),
    message: sawRepo
      ? `git submodule ${where}: its commit ${oid} is not in the local submodule repository`
      : `git submodule ${where} (commit ${oid}) is not available locally`,
    hint: repo.gitDirOnly
      ? "submodules of remote git mappings are not supported yet: exclude the submodule's path with excludePaths"
      : "the mapping includes the submodule's files, as werf does: run `git submodule update --init --recursive`" +
        " (or exclude the submodule's path with excludePaths)",
  });
}
