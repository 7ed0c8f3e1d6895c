// werf's giterminism exceptions (werf-giterminism.yaml `config.allowUncommitted`, `config.allowUncommittedTemplates`,
// `config.goTemplateRendering.allowUncommittedFiles`): a path the giterminism config accepts is read from the work
// tree as it is (uncommitted and untracked files included, as werf's file reader does), every other path from the
// commit. One reader per kind of read, each with its own list (werf's file_reader: ReadConfig,
// ReadConfigTemplateFiles, ConfigGoTemplateFiles*).
//
// A listing (`.Files.Glob`, the `.werf` templates) is the commit's files that are not accepted plus the work tree's
// files that are (an accepted file deleted in the work tree is gone, as werf reads it from the file system). As in
// werf, a link accepted by the list must lead to an accepted path too; reads stay confined to the project
// (src/project/files.ts).

import { CommitFiles } from "./commit-files.js";
import { ProjectFiles, ProjectPathError, cleanProjectPath } from "./files.js";
import type { ProjectReader, ResolvedEntry } from "./reader.js";
import * as path from "node:path";

export class UncommittedOverlay implements ProjectReader {
  readonly dir: string;
  private readonly work: ProjectFiles;

  /**
   * `accepts(rel)` says whether a clean project-relative path is read from the work tree; `list` names the
   * giterminism key (for messages).
   */
  constructor(
    readonly commit: CommitFiles,
    readonly accepts: (rel: string) => boolean,
    readonly list: string,
  ) {
    this.dir = commit.dir;
    this.work = new ProjectFiles(commit.dir);
  }

  private accepted(rel: string): string | undefined {
    const clean = cleanProjectPath(rel);
    if (clean === undefined) throw new ProjectPathError(rel, "outside");
    return clean !== "" && this.accepts(clean) ? clean : undefined;
  }

  resolve(rel: string): ResolvedEntry {
    const clean = this.accepted(rel);
    if (clean === undefined) return this.commit.resolve(rel);
    const r = this.work.resolve(rel);
    const real = path.relative(this.work.root, r.real).split(path.sep).join("/");
    if (real !== clean && !this.accepts(real)) {
      throw new ProjectPathError(rel, "missing", `${JSON.stringify(rel)} is a link to ${JSON.stringify(real)}, which ${this.list} does not accept (werf: the link target should be also accepted by giterminism config)`);
    }
    return { rel: clean, real, stat: r.stat };
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
    if (this.accepted(rel) === undefined) return this.commit.readFile(rel);
    this.resolve(rel); // the link rule
    return this.work.readFile(rel);
  }

  readFiles(rels: readonly string[]): Buffer[] {
    const fromCommit = rels.filter((r) => this.accepted(r) === undefined);
    const committed = new Map<string, Buffer>();
    this.commit.readFiles(fromCommit).forEach((b, i) => committed.set(fromCommit[i]!, b));
    return rels.map((r) => committed.get(r) ?? this.readFile(r));
  }

  listFiles(relDir: string, opts: { descend?: (rel: string) => boolean; wanted?: (rel: string) => boolean } = {}): string[] {
    const committed = this.commit.listFiles(relDir, opts).filter((p) => !this.accepts(p));
    // a link leading outside the project fails a listing only where it would be read: an accepted path
    const work = this.work.listFiles(relDir, { ...opts, wanted: (p) => this.accepts(p) && (opts.wanted?.(p) ?? true) }).filter((p) => this.accepts(p));
    return [...new Set([...committed, ...work])].sort();
  }
}

/** `project` with the paths `accepts` takes from the work tree, or `project` itself when nothing is accepted or the
 *  project is not read from a commit. */
export function withUncommitted(project: ProjectReader, globsGiven: boolean, accepts: (rel: string) => boolean, list: string): ProjectReader {
  if (!globsGiven || !(project instanceof CommitFiles)) return project;
  return new UncommittedOverlay(project, accepts, list);
}
