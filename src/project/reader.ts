// What the template engine and the renderer need from a project's files, whichever place they come from:
// the work tree (files.ts: a directory outside git, or `--dev`) or a commit (commit-files.ts: werf's giterminism).

/** The part of a file's stat the readers need. */
export interface ProjectEntryStat {
  isFile(): boolean;
  isDirectory(): boolean;
}

export interface ResolvedEntry {
  /** The clean project-relative path as given (links not resolved). */
  rel: string;
  /** Where it really is once every link is followed (inside the project). */
  real: string;
  stat: ProjectEntryStat;
}

export interface ProjectReader {
  /** The project directory (absolute). */
  readonly dir: string;
  resolve(rel: string): ResolvedEntry;
  tryResolve(rel: string): ResolvedEntry | undefined;
  readFile(rel: string): Buffer;
  /** Several files at once, when the reader can do better than one by one. */
  readFiles?(rels: readonly string[]): Buffer[];
  listFiles(relDir: string, opts?: { descend?: (rel: string) => boolean; wanted?: (rel: string) => boolean }): string[];
}
