// Parse tree of a Go template (text/template/parse/node.go).
//
// Every node keeps `pos`, its offset in the source text of the template that
// contains it; `String()` renders the node back as Go does in error messages
// ("executing ... at <.a.b>").
import { goQuote } from "./strconv.js";

/** The source text a template was parsed from, shared by the trees defined in it. */
export interface TemplateSource {
  /** Name given to parse(), e.g. "werfConfig" (Go's ParseName). */
  parseName: string;
  /** File as the user knows it, e.g. "werf.yaml". */
  file: string;
  text: string;
}

export type Node =
  | ListNode
  | TextNode
  | CommentNode
  | ActionNode
  | PipeNode
  | CommandNode
  | IdentifierNode
  | VariableNode
  | DotNode
  | NilNode
  | FieldNode
  | ChainNode
  | BoolNode
  | NumberNode
  | StringNode
  | IfNode
  | RangeNode
  | WithNode
  | TemplateNode
  | BreakNode
  | ContinueNode;

export interface ListNode {
  kind: "list";
  pos: number;
  nodes: Node[];
}
export interface TextNode {
  kind: "text";
  pos: number;
  text: string;
}
export interface CommentNode {
  kind: "comment";
  pos: number;
  text: string;
}
export interface ActionNode {
  kind: "action";
  pos: number;
  line: number;
  pipe: PipeNode;
}
export interface PipeNode {
  kind: "pipe";
  pos: number;
  line: number;
  isAssign: boolean;
  decl: VariableNode[];
  cmds: CommandNode[];
}
export interface CommandNode {
  kind: "command";
  pos: number;
  args: Node[];
}
export interface IdentifierNode {
  kind: "identifier";
  pos: number;
  ident: string;
}
export interface VariableNode {
  kind: "variable";
  pos: number;
  /** "$x", then field names. */
  ident: string[];
}
export interface DotNode {
  kind: "dot";
  pos: number;
}
export interface NilNode {
  kind: "nil";
  pos: number;
}
export interface FieldNode {
  kind: "field";
  pos: number;
  ident: string[];
}
export interface ChainNode {
  kind: "chain";
  pos: number;
  node: Node;
  field: string[];
}
export interface BoolNode {
  kind: "bool";
  pos: number;
  value: boolean;
}
export interface NumberNode {
  kind: "number";
  pos: number;
  text: string;
  isInt: boolean;
  isFloat: boolean;
  int: number;
  float: number;
}
export interface StringNode {
  kind: "string";
  pos: number;
  quoted: string;
  text: string;
}
interface BranchFields {
  pos: number;
  line: number;
  pipe: PipeNode;
  list: ListNode;
  elseList: ListNode | null;
}
export interface IfNode extends BranchFields {
  kind: "if";
}
export interface RangeNode extends BranchFields {
  kind: "range";
}
export interface WithNode extends BranchFields {
  kind: "with";
}
export interface TemplateNode {
  kind: "template";
  pos: number;
  line: number;
  name: string;
  pipe: PipeNode | null;
}
export interface BreakNode {
  kind: "break";
  pos: number;
  line: number;
}
export interface ContinueNode {
  kind: "continue";
  pos: number;
  line: number;
}

/** A named template: its tree and the source it came from. */
export interface Tree {
  name: string;
  source: TemplateSource;
  root: ListNode;
}

/** True when the list holds only whitespace text and comments (Go's IsEmptyTree). */
export function isEmptyTree(n: ListNode): boolean {
  return n.nodes.every((c) => (c.kind === "text" ? c.text.trim() === "" : c.kind === "comment"));
}

/** Go's Node.String(). */
export function nodeString(n: Node): string {
  switch (n.kind) {
    case "list":
      return n.nodes.map(nodeString).join("");
    case "text":
      return goQuote(n.text);
    case "comment":
      return `{{${n.text}}}`;
    case "action":
      return `{{${nodeString(n.pipe)}}}`;
    case "pipe": {
      let s = "";
      if (n.decl.length > 0) s = n.decl.map(nodeString).join(", ") + (n.isAssign ? " = " : " := ");
      return s + n.cmds.map(nodeString).join(" | ");
    }
    case "command":
      return n.args.map((a) => (a.kind === "pipe" ? `(${nodeString(a)})` : nodeString(a))).join(" ");
    case "identifier":
      return n.ident;
    case "variable":
      return n.ident.join(".");
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "field":
      return n.ident.map((i) => "." + i).join("");
    case "chain": {
      const inner = n.node.kind === "pipe" ? `(${nodeString(n.node)})` : nodeString(n.node);
      return inner + n.field.map((f) => "." + f).join("");
    }
    case "bool":
      return n.value ? "true" : "false";
    case "number":
      return n.text;
    case "string":
      return n.quoted;
    case "if":
    case "range":
    case "with": {
      let s = `{{${n.kind} ${nodeString(n.pipe)}}}${nodeString(n.list)}`;
      if (n.elseList) s += `{{else}}${nodeString(n.elseList)}`;
      return s + "{{end}}";
    }
    case "template":
      return n.pipe ? `{{template ${goQuote(n.name)} ${nodeString(n.pipe)}}}` : `{{template ${goQuote(n.name)}}}`;
    case "break":
      return "{{break}}";
    case "continue":
      return "{{continue}}";
  }
}
