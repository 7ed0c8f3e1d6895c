// The project's files as werf reads them under giterminism: from a commit, not from the work tree. werf.yaml,
// `.werf/**/*.tmpl` and `.Files.*` all come from the commit (HEAD, or the `--dev` commit of the work tree), so
// an uncommitted edit cannot change what is built without anyone seeing it in git.
//
// Same contract as ProjectFiles (files.ts): project-relative "/" paths (a leading "/" too), symlinks followed
// inside the project only (a committed link is a blob holding its target; a target that climbs out of the
// project is refused, as werf's file reader refuses it), `.git` never listed.

import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { arrayListing, compareGitPaths, listingLowerBound, listTree, RawListing, type Listing, type TreeEntry } from "../git/tree.js";
import { runGit, type GitRepo } from "../git/repo.js";
import { ProjectPathError, cleanProjectPath } from "./files.js";
import type { ProjectEntryStat, ProjectReader, ResolvedEntry } from "./reader.js";

const MAX_LINKS = 40;

interface Entry {
  mode: string;
  oid: string;
}

const FILE_STAT: ProjectEntryStat = { isFile: () => true, isDirectory: () => false };
const DIR_STAT: ProjectEntryStat = { isFile: () => false, isDirectory: () => true };

/**
 * The project's part of a commit listing, looked up without building an index: git lists paths in UTF-8 byte order,
 * so a file is found by binary search and a directory's contents are one contiguous range (opening a 100k-file
 * commit costs nothing; a render asks about a handful of paths). Only blobs count (submodules are not project
 * files), and nothing inside a `.git` folder.
 */
class ProjectListing {
  /** What the answers depended on (repository paths): entries looked up, and folders whose contents were (the
   *  persistent render cache checks a commit's changes against them: src/cache/render.ts). */
  readonly seen = { exact: new Set<string>(), under: new Set<string>() };

  constructor(
    private readonly all: Listing,
    /** Repository path of the project + "/" ("" at the top level). */
    private readonly prefix: string,
    /** When `all` lists these repository paths (and what is below them) only: a question about another path calls
     *  `miss` and throws NotCovered (CommitFiles.openPaths). */
    private readonly roots?: readonly string[],
    private readonly miss?: () => void,
  ) {}

  /** Throws NotCovered when the answer about repository path `p` (and what is below it) is not in the listing. */
  private cover(p: string): void {
    if (!this.roots) return;
    for (const r of this.roots) if (p === r || (p.length > r.length && p.startsWith(r) && p.charCodeAt(r.length) === 0x2f)) return;
    this.miss?.();
    throw new NotCovered(p);
  }

  /** The first index whose path is not before `p`. */
  private lower(p: string, from = 0): number {
    return listingLowerBound(this.all, p, from);
  }

  private counts(e: TreeEntry): boolean {
    return e.type === "blob" && !`/${e.path.slice(this.prefix.length)}/`.includes("/.git/");
  }

  /** The file (blob) at project path `rel`. */
  get(rel: string): Entry | undefined {
    if (rel === "") return undefined;
    const p = this.prefix + rel;
    this.seen.exact.add(p);
    this.cover(p);
    const i = this.lower(p);
    if (i >= this.all.length || this.all.path(i) !== p) return undefined;
    const e = this.all.entry(i);
    return this.counts(e) ? e : undefined;
  }

  has(rel: string): boolean {
    return this.get(rel) !== undefined;
  }

  /** Whether `rel` is a directory: some file below it counts. */
  isDir(rel: string): boolean {
    if (rel === "") return true;
    const p = `${this.prefix}${rel}/`;
    this.seen.under.add(p);
    this.cover(this.prefix + rel);
    for (let i = this.lower(p); i < this.all.length && this.all.path(i).startsWith(p); i++) if (this.counts(this.all.entry(i))) return true;
    return false;
  }

  /** The names directly in directory `rel`, sorted. */
  children(rel: string): string[] {
    const p = rel === "" ? this.prefix : `${this.prefix}${rel}/`;
    this.seen.under.add(p);
    this.cover(this.prefix + rel);
    const names: string[] = [];
    let i = this.lower(p);
    while (i < this.all.length && this.all.path(i).startsWith(p)) {
      const e = this.all.entry(i);
      const slash = e.path.indexOf("/", p.length);
      const name = e.path.slice(p.length, slash < 0 ? undefined : slash);
      if (slash < 0) {
        if (this.counts(e)) names.push(name);
        i++;
        continue;
      }
      // a subdirectory: named when a file below it counts; its whole range is skipped ("0" follows "/")
      const sub = p + name;
      if (this.isDir(sub.slice(this.prefix.length))) names.push(name);
      i = this.lower(`${sub}0`, i + 1);
    }
    return names.sort();
  }
}

