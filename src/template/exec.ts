// Executor for parsed templates (text/template/exec.go).
//
// A State walks a tree with a stack of variables, writing output and recording
// a source map. Errors are raised with the node in hand, located and worded as
// Go does: `template: NAME:LINE:COL: executing "TPL" at <NODE>: message`.
import { TemplateError, execError } from "./errors.js";
import { ExpansionError } from "./expansion.js";
import { formatValue } from "./format.js";
import { type Node, type Tree, type PipeNode, type CommandNode, type FieldNode, type ChainNode, type VariableNode, type IdentifierNode, type NumberNode, type ListNode, type RangeNode, type TemplateNode, nodeString } from "./node.js";
import { isFloatLiteral } from "./number.js";
import { FuncError } from "./errors.js";
import { SegmentSourceMap, positionIn } from "./sourcemap.js";
import { type FuncMap, type GoFunc, type GoValue, GoFloat, NO_FIELD, goTypeName, isGoFunc, isGoObject, isTrue } from "./value.js";

/** What the executor needs from its template set. */
export interface ExecEnv {
  funcs: FuncMap;
  builtins: FuncMap;
  lookup(name: string): Tree | undefined;
  /**
   * Output of werf's include/tpl calls → its own source map. When an action prints such a string unchanged,
   * its map is kept, so a YAML error in an included file is located in that file, not at the call.
   */
  nestedMaps?: Map<string, SegmentSourceMap>;
}

// Limits on one rendering. Go's text/template has only one, a depth of 100000 nested `template`
// calls (and werf's include starts a new execution each time, so include recursion in werf ends in
// a Go stack overflow). Ours keep a runaway template from exhausting the JS stack, memory or time,
// each with a located error; a real werf.yaml stays orders of magnitude below them.

/**
 * Nested executions (template, include, tpl) allowed. One level takes 1-2 KB of JS stack; 200 leave
 * room for what runs at the bottom (fromYaml on a document nested MAX_YAML_DEPTH deep, sprig).
 */
export const MAX_EXEC_DEPTH = 200;
/** Characters one execution (the whole werf.yaml, or one include/tpl) may produce: 16 MiB. */
export const MAX_OUTPUT_CHARS = 16 * 1024 * 1024;
/** Template nodes executed in one rendering, over all includes (a few seconds of work; big real configs take under 100000). */
export const MAX_EXEC_STEPS = 5_000_000;
/** Elements `until`, `untilStep` and `seq` may produce (their Go versions are only bounded by memory). */
export const MAX_LIST_LEN = 10_000_000;

const DEPTH_HINT =
  "templates call each other (template, include, tpl) too deeply, most likely an endless recursion; this is stapel2docker's limit (Go's text/template stops `template` at 100000 levels, werf's include has no limit)";
const STEPS_HINT = "the templates run too long, most likely a loop over a huge range or a recursion that branches; this is stapel2docker's limit";
const OUTPUT_HINT = "the rendered text is far larger than any werf.yaml; most likely a runaway loop or recursion (this is stapel2docker's limit)";

const MISSING: unique symbol = Symbol("missing");
type Final = GoValue | typeof MISSING;

type Signal = "break" | "continue" | undefined;

interface Variable {
  name: string;
  value: GoValue;
}

let activeDepth = 0;
let steps = 0;

/** Template nodes executed by the last (or current) rendering. */
export function executedSteps(): number {
  return steps;
}

export function executeTree(env: ExecEnv, tree: Tree, data: GoValue): { text: string; map: SegmentSourceMap } {
  if (activeDepth >= MAX_EXEC_DEPTH) {
    const src = tree.source;
    throw execError(src, tree.root.pos, tree.name, tree.name, `exceeded maximum template depth (${MAX_EXEC_DEPTH})`, DEPTH_HINT);
  }
  if (activeDepth === 0) steps = 0;
  activeDepth++;
  try {
    const s = new State(env, tree);
    s.vars.push({ name: "$", value: data });
    try {
      s.walk(data, tree.root);
    } catch (e) {
      // A JS stack overflow that the depth limit did not prevent (no regular expression here:
      // compiling one this close to the stack limit fails as well).
      if (e instanceof RangeError && e.message.includes("call stack")) {
        throw s.error(
          "nesting too deep: the JS stack is exhausted",
          "values (dict inside dict ...) or template calls are nested far deeper than any werf.yaml needs; this is stapel2docker's limit",
        );
      }
      throw e;
    }
    return { text: s.out.join(""), map: s.map };
  } catch (e) {
    // The outermost execution shows a recursive call chain once, not once per level.
    if (activeDepth === 1 && e instanceof TemplateError) throw withShortChain(e);
    throw e;
  } finally {
    activeDepth--;
  }
}

