// Remote git mappings (`git: - url: ...`): a bare clone per URL in a cache directory, fetched as needed,
// read exactly like the project's own repository (GitRepo.openGitDir).
//
// Cache: `<cacheDir>/<sha256(url)[0:32]>.git`, default cacheDir `$XDG_CACHE_HOME/stapel2docker/git`, else
// `~/.cache/stapel2docker/git`. The repository is created with `git init --bare` in a temp dir and renamed into
// place (two processes never see a half-made cache); fetches into it run under a lock file (`<repo>.lock`,
// `fs.open(..., "wx")`, a lock whose process is gone is taken over).
//
// What is fetched (only the one ref needed, `--no-tags`):
//   commit: nothing when the commit is already present (offline works); else all branches and tags.
//   tag:    nothing when refs/tags/<tag> is present (offline works; tags are not expected to move); else the tag.
//   branch: always (branches move): refs/heads/<branch>.
//   none:   always: the remote's HEAD, i.e. its default branch. werf's docs and validation call this "the master
//           branch", but werf's code (GitMapping.GetLatestCommit → HeadCommitHash of its clone) takes the clone's
//           HEAD, which is the remote's default branch; we do the same.
// Credentials (`basicAuth`) travel as an `http.extraHeader` through GIT_CONFIG_COUNT/KEY/VALUE in the environment
// of the fetch only: never on a command line, never in the cache's config. The same variables set by the user
// (e.g. `url.<base>.insteadOf` redirects to a mirror, docs/remote-git.md) are kept and extended.

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, existsSync } from "node:fs";
import { open, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { UserError, redactUrl, type SourcePos } from "../diagnostics.js";
import type { GitMapping } from "../config/model.js";
import { GitRepo, runGitIn, type GitResult } from "./repo.js";

export interface RemoteSpec {
  url: string;
  branch?: string;
  tag?: string;
  commit?: string;
  basicAuth?: GitMapping["basicAuth"];
  pos: SourcePos;
}

export interface RemoteOptions {
  /** Where bare clones are kept; default `defaultGitCacheDir()`. Relative paths are relative to projectDir. */
  cacheDir?: string;
  /** The project directory: base of a relative cacheDir and of `basicAuth.password.src`. Default: cwd. */
  projectDir?: string;
}

/** `$XDG_CACHE_HOME/stapel2docker/git`, else `~/.cache/stapel2docker/git`. */
export function defaultGitCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), ".cache");
  return path.join(base, "stapel2docker", "git");
}

/**
 * The cache directory of `url` inside `cacheDir`, fetched with `auth` (the basicAuth header's value, if any). The
 * cache is the user's, shared by every project built here: keyed by the URL as written (credentials included) and
 * the credentials sent, so a config that names a private repository without its credentials never reads what another
 * project fetched with them (a commit or tag already fetched is not fetched again). Only a hash of them is in the name.
 */
export function remoteCachePath(cacheDir: string, url: string, auth = ""): string {
  const key = auth === "" ? url : `${url}\0${auth}`;
  return path.join(cacheDir, `${createHash("sha256").update(key).digest("hex").slice(0, 32)}.git`);
}

/**
 * werf's name of a remote repository (`getRepositoryID` in werf's pkg/config/raw_git.go): the last two path
 * parts without `.git`: `https://github.com/werf/werf.git` and `git@github.com:werf/werf` → `werf/werf`,
 * `file:///srv/git/name.git/` → `git/name`; a URL it cannot split (`../name`) is returned as is.
 */
export function remoteRepoName(url: string): string {
  // credentials in the URL (`https://gitlab-ci-token:TOKEN@host/...`) are not part of the name: it reaches the
  // Dockerfile (an archive's file name, hence the image's history), the plan and the digest (a rotated token would
  // rebuild every stage)
  const u = redactUrl(url);
  // werf: (?U).*?[:/](.*/[^/ ]+)(\.git)?/?$ — (?U) swaps greediness, hence the lazy/greedy pattern below.
  const m = /^.*[:/](.*?\/[^/ ]+?)(\.git)??\/??$/.exec(u);
  return m ? m[1] : u;
}

export { redactUrl };

/** werf's name of a remote repository (reference §2.3); same as remoteRepoName. */
export const getRepositoryID = remoteRepoName;

