// The files of a commit: `git ls-tree -r -z --full-tree`, streamed and parsed.

import { UserError } from "../diagnostics.js";
import { gitMissingError, spawnGit, type GitRepo } from "./repo.js";

export type TreeEntryType = "blob" | "tree" | "commit";

export interface TreeEntry {
  /** Repository-relative path, "/"-separated, no leading slash. */
  path: string;
  /** Git mode as octal text: "100644", "100755", "120000" (symlink), "160000" (submodule), "040000" (tree). */
  mode: string;
  /** "commit" is a submodule (gitlink). */
  type: TreeEntryType;
  /** Object id (hex). */
  oid: string;
}

export interface ListTreeOptions {
  /** Also list directories (`ls-tree -t`), each before its contents. */
  directories?: boolean;
  /** Only list this repository-relative path (a directory or a file) and what is below it. "" = all. */
  scope?: string;
}

/** Parses one `ls-tree -z` record: "<mode> SP <type> SP <oid> TAB <path>". */
export function parseTreeRecord(record: string): TreeEntry {
  const tab = record.indexOf("\t");
  const [mode, type, oid] = record.slice(0, tab).split(" ");
  if (tab < 0 || !oid || (type !== "blob" && type !== "tree" && type !== "commit")) {
    throw new Error(`unexpected git ls-tree record: ${JSON.stringify(record)}`);
  }
  return { mode, type, oid, path: record.slice(tab + 1) };
}

/** Streams the entries of `commit`, in git's order (by path, directories before their contents). */
export async function* lsTree(repo: GitRepo, commit: string, opts: ListTreeOptions = {}): AsyncGenerator<TreeEntry> {
  const args = ["ls-tree", "-r", "-z", "--full-tree"];
  if (opts.directories) args.push("-t");
  args.push(commit);
  if (opts.scope) args.push("--", opts.scope);
  const child = spawnGit(repo.root, args);
  child.stdin!.end();
  const stderr: Buffer[] = [];
  child.stderr!.on("data", (b: Buffer) => stderr.push(b));
  const done = new Promise<number>((resolve, reject) => {
    child.on("error", (e) => reject(gitMissingError(e)));
    child.on("close", (code) => resolve(code ?? 1));
  });
  done.catch(() => {}); // observed below
  let pending: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let start = 0;
      for (let nul = pending.indexOf(0, start); nul >= 0; nul = pending.indexOf(0, start)) {
        const entry = parseTreeRecord(pending.toString("utf8", start, nul));
        start = nul + 1;
        // with -t, git also lists the scope and its parents: only what is below the scope counts
        if (opts.scope && entry.type === "tree" && !entry.path.startsWith(`${opts.scope}/`)) continue;
        yield entry;
      }
      pending = pending.subarray(start);
    }
  } finally {
    if (child.exitCode === null) child.kill();
  }
  const code = await done;
  if (code !== 0) {
    throw new UserError({
      message: `cannot list the files of commit ${commit}: ${Buffer.concat(stderr).toString("utf8").trim().split("\n")[0]}`,
    });
  }
}

/** All entries of `commit` (see lsTree). */
export async function listTree(repo: GitRepo, commit: string, opts: ListTreeOptions = {}): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  for await (const e of lsTree(repo, commit, opts)) out.push(e);
  return out;
}
