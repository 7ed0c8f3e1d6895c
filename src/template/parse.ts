// Parser for Go templates (text/template/parse/parse.go): items → named trees.
//
// One call parses one source text; `{{define}}` and `{{block}}` add more trees
// to the same set. Variables are checked at parse time (scoped like Go: a
// variable declared inside if/range/with ends at its {{end}}), and functions
// must exist in the set's function table.
import { closest } from "fastest-levenshtein";
import { TemplateError, parseError } from "./errors.js";
import { type Item, type ItemType, describeItem, lex } from "./lex.js";
import type {
  ActionNode,
  CommandNode,
  ListNode,
  Node,
  NumberNode,
  PipeNode,
  TemplateNode,
  TemplateSource,
  Tree,
  VariableNode,
} from "./node.js";
import { isEmptyTree } from "./node.js";
import { parseNumber } from "./number.js";
import { unquoteChar, unquoteString } from "./unquote.js";

/** How deep lists and parenthesized pipelines may nest (see Parser.nested). */
export const MAX_PARSE_DEPTH = 1000;

export interface ParseEnv {
  /** Is NAME a known function (builtin or FuncMap)? */
  hasFunction(name: string): boolean;
  /** All known function names, for "did you mean" hints. */
  functionNames(): string[];
}

class Stop extends Error {
  constructor(readonly err: TemplateError) {
    super(err.message);
  }
}

/** Parse `source` into trees: the top-level one named `name`, plus every define/block. */
export function parseTemplates(name: string, source: TemplateSource, env: ParseEnv): Map<string, Tree> {
  const trees = new Map<string, Tree>();
  const items = lex(source.text);
  const p = new Parser(items, source, env, trees);
  try {
    p.parseTop(name);
  } catch (e) {
    if (e instanceof Stop) throw e.err;
    throw e;
  }
  return trees;
}

class Parser {
  private i = 0;
  private vars: string[] = ["$"];
  private rangeDepth = 0;
  /** Line of the action being parsed, for "unclosed action started at". */
  private actionLine = 0;
  /** Last token read, for the line of error messages. */
  private last: Item;
  /** Nesting of lists ({{ if }}, {{ range }}...) and pipelines (parentheses) being parsed. */
  private depth = 0;

  constructor(
    private readonly items: Item[],
    private readonly source: TemplateSource,
    private readonly env: ParseEnv,
    private readonly trees: Map<string, Tree>,
  ) {
    this.last = items[0];
  }

  // ---- token stream -------------------------------------------------------

  private next(): Item {
    const it = this.items[Math.min(this.i, this.items.length - 1)];
    this.i++;
    this.last = it;
    return it;
  }
  private backup(n = 1): void {
    this.i -= n;
  }
  private peek(): Item {
    return this.items[Math.min(this.i, this.items.length - 1)];
  }
  private nextNonSpace(): Item {
    let t: Item;
    do t = this.next();
    while (t.type === "space");
    return t;
  }
  private peekNonSpace(): Item {
    const save = this.i;
    const t = this.nextNonSpace();
    this.i = save;
    return t;
  }
  /** Step back to just before the last non-space item read. */
  private backupTo(index: number): void {
    this.i = index;
  }

  private errorf(message: string, hint?: string): never {
    throw new Stop(parseError(this.source, this.last.pos, this.last.line, message, hint));
  }
  private unexpected(token: Item, context: string): never {
    if (token.type === "error") {
      let extra = "";
      if (this.actionLine !== 0 && this.actionLine !== token.line) {
        extra = ` in action started at ${this.source.parseName}:${this.actionLine}`;
        if (token.val.endsWith(" action")) extra = extra.slice(" in action".length);
      }
      this.errorf(token.val + extra);
    }
    this.errorf(`unexpected ${describeItem(token)} in ${context}`);
  }
  private expect(type: ItemType, context: string): Item {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }

  // ---- structure -----------------------------------------------------------