/** Lines of a call chain shown after compressing repeats: the innermost and the outermost half. */
const MAX_CHAIN_LINES = 12;

function withShortChain(e: TemplateError): TemplateError {
  const d = e.diagnostics[0];
  if (!d.context || d.context.length < 3) return e;
  let context = compressRepeats(d.context);
  if (context.length > MAX_CHAIN_LINES) {
    const keep = MAX_CHAIN_LINES / 2;
    context = [...context.slice(0, keep), `(${context.length - 2 * keep} more lines of the call chain)`, ...context.slice(-keep)];
  }
  if (context.length === d.context.length) return e;
  return new TemplateError({ ...d, pos: e.pos, context }, e.goError);
}

/**
 * Runs of a repeating block of lines (a call chain through recursive templates) written once, with
 * a note of how often it repeats: "a, b, a, b, a, b, c" → "a, b, (the 2 lines above repeat 2 more times), c".
 */
export function compressRepeats(lines: readonly string[], maxPeriod = 8): string[] {
  const out: string[] = [];
  let i = 0;
  const same = (a: number, b: number, len: number): boolean => {
    for (let k = 0; k < len; k++) if (lines[a + k] !== lines[b + k]) return false;
    return true;
  };
  while (i < lines.length) {
    let best = { period: 0, reps: 1 };
    for (let p = 1; p <= maxPeriod && i + 2 * p <= lines.length; p++) {
      let reps = 1;
      while (i + (reps + 1) * p <= lines.length && same(i, i + reps * p, p)) reps++;
      if (reps > 1 && (reps - 1) * p > (best.reps - 1) * best.period) best = { period: p, reps };
    }
    if (best.period === 0) {
      out.push(lines[i]);
      i++;
      continue;
    }
    out.push(...lines.slice(i, i + best.period));
    const what = best.period === 1 ? "the line above repeats" : `the ${best.period} lines above repeat`;
    out.push(`(${what} ${best.reps - 1} more time${best.reps - 1 === 1 ? "" : "s"})`);
    i += best.period * best.reps;
  }
  return out;
}

/** The integer value of a numeric argument (for the size checks), or undefined. */
function num(v: GoValue): number | undefined {
  const n = v instanceof GoFloat ? v.value : typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(n) ? Math.trunc(n) : undefined;
}

/** Elements of Go's `for i := start; i < stop (or > stop); i += step` as sprig's untilStep runs it. */
function untilStepLen(start: number, stop: number, step: number): number {
  if (stop < start) return step >= 0 ? 0 : Math.ceil((start - stop) / -step);
  return step <= 0 ? 0 : Math.ceil((stop - start) / step);
}

/**
 * The size of what sprig's repeat/until/untilStep/seq would build, checked before the call so that
 * a huge count fails at once instead of exhausting memory; a message when it is over our limits.
 */
function oversized(name: string, argv: GoValue[]): string | undefined {
  let len: number | undefined;
  switch (name) {
    case "repeat": {
      const count = num(argv[0]);
      const chars = typeof argv[1] === "string" ? argv[1].length : undefined;
      if (count !== undefined && chars !== undefined && count * chars > MAX_OUTPUT_CHARS) {
        return `the result would be ${count * chars} characters, over the limit of ${MAX_OUTPUT_CHARS} (16 MiB)`;
      }
      return undefined;
    }
    case "until": {
      const n = num(argv[0]);
      if (n !== undefined) len = Math.abs(n);
      break;
    }
    case "untilStep": {
      const [a, b, c] = argv.map(num);
      if (a !== undefined && b !== undefined && c !== undefined) len = untilStepLen(a, b, c);
      break;
    }
    case "seq": {
      const p = argv.map(num);
      if (p.some((x) => x === undefined)) return undefined;
      const [a, b, c] = p as number[];
      if (p.length === 1) len = Math.abs(a) + 1;
      else if (p.length === 2) len = Math.abs(b - a) + 1;
      else if (p.length === 3 && b !== 0) len = Math.floor(Math.abs(c - a) / Math.abs(b)) + 1;
      break;
    }
    default:
      return undefined;
  }
  if (len !== undefined && len > MAX_LIST_LEN) return `the result would have ${len} elements, over the limit of ${MAX_LIST_LEN}`;
  return undefined;
}

