// Number literals of the template language (Go's parse.NumberNode rules).

export interface NumberValue {
  isInt: boolean;
  isFloat: boolean;
  int: number;
  float: number;
}

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/** Go's strconv.ParseInt(text, 0, 64) as a BigInt, or undefined when it is not an integer literal. */
export function parseGoInt(text: string): bigint | undefined {
  let s = text;
  let neg = false;
  if (s.startsWith("+") || s.startsWith("-")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  let base = 10;
  let digits = s;
  let prefixed = false;
  if (/^0[xX]/.test(s)) [base, digits, prefixed] = [16, s.slice(2), true];
  else if (/^0[oO]/.test(s)) [base, digits, prefixed] = [8, s.slice(2), true];
  else if (/^0[bB]/.test(s)) [base, digits, prefixed] = [2, s.slice(2), true];
  else if (/^0[0-9_]/.test(s)) [base, digits] = [8, s.slice(1)];
  if (!underscoreOK(s)) return undefined;
  digits = digits.replace(/_/g, "");
  if (digits === "") return prefixed || s !== "0" ? (s === "0" ? 0n : undefined) : 0n;
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[base as 2 | 8 | 10 | 16];
  if (!valid.test(digits)) return undefined;
  const prefix = { 2: "0b", 8: "0o", 10: "", 16: "0x" }[base as 2 | 8 | 10 | 16];
  const v = BigInt(prefix + digits) * (neg ? -1n : 1n);
  return v;
}

/** Go's underscoreOK: underscores only between digits or after a base prefix. */
function underscoreOK(s: string): boolean {
  if (!s.includes("_")) return true;
  let saw = "^";
  let i = 0;
  let hex = false;
  if (s.length >= 2 && s[0] === "0" && /[xXbBoO]/.test(s[1])) {
    hex = /[xX]/.test(s[1]);
    i = 2;
    saw = "0";
  }
  for (; i < s.length; i++) {
    const c = s[i];
    if (/[0-9]/.test(c) || (hex && /[a-fA-F]/.test(c))) saw = "0";
    else if (c === "_") {
      if (saw !== "0") return false;
      saw = "_";
    } else {
      if (saw === "_") return false;
      saw = "!";
    }
  }
  return saw !== "_";
}

/** strconv.ParseFloat(text, 64) for Go float literals (decimal and hex), or undefined. */
export function parseGoFloat(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith("+") || s.startsWith("-")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (!underscoreOK(s)) return undefined;
  s = s.replace(/_/g, "");
  if (/^0[xX]/.test(s)) {
    const m = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/.exec(s);
    if (!m || (m[1] === "" && (m[2] ?? "") === "")) return undefined;
    const frac = m[2] ?? "";
    const mant = parseInt((m[1] || "0") + frac, 16);
    return sign * mant * Math.pow(2, Number(m[3]) - 4 * frac.length);
  }
  if (!/^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(s)) {
    if (/^(inf|infinity)$/i.test(s)) return sign * Infinity;
    if (/^nan$/i.test(s)) return NaN;
    return undefined;
  }
  return sign * Number(s);
}

/** Classify a number literal like parse.newNumber; a string result is Go's error message. */
export function parseNumber(text: string): NumberValue | string {
  if (/i$/.test(text)) return `complex numbers are not supported: ${JSON.stringify(text)}`;
  const i = parseGoInt(text);
  if (i !== undefined && i >= INT64_MIN && i <= INT64_MAX) {
    return { isInt: true, isFloat: true, int: Number(i), float: Number(i) };
  }
  if (i !== undefined) return `integer overflow: ${JSON.stringify(text)}`;
  const f = parseGoFloat(text);
  if (f !== undefined && !Number.isNaN(f)) {
    if (!/[.eEpP]/.test(text)) return `integer overflow: ${JSON.stringify(text)}`;
    const isInt = Number.isInteger(f) && Math.abs(f) < 2 ** 63;
    return { isInt, isFloat: true, int: isInt ? f : 0, float: f };
  }
  return `illegal number syntax: ${JSON.stringify(text)}`;
}

/** Go's idealConstant rule: a literal with ".eEpP" (and not hex int or rune) is a float64. */
export function isFloatLiteral(text: string): boolean {
  if (text.startsWith("'")) return false;
  if (/^[+-]?0[xX]/.test(text) && !/[pP]/.test(text)) return false;
  return /[.eEpP]/.test(text);
}
