// A local git repository, read through the `git` command line (no library): commits, times, ancestry.
// Everything is read from commits, never from the worktree (werf's giterminism).

import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { UserError } from "../diagnostics.js";

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** git's environment, read at each spawn so that settings made at run time (e.g. `GIT_CONFIG_COUNT/KEY/VALUE`
 *  redirects, see docs/remote-git.md) reach every git we start. */
function gitEnv(extra?: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", GIT_OPTIONAL_LOCKS: "0", ...extra };
}

/**
 * Git directories opened with `GitRepo.openGitDir` that are not bare (a submodule's `.git/modules/<name>` has
 * `core.worktree` pointing at a checkout that may not exist): git runs there with GIT_DIR and GIT_WORK_TREE set
 * to the directory itself, so it never needs the checkout. Keyed by the directory (the repo's `root`).
 */
const nonBareGitDirs = new Set<string>();

/** The error for a `git` binary that cannot be started. */
export function gitMissingError(cause: unknown): UserError {
  return new UserError({
    message: `cannot run git: ${cause instanceof Error ? cause.message : String(cause)}`,
    hint: "install git and make sure it is on PATH",
  });
}

/** Starts `git <args>` in `cwd`; "spawn git ENOENT" becomes a UserError on the child's "error" event. */
export function spawnGit(cwd: string, args: readonly string[], extraEnv?: Record<string, string>): ChildProcess {
  const env = nonBareGitDirs.has(cwd) ? gitEnv({ ...extraEnv, GIT_DIR: cwd, GIT_WORK_TREE: cwd }) : gitEnv(extraEnv);
  return spawn("git", ["-c", "core.quotePath=false", ...args], { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
}

/** Runs git to completion, collecting its output. Rejects only when git cannot be started. */
export function runGit(cwd: string, args: readonly string[], input?: string, extraEnv?: Record<string, string>): Promise<GitResult> {
  return collect(spawnGit(cwd, args, extraEnv), input);
}

/** Runs git in `cwd` with extra environment variables (e.g. GIT_ASKPASS for a clone). */
export function runGitIn(cwd: string, args: readonly string[], env: Record<string, string>, input?: string): Promise<GitResult> {
  const child = spawn("git", ["-c", "core.quotePath=false", ...args], { cwd, env: gitEnv(env), stdio: ["pipe", "pipe", "pipe"] });
  return collect(child, input);
}

function collect(child: ChildProcess, input?: string): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on("data", (b: Buffer) => out.push(b));
    child.stderr!.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => reject(gitMissingError(e)));
    child.on("close", (code) =>
      resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString("utf8").trim() }),
    );
    child.stdin!.on("error", () => {}); // git may exit before reading its input
    child.stdin!.end(input ?? "");
  });
}

export class GitRepo {
  /** The worktree top level (absolute); for a repository opened with `openGitDir`, the git directory. */
  readonly root: string;
  /** True when opened with `openGitDir` (no worktree: a bare repository or a submodule's git directory). */
  readonly gitDirOnly: boolean;

  private constructor(root: string, gitDirOnly = false) {
    this.root = root;
    this.gitDirOnly = gitDirOnly;
  }

  /**
   * Opens a git directory itself (a bare repository such as the remote-mapping cache, or `.git/modules/<name>`
   * of a submodule), without a worktree. Only reading commands make sense on it. UserError when `dir` is not one.
   */
  static async openGitDir(dir: string): Promise<GitRepo> {
    const abs = path.resolve(dir);
    // GIT_WORK_TREE as well: a submodule's git dir names a worktree (core.worktree) that may be gone
    const r = await runGitIn(abs, ["rev-parse", "--absolute-git-dir"], { GIT_DIR: abs, GIT_WORK_TREE: abs });
    const gitDir = r.stdout.toString("utf8").trim();
    if (r.code !== 0 || !gitDir) {
      throw new UserError({
        message: `${dir} is not a git directory${r.stderr ? ` (git: ${firstLine(r.stderr)})` : ""}`,
        hint: "give the path of a bare repository or of a .git directory",
      });
    }
    const bare = await runGitIn(abs, ["config", "--file", path.join(gitDir, "config"), "--bool", "core.bare"], {});
    if (bare.stdout.toString("utf8").trim() !== "true") nonBareGitDirs.add(gitDir);
    return new GitRepo(gitDir, true);
  }

  /** Opens the repository that contains `dir`. UserError when `dir` is not inside a git worktree. */
  static async open(dir: string): Promise<GitRepo> {
    const r = await runGit(dir, ["rev-parse", "--show-toplevel"]);
    if (r.code !== 0) {
      throw new UserError({
        message: `${dir} is not inside a git repository${r.stderr ? ` (git: ${firstLine(r.stderr)})` : ""}`,
        hint: "stapel2docker reads git mappings from commits: run it in a git worktree (git init && git commit)",
      });
    }
    return new GitRepo(r.stdout.toString("utf8").trim());
  }

  /** The repository whose worktree top level is `root`, as `git rev-parse --show-toplevel` printed it (no check). */
  static fromTopLevel(root: string): GitRepo {
    return new GitRepo(root);
  }

  /** Runs git in the repository; rejects with a UserError carrying git's message on a non-zero exit. */
  async git(args: readonly string[], what: string): Promise<Buffer> {
    const r = await runGit(this.root, args);
    if (r.code !== 0) {
      throw new UserError({ message: `${what} failed: git ${args.join(" ")}: ${firstLine(r.stderr) || `exit code ${r.code}`}` });
    }
    return r.stdout;
  }

  /** The full commit id of `rev` (default HEAD). UserError for no commits or an unknown revision. */
  async resolveCommit(rev = "HEAD"): Promise<string> {
    const r = await runGit(this.root, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`]);
    if (r.code === 0) return r.stdout.toString("utf8").trim();
    if (rev === "HEAD") {
      throw new UserError({
        message: `the git repository ${this.root} has no commits yet`,
        hint: "commit your files first: git mappings are read from the HEAD commit",
      });
    }
    throw new UserError({
      message: `unknown git commit ${JSON.stringify(rev)} in ${this.root}`,
      hint: "give a commit id, branch or tag that exists in this repository (git log --oneline)",
    });
  }

  private readonly commitTimes = new Map<string, Promise<number>>();

  /** Committer time of `commit` in Unix seconds (asked once per commit: the render and the planner both want it).
   *  `git log -1`, not `git show -s`: show computes the commit's diff even when it prints none (~0.3 s of CPU for a
   *  root commit of 100k files). */
  commitTime(commit: string): Promise<number> {
    let p = this.commitTimes.get(commit);
    if (!p) {
      p = this.git(["log", "-1", "--no-walk", "--format=%ct", commit, "--"], "reading the commit time").then((out) => Number.parseInt(out.toString("utf8").trim(), 10));
      this.commitTimes.set(commit, p);
      p.catch(() => this.commitTimes.delete(commit));
    }
    return p;
  }

  /** Whether `ancestor` is an ancestor of (or equal to) `descendant`. Unknown commits → false. */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    const r = await runGit(this.root, ["merge-base", "--is-ancestor", ancestor, descendant]);
    if (r.code === 0) return true;
    if (r.code === 1) return false;
    // 128: a commit is unknown (e.g. a stage recorded a commit this clone does not have)
    return false;
  }

  /** Whether `commit` exists in this repository as a commit. */
  async hasCommit(commit: string): Promise<boolean> {
    const r = await runGit(this.root, ["cat-file", "-e", `${commit}^{commit}`]);
    return r.code === 0;
  }
}

function firstLine(s: string): string {
  return s.split("\n")[0].replace(/^fatal: /, "");
}
