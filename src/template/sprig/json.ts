// encoding/json as sprig uses it: Marshal (HTML-safe), MarshalIndent, an
// Encoder without HTML escaping, and Unmarshal into interface{} (numbers are float64).
import { formatFloat } from "../format.js";
import { GoFloat, type GoValue, fromJS, isGoFunc, isGoObject } from "../value.js";

/** encoding/json's float formatting: 'f' unless the exponent is < -6 or >= 21, then 'e' with a short exponent. */
function jsonFloat(f: number): string {
  if (!Number.isFinite(f)) throw new Error(`json: unsupported value: ${formatFloat(f)}`);
  const abs = Math.abs(f);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
    // e.g. 1e-07 -> 1e-7
    return f.toExponential();
  }
  return String(f);
}

function jsonString(s: string, escapeHTML: boolean): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (c < 0x20) out += "\\u" + c.toString(16).padStart(4, "0");
    else if (escapeHTML && (ch === "<" || ch === ">" || ch === "&")) out += "\\u" + c.toString(16).padStart(4, "0");
    else if (c === 0x2028 || c === 0x2029) out += "\\u" + c.toString(16);
    else if (c >= 0xd800 && c <= 0xdfff) out += "\\ufffd"; // lone surrogate: invalid UTF-8 in Go
    else out += ch;
  }
  return out + '"';
}

export interface JsonOptions {
  escapeHTML: boolean;
  /** MarshalIndent's indent unit; "" for compact output. */
  indent: string;
}

export function encodeJson(v: GoValue, opts: JsonOptions, depth = 0): string {
  const nl = opts.indent ? "\n" + opts.indent.repeat(depth + 1) : "";
  const close = opts.indent ? "\n" + opts.indent.repeat(depth) : "";
  const colon = opts.indent ? ": " : ":";
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return jsonString(v, opts.escapeHTML);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return String(v);
  if (v instanceof GoFloat) return jsonFloat(v.value);
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return "[" + v.map((e) => nl + encodeJson(e, opts, depth + 1)).join(",") + close + "]";
  }
  if (v instanceof Map) {
    if (v.size === 0) return "{}";
    const keys = [...v.keys()].sort();
    return "{" + keys.map((k) => nl + jsonString(k, opts.escapeHTML) + colon + encodeJson(v.get(k), opts, depth + 1)).join(",") + close + "}";
  }
  if (isGoFunc(v)) throw new Error("json: unsupported type: func()");
  if (isGoObject(v)) return v.marshalJSON ? encodeJson(v.marshalJSON(), opts, depth) : "{}";
  return "null";
}

/** json.Unmarshal into interface{}: objects become maps, numbers float64. */
export function decodeJson(s: string): GoValue {
  let parsed: unknown;
  try {
    parsed = JSON.parse(s);
  } catch (e) {
    const msg = s.trim() === "" ? "unexpected end of JSON input" : `invalid character in JSON input: ${(e as Error).message}`;
    throw new Error(msg);
  }
  return fromJS(parsed, "float");
}