/** Opens (cloning or fetching as needed) the remote repository of a mapping and resolves its commit. */
export async function openRemote(
  spec: RemoteSpec,
  opts: RemoteOptions = {},
): Promise<{ repo: GitRepo; commit: string; repoName: string }> {
  const projectDir = path.resolve(opts.projectDir ?? process.cwd());
  const cacheDir = path.resolve(projectDir, opts.cacheDir ?? defaultGitCacheDir());
  const refs = [spec.branch, spec.tag, spec.commit].filter((r) => r !== undefined && r !== "");
  if (refs.length > 1) {
    throw new UserError({
      pos: spec.pos,
      message: "specify only `branch: BRANCH`, `tag: TAG` or `commit: COMMIT` for remote git!",
    });
  }
  const env = authEnv(spec, projectDir);
  const repoDir = await ensureBareRepo(cacheDir, spec, Object.entries(env).find(([k]) => k.startsWith("GIT_CONFIG_VALUE_"))?.[1] ?? "");
  const repo = await GitRepo.openGitDir(repoDir);
  const release = await lock(`${repoDir}.lock`, spec);
  let commit: string;
  try {
    commit = await resolve(repo, spec, env);
  } finally {
    await release();
  }
  return { repo, commit, repoName: remoteRepoName(spec.url) };
}

// ---------------------------------------------------------------------------------------------------------

const NO_FETCH_HINT =
  "check the URL, your network and credentials (basicAuth); to build offline or from a mirror, redirect the URL " +
  "with git's url.<base>.insteadOf (docs/remote-git.md)";

function remoteError(spec: RemoteSpec, message: string, hint = NO_FETCH_HINT): UserError {
  return new UserError({ pos: spec.pos, message: `git ${redactUrl(spec.url)}: ${message}`, hint });
}

function gitMessage(r: GitResult): string {
  const lines = r.stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !/^(hint|warning):/.test(l));
  const fatal = lines.find((l) => /^(fatal|error):/.test(l)) ?? lines[0];
  return (fatal ?? `exit code ${r.code}`).replace(/^(fatal|error): /, "");
}