class State {
  readonly out: string[] = [];
  /** Characters in `out`. */
  private size = 0;
  readonly map = new SegmentSourceMap();
  vars: Variable[] = [];
  private node: Node | null = null;

  constructor(
    private readonly env: ExecEnv,
    private tree: Tree,
  ) {}

  // ---- errors ----------------------------------------------------------------

  at(n: Node): void {
    this.node = n;
  }

  error(message: string, hint?: string): TemplateError {
    const n = this.node ?? this.tree.root;
    return execError(this.tree.source, n.pos, this.tree.name, this.node ? nodeString(this.node) : this.tree.name, message, hint);
  }

  // ---- output ------------------------------------------------------------------

  /** One more node executed (or range iteration, which an empty body would not count). */
  private step(): void {
    if (++steps > MAX_EXEC_STEPS) throw this.limitError(`executed more than ${MAX_EXEC_STEPS} template nodes`, STEPS_HINT);
  }

  /** A limit's error at the current node, named by its start only (it may be a text of megabytes). */
  private limitError(message: string, hint: string): TemplateError {
    const n = this.node ?? this.tree.root;
    const what = nodeString(n);
    const short = what.length > 60 ? `${what.slice(0, 57)}...` : what;
    return execError(this.tree.source, n.pos, this.tree.name, short, message, hint);
  }

  private grow(chars: number): void {
    this.size += chars;
    if (this.size > MAX_OUTPUT_CHARS) throw this.limitError(`template output exceeds ${MAX_OUTPUT_CHARS} characters (16 MiB)`, OUTPUT_HINT);
  }

  private write(text: string, srcOffset: number, verbatim: boolean): void {
    if (text.length === 0) return;
    this.grow(text.length);
    this.out.push(text);
    this.map.add(text.length, this.tree.source, srcOffset, verbatim);
  }

  // ---- variables -----------------------------------------------------------------

