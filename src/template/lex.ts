// Lexer for Go's text/template: turns template source into items.
//
// Mirrors text/template/parse/lex.go: text outside actions, and inside "{{ }}"
// the tokens of the action language. Every item keeps its offset in the source
// (UTF-16 units of the JS string) and its 1-based line. Trim markers "{{- " and
// " -}}" remove the whitespace next to the action from the neighbouring text.
import { goQuote } from "./strconv.js";

export type ItemType =
  | "error"
  | "bool"
  | "char"
  | "charConstant"
  | "comment"
  | "assign"
  | "declare"
  | "eof"
  | "field"
  | "identifier"
  | "leftDelim"
  | "leftParen"
  | "number"
  | "pipe"
  | "rawString"
  | "rightDelim"
  | "rightParen"
  | "space"
  | "string"
  | "text"
  | "variable"
  | "dot"
  // keywords
  | "block"
  | "break"
  | "continue"
  | "define"
  | "else"
  | "end"
  | "if"
  | "nil"
  | "range"
  | "template"
  | "with";

const KEYWORDS = new Set<ItemType>(["block", "break", "continue", "define", "else", "end", "if", "nil", "range", "template", "with", "dot"]);

export interface Item {
  type: ItemType;
  /** Offset of the item's first character in the source. */
  pos: number;
  val: string;
  /** 1-based line of the item's start. */
  line: number;
}

export function isKeyword(t: ItemType): boolean {
  return KEYWORDS.has(t);
}

/** Go's item.String(), used in "unexpected X in Y" messages. */
export function describeItem(i: Item): string {
  if (i.type === "eof") return "EOF";
  if (i.type === "error") return i.val;
  if (isKeyword(i.type)) return `<${i.val}>`;
  if (i.type === "text" || i.type === "comment") {
    // Go quotes with %q, truncating long values to 10 characters.
  }
  if (i.val.length > 10) return goQuote(i.val.slice(0, 10)) + "...";
  return goQuote(i.val);
}

const LEFT = "{{";
const RIGHT = "}}";

function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\r" || c === "\n";
}

function isAlphaNumeric(c: string): boolean {
  return c === "_" || /[\p{L}\p{Nd}]/u.test(c);
}

/** Lex the whole template into a list of items (ending with eof or error). */
export function lex(input: string): Item[] {
  return new Lexer(input).run();
}

class Lexer {
  private items: Item[] = [];
  private pos = 0;
  private start = 0;
  private line = 1;
  private startLine = 1;
  private parenDepth = 0;
  /** After a right trim marker: skip leading spaces of the next text. */
  private trimNext = false;

  constructor(private readonly input: string) {}

  run(): Item[] {
    while (true) {
      if (!this.lexText()) break;
      if (!this.lexAction()) break;
    }
    return this.items;
  }

  private emit(type: ItemType, val?: string): void {
    this.items.push({ type, pos: this.start, val: val ?? this.input.slice(this.start, this.pos), line: this.startLine });
    this.ignore();
  }

  private ignore(): void {
    for (let i = this.start; i < this.pos; i++) if (this.input.charCodeAt(i) === 10) this.line++;
    this.start = this.pos;
    this.startLine = this.line;
  }

  private errorf(msg: string): false {
    this.items.push({ type: "error", pos: this.start, val: msg, line: this.startLine });
    return false;
  }

  private peek(off = 0): string {
    return this.input.charAt(this.pos + off);
  }

  /** Text up to the next "{{"; returns false at EOF. */
  private lexText(): boolean {
    if (this.trimNext) {
      while (this.pos < this.input.length && isSpace(this.input[this.pos])) this.pos++;
      this.ignore();
      this.trimNext = false;
    }
    const x = this.input.indexOf(LEFT, this.pos);
    if (x < 0) {
      this.pos = this.input.length;
      if (this.pos > this.start) this.emit("text");
      this.emit("eof", "");
      return false;
    }
    this.pos = x;
    const trim = this.hasLeftTrimMarker(x + LEFT.length);
    let end = x;
    if (trim) while (end > this.start && isSpace(this.input[end - 1])) end--;
    if (end > this.start) {
      this.pos = end;
      this.emit("text");
    }
    this.pos = x;
    this.ignore();
    return true;
  }

