// How Go hands template values to sprig's typed parameters, and the helper
// conversions sprig itself uses (cast.ToInt64, strval, strslice, empty).
//
// text/template converts each argument to the declared Go parameter type before
// the call: a `string` parameter accepts only strings, an `int` only integers,
// `map[string]interface{}` only maps, `interface{}` anything. A mismatch is an
// error before the function runs; here it is thrown as an Error whose message
// names the expectation the way Go does.
import { guardExpansion } from "../expansion.js";
import { formatValue, toPlainDecimal } from "../format.js";
import { GoFloat, type GoMap, type GoValue, goTypeName, isGoFunc, isGoObject } from "../value.js";

function wrongType(expected: string, v: GoValue): Error {
  if (v === null || v === undefined) return new Error(`invalid value; expected ${expected}`);
  return new Error(`wrong type for value; expected ${expected}; got ${goTypeName(v)}`);
}

/** A Go `string` parameter. */
export function argString(v: GoValue): string {
  if (typeof v !== "string") throw wrongType("string", v);
  return v;
}

/** A Go `int` parameter (integer constants and int-typed values only). */
export function argInt(v: GoValue): number {
  if (typeof v === "number") return v;
  throw wrongType("int", v);
}

/** A Go `bool` parameter. */
export function argBool(v: GoValue): boolean {
  if (typeof v !== "boolean") throw wrongType("bool", v);
  return v;
}

/** A Go `map[string]interface{}` parameter. */
export function argMap(v: GoValue): GoMap {
  if (v instanceof Map) return v;
  throw wrongType("map[string]interface {}", v);
}

/** reflect.Kind name of a value (sprig's kindOf and its "Cannot X on type K" errors). */
export function kindName(v: GoValue): string {
  if (v === null || v === undefined) return "invalid";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return "int";
  if (v instanceof GoFloat) return "float64";
  if (Array.isArray(v)) return "slice";
  if (v instanceof Map) return "map";
  if (isGoFunc(v)) return "func";
  return v.goType.startsWith("*") ? "ptr" : "struct";
}

/** fmt's %T of a value (sprig's typeOf). */
export function typeName(v: GoValue): string {
  return goTypeName(v);
}

/**
 * A list argument that sprig inspects with reflect: slices pass, nil makes
 * reflect.TypeOf(nil).Kind() dereference nil (a runtime panic in Go), anything
 * else gets sprig's own message.
 */
export function argList(v: GoValue, failure: (kind: string) => string): GoValue[] {
  if (Array.isArray(v)) return v;
  if (v === null || v === undefined) throw new Error("runtime error: invalid memory address or nil pointer dereference");
  throw new Error(failure(kindName(v)));
}

/** Go's int64 range, as JS numbers can hold it (beyond 2^53 precision is lost). */
const INT64_MAX = 9223372036854775807;
const INT64_MIN = -9223372036854775808;

/** Go's int64(float64) conversion: truncation toward zero; out-of-range values saturate like amd64 does (to MIN). */
export function truncToInt64(f: number): number {
  if (Number.isNaN(f) || f >= INT64_MAX || f < INT64_MIN) return INT64_MIN;
  return Math.trunc(f) || 0;
}

/** strconv.ParseInt(s, 0, 64): optional sign, 0x/0o/0b/0 prefixes, underscores only with a prefix. */
export function parseGoInt(s: string): number | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(s);
  if (!m) return undefined;
  const [, sign, body] = m;
  let digits = body;
  let radix = 10;
  if (/^0[xX]/.test(body)) { radix = 16; digits = body.slice(2); }
  else if (/^0[bB]/.test(body)) { radix = 2; digits = body.slice(2); }
  else if (/^0[oO]/.test(body)) { radix = 8; digits = body.slice(2); }
  else if (body.length > 1 && body[0] === "0") { radix = 8; digits = body.slice(1); }
  if (digits.includes("_")) {
    // Go literal syntax: underscores only between digits (or right after a base prefix).
    if (/__|_$/.test(digits)) return undefined;
    digits = digits.replace(/_/g, "");
  }
  if (digits === "") return radix === 8 ? 0 : undefined;
  const big = BigInt(radix === 10 ? digits : (radix === 16 ? "0x" : radix === 2 ? "0b" : "0o") + digits);
  const signed = sign === "-" ? -big : big;
  if (signed > 9223372036854775807n || signed < -9223372036854775808n) return undefined;
  return Number(signed);
}

