// strconv.Unquote for the string and character literals of templates.

/** Decode one escape at s[i] (just after the backslash); returns [code points, next index] or undefined. */
function escape(s: string, i: number, quote: string): [number[], number] | undefined {
  const c = s[i];
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, "\\": 92 };
  if (c in simple) return [[simple[c]], i + 1];
  if (c === quote) return [[c.charCodeAt(0)], i + 1];
  const hexLen = c === "x" ? 2 : c === "u" ? 4 : c === "U" ? 8 : 0;
  if (hexLen) {
    const h = s.slice(i + 1, i + 1 + hexLen);
    if (h.length !== hexLen || !/^[0-9a-fA-F]+$/.test(h)) return undefined;
    const v = parseInt(h, 16);
    if (c !== "x" && (v > 0x10ffff || (v >= 0xd800 && v < 0xe000))) return undefined;
    // \x is a byte: as a string it may form UTF-8; we treat bytes < 0x80 exactly, others as Latin-1 code points.
    return [[v], i + 1 + hexLen];
  }
  if (c >= "0" && c <= "7") {
    const o = s.slice(i, i + 3);
    if (!/^[0-7]{3}$/.test(o)) return undefined;
    const v = parseInt(o, 8);
    if (v > 255) return undefined;
    return [[v], i + 3];
  }
  return undefined;
}

/** Unquote a "..." literal; undefined when malformed. */
export function unquoteString(lit: string): string | undefined {
  if (lit.length < 2 || lit[0] !== '"' || lit[lit.length - 1] !== '"') return undefined;
  const s = lit.slice(1, -1);
  let out = "";
  const bytes: number[] = [];
  const flush = () => {
    if (bytes.length) {
      out += Buffer.from(bytes).toString("utf8");
      bytes.length = 0;
    }
  };
  for (let i = 0; i < s.length; ) {
    if (s[i] === "\\") {
      const e = escape(s, i + 1, '"');
      if (!e) return undefined;
      const isByte = s[i + 1] === "x" || (s[i + 1] >= "0" && s[i + 1] <= "7");
      if (isByte) bytes.push(e[0][0]);
      else {
        flush();
        out += String.fromCodePoint(...e[0]);
      }
      i = e[1];
    } else if (s[i] === '"' || s[i] === "\n") {
      return undefined;
    } else {
      flush();
      out += s[i++];
    }
  }
  flush();
  return out;
}

/** The code point of a '...' literal; undefined when malformed. */
export function unquoteChar(lit: string): number | undefined {
  if (lit.length < 3 || lit[0] !== "'" || lit[lit.length - 1] !== "'") return undefined;
  const s = lit.slice(1, -1);
  if (s[0] === "\\") {
    const e = escape(s, 1, "'");
    if (!e || e[1] !== s.length) return undefined;
    return e[0][0];
  }
  const cp = s.codePointAt(0)!;
  return String.fromCodePoint(cp).length === s.length ? cp : undefined;
}