  private mark(): number {
    return this.vars.length;
  }
  private pop(mark: number): void {
    this.vars.length = mark;
  }
  private setVar(name: string, value: GoValue): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i].name === name) {
        this.vars[i].value = value;
        return;
      }
    }
    throw this.error(`undefined variable: ${name}`);
  }
  private setTopVar(n: number, value: GoValue): void {
    this.vars[this.vars.length - n].value = value;
  }
  private varValue(name: string): GoValue {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i].name === name) return this.vars[i].value;
    throw this.error(`undefined variable: ${name}`);
  }

  // ---- walking -----------------------------------------------------------------------

  walk(dot: GoValue, n: Node): Signal {
    this.at(n);
    if (n.kind !== "list" || n.nodes.length > 0) this.step();
    switch (n.kind) {
      case "list":
        for (const c of n.nodes) {
          const sig = this.walk(dot, c);
          if (sig) return sig;
        }
        return undefined;
      case "text":
        this.write(n.text, n.pos, true);
        return undefined;
      case "comment":
        return undefined;
      case "action": {
        const val = this.evalPipeline(dot, n.pipe);
        if (n.pipe.decl.length === 0) this.printValue(n, val);
        return undefined;
      }
      case "if":
      case "with":
        return this.walkIfOrWith(n.kind, dot, n.pipe, n.list, n.elseList);
      case "range":
        return this.walkRange(dot, n);
      case "template":
        this.walkTemplate(dot, n);
        return undefined;
      case "break":
        return "break";
      case "continue":
        return "continue";
      default:
        throw this.error(`unknown node: ${nodeString(n)}`);
    }
  }

  private walkIfOrWith(kind: "if" | "with", dot: GoValue, pipe: PipeNode, list: ListNode, elseList: ListNode | null): Signal {
    const mark = this.mark();
    try {
      const val = this.evalPipeline(dot, pipe);
      if (isTrue(val)) return kind === "with" ? this.walk(val, list) : this.walk(dot, list);
      if (elseList) return this.walk(dot, elseList);
      return undefined;
    } finally {
      this.pop(mark);
    }
  }

  private walkRange(dot: GoValue, r: RangeNode): Signal {
    this.at(r);
    const outer = this.mark();
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.mark();
      const decl = r.pipe.decl;
      const one = (index: GoValue, elem: GoValue): Signal => {
        this.at(r);
        this.step();
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0].ident[0], decl.length > 1 ? index : elem);
          else this.setTopVar(1, elem);
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1].ident[0], elem);
          else this.setTopVar(2, index);
        }
        try {
          return this.walk(elem, r.list);
        } finally {
          this.pop(mark);
        }
      };
      // Elements are visited one by one (no list of pairs is built: `range 100000000` costs no memory).
      if (Array.isArray(val)) {
        if (val.length > 0) {
          for (let i = 0; i < val.length; i++) if (one(i, val[i]) === "break") break;
          return undefined;
        }
      } else if (val instanceof Map) {
        if (val.size > 0) {
          for (const k of [...val.keys()].sort(compareKeys)) if (one(k, val.get(k)) === "break") break;
          return undefined;
        }
      } else if (typeof val === "number") {
        if (decl.length > 1) throw this.error(`can't use ${val} to iterate over more than one variable`);
        if (val > 0) {
          for (let i = 0; i < val; i++) if (one(i, i) === "break") break;
          return undefined;
        }
      } else if (val !== undefined && val !== null) {
        throw this.error(`range can't iterate over ${formatValue(val)}`);
      }
      if (r.elseList) return this.walk(dot, r.elseList);
      return undefined;
    } finally {
      this.pop(outer);
    }
  }

  private walkTemplate(dot: GoValue, t: TemplateNode): void {
    this.at(t);
    const tree = this.env.lookup(t.name);
    if (!tree) throw this.error(`template ${JSON.stringify(t.name)} not defined`);
    const newDot = t.pipe ? this.evalPipeline(dot, t.pipe) : undefined;
    this.at(t);
    const site = positionIn(this.tree.source, t.pos);
    let inner: { text: string; map: SegmentSourceMap };
    try {
      inner = executeTree(this.env, tree, newDot);
    } catch (e) {
      if (e instanceof TemplateError) throw e.calledFrom(site, `template ${JSON.stringify(t.name)} called`, e.goError);
      throw e;
    }
    // Keep the inner template's own source map for its output.
    this.grow(inner.text.length);
    this.out.push(inner.text);
    this.map.append(inner.map, inner.text.length);
  }

  // ---- evaluation ----------------------------------------------------------------------

  evalPipeline(dot: GoValue, pipe: PipeNode): GoValue {
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      // An interface holding nil is no value at all once it leaves a command.
      if (value === null) value = undefined;
    }
    const v = value === MISSING ? undefined : value;
    for (const variable of pipe.decl) {
      if (pipe.isAssign) this.setVar(variable.ident[0], v);
      else this.vars.push({ name: variable.ident[0], value: v });
    }
    return v;
  }

  private notAFunction(args: Node[], final: Final): void {
    if (args.length > 1 || final !== MISSING) throw this.error(`can't give argument to non-function ${nodeString(args[0])}`);
  }

  private evalCommand(dot: GoValue, cmd: CommandNode, final: Final): GoValue {
    const first = cmd.args[0];
    switch (first.kind) {
      case "field":
        return this.evalFieldNode(dot, first, cmd.args, final);
      case "chain":
        return this.evalChainNode(dot, first, cmd.args, final);
      case "identifier":
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case "pipe":
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case "variable":
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.kind) {
      case "bool":
        return first.value;
      case "dot":
        return dot;
      case "nil":
        throw this.error("nil is not a command");
      case "number":
        return this.idealConstant(first);
      case "string":
        return first.text;
    }
    throw this.error(`can't evaluate command ${JSON.stringify(nodeString(first))}`);
  }

  private idealConstant(n: NumberNode): GoValue {
    this.at(n);
    if (n.isFloat && isFloatLiteral(n.text)) return new GoFloat(n.float);
    if (n.isInt) return n.int;
    return new GoFloat(n.float);
  }

  private evalFieldNode(dot: GoValue, field: FieldNode, args: Node[] | null, final: Final): GoValue {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: GoValue, chain: ChainNode, args: Node[] | null, final: Final): GoValue {
    this.at(chain);
    if (chain.node.kind === "nil") throw this.error(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, chain.node, false);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: GoValue, v: VariableNode, args: Node[] | null, final: Final): GoValue {
    this.at(v);
    const value = this.varValue(v.ident[0]);
    if (v.ident.length === 1) {
      if (args) this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  private evalFieldChain(dot: GoValue, receiver: GoValue, node: Node, ident: string[], args: Node[] | null, final: Final): GoValue {
    const n = ident.length;
    let fromMap = false;
    for (let i = 0; i < n - 1; i++) {
      const next = this.evalField(dot, ident[i], node, null, MISSING, receiver, fromMap);
      fromMap = receiver instanceof Map;
      receiver = next;
    }
    return this.evalField(dot, ident[n - 1], node, args, final, receiver, fromMap);
  }

  /** `fromMap`: the receiver was read from a map[string]interface{}, so Go calls its type "interface {}". */
  private evalField(dot: GoValue, fieldName: string, node: Node, args: Node[] | null, final: Final, receiver: GoValue, fromMap: boolean): GoValue {
    if (receiver === undefined) return undefined;
    if (receiver === null) throw this.error(`nil pointer evaluating interface {}.${fieldName}`);
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    if (isGoObject(receiver)) {
      const method = receiver.method(fieldName);
      if (method) return this.evalCall(dot, method, false, node, fieldName, args, final);
      const f = receiver.field(fieldName);
      if (f !== NO_FIELD) {
        if (hasArgs) throw this.error(`${fieldName} has arguments but cannot be invoked as function`);
        return f;
      }
      throw this.error(`can't evaluate field ${fieldName} in type ${receiver.goType}`);
    }
    if (receiver instanceof Map) {
      if (hasArgs) throw this.error(`${fieldName} is not a method but has arguments`);
      return receiver.get(fieldName);
    }
    throw this.error(`can't evaluate field ${fieldName} in type ${fromMap ? "interface {}" : goTypeName(receiver)}`);
  }

  private evalFunction(dot: GoValue, node: IdentifierNode, cmd: Node, args: Node[] | null, final: Final): GoValue {
    this.at(node);
    const name = node.ident;
    let fn = this.env.funcs.get(name);
    let isBuiltin = false;
    if (!fn) {
      fn = this.env.builtins.get(name);
      isBuiltin = fn !== undefined;
    }
    if (!fn) throw this.error(`${JSON.stringify(name)} is not a defined function`);
    return this.evalCall(dot, fn, isBuiltin, cmd, name, args, final);
  }

  private evalCall(dot: GoValue, fn: GoFunc, isBuiltin: boolean, node: Node, name: string, argNodes: Node[] | null, final: Final): GoValue {
    const args = argNodes ? argNodes.slice(1) : [];
    const numIn = args.length + (final !== MISSING ? 1 : 0);
    if (fn.maxArgs === Infinity || fn.minArgs !== fn.maxArgs) {
      if (numIn < fn.minArgs) throw this.error(`wrong number of args for ${name}: want at least ${fn.minArgs} got ${args.length}`);
      if (numIn > fn.maxArgs) throw this.error(`wrong number of args for ${name}: want at most ${fn.maxArgs} got ${numIn}`);
    } else if (numIn !== fn.minArgs) {
      throw this.error(`wrong number of args for ${name}: want ${fn.minArgs} got ${numIn}`);
    }

    if (isBuiltin && (name === "and" || name === "or")) {
      let v: GoValue = undefined;
      for (const a of args) {
        v = this.evalArg(dot, a, true);
        if (isTrue(v) === (name === "or")) return v;
      }
      if (final !== MISSING) v = final === undefined ? null : final;
      return v;
    }

    // Builtins take reflect.Value and see "no value" as such; other functions get nil.
    const argv: GoValue[] = args.map((a) => this.evalArg(dot, a, !isBuiltin));
    if (final !== MISSING) argv.push(final === undefined && !isBuiltin ? null : final);

    if (isBuiltin && name === "call") return this.callBuiltin(node, args, argv);

    if (!isBuiltin) {
      const tooBig = oversized(name, argv);
      if (tooBig) {
        this.at(node);
        throw this.error(`error calling ${name}: ${tooBig}`, "this is stapel2docker's limit on what one function call may build (Go would try to allocate it)");
      }
    }

    try {
      return fn.call(...argv);
    } catch (e) {
      this.at(node);
      throw this.callError(name, e);
    }
  }

  /** Go's builtin `call FN ARGS...`: the function's own name in messages is its node's text. */
  private callBuiltin(node: Node, args: Node[], argv: GoValue[]): GoValue {
    const fname = args.length > 0 ? nodeString(args[0]) : "call";
    const fn = argv[0];
    this.at(node);
    if (fn === null || fn === undefined) throw this.error("error calling call: call of nil");
    if (!isGoFunc(fn)) throw this.error(`error calling call: non-function ${fname} of type ${goTypeName(fn)}`);
    const rest = argv.slice(1);
    if (fn.maxArgs === Infinity ? rest.length < fn.minArgs : rest.length < fn.minArgs || rest.length > fn.maxArgs) {
      const want = fn.maxArgs === Infinity ? `at least ${fn.minArgs}` : String(fn.minArgs);
      throw this.error(`error calling call: wrong number of args for ${fname}: got ${rest.length} want ${want}`);
    }
    try {
      return fn.call(...rest);
    } catch (e) {
      throw this.callError("call", this.callError(fname, e));
    }
  }

  /** "error calling NAME: msg"; errors of nested templates (include, tpl) keep their own position. */
  private callError(name: string, e: unknown): TemplateError {
    if (e instanceof TemplateError) {
      const outer = this.error(`error calling ${name}: ${e.goError}`);
      const how = name === "include" ? "included" : name === "tpl" ? "rendered by tpl" : `called by ${name}`;
      const site = outer.pos;
      return e.calledFrom(site, how, outer.goError);
    }
    if (e instanceof RangeError && e.message.includes("call stack")) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    return this.error(`error calling ${name}: ${msg}`, e instanceof FuncError ? e.hint : undefined);
  }

  /** Evaluate an argument; `toNil` turns "no value" into nil as Go does for interface{} parameters. */
  private evalArg(dot: GoValue, n: Node, toNil: boolean): GoValue {
    this.at(n);
    let v: GoValue;
    switch (n.kind) {
      case "dot":
        v = dot;
        break;
      case "nil":
        return null;
      case "field":
        v = this.evalFieldNode(dot, n, [n], MISSING);
        break;
      case "variable":
        v = this.evalVariableNode(dot, n, null, MISSING);
        break;
      case "pipe":
        v = this.evalPipeline(dot, n);
        break;
      case "identifier":
        v = this.evalFunction(dot, n, n, null, MISSING);
        break;
      case "chain":
        v = this.evalChainNode(dot, n, null, MISSING);
        break;
      case "bool":
        return n.value;
      case "number":
        return this.idealConstant(n);
      case "string":
        return n.text;
      default:
        throw this.error(`can't handle ${nodeString(n)} for arg`);
    }
    return toNil && v === undefined ? null : v;
  }

  private printValue(n: Node, v: GoValue): void {
    this.at(n);
    let s: string;
    if (v === undefined) s = "<no value>";
    else if (isGoFunc(v)) throw this.error(`can't print ${nodeString(n)} of type func`);
    else {
      try {
        s = formatValue(v);
      } catch (e) {
        // a value too big to print (src/template/expansion.ts), at the action that prints it
        if (e instanceof ExpansionError) throw this.error(e.message);
        throw e;
      }
    }
    const nested = typeof v === "string" && s.length > 0 ? this.env.nestedMaps?.get(s) : undefined;
    if (nested) {
      this.grow(s.length);
      this.out.push(s);
      this.map.append(nested, s.length);
    } else this.write(s, n.pos, false);
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