/** cast's trimZeroDecimal: "3.00" -> "3" (only a zero fraction is dropped). */
function trimZeroDecimal(s: string): string {
  let foundZero = false;
  for (let i = s.length; i > 0; i--) {
    const c = s[i - 1];
    if (c === ".") return foundZero ? s.slice(0, i - 1) : s;
    if (c === "0") foundZero = true;
    else return s;
  }
  return s;
}

/** cast.ToInt64 (errors become 0), as sprig's add/sub/int64/... use it. */
export function castInt64(v: GoValue): number {
  if (typeof v === "number") return v;
  if (v instanceof GoFloat) return truncToInt64(v.value);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") return parseGoInt(trimZeroDecimal(v)) ?? 0;
  return 0;
}

/** strconv.ParseFloat(s, 64) syntax: decimal or hex floats, inf/infinity/nan, underscores only with a prefix. */
export function parseGoFloat(s: string): number | undefined {
  const t = s;
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  // Each expression here has one way to match a text (no digit run that two parts could share): a backtracking
  // engine then takes linear time on a long run of digits (with `\d+\.?\d*` it was quadratic).
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number(t);
  // ParseFloat accepts underscores between digits (Go literal syntax), also without a base prefix.
  if (/^[+-]?(\d(_?\d)*(\.(\d(_?\d)*)?)?|\.\d(_?\d)*)([eE][+-]?\d(_?\d)*)?$/.test(t)) return Number(t.replace(/_/g, ""));
  const hex = /^([+-]?)0[xX]([0-9a-fA-F_]*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?\d+)$/.exec(t);
  if (hex) {
    const int = hex[2].replace(/_/g, "");
    const frac = (hex[3] ?? "").replace(/_/g, "");
    if (int + frac === "") return undefined;
    const mant = parseInt(int + frac || "0", 16);
    const val = mant * Math.pow(2, Number(hex[4]) - 4 * frac.length);
    return hex[1] === "-" ? -val : val;
  }
  const prefixed = parseGoInt(t);
  return prefixed;
}

/** cast.ToFloat64 (errors become 0). */
export function castFloat64(v: GoValue): number {
  if (typeof v === "number") return v;
  if (v instanceof GoFloat) return v.value;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") return parseGoFloat(v) ?? 0;
  return 0;
}

/** sprig's strval: strings as they are, everything else through fmt's %v. */
export function strval(v: GoValue): string {
  if (typeof v === "string") return v;
  return formatValue(v);
}

/** cast.ToString (used by toDecimal's sibling helpers): floats in 'f' format, nil as "". */
export function castString(v: GoValue): string {
  if (v === null || v === undefined) return "";
  if (v instanceof GoFloat) return formatFloatF(v.value);
  return strval(v);
}

/** strconv.FormatFloat(f, 'f', -1, 64). */
export const formatFloatF = toPlainDecimal;

/** sprig's strslice: a list becomes its non-nil elements as strings; nil becomes []; anything else a one-element list. */
export function strslice(v: GoValue): string[] {
  if (Array.isArray(v)) return v.filter((e) => e !== null && e !== undefined).map(strval);
  if (v === null || v === undefined) return [];
  return [strval(v)];
}

/** sprig's empty: nil, zero numbers, false, and empty strings, lists and maps. Structs are never empty. */
export function isEmpty(v: GoValue): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === "string") return v.length === 0;
  if (typeof v === "boolean") return !v;
  if (typeof v === "number") return v === 0;
  if (v instanceof GoFloat) return v.value === 0;
  if (Array.isArray(v)) return v.length === 0;
  if (v instanceof Map) return v.size === 0;
  if (isGoFunc(v)) return false;
  return false;
}

/** reflect.DeepEqual over Go values: types must match (int 1 is not float64 1). */
export function deepEqual(a: GoValue, b: GoValue): boolean {
  guardExpansion(a, "comparing values");
  guardExpansion(b, "comparing values");
  return equalInner(a, b);
}

function equalInner(a: GoValue, b: GoValue): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === null || b === null) return a === b;
  if (a instanceof GoFloat) return b instanceof GoFloat && a.value === b.value;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => equalInner(x, b[i]));
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, x] of a) {
      if (!b.has(k) || !equalInner(x, b.get(k))) return false;
    }
    return true;
  }
  if (isGoObject(a) || isGoFunc(a)) return a === b;
  return a === b;
}
