// strconv.Quote: Go's double-quoted string literal, as fmt's %q prints strings (one implementation for the lexer's messages, printf and sprig).

/** Printable per Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isPrint(r: string): boolean {
  if (r === " ") return true;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(r);
}

export function goQuote(s: string): string {
  let out = '"';
  for (const r of s) {
    const c = r.codePointAt(0)!;
    switch (r) {
      case '"': out += '\\"'; continue;
      case "\\": out += "\\\\"; continue;
      case "\x07": out += "\\a"; continue;
      case "\b": out += "\\b"; continue;
      case "\f": out += "\\f"; continue;
      case "\n": out += "\\n"; continue;
      case "\r": out += "\\r"; continue;
      case "\t": out += "\\t"; continue;
      case "\v": out += "\\v"; continue;
    }
    if (c === 0xfffd && r !== "\ufffd") {
      out += r;
      continue;
    }
    if (isPrint(r)) out += r;
    else if (c < 0x80) out += "\\x" + c.toString(16).padStart(2, "0");
    else if (c < 0x10000) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += "\\U" + c.toString(16).padStart(8, "0");
  }
  return out + '"';
}
