// Template errors: located like Go ("template: NAME:LINE:COL: ...") and carried
// as UserError diagnostics pointing at the real file (werf.yaml, .werf/x.tmpl).
import { type Diagnostic, UserError, formatPos, type SourcePos } from "../diagnostics.js";
import type { TemplateSource } from "./node.js";

export class TemplateError extends UserError {
  /** The error as Go's text/template words it, e.g. `template: werfConfig:2:6: executing "werfConfig" at <...>: ...`. */
  readonly goError: string;
  /** Where the error happened (innermost template). */
  readonly pos: SourcePos;
  constructor(diag: Diagnostic & { pos: SourcePos }, goError: string) {
    super(diag);
    this.name = "TemplateError";
    this.goError = goError;
    this.pos = diag.pos;
  }

  /** The same error seen from a call site: context line "included from FILE:LINE:COL". */
  calledFrom(site: SourcePos, how: string, goError: string): TemplateError {
    const d = this.diagnostics[0];
    const context = [...(d.context ?? []), `${how} from ${formatPos(site)}`];
    return new TemplateError({ ...d, pos: this.pos, context }, goError);
  }
}

/** An error a template function throws with advice for the user (Go's message stays in `message`). */
export class FuncError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = "FuncError";
  }
}

/** Where an offset is, for users (1-based line and UTF-16 column) and for Go's messages (0-based byte column). */
export interface Location {
  line: number;
  col: number;
  goCol: number;
}

export function locate(text: string, offset: number): Location {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  const goCol = Buffer.byteLength(text.slice(lineStart, end), "utf8");
  // Go prints the byte offset itself on the first line, the byte column after that; both are 0-based.
  return { line, col: offset - lineStart + 1, goCol };
}

export function sourcePos(src: TemplateSource, offset: number): SourcePos {
  const l = locate(src.text, offset);
  return { file: src.file, line: l.line, col: l.col };
}

/** "template: NAME:LINE: msg" at the given offset. */
export function parseError(src: TemplateSource, offset: number, line: number, message: string, hint?: string): TemplateError {
  const l = locate(src.text, offset);
  const pos: SourcePos = { file: src.file, line, col: l.line === line ? l.col : 1 };
  return new TemplateError({ pos, message, hint }, `template: ${src.parseName}:${line}: ${message}`);
}

/** `template: NAME:LINE:COL: executing "TPL" at <CTX>: msg`. */
export function execError(src: TemplateSource, offset: number, tplName: string, context: string, message: string, hint?: string): TemplateError {
  const l = locate(src.text, offset);
  const pos: SourcePos = { file: src.file, line: l.line, col: l.col };
  const body = `executing ${JSON.stringify(tplName)} at <${context}>: ${message}`;
  return new TemplateError({ pos, message: body, hint }, `template: ${src.parseName}:${l.line}:${l.goCol}: ${body}`);
}