  parseTop(name: string): void {
    const root: ListNode = { kind: "list", pos: this.peek().pos, nodes: [] };
    while (this.peek().type !== "eof") {
      if (this.peek().type === "leftDelim") {
        const mark = this.i;
        this.next();
        if (this.nextNonSpace().type === "define") {
          this.parseDefinition();
          continue;
        }
        this.backupTo(mark);
      }
      const n = this.textOrAction();
      if (n.kind === "end" || n.kind === "else") this.errorf(`unexpected ${n.kind === "end" ? "{{end}}" : "{{else}}"}`);
      root.nodes.push(n);
    }
    if (this.peek().type === "error") this.unexpected(this.peek(), "input");
    this.add({ name, source: this.source, root });
  }

  private add(tree: Tree): void {
    const old = this.trees.get(tree.name);
    if (!old || isEmptyTree(old.root)) {
      this.trees.set(tree.name, tree);
      return;
    }
    if (!isEmptyTree(tree.root)) this.errorf(`template: multiple definition of template ${JSON.stringify(tree.name)}`);
  }

  /** In a fresh variable scope (define and block bodies see only "$"). */
  private withOwnScope<T>(f: () => T): T {
    const saveVars = this.vars;
    const saveDepth = this.rangeDepth;
    this.vars = ["$"];
    this.rangeDepth = 0;
    try {
      return f();
    } finally {
      this.vars = saveVars;
      this.rangeDepth = saveDepth;
    }
  }

  private parseDefinition(): void {
    const context = "define clause";
    const nameTok = this.nextNonSpace();
    if (nameTok.type !== "string" && nameTok.type !== "rawString") this.unexpected(nameTok, context);
    const name = this.unquote(nameTok);
    this.expect("rightDelim", context);
    this.withOwnScope(() => {
      const [root, end] = this.itemList();
      if (end.kind !== "end") this.errorf(`unexpected {{else}} in ${context}`);
      this.add({ name, source: this.source, root });
    });
  }

  /** Runs a nested part of the parse, bounded: Go's parser stops parenthesized nesting at 10000 ("max expression
   *  depth exceeded"); a JS stack is smaller, so lists and pipelines together stop at MAX_PARSE_DEPTH here. */
  private nested<T>(f: () => T): T {
    if (++this.depth > MAX_PARSE_DEPTH) {
      this.depth = 0;
      this.errorf("max expression depth exceeded", `stapel2docker parses at most ${MAX_PARSE_DEPTH} nested actions and parentheses`);
    }
    try {
      return f();
    } finally {
      this.depth = Math.max(0, this.depth - 1);
    }
  }

  private itemList(): [ListNode, EndOrElse] {
    return this.nested(() => this.itemListAt());
  }

  private itemListAt(): [ListNode, EndOrElse] {
    const list: ListNode = { kind: "list", pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().type !== "eof") {
      if (this.peekNonSpace().type === "error") this.unexpected(this.nextNonSpace(), "input");
      const n = this.textOrAction();
      if (n.kind === "end" || n.kind === "else") return [list, n];
      list.nodes.push(n);
    }
    this.nextNonSpace();
    this.errorf("unexpected EOF");
  }

  private textOrAction(): Node | EndOrElse {
    const token = this.nextNonSpace();
    switch (token.type) {
      case "text":
        return { kind: "text", pos: token.pos, text: token.val };
      case "leftDelim":
        return this.action();
      case "comment":
        return { kind: "comment", pos: token.pos, text: token.val };
      default:
        this.unexpected(token, "input");
    }
  }

  private action(): Node | EndOrElse {
    this.actionLine = this.last.line;
    const token = this.nextNonSpace();
    switch (token.type) {
      case "block":
        return this.blockControl();
      case "break":
      case "continue": {
        const t = this.nextNonSpace();
        if (t.type !== "rightDelim") this.unexpected(t, `{{${token.type}}}`);
        if (this.rangeDepth === 0) this.errorf(`{{${token.type}}} outside {{range}}`);
        return { kind: token.type, pos: token.pos, line: token.line };
      }
      case "else":
        return this.elseControl();
      case "end":
        return { kind: "end", pos: this.expect("rightDelim", "end").pos };
      case "if":
        return this.branch("if");
      case "range":
        return this.branch("range");
      case "template":
        return this.templateControl();
      case "with":
        return this.branch("with");
    }
    this.backup();
    const t = this.peek();
    const a: ActionNode = { kind: "action", pos: t.pos, line: t.line, pipe: this.pipeline("command", "rightDelim") };
    return a;
  }

