// Which commit a project is read from: HEAD, as werf's giterminism does, or with `--dev` a commit made from the
// work tree as it is (tracked and untracked files, .gitignore respected), as werf's dev mode commits the work
// tree to its `_werf-dev` branch. The dev commit is an ordinary commit object whose parent is HEAD; it is made
// with a private index file and no ref, so the user's index, branches and stash are never touched, and its id
// depends only on the work tree's content and HEAD (fixed author and dates), so two `--dev` runs over the
// same files share it.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { UserError } from "../diagnostics.js";
import { GitRepo, runGit, runGitIn, type GitResult } from "../git/repo.js";
import { parseRawDiff, type ParentChanges, type TreeChange } from "../cache/listing.js";

export interface ProjectCommit {
  repo: GitRepo;
  /** The commit the project is read from (HEAD, or the dev commit). */
  commit: string;
  /** HEAD itself (the dev commit's parent). */
  head: string;
  /** The project directory relative to the repository's top level, "/"-separated ("" = the top level). */
  subdir: string;
  /** True for a commit made from the work tree (`--dev`). */
  dev: boolean;
  /** The commit's root tree id, when already known (read with the commit id, saving a git process). */
  tree?: string;
  /** The commit's committer time (Unix seconds), when already known. */
  time?: number;
  /** The work tree's changes (`worktreeChanges`), started with the commit when asked for (`changes: true`). */
  changes?: Promise<string[]>;
  /** The commit's changes from its first parent, when read with it (the persistent cache derives the new tree's
   *  listing and results from the parent's with them: src/cache/listing.ts). */
  parentChanges?: ParentChanges;
}

/**
 * The project's commit, or undefined when the project is not in a git repository, or the repository has no
 * commit yet and `dev` is off (the work tree is then all there is: render and validate still work).
 */
export async function projectCommit(dir: string, opts: { dev?: boolean; changes?: boolean } = {}): Promise<ProjectCommit | undefined> {
  if (!opts.dev) {
    // HEAD's commit, tree and time and the work tree's status, read by git processes started at once
    const status = opts.changes ? statusIn(dir, ".") : undefined;
    status?.catch(() => {});
    const fast = await headAtOnce(dir);
    if (fast) {
      if (status) {
        fast.changes = status.then((r) => changedPaths(r, fast.subdir));
        fast.changes.catch(() => {}); // waited for where the changes are used
      }
      return fast;
    }
  }
  const pc = await projectCommitSlow(dir, opts);
  if (pc && opts.changes && !pc.dev) pc.changes = worktreeChanges(pc);
  return pc;
}

/**
 * HEAD of the repository holding `dir`, read with two git processes run at the same time: `rev-parse` (top level,
 * commit, tree) and `log -1` (commit and tree ids, committer time, parents, and the changes from the first parent; its
 * answers are used only when its ids are the same commit and tree). The changes cost git what the commit changed (a
 * root commit's are not asked for: log.showRoot off); they are decoded only when the cache takes them.
 * Undefined when that does not give a whole answer (no repository, no commit yet, an unexpected output): the caller
 * then takes the step-by-step way, with its messages.
 */
async function headAtOnce(dir: string): Promise<ProjectCommit | undefined> {
  const [ids, shown] = await Promise.all([
    runGit(dir, ["rev-parse", "--show-toplevel", "HEAD^{commit}", "HEAD^{tree}", "--"]),
    // with the commit's changes from its first parent, as diff-tree gives them (cheap: only the changed subtrees are
    // read; `log` reads no index, unlike diff-tree). `log` is porcelain: it takes the user's diff settings, so every
    // one that changes which paths are listed, or how, is overridden here (diff.relative would give paths relative to
    // the project's folder and drop the others, diff.ignoreSubmodules would drop gitlinks, diff.renames would pair
    // paths): a listing derived from such changes would be stored under the new tree's id
    runGit(dir, ["-c", "log.showRoot=false", "log", "-1", "--no-walk", "--format=%H %T %ct %P", "--raw", "-r", "-z", "--no-renames", "--no-relative", "--ignore-submodules=none", "--no-ext-diff", "--no-textconv", "--no-abbrev", "--diff-merges=first-parent", "HEAD", "--"]),
  ]);
  if (ids.code !== 0) return undefined;
  const lines = ids.stdout.toString("utf8").split("\n");
  const [root, commit, tree] = lines;
  const oid = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
  if (!root || !path.isAbsolute(root) || !oid.test(commit ?? "") || !oid.test(tree ?? "") || commit.length !== tree.length) return undefined;
  const repo = GitRepo.fromTopLevel(root);
  const subdir = path.relative(fs.realpathSync(root), fs.realpathSync(dir)).split(path.sep).join("/");
  // "<commit> <tree> <time> <parents>" NUL, then (after a line feed) the raw changes
  const out = shown.code === 0 ? shown.stdout : Buffer.alloc(0);
  const nul = out.indexOf(0);
  const m = nul > 0 ? /^([0-9a-f]+) ([0-9a-f]+) (\d+) ?([0-9a-f ]*)$/.exec(out.toString("latin1", 0, nul)) : null;
  const same = m !== null && m[1] === commit && m[2] === tree;
  const time = same ? Number.parseInt(m[3], 10) : await repo.commitTime(commit);
  const parent = same ? m[4].split(" ")[0] : "";
  const rest = nul > 0 ? out.subarray(out[nul + 1] === 10 ? nul + 2 : nul + 1) : undefined;
  // decoded only if the cache takes them (its last tree is the parent's); whole object ids only (the cache compares
  // them with listings')
  let changes: TreeChange[] | undefined | null = null;
  const whole = (e?: { oid: string }) => !e || e.oid.length === tree.length;
  const parentChanges: ParentChanges | undefined =
    parent && rest
      ? {
          commit: parent,
          tree,
          changes: () => {
            if (changes === null) {
              // a path that is not UTF-8 makes parseRawDiff throw: the cache then lists the tree (never derives it)
              let parsed: TreeChange[] | undefined;
              try {
                parsed = parseRawDiff(rest);
              } catch {
                parsed = undefined;
              }
              changes = parsed?.every((c) => whole(c.before) && whole(c.after)) ? parsed : undefined;
            }
            return changes;
          },
        }
      : undefined;
  return { repo, commit, head: commit, subdir, dev: false, tree, time, ...(parentChanges ? { parentChanges } : {}) };
}