  private hasLeftTrimMarker(at: number): boolean {
    return this.input[at] === "-" && at + 1 < this.input.length && isSpace(this.input[at + 1]);
  }

  /** " -}}" at the current position. */
  private atRightTrim(): boolean {
    return isSpace(this.peek()) && this.peek(1) === "-" && this.input.startsWith(RIGHT, this.pos + 2);
  }

  /** The action starting at "{{"; returns false on error. */
  private lexAction(): boolean {
    this.pos += LEFT.length;
    const trim = this.hasLeftTrimMarker(this.pos);
    if (trim) this.pos += 2;
    const afterMarker = this.pos;
    if (this.input.startsWith("/*", this.pos)) return this.lexComment(trim);
    this.pos = afterMarker - (trim ? 2 : 0);
    this.emit("leftDelim");
    if (trim) {
      this.pos += 2;
      this.ignore();
    }
    this.parenDepth = 0;
    return this.lexInsideAction();
  }

  private lexComment(_leftTrim: boolean): boolean {
    this.ignore();
    this.pos += 2;
    const x = this.input.indexOf("*/", this.pos);
    if (x < 0) return this.errorf("unclosed comment");
    this.pos = x + 2;
    let trim = false;
    if (this.atRightTrim()) {
      trim = true;
    } else if (!this.input.startsWith(RIGHT, this.pos)) {
      return this.errorf("comment ends before closing delimiter");
    }
    this.emit("comment");
    if (trim) this.pos += 2;
    this.pos += RIGHT.length;
    this.ignore();
    this.trimNext = trim;
    return true;
  }

  private lexInsideAction(): boolean {
    while (true) {
      if (this.atRightTrim() && this.parenDepth === 0) {
        // A space before " -}}" separates the last token: emit it as space only if there was more than one.
        this.pos += 1;
        this.ignore();
        this.pos += 1;
        this.ignore();
        this.pos += RIGHT.length;
        this.start = this.pos - RIGHT.length;
        this.emit("rightDelim");
        this.trimNext = true;
        return true;
      }
      if (this.input.startsWith(RIGHT, this.pos) && this.parenDepth === 0) {
        this.pos += RIGHT.length;
        this.emit("rightDelim");
        return true;
      }
      if (this.pos >= this.input.length) return this.errorf("unclosed action");
      const r = this.input[this.pos];
      if (isSpace(r)) {
        let n = 0;
        while (this.pos < this.input.length && isSpace(this.input[this.pos])) {
          this.pos++;
          n++;
        }
        // Leave one space for a right trim marker " -}}".
        if (this.input[this.pos] === "-" && this.input.startsWith(RIGHT, this.pos + 1)) {
          this.pos--;
          if (n === 1) continue;
        }
        this.emit("space");
        continue;
      }
      if (this.input.startsWith(RIGHT, this.pos) && this.parenDepth > 0) {
        return this.errorf("unclosed left paren");
      }
      this.pos++;
      switch (r) {
        case "=":
          this.emit("assign");
          continue;
        case ":":
          if (this.peek() !== "=") return this.errorf("expected :=");
          this.pos++;
          this.emit("declare");
          continue;
        case "|":
          this.emit("pipe");
          continue;
        case '"':
          if (!this.lexQuoted('"', "string", "unterminated quoted string")) return false;
          continue;
        case "`":
          if (!this.lexRawQuote()) return false;
          continue;
        case "$":
          if (!this.lexVariable()) return false;
          continue;
        case "'":
          if (!this.lexQuoted("'", "charConstant", "unterminated character constant")) return false;
          continue;
        case ".":
          if (this.pos < this.input.length && this.peek() >= "0" && this.peek() <= "9") {
            this.pos--;
            if (!this.lexNumber()) return false;
            continue;
          }
          if (!this.lexField()) return false;
          continue;
        case "(":
          this.parenDepth++;
          this.emit("leftParen");
          continue;
        case ")":
          this.parenDepth--;
          this.emit("rightParen");
          if (this.parenDepth < 0) return this.errorf("unexpected right paren");
          continue;
        case ",":
          this.emit("char");
          continue;
      }
      if (r === "+" || r === "-" || (r >= "0" && r <= "9")) {
        this.pos--;
        if (!this.lexNumber()) return false;
        continue;
      }
      if (isAlphaNumeric(r)) {
        if (!this.lexIdentifier()) return false;
        continue;
      }
      const cp = this.input.codePointAt(this.pos - 1)!;
      if (cp > 0x20 && cp < 0x7f) {
        this.emit("char");
        continue;
      }
      return this.errorf(`unrecognized character in action: ${goRuneDesc(cp)}`);
    }
  }

