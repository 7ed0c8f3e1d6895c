// The git side of cleanup: the references (branches and tags) and the history they reach, as plain data for
// src/cleanup/policy.ts. As werf, branches are the `origin` remote's (`refs/remotes/origin/*`) when the repository
// has them (a CI clone); otherwise the local branches (`refs/heads/*`). Tags are `refs/tags/*`.

import { UserError } from "../diagnostics.js";
import { runGit } from "../git/repo.js";
import type { CommitNode, GitRef } from "./policy.js";

async function git(dir: string, args: string[], what: string): Promise<string> {
  const r = await runGit(dir, args);
  if (r.code !== 0) {
    throw new UserError({ message: `${what}: git ${args[0]} failed: ${r.stderr.split("\n")[0] ?? ""}`, hint: "cleanup reads the project's git history: run it in the project's git repository" });
  }
  return r.stdout.toString("utf8");
}

/** Branches and tags of the repository holding `dir`. */
export async function readReferences(dir: string): Promise<GitRef[]> {
  const fmt = ["%(refname)", "%(objecttype)", "%(objectname)", "%(*objectname)", "%(creatordate:unix)", "%(committerdate:unix)"].join("%09");
  const out = await git(dir, ["for-each-ref", `--format=${fmt}`, "refs/heads", "refs/remotes/origin", "refs/tags"], "reading the git references");
  const rows = out.split("\n").filter((l) => l !== "").map((l) => l.split("\t"));
  const remote = rows.some(([n]) => n.startsWith("refs/remotes/origin/") && n !== "refs/remotes/origin/HEAD");
  const refs: GitRef[] = [];
  for (const [name, type, obj, peeled, created, committed] of rows) {
    if (name.startsWith("refs/tags/")) {
      const annotated = type === "tag";
      if (annotated && !peeled) continue;
      if (!annotated && type !== "commit") continue;
      refs.push({ kind: "tag", name: name.slice("refs/tags/".length), commit: annotated ? peeled : obj, time: Number(created) * 1000 });
    } else if (remote ? name.startsWith("refs/remotes/origin/") && name !== "refs/remotes/origin/HEAD" : name.startsWith("refs/heads/")) {
      if (type !== "commit") continue;
      const short = name.slice(remote ? "refs/remotes/origin/".length : "refs/heads/".length);
      refs.push({ kind: "branch", name: short, commit: obj, time: Number(committed || created) * 1000 });
    }
  }
  return refs;
}

/** Every commit the references reach: parents and committer time (ms). */
export async function readHistory(dir: string, refs: readonly GitRef[]): Promise<Map<string, CommitNode>> {
  const commits = new Map<string, CommitNode>();
  const heads = [...new Set(refs.map((r) => r.commit))];
  if (heads.length === 0) return commits;
  const r = await runGit(dir, ["log", "--format=%H %ct %P", "--stdin"], heads.join("\n") + "\n");
  if (r.code !== 0) throw new UserError({ message: `reading the git history: git log failed: ${r.stderr.split("\n")[0] ?? ""}`, hint: "is the clone shallow? cleanup needs the history: git fetch --unshallow" });
  for (const line of r.stdout.toString("utf8").split("\n")) {
    if (!line) continue;
    const [hash, time, ...parents] = line.split(" ");
    commits.set(hash, { parents: parents.filter(Boolean), time: Number(time) * 1000 });
  }
  return commits;
}