/** A question to a CommitFiles opened on some paths only (openPaths) about another path: the answer needs the whole
 *  listing. */
export class NotCovered extends Error {
  constructor(readonly repoPath: string) {
    super(`internal: ${JSON.stringify(repoPath)} is not among the paths listed`);
  }
}

export class CommitFiles implements ProjectReader {
  /** The commit's files below the project, looked up in git's listing. */
  private entries!: ProjectListing;
  private readonly blobs = new Map<string, Buffer>();
  /** Paths asked for (resolved, read) and listings made: what the render depended on. */
  readonly asked = new Set<string>();
  readonly listings: { dir: string; wanted?: (rel: string) => boolean }[] = [];

  /** Set when a reader opened on some paths only (openPaths) was asked about another one: whatever it answered or
   *  threw since is to be thrown away, and asked again of a reader of the whole listing. */
  missed = false;

  /** The repository paths the answers so far depended on (ProjectListing.seen). */
  get seen(): { exact: ReadonlySet<string>; under: ReadonlySet<string> } {
    return this.entries.seen;
  }

  private constructor(
    readonly dir: string,
    readonly repoRoot: string,
    readonly commit: string,
  ) {}

  /**
   * The commit's tree below the project directory (`subdir`, repository-relative; "" = the root). `listing` is
   * the commit's whole tree when the caller already reads it (the planner does): it is not listed twice. Either is
   * sorted as git lists it.
   */
  static async open(dir: string, repo: GitRepo, commit: string, subdir: string, listing?: Promise<TreeEntry[] | Listing | undefined>): Promise<CommitFiles> {
    const files = new CommitFiles(dir, repo.root, commit);
    const prefix = subdir === "" ? "" : `${subdir}/`;
    const given = (await listing) ?? (await listTree(repo, commit, { scope: subdir }));
    const l = Array.isArray(given) ? arrayListing(given) : (given as Listing);
    // binary search needs the order it compares with: a listing with non-UTF-8 names may be out of it
    files.entries = new ProjectListing(l.ordered() ? l : arrayListing([...l.all()].sort((a, b) => compareGitPaths(a.path, b.path))), prefix);
    return files;
  }

  /**
   * A reader of the commit that knows project paths `rels` (and what is below them) only, listed with one small
   * `git ls-tree` of those paths (werf.yaml, the giterminism file, `.werf`: what a render reads first) instead of
   * the whole tree, so a render need not wait for the commit's listing. A question about any other path sets
   * `missed` and throws NotCovered: the caller then starts again with `open`. Undefined when git does not answer
   * (`open` reports it).
   */
  static async openPaths(dir: string, repo: GitRepo, commit: string, subdir: string, rels: readonly string[]): Promise<CommitFiles | undefined> {
    const prefix = subdir === "" ? "" : `${subdir}/`;
    const clean = rels.map(cleanProjectPath);
    if (clean.some((c) => c === undefined || c === "")) return undefined;
    const roots = [...new Set(clean.map((c) => prefix + c!))];
    // literal pathspecs: a name with `*` or `?` is a name, not a pattern
    const r = await runGit(repo.root, ["--literal-pathspecs", "ls-tree", "-r", "-z", "--full-tree", commit, "--", ...roots]);
    const raw = r.code === 0 ? RawListing.parse(r.stdout) : undefined;
    if (!raw) return undefined;
    const files = new CommitFiles(dir, repo.root, commit);
    const l = raw.ordered() ? raw : arrayListing([...raw.all()].sort((a, b) => compareGitPaths(a.path, b.path)));
    files.entries = new ProjectListing(l, prefix, roots, () => (files.missed = true));
    return files;
  }

  resolve(rel: string): ResolvedEntry {
    const clean = cleanProjectPath(rel);
    if (clean === undefined) throw new ProjectPathError(rel, "outside");
    this.asked.add(clean);
    const real = this.follow(rel, clean);
    return { rel: clean, real, stat: this.entries.isDir(real) ? DIR_STAT : FILE_STAT };
  }

  tryResolve(rel: string): ResolvedEntry | undefined {
    try {
      return this.resolve(rel);
    } catch (e) {
      if (e instanceof ProjectPathError && e.problem !== "outside") return undefined;
      throw e;
    }
  }

