// Go values as the template engine sees them.
//
// werf renders werf.yaml with Go's text/template, so every value that flows
// through a template has a Go type. We keep the distinctions that change what a
// template prints:
//
//   Go                      JS
//   ----------------------  ------------------------------------------------
//   nil (interface/pointer) null
//   missing map key         undefined   (prints "<no value>" at top level)
//   string                  string
//   bool                    boolean
//   int, int64, uint8 ...   number      (always an integer)
//   float64                 GoFloat     (1.0 is still a float: prints "1")
//   []interface{}           GoValue[]
//   map[string]interface{}  GoMap       (a JS Map; Go prints maps by sorted key)
//   struct / pointer        GoObject    (.Files, .Commit: fields and methods)
//   func                    GoFunc
//
// Nothing else may enter the engine: functions convert their results.

export class GoFloat {
  constructor(readonly value: number) {}
}

export type GoMap = Map<string, GoValue>;

/** A Go struct (or pointer to one) exposed to templates: fields and methods by name. */
export interface GoObject {
  /** Go type name used in error messages, e.g. "*config.Files". */
  readonly goType: string;
  /** The field's value, or NO_FIELD when the struct has no such field. */
  field(name: string): GoValue | typeof NO_FIELD;
  /** The method, or undefined when there is none. */
  method(name: string): GoFunc | undefined;
  /** What fmt prints when the type implements fmt.Stringer (time.Time, *semver.Version); absent otherwise. */
  string?(): string;
  /** What encoding/json writes when the type implements json.Marshaler, as a value to encode instead. */
  marshalJSON?(): GoValue;
}

export const NO_FIELD: unique symbol = Symbol("no field");

/**
 * A function callable from templates. Go checks the argument count before the
 * call ("wrong number of args for NAME: want N got M"); maxArgs = Infinity for
 * variadic functions. A thrown Error becomes "error calling NAME: <message>".
 */
export interface GoFunc {
  readonly kind: "func";
  readonly minArgs: number;
  readonly maxArgs: number;
  call(...args: GoValue[]): GoValue;
}

export type GoValue =
  | null
  | undefined
  | string
  | boolean
  | number
  | GoFloat
  | GoValue[]
  | GoMap
  | GoObject
  | GoFunc;

export type FuncMap = Map<string, GoFunc>;

/** Declare a template function. */
export function goFunc(minArgs: number, maxArgs: number, call: (...args: GoValue[]) => GoValue): GoFunc {
  return { kind: "func", minArgs, maxArgs, call };
}

export function isGoFunc(v: GoValue): v is GoFunc {
  return typeof v === "object" && v !== null && !(v instanceof Map) && !Array.isArray(v) && !(v instanceof GoFloat) && (v as GoFunc).kind === "func";
}

export function isGoObject(v: GoValue): v is GoObject {
  return typeof v === "object" && v !== null && !(v instanceof Map) && !Array.isArray(v) && !(v instanceof GoFloat) && typeof (v as GoObject).field === "function";
}

export function isGoMap(v: GoValue): v is GoMap {
  return v instanceof Map;
}

/** Go's type name of a value, as Go's error messages print it. */
export function goTypeName(v: GoValue): string {
  if (v === null || v === undefined) return "<nil>";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return "int";
  if (v instanceof GoFloat) return "float64";
  if (Array.isArray(v)) return "[]interface {}";
  if (v instanceof Map) return "map[string]interface {}";
  if (isGoFunc(v)) return "func";
  return v.goType;
}

/**
 * Go's truth: false, 0, nil, empty string/list/map are false (text/template
 * `isTrue`). Structs are always true.
 */
export function isTrue(v: GoValue): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === "string") return v.length > 0;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (v instanceof GoFloat) return v.value !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  return true;
}

/** Convert plain JS data (JSON/YAML results) into Go values. */
export function fromJS(x: unknown, numbers: "int-or-float" | "float" = "int-or-float"): GoValue {
  if (x === null || x === undefined) return null;
  if (typeof x === "string" || typeof x === "boolean") return x;
  if (typeof x === "number") {
    if (numbers === "float" || !Number.isInteger(x)) return new GoFloat(x);
    return x;
  }
  if (typeof x === "bigint") return Number(x);
  if (x instanceof GoFloat) return x;
  if (Array.isArray(x)) return x.map((e) => fromJS(e, numbers));
  if (x instanceof Map) {
    const m: GoMap = new Map();
    for (const [k, v] of x) m.set(String(k), fromJS(v, numbers));
    return m;
  }
  if (x instanceof Date) return x.toISOString();
  if (typeof x === "object") {
    const m: GoMap = new Map();
    for (const [k, v] of Object.entries(x as Record<string, unknown>)) m.set(k, fromJS(v, numbers));
    return m;
  }
  return String(x);
}

/** Convert Go values to plain JS data (for JSON/YAML encoding). */
export function toJS(v: GoValue): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof GoFloat) return v.value;
  if (Array.isArray(v)) return v.map(toJS);
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const k of [...v.keys()].sort()) o[k] = toJS(v.get(k));
    return o;
  }
  if (isGoFunc(v) || isGoObject(v)) return null;
  return v;
}
