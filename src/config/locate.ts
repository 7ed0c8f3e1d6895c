// Turning offsets in the rendered werf.yaml into positions the user can act on.
// With a SourceMap (from the template step) an offset maps to the original file;
// without one, or where the map has no answer, the rendered text's own line is
// used and a few numbered lines of it are shown as context.

import { lineCol, type Diagnostic, type SourceMap, type SourcePos } from "../diagnostics.js";

export class Locator {
  private readonly lineStarts: number[] = [0];

  constructor(
    readonly file: string,
    readonly text: string,
    private readonly map?: SourceMap,
  ) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  /** Original position of the rendered `offset`. */
  pos(offset: number): SourcePos {
    const mapped = this.map?.lookup(offset);
    if (mapped) return mapped;
    return { file: this.file, ...this.renderedLineCol(offset) };
  }

  /** A diagnostic located at `offset`; shows rendered lines when the map cannot place it. */
  diagnostic(offset: number, message: string, hint?: string): Diagnostic {
    const mapped = this.map?.lookup(offset);
    const d: Diagnostic = { pos: mapped ?? { file: this.file, ...this.renderedLineCol(offset) }, message };
    if (hint) d.hint = hint;
    // Text produced by a template action (include, tpl, a value) is located at the action: show what it rendered.
    if (this.map && (!mapped || this.map.isVerbatim?.(offset) === false)) d.context = this.renderedLines(offset);
    return d;
  }

  /** 1-based line and column of `offset` in the rendered text. */
  renderedLineCol(offset: number): { line: number; col: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    if (offset > this.text.length) return lineCol(this.text, offset);
    return { line: lo + 1, col: offset - this.lineStarts[lo]! + 1 };
  }

  /** The rendered line holding `offset` and its neighbours, numbered ("rendered 12| text"). */
  renderedLines(offset: number): string[] {
    const { line } = this.renderedLineCol(offset);
    const out: string[] = [];
    for (let l = Math.max(1, line - 1); l <= Math.min(this.lineStarts.length, line + 1); l++) {
      const start = this.lineStarts[l - 1]!;
      const end = l < this.lineStarts.length ? this.lineStarts[l]! - 1 : this.text.length;
      const marker = l === line ? ">" : " ";
      out.push(`${marker} rendered ${l} | ${this.text.slice(start, end).replace(/\r$/, "")}`);
    }
    return out;
  }
}
