// The predefined functions of text/template (funcs.go), with Go's semantics and error texts.
// `and`, `or` (short-circuit) and `call` are executed by exec.ts; they are listed
// here so that the parser knows them and arity is checked.
import { sprint, sprintf, sprintln } from "./printf.js";
import { type FuncMap, type GoValue, GoFloat, goFunc, goTypeName, isTrue } from "./value.js";

type Kind = "bool" | "int" | "float" | "string" | "invalid" | "other";

function basicKind(v: GoValue): Kind {
  if (v === null || v === undefined) return "invalid";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return "int";
  if (v instanceof GoFloat) return "float";
  if (typeof v === "string") return "string";
  return "other";
}

const errBadComparisonType = "invalid type for comparison";
const errBadComparison = "incompatible types for comparison";
const errNoComparison = "missing argument for comparison";

function num(v: GoValue): number {
  return v instanceof GoFloat ? v.value : (v as number);
}

function eq(arg1: GoValue, ...rest: GoValue[]): boolean {
  if (rest.length === 0) throw new Error(errNoComparison);
  const k1 = basicKind(arg1);
  for (const arg of rest) {
    const k2 = basicKind(arg);
    let truth = false;
    if (k1 !== k2) {
      if (k1 !== "invalid" && k2 !== "invalid") throw new Error(errBadComparison);
    } else {
      switch (k1) {
        case "bool":
        case "int":
        case "string":
          truth = arg1 === arg;
          break;
        case "float":
          truth = num(arg1) === num(arg);
          break;
        case "invalid":
          truth = true;
          break;
        default:
          if (Array.isArray(arg1) || arg1 instanceof Map) throw new Error(`non-comparable type ${sprint([arg1])}: ${goTypeName(arg1)}`);
          if (Array.isArray(arg) || arg instanceof Map) throw new Error(`non-comparable type ${sprint([arg])}: ${goTypeName(arg)}`);
          truth = arg1 === arg;
      }
    }
    if (truth) return true;
  }
  return false;
}

function lt(a: GoValue, b: GoValue): boolean {
  const k1 = basicKind(a);
  if (k1 === "invalid" || k1 === "other") throw new Error(errBadComparisonType);
  const k2 = basicKind(b);
  if (k2 === "invalid" || k2 === "other") throw new Error(errBadComparisonType);
  if (k1 !== k2) throw new Error(errBadComparison);
  switch (k1) {
    case "bool":
      throw new Error(errBadComparisonType);
    case "string":
      return Buffer.compare(Buffer.from(a as string), Buffer.from(b as string)) < 0;
    default:
      return num(a) < num(b);
  }
}

function indexArg(index: GoValue, cap: number): number {
  if (index === null || index === undefined) throw new Error("cannot index slice/array with nil");
  if (typeof index !== "number") throw new Error(`cannot index slice/array with type ${goTypeName(index)}`);
  if (index < 0 || index > cap) throw new Error(`index out of range: ${index}`);
  return index;
}

function index(item: GoValue, ...indexes: GoValue[]): GoValue {
  if (item === null || item === undefined) throw new Error("index of untyped nil");
  for (const ix of indexes) {
    if (item === null || item === undefined) throw new Error("index of nil pointer");
    if (Array.isArray(item)) {
      const x = indexArg(ix, item.length);
      if (x >= item.length) throw new Error(`reflect: slice index out of range`);
      item = item[x];
    } else if (typeof item === "string") {
      const bytes = Buffer.from(item, "utf8");
      const x = indexArg(ix, bytes.length);
      if (x >= bytes.length) throw new Error(`reflect: string index out of range`);
      item = bytes[x];
    } else if (item instanceof Map) {
      if (ix === null || ix === undefined) throw new Error("value is nil; should be of type string");
      if (typeof ix !== "string") throw new Error(`value has type ${goTypeName(ix)}; should be string`);
      item = item.has(ix) ? item.get(ix)! : null;
    } else {
      throw new Error(`can't index item of type ${goTypeName(item)}`);
    }
  }
  return item;
}