/** Environment for fetches: the user's GIT_CONFIG_* entries plus the basicAuth header, if any. */
function authEnv(spec: RemoteSpec, projectDir: string): Record<string, string> {
  const auth = spec.basicAuth;
  if (!auth) return {};
  const username = auth.username ?? "";
  let password: string | undefined;
  const pw = auth.password;
  if (pw?.env !== undefined) {
    password = process.env[pw.env];
    if (password === undefined) {
      throw new UserError({
        pos: spec.pos,
        message: `basicAuth.password.env: the environment variable ${pw.env} is not set (git ${redactUrl(spec.url)})`,
        hint: `export ${pw.env}=... before running stapel2docker`,
      });
    }
  } else if (pw?.src !== undefined) {
    const file = path.resolve(projectDir, pw.src);
    try {
      password = readFileSync(file, "utf8").replace(/\r?\n$/, "");
    } catch (e) {
      throw new UserError({
        pos: spec.pos,
        message: `basicAuth.password.src: cannot read ${pw.src}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
        hint: "the path is relative to the project directory; the file holds the password",
      });
    }
  } else if (pw?.value !== undefined) {
    password = pw.value;
  }
  const token = Buffer.from(`${username}:${password ?? ""}`, "utf8").toString("base64");
  const n = Number.parseInt(process.env.GIT_CONFIG_COUNT ?? "0", 10) || 0;
  return {
    GIT_CONFIG_COUNT: String(n + 1),
    [`GIT_CONFIG_KEY_${n}`]: "http.extraHeader",
    [`GIT_CONFIG_VALUE_${n}`]: `Authorization: Basic ${token}`,
  };
}

/** The bare repository of `spec.url` in `cacheDir`, created atomically when missing. */
async function ensureBareRepo(cacheDir: string, spec: RemoteSpec, auth: string): Promise<string> {
  const repoDir = remoteCachePath(cacheDir, spec.url, auth);
  if (existsSync(path.join(repoDir, "HEAD"))) return repoDir;
  try {
    mkdirSync(cacheDir, { recursive: true });
  } catch (e) {
    throw remoteError(spec, `cannot create the git cache directory ${cacheDir}: ${(e as Error).message}`,
      "set a writable cache directory (XDG_CACHE_HOME or the git cache option)");
  }
  const tmp = `${repoDir}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const r = await runGitIn(cacheDir, ["init", "--quiet", "--bare", tmp], {});
  if (r.code !== 0) throw remoteError(spec, `cannot create a repository in ${cacheDir}: ${gitMessage(r)}`);
  // remember where the cache came from (for people looking into the cache); git itself always gets the URL
  await runGitIn(tmp, ["config", "stapel2docker.url", redactUrl(spec.url)], { GIT_DIR: tmp });
  try {
    renameSync(tmp, repoDir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    // another process made it first
    if (!(code === "ENOTEMPTY" || code === "EEXIST") || !existsSync(path.join(repoDir, "HEAD"))) throw e;
  }
  return repoDir;
}

/** Takes `<repo>.lock` (waiting for another process, taking over a lock whose process is gone). */
async function lock(file: string, spec: RemoteSpec): Promise<() => Promise<void>> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      const h = await open(file, "wx");
      await h.writeFile(`${process.pid}\n`);
      await h.close();
      return () => rm(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    if (await staleLock(file)) {
      await rm(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw remoteError(spec, `the git cache is locked by another process (${file})`,
        "wait for the other stapel2docker to finish, or remove the lock file if no other one runs");
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function staleLock(file: string): Promise<boolean> {
  try {
    const pid = Number.parseInt((await readFile(file, "utf8")).trim(), 10);
    if (!Number.isInteger(pid) || pid <= 0) {
      // being written right now, or garbage: stale only when old
      return Date.now() - (await stat(file)).mtimeMs > 60_000;
    }
    try {
      process.kill(pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === "ESRCH";
    }
  } catch {
    return false; // gone already: try again
  }
}

async function revParse(repo: GitRepo, rev: string): Promise<string | undefined> {
  const r = await runGitIn(repo.root, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`], {});
  return r.code === 0 ? r.stdout.toString("utf8").trim() : undefined;
}

async function fetch(repo: GitRepo, spec: RemoteSpec, env: Record<string, string>, refspecs: string[]): Promise<GitResult> {
  return runGitIn(repo.root, ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", spec.url, ...refspecs], env);
}

async function resolve(repo: GitRepo, spec: RemoteSpec, env: Record<string, string>): Promise<string> {
  if (spec.commit) {
    const have = await revParse(repo, spec.commit);
    if (have) return have;
    const all = await fetch(repo, spec, env, ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]);
    if (all.code !== 0) throw remoteError(spec, `cannot fetch: ${gitMessage(all)}`);
    const found = await revParse(repo, spec.commit);
    if (found) return found;
    // not on any branch or tag: ask for the commit itself (servers that allow it)
    if (/^[0-9a-f]{40}$/i.test(spec.commit)) {
      await fetch(repo, spec, env, [`${spec.commit}:refs/stapel2docker/commits/${spec.commit}`]);
      const direct = await revParse(repo, spec.commit);
      if (direct) return direct;
    }
    throw remoteError(spec, `commit ${JSON.stringify(spec.commit)} not found in the repository`,
      "check the commit id (use the full 40-character id); make sure it has not been squashed or rebased away");
  }
  if (spec.tag) {
    const ref = `refs/tags/${spec.tag}`;
    const have = await revParse(repo, ref);
    if (have) return have;
    const r = await fetch(repo, spec, env, [`+${ref}:${ref}`]);
    if (r.code !== 0) {
      throw remoteError(spec, `cannot fetch tag ${JSON.stringify(spec.tag)}: ${gitMessage(r)}`,
        /couldn't find remote ref/i.test(r.stderr) ? "check the tag name (git ls-remote --tags URL)" : NO_FETCH_HINT);
    }
    const got = await revParse(repo, ref);
    if (!got) throw remoteError(spec, `tag ${JSON.stringify(spec.tag)} does not point to a commit`);
    return got;
  }
  const ref = spec.branch ? `refs/heads/${spec.branch}` : "refs/stapel2docker/default-branch";
  const source = spec.branch ? ref : "HEAD";
  const r = await fetch(repo, spec, env, [`+${source}:${ref}`]);
  if (r.code !== 0) {
    const what = spec.branch ? `branch ${JSON.stringify(spec.branch)}` : "the default branch";
    const hint = /couldn't find remote ref/i.test(r.stderr)
      ? spec.branch ? "check the branch name (git ls-remote --heads URL)" : "the remote has no default branch (HEAD): set `branch:`"
      : `${NO_FETCH_HINT}; a branch is fetched on every run (branches move): pin \`tag:\` or \`commit:\` to build offline`;
    throw remoteError(spec, `cannot fetch ${what}: ${gitMessage(r)}`, hint);
  }
  const got = await revParse(repo, ref);
  if (!got) throw remoteError(spec, `the fetched ref ${source} is not a commit`);
  return got;
}