  private elseControl(): EndOrElse {
    const peek = this.peekNonSpace();
    if (peek.type === "if" || peek.type === "with") return { kind: "else", pos: peek.pos };
    const t = this.expect("rightDelim", "else");
    return { kind: "else", pos: t.pos };
  }

  private branch(context: BranchFieldsKind): Node {
    const nVars = this.vars.length;
    try {
      const pipe = this.pipeline(context, "rightDelim");
      if (context === "range") this.rangeDepth++;
      let [list, next] = this.itemList();
      if (context === "range") this.rangeDepth--;
      let elseList: ListNode | null = null;
      if (next.kind === "else") {
        if (context === "if" && this.peekNonSpace().type === "if") {
          this.nextNonSpace();
          elseList = { kind: "list", pos: next.pos, nodes: [this.branch("if")] };
        } else if (context === "with" && this.peekNonSpace().type === "with") {
          this.nextNonSpace();
          elseList = { kind: "list", pos: next.pos, nodes: [this.branch("with")] };
        } else {
          [elseList, next] = this.itemList();
          if (next.kind !== "end") this.errorf("expected end; found {{else}}");
        }
      }
      return { kind: context, pos: pipe.pos, line: pipe.line, pipe, list, elseList };
    } finally {
      this.vars.length = nVars;
    }
  }

