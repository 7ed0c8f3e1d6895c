// Located problems in the user's input, carried from the first pipeline step to the last.
//
// A Diagnostic names the file, line and column (1-based), says what is wrong and,
// where we can, what to do. Errors are collected and reported together; a
// UserError carries one or more of them out of a pipeline step. Anything thrown
// that is not a UserError is a bug in stapel2docker (exit code 2).

export interface SourcePos {
  /** Path as the user knows it, relative to the project dir when inside it (e.g. "werf.yaml", ".werf/base.tmpl"). */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column (in UTF-16 code units of the line). */
  col: number;
}

export interface Diagnostic {
  pos?: SourcePos;
  message: string;
  /** What to do about it, one line. */
  hint?: string;
  /** Extra lines shown under the message (source excerpt, rendered-document lines). */
  context?: string[];
}

export class UserError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic | Diagnostic[]) {
    const list = Array.isArray(diagnostics) ? diagnostics : [diagnostics];
    super(list.map(formatDiagnostic).join("\n"));
    this.name = "UserError";
    this.diagnostics = list;
  }
}

export function formatPos(pos: SourcePos): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}

/** "file:line:col: message", then the context lines and the hint, indented. */
export function formatDiagnostic(d: Diagnostic): string {
  const head = d.pos ? `${formatPos(d.pos)}: ${d.message}` : d.message;
  const lines = [head];
  for (const c of d.context ?? []) lines.push(`    ${c}`);
  if (d.hint) lines.push(`    hint: ${d.hint}`);
  return lines.join("\n");
}

/**
 * Maps offsets in a rendered (templated) text back to where the text came from.
 * The template executor records one segment per emitted piece of text.
 */
export interface SourceMap {
  /** Where the character at `offset` of the rendered text came from, if known. */
  lookup(offset: number): SourcePos | undefined;
  /**
   * True when the character at `offset` was copied verbatim from template text; false when an action
   * produced it (the position is then the action's, and the rendered text is worth showing too).
   */
  isVerbatim?(offset: number): boolean;
}

/** 1-based line and column of `offset` in `text`. */
export function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}

/** `url` without the user and password of a `scheme://user:password@host/...` URL: what may be shown or kept (a
 *  remote git mapping's URL may carry a CI token: `https://gitlab-ci-token:TOKEN@host/...`). */
export function redactUrl(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@]*@/, "$1");
}
