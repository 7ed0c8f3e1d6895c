// Splitting a rendered werf.yaml into its documents, the way werf does
// (pkg/config/parser.go splitContent): a line holding `---`, optionally followed
// by blanks and a `# comment`, separates two documents. Documents holding only
// blank lines and comments are dropped.

/** One `---`-separated part of the rendered werf.yaml. */
export interface RenderedDocument {
  /** 0-based index among the kept (non-empty) documents. */
  index: number;
  /** Offset of the document's first character in the rendered text. */
  offset: number;
  /** The document's text, without the separator lines. */
  text: string;
}

const SEPARATOR = /^---[ \t]*(#.*)?\r?$/;
const BLANK_OR_COMMENT = /^[ \t]*(#.*)?\r?$/;

export function splitDocuments(rendered: string): RenderedDocument[] {
  const docs: RenderedDocument[] = [];
  let docStart = 0;
  let lineStart = 0;
  const flush = (end: number): void => {
    const text = rendered.slice(docStart, end);
    if (!isEmptyDocument(text)) docs.push({ index: docs.length, offset: docStart, text });
  };
  while (lineStart <= rendered.length) {
    const nl = rendered.indexOf("\n", lineStart);
    const lineEnd = nl < 0 ? rendered.length : nl;
    if (SEPARATOR.test(rendered.slice(lineStart, lineEnd))) {
      flush(lineStart);
      docStart = nl < 0 ? rendered.length : nl + 1;
    }
    if (nl < 0) break;
    lineStart = nl + 1;
  }
  flush(rendered.length);
  return docs;
}

function isEmptyDocument(text: string): boolean {
  return text.split("\n").every((line) => BLANK_OR_COMMENT.test(line));
}