async function projectCommitSlow(dir: string, opts: { dev?: boolean }): Promise<ProjectCommit | undefined> {
  let repo: GitRepo;
  try {
    repo = await GitRepo.open(dir);
  } catch (e) {
    if (e instanceof UserError && /is not inside a git repository/.test(e.message)) return undefined;
    throw e;
  }
  const subdir = path.relative(fs.realpathSync(repo.root), fs.realpathSync(dir)).split(path.sep).join("/");
  const hasHead = (await runGitIn(repo.root, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], {})).code === 0;
  if (!hasHead && !opts.dev) return undefined;
  const head = hasHead ? await repo.resolveCommit("HEAD") : "";
  if (!opts.dev) return { repo, commit: head, head, subdir, dev: false };
  return { repo, commit: await devCommit(repo, head), head, subdir, dev: true };
}

async function git(repo: GitRepo, args: string[], env: Record<string, string>, what: string): Promise<string> {
  const r = await runGitIn(repo.root, args, env);
  if (r.code !== 0) throw new UserError({ message: `${what} failed: git ${args.join(" ")}: ${r.stderr.split("\n")[0] || `exit code ${r.code}`}` });
  return r.stdout.toString("utf8").trim();
}

/** A commit of the work tree (every file git would add with `git add -A`), child of `head` ("" = none). */
async function devCommit(repo: GitRepo, head: string): Promise<string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stapel2docker-dev-index-"));
  try {
    const index = path.join(tmp, "index");
    // start from the user's index so that git's stat cache spares rehashing unchanged files
    const own = await git(repo, ["rev-parse", "--path-format=absolute", "--git-path", "index"], {}, "finding the git index");
    if (fs.existsSync(own)) fs.copyFileSync(own, index);
    const env = { GIT_INDEX_FILE: index };
    if (head) await git(repo, ["read-tree", head], env, "reading HEAD into a private index");
    await git(repo, ["add", "-A", "--", "."], env, "adding the work tree to a private index");
    const tree = await git(repo, ["write-tree"], env, "writing the work tree");
    const date = head ? String(await repo.commitTime(head)) : "0";
    const who = {
      GIT_AUTHOR_NAME: "stapel2docker",
      GIT_AUTHOR_EMAIL: "dev@stapel2docker",
      GIT_COMMITTER_NAME: "stapel2docker",
      GIT_COMMITTER_EMAIL: "dev@stapel2docker",
      GIT_AUTHOR_DATE: `${date} +0000`,
      GIT_COMMITTER_DATE: `${date} +0000`,
    };
    const parent = head ? ["-p", head] : [];
    return await git(repo, ["commit-tree", tree, ...parent, "-m", `stapel2docker --dev: the work tree${head ? ` over ${head}` : ""}`], who, "committing the work tree");
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Paths of the project (relative to it) whose work-tree state differs from HEAD: modified, deleted, added or
 * untracked files (ignored files are not reported: `--dev` does not include them either).
 */
export async function worktreeChanges(pc: ProjectCommit): Promise<string[]> {
  if (pc.changes) return pc.changes;
  return changedPaths(await statusIn(pc.repo.root, pc.subdir === "" ? "." : pc.subdir), pc.subdir);
}

/** `git status` of the paths below `pathspec` (run in `cwd`); its paths are relative to the repository's top level. */
function statusIn(cwd: string, pathspec: string): Promise<GitResult> {
  return runGit(cwd, ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--", pathspec]);
}

/** The project-relative paths of a `statusIn` result (none when git failed). */
function changedPaths(r: GitResult, subdir: string): string[] {
  if (r.code !== 0) return [];
  const prefix = subdir === "" ? "" : `${subdir}/`;
  const out: string[] = [];
  for (const rec of r.stdout.toString("utf8").split("\0")) {
    if (rec.length < 4) continue;
    const p = rec.slice(3);
    if (p.startsWith(prefix)) out.push(p.slice(prefix.length));
  }
  return out.sort();
}