  private atTerminator(): boolean {
    const r = this.peek();
    if (this.pos >= this.input.length) return true;
    if (isSpace(r)) return true;
    if (r === "." || r === "," || r === "|" || r === ":" || r === ")" || r === "(") return true;
    return this.input.startsWith(RIGHT, this.pos);
  }

  private lexIdentifier(): boolean {
    while (this.pos < this.input.length && isAlphaNumeric(this.input[this.pos])) this.pos++;
    if (!this.atTerminator()) return this.errorf(`bad character ${goRuneDesc(this.input.codePointAt(this.pos)!)}`);
    const word = this.input.slice(this.start, this.pos);
    if (KEYWORDS.has(word as ItemType) && word !== "dot") this.emit(word as ItemType);
    else if (word === "true" || word === "false") this.emit("bool");
    else this.emit("identifier");
    return true;
  }

  private lexField(): boolean {
    return this.lexFieldOrVariable("field");
  }

  private lexVariable(): boolean {
    return this.lexFieldOrVariable("variable");
  }

  private lexFieldOrVariable(type: "field" | "variable"): boolean {
    if (this.atTerminator()) {
      this.emit(type === "variable" ? "variable" : "dot");
      return true;
    }
    while (this.pos < this.input.length && isAlphaNumeric(this.input[this.pos])) this.pos++;
    if (!this.atTerminator()) return this.errorf(`bad character ${goRuneDesc(this.input.codePointAt(this.pos)!)}`);
    this.emit(type);
    return true;
  }

  /** A quoted string or char constant up to `close`; Go's lexQuote and lexChar, which differ only in these. */
  private lexQuoted(close: string, type: "string" | "charConstant", unterminated: string): boolean {
    while (true) {
      const r = this.input[this.pos++];
      if (r === "\\" && this.pos < this.input.length && this.input[this.pos] !== "\n") {
        this.pos++;
        continue;
      }
      if (r === undefined || r === "\n") return this.errorf(unterminated);
      if (r === close) break;
    }
    this.emit(type);
    return true;
  }

  private lexRawQuote(): boolean {
    const x = this.input.indexOf("`", this.pos);
    if (x < 0) return this.errorf("unterminated raw quoted string");
    this.pos = x + 1;
    this.emit("rawString");
    return true;
  }

  private lexNumber(): boolean {
    if (!this.scanNumber()) {
      return this.errorf(`bad number syntax: ${goQuote(this.input.slice(this.start, this.pos))}`);
    }
    this.emit("number");
    return true;
  }

  private scanNumber(): boolean {
    const accept = (valid: string): boolean => {
      if (this.pos < this.input.length && valid.includes(this.input[this.pos])) {
        this.pos++;
        return true;
      }
      return false;
    };
    const acceptRun = (valid: string): void => {
      while (accept(valid));
    };
    accept("+-");
    let digits = "0123456789_";
    if (accept("0")) {
      if (accept("xX")) digits = "0123456789abcdefABCDEF_";
      else if (accept("oO")) digits = "01234567_";
      else if (accept("bB")) digits = "01_";
    }
    acceptRun(digits);
    if (accept(".")) acceptRun(digits);
    if (digits.length === 11 && accept("eE")) {
      accept("+-");
      acceptRun("0123456789_");
    }
    if (digits.length === 23 && accept("pP")) {
      accept("+-");
      acceptRun("0123456789_");
    }
    accept("i");
    if (this.pos < this.input.length && isAlphaNumeric(this.input[this.pos])) {
      this.pos++;
      return false;
    }
    return true;
  }
}

/** fmt's %#U of a rune: U+0021 '!'. */
export function goRuneDesc(cp: number): string {
  const hex = "U+" + cp.toString(16).toUpperCase().padStart(4, "0");
  return cp >= 0x20 && cp !== 0x7f ? `${hex} '${String.fromCodePoint(cp)}'` : hex;
}