  readFile(rel: string): Buffer {
    const r = this.resolve(rel);
    if (!r.stat.isFile()) throw new ProjectPathError(rel, "missing", `${JSON.stringify(rel)} is a directory, not a file`);
    return this.blob(this.entries.get(r.real)!.oid);
  }

  /** Reads several files with one `git cat-file --batch` (a Glob's matches). */
  readFiles(rels: readonly string[]): Buffer[] {
    const oids = rels.map((rel) => {
      const r = this.resolve(rel);
      if (!r.stat.isFile()) throw new ProjectPathError(rel, "missing", `${JSON.stringify(rel)} is a directory, not a file`);
      return this.entries.get(r.real)!.oid;
    });
    this.prefetch(oids);
    return oids.map((oid) => this.blob(oid));
  }

  listFiles(relDir: string, opts: { descend?: (rel: string) => boolean; wanted?: (rel: string) => boolean } = {}): string[] {
    this.listings.push({ dir: cleanProjectPath(relDir) ?? relDir, wanted: opts.wanted });
    const out: string[] = [];
    const start = this.tryResolve(relDir);
    if (!start || !start.stat.isDirectory()) return out;
    const walk = (real: string, shown: string, seen: Set<string>) => {
      for (const name of this.entries.children(real)) {
        const p = shown ? `${shown}/${name}` : name;
        let target = real ? `${real}/${name}` : name;
        if (this.entries.get(target)?.mode === "120000") {
          try {
            target = this.follow(p, target);
          } catch (e) {
            if (!(e instanceof ProjectPathError)) throw e;
            if (e.problem === "link-outside" && (opts.wanted?.(p) ?? true)) throw new ProjectPathError(p, "link-outside");
            continue; // dangling or looping: nothing to read
          }
        }
        if (this.entries.isDir(target)) {
          if (seen.has(target) || !(opts.descend?.(p) ?? true)) continue;
          walk(target, p, new Set(seen).add(target));
        } else if (this.entries.has(target)) out.push(p);
      }
    };
    walk(start.real, start.rel, new Set([start.real]));
    return out.sort();
  }

  /** The path with every symlink component resolved, inside the project; ProjectPathError otherwise. */
  private follow(asked: string, clean: string): string {
    let parts = clean === "" ? [] : clean.split("/");
    let done: string[] = [];
    let links = 0;
    while (parts.length > 0) {
      const name = parts.shift()!;
      const candidate = [...done, name].join("/");
      const entry = this.entries.get(candidate);
      if (entry?.mode === "120000") {
        if (++links > MAX_LINKS) throw new ProjectPathError(asked, "loop");
        const target = this.blob(entry.oid).toString("utf8");
        if (path.posix.isAbsolute(target)) throw new ProjectPathError(asked, "link-outside");
        const joined = path.posix.normalize([...done, target].join("/"));
        if (joined === ".." || joined.startsWith("../")) throw new ProjectPathError(asked, "link-outside");
        parts = [...(joined === "." ? [] : joined.split("/")), ...parts];
        done = [];
        continue;
      }
      if (entry === undefined && !this.entries.isDir(candidate)) throw new ProjectPathError(asked, "missing");
      if (entry !== undefined && parts.length > 0) throw new ProjectPathError(asked, "missing"); // a file is no directory
      done.push(name);
    }
    return done.join("/");
  }

  private blob(oid: string): Buffer {
    let b = this.blobs.get(oid);
    if (b === undefined) {
      b = execFileSync("git", ["-C", this.repoRoot, "cat-file", "blob", oid], { maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "pipe"] });
      this.blobs.set(oid, b);
    }
    return b;
  }

  private prefetch(oids: readonly string[]): void {
    const missing = [...new Set(oids.filter((o) => !this.blobs.has(o)))];
    if (missing.length < 2) return;
    const out = execFileSync("git", ["-C", this.repoRoot, "cat-file", "--batch"], {
      input: missing.join("\n") + "\n",
      maxBuffer: 1 << 30,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let at = 0;
    for (const oid of missing) {
      const nl = out.indexOf(10, at);
      const header = out.toString("latin1", at, nl).split(" ");
      const size = Number(header[2]);
      if (header[0] !== oid || header[1] !== "blob" || !Number.isFinite(size)) throw new Error(`unexpected git cat-file output for ${oid}: ${header.join(" ")}`);
      this.blobs.set(oid, out.subarray(nl + 1, nl + 1 + size));
      at = nl + 1 + size + 1;
    }
  }
}