function slice(item: GoValue, ...indexes: GoValue[]): GoValue {
  if (item === null || item === undefined) throw new Error("slice of untyped nil");
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  let len: number;
  if (typeof item === "string") {
    if (indexes.length === 3) throw new Error("cannot 3-index slice a string");
    len = Buffer.byteLength(item, "utf8");
  } else if (Array.isArray(item)) len = item.length;
  else throw new Error(`can't slice item of type ${goTypeName(item)}`);
  const idx = [0, len, len];
  indexes.forEach((ix, i) => (idx[i] = indexArg(ix, len)));
  if (idx[0] > idx[1]) throw new Error(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1] > idx[2]) throw new Error(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (typeof item === "string") return Buffer.from(item, "utf8").subarray(idx[0], idx[1]).toString("utf8");
  return item.slice(idx[0], idx[1]);
}

function length(item: GoValue): number {
  if (item === undefined) throw new Error("reflect: call of reflect.Value.Type on zero Value");
  if (item === null) throw new Error("len of nil pointer");
  if (typeof item === "string") return Buffer.byteLength(item, "utf8");
  if (Array.isArray(item)) return item.length;
  if (item instanceof Map) return item.size;
  throw new Error(`len of type ${goTypeName(item)}`);
}

/** The text html/js/urlquery work on: a single string argument, else fmt.Sprint of all. */
function evalArgs(args: GoValue[]): string {
  if (args.length === 1 && typeof args[0] === "string") return args[0];
  return sprint(args);
}

export function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => ({ "\0": "\ufffd", '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]!);
}

export function jsEscape(s: string): string {
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) {
      switch (ch) {
        case "\\":
          out += "\\\\";
          continue;
        case "'":
          out += "\\'";
          continue;
        case '"':
          out += '\\"';
          continue;
        case "<":
          out += "\\u003C";
          continue;
        case ">":
          out += "\\u003E";
          continue;
        case "&":
          out += "\\u0026";
          continue;
        case "=":
          out += "\\u003D";
          continue;
      }
      if (c < 0x20 || c === 0x7f) out += "\\u" + c.toString(16).toUpperCase().padStart(4, "0");
      else out += ch;
    } else if (/[\p{L}\p{M}\p{N}\p{P}\p{S}\u0020]/u.test(ch)) {
      out += ch;
    } else {
      out += "\\u" + c.toString(16).toUpperCase().padStart(4, "0");
    }
  }
  return out;
}

/** url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

export function builtinFuncs(): FuncMap {
  return new Map([
    ["and", goFunc(1, Infinity, (...a) => a[a.length - 1])],
    ["or", goFunc(1, Infinity, (...a) => a[a.length - 1])],
    ["call", goFunc(1, Infinity, () => null)],
    ["not", goFunc(1, 1, (a) => !isTrue(a))],
    ["len", goFunc(1, 1, length)],
    ["index", goFunc(1, Infinity, index)],
    ["slice", goFunc(1, Infinity, slice)],
    ["eq", goFunc(1, Infinity, eq)],
    ["ne", goFunc(2, 2, (a, b) => !eq(a, b))],
    ["lt", goFunc(2, 2, lt)],
    ["le", goFunc(2, 2, (a, b) => lt(a, b) || eq(a, b))],
    ["gt", goFunc(2, 2, (a, b) => !lt(a, b) && !eq(a, b))],
    ["ge", goFunc(2, 2, (a, b) => !lt(a, b))],
    ["print", goFunc(0, Infinity, (...a) => sprint(a))],
    ["printf", goFunc(1, Infinity, (f, ...a) => sprintf(typeof f === "string" ? f : String(f), a))],
    ["println", goFunc(0, Infinity, (...a) => sprintln(a))],
    ["html", goFunc(0, Infinity, (...a) => htmlEscape(evalArgs(a)))],
    ["js", goFunc(0, Infinity, (...a) => jsEscape(evalArgs(a)))],
    ["urlquery", goFunc(0, Infinity, (...a) => queryEscape(evalArgs(a)))],
  ]);
}