  private templateControl(): TemplateNode {
    const context = "template clause";
    const token = this.nextNonSpace();
    if (token.type !== "string" && token.type !== "rawString") this.unexpected(token, context);
    const name = this.unquote(token);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().type !== "rightDelim") {
      this.backup();
      pipe = this.pipeline(context, "rightDelim");
    }
    return { kind: "template", pos: token.pos, line: token.line, name, pipe };
  }

  private blockControl(): TemplateNode {
    const context = "block clause";
    const token = this.nextNonSpace();
    if (token.type !== "string" && token.type !== "rawString") this.unexpected(token, context);
    const name = this.unquote(token);
    const pipe = this.pipeline(context, "rightDelim");
    this.withOwnScope(() => {
      const [root, end] = this.itemList();
      if (end.kind !== "end") this.errorf(`unexpected {{else}} in ${context}`);
      this.add({ name, source: this.source, root });
    });
    return { kind: "template", pos: token.pos, line: token.line, name, pipe };
  }

  // ---- pipelines -------------------------------------------------------------

  private pipeline(context: string, end: ItemType): PipeNode {
    return this.nested(() => this.pipelineAt(context, end));
  }

  private pipelineAt(context: string, end: ItemType): PipeNode {
    const first = this.peekNonSpace();
    const pipe: PipeNode = { kind: "pipe", pos: first.pos, line: first.line, isAssign: false, decl: [], cmds: [] };
    decls: while (true) {
      const mark = this.i;
      const v = this.peekNonSpace();
      if (v.type !== "variable") break;
      this.nextNonSpace();
      const next = this.peekNonSpace();
      if (next.type === "assign" || next.type === "declare") {
        pipe.isAssign = next.type === "assign";
        this.nextNonSpace();
        pipe.decl.push({ kind: "variable", pos: v.pos, ident: [v.val] });
        this.vars.push(v.val);
        break;
      }
      if (next.type === "char" && next.val === ",") {
        this.nextNonSpace();
        pipe.decl.push({ kind: "variable", pos: v.pos, ident: [v.val] });
        this.vars.push(v.val);
        if (context === "range" && pipe.decl.length < 2) {
          const t = this.peekNonSpace().type;
          if (t === "variable" || t === "rightDelim" || t === "rightParen") continue decls;
          this.errorf("range can only initialize variables");
        }
        this.errorf(`too many declarations in ${context}`);
      }
      this.backupTo(mark);
      break;
    }
    while (true) {
      const token = this.nextNonSpace();
      if (token.type === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (token.type) {
        case "bool":
        case "charConstant":
        case "dot":
        case "field":
        case "identifier":
        case "number":
        case "nil":
        case "rawString":
        case "string":
        case "variable":
        case "leftParen":
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(token, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const k = c.args[0].kind;
      if (k === "bool" || k === "dot" || k === "nil" || k === "number" || k === "string") {
        this.errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { kind: "command", pos: this.peekNonSpace().pos, args: [] };
    while (true) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const token = this.next();
      if (token.type === "space") continue;
      if (token.type === "rightDelim" || token.type === "rightParen") this.backup();
      else if (token.type !== "pipe") this.unexpected(token, "operand");
      break;
    }
    if (cmd.args.length === 0) this.errorf("empty command");
    return cmd;
  }

  private operand(): Node | null {
    const node = this.term();
    if (!node) return null;
    if (this.peek().type !== "field") return node;
    const chainPos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().type === "field") fields.push(this.next().val.slice(1));
    switch (node.kind) {
      case "field":
        return { kind: "field", pos: chainPos, ident: [...node.ident, ...fields] };
      case "variable":
        return { kind: "variable", pos: chainPos, ident: [...node.ident, ...fields] };
      case "bool":
      case "string":
      case "number":
      case "nil":
      case "dot":
        this.errorf(`unexpected . after term ${JSON.stringify(nodeText(node))}`);
      default:
        return { kind: "chain", pos: chainPos, node, field: fields };
    }
  }

  private term(): Node | null {
    const token = this.nextNonSpace();
    switch (token.type) {
      case "identifier":
        if (!this.env.hasFunction(token.val)) {
          const names = this.env.functionNames();
          const guess = names.length ? closest(token.val, names) : undefined;
          this.errorf(`function ${JSON.stringify(token.val)} not defined`, guess ? `did you mean "${guess}"?` : undefined);
        }
        return { kind: "identifier", pos: token.pos, ident: token.val };
      case "dot":
        return { kind: "dot", pos: token.pos };
      case "nil":
        return { kind: "nil", pos: token.pos };
      case "variable":
        return this.useVar(token);
      case "field":
        return { kind: "field", pos: token.pos, ident: [token.val.slice(1)] };
      case "bool":
        return { kind: "bool", pos: token.pos, value: token.val === "true" };
      case "charConstant":
      case "number":
        return this.number(token);
      case "leftParen":
        return this.pipeline("parenthesized pipeline", "rightParen");
      case "string":
      case "rawString":
        return { kind: "string", pos: token.pos, quoted: token.val, text: this.unquote(token) };
    }
    this.backup();
    return null;
  }

  private useVar(token: Item): VariableNode {
    const name = token.val;
    if (!this.vars.includes(name)) this.errorf(`undefined variable ${JSON.stringify(name)}`);
    return { kind: "variable", pos: token.pos, ident: [name] };
  }

  private number(token: Item): NumberNode {
    if (token.type === "charConstant") {
      const r = unquoteChar(token.val);
      if (r === undefined) this.errorf(`malformed character constant: ${token.val}`);
      return { kind: "number", pos: token.pos, text: token.val, isInt: true, isFloat: true, int: r, float: r };
    }
    const n = parseNumber(token.val);
    if (typeof n === "string") this.errorf(n);
    return { kind: "number", pos: token.pos, text: token.val, ...n };
  }

  private unquote(token: Item): string {
    if (token.type === "rawString") return token.val.slice(1, -1).replace(/\r/g, "");
    const s = unquoteString(token.val);
    if (s === undefined) this.errorf("invalid syntax");
    return s;
  }
}

type BranchFieldsKind = "if" | "range" | "with";
type EndOrElse = { kind: "end"; pos: number } | { kind: "else"; pos: number };

function nodeText(n: Node): string {
  switch (n.kind) {
    case "bool":
      return String(n.value);
    case "string":
      return n.quoted;
    case "number":
      return n.text;
    case "nil":
      return "nil";
    default:
      return ".";
  }
}
