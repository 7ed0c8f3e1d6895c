// Go's fmt.Sprintf, Sprint and Sprintln for template values.
//
// Verbs: %v %+v %#v %T %s %q %d %b %o %O %x %X %c %U %e %E %f %F %g %G %t %%,
// flags "-+# 0", widths and precisions (also "*" and argument indexes "[n]"),
// and Go's error forms: %!d(string=x), %!v(MISSING), %!(EXTRA ...), %!(NOVERB).
import { guardExpansion } from "./expansion.js";
import { formatFloat, formatValue } from "./format.js";
import { formatFixed } from "./decimal.js";
import { goQuote } from "./strconv.js";
import { GoFloat, type GoValue, goTypeName, isGoFunc, isGoObject } from "./value.js";

interface Flags {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  /** %#v: Go syntax. */
  sharpV?: boolean;
  wid?: number;
  prec?: number;
}

function noFlags(): Flags {
  return { minus: false, plus: false, sharp: false, space: false, zero: false };
}

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Pad to the width: spaces (or zeros to the left when the zero flag is set). */
function pad(s: string, f: Flags, zeroOK = true): string {
  if (f.wid === undefined) return s;
  const n = f.wid - runeCount(s);
  if (n <= 0) return s;
  if (f.minus) return s + " ".repeat(n);
  return (f.zero && zeroOK ? "0" : " ").repeat(n) + s;
}

// ---- integers -------------------------------------------------------------------

function fmtInteger(v: number, base: number, verb: string, f: Flags): string {
  const negative = v < 0;
  let digits = Math.abs(v).toString(base);
  if (verb === "X") digits = digits.toUpperCase();
  let prec = 0;
  if (f.prec !== undefined) {
    prec = f.prec;
    if (prec === 0 && v === 0) return pad("", { ...f, zero: false });
  } else if (f.zero && !f.minus && f.wid !== undefined) {
    prec = f.wid;
    if (negative || f.plus || f.space) prec--;
  }
  if (digits.length < prec) digits = "0".repeat(prec - digits.length) + digits;
  if (f.sharp) {
    if (base === 8 && digits[0] !== "0") digits = "0" + digits;
    if (base === 16) digits = (verb === "X" ? "0X" : "0x") + digits;
    if (base === 2) digits = "0b" + digits;
  }
  if (verb === "O") digits = "0o" + digits;
  if (negative) digits = "-" + digits;
  else if (f.plus) digits = "+" + digits;
  else if (f.space) digits = " " + digits;
  return pad(digits, { ...f, zero: false });
}

function validRune(cp: number): boolean {
  return cp >= 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp < 0xe000);
}

function isPrint(ch: string): boolean {
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch);
}

function asciiOnly(q: string): string {
  return q.replace(/[^\x00-\x7f]/gu, (c) => {
    const cp = c.codePointAt(0)!;
    return cp > 0xffff ? "\\U" + cp.toString(16).padStart(8, "0") : "\\u" + cp.toString(16).padStart(4, "0");
  });
}

function quoteRune(cp: number, ascii = false): string {
  const ch = String.fromCodePoint(cp);
  if (ch === "'") return "'\\''";
  if (ch === '"') return `'"'`;
  const q = goQuote(ch);
  const body = "'" + q.slice(1, -1) + "'";
  return ascii ? asciiOnly(body) : body;
}

function fmtInt(v: number, verb: string, f: Flags): string | undefined {
  switch (verb) {
    case "v":
    case "d":
      return fmtInteger(v, 10, verb, f);
    case "b":
      return fmtInteger(v, 2, verb, f);
    case "o":
    case "O":
      return fmtInteger(v, 8, verb, f);
    case "x":
    case "X":
      return fmtInteger(v, 16, verb, f);
    case "c":
      return pad(validRune(v) ? String.fromCodePoint(v) : "\ufffd", f);
    case "q":
      return pad(quoteRune(validRune(v) ? v : 0xfffd, f.plus), f);
    case "U": {
      const hex = v < 0 ? (2n ** 64n + BigInt(v)).toString(16) : v.toString(16);
      let s = "U+" + hex.toUpperCase().padStart(Math.max(4, f.prec ?? 0), "0");
      if (f.sharp && validRune(v) && isPrint(String.fromCodePoint(v))) s += ` '${String.fromCodePoint(v)}'`;
      return pad(s, { ...f, zero: false });
    }
    case "e":
    case "E":
    case "f":
    case "F":
    case "g":
    case "G":
      return undefined;
  }
  return undefined;
}

// ---- floats -------------------------------------------------------------------------

function floatBits(a: number): { mant: bigint; exp: number } {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, a);
  const hi = buf.getUint32(0);
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(buf.getUint32(4));
  if (expBits === 0) return { mant, exp: -1074 };
  mant |= 1n << 52n;
  return { mant, exp: expBits - 1075 };
}

/** strconv 'x' format with shortest precision: 0x1.8p+01. */
function hexFloat(a: number, upper: boolean): string {
  let body: string;
  if (a === 0) body = "0x0p+00";
  else {
    let { mant, exp } = floatBits(a);
    while (mant < 1n << 52n) {
      mant <<= 1n;
      exp--;
    }
    const frac = (mant & ((1n << 52n) - 1n)).toString(16).padStart(13, "0").replace(/0+$/, "");
    const e = exp + 52;
    const ae = Math.abs(e);
    body = "0x1" + (frac ? "." + frac : "") + "p" + (e < 0 ? "-" : "+") + (ae < 10 ? "0" : "") + ae;
  }
  return upper ? body.toUpperCase() : body;
}

function formatFloatVerb(v: number, verb: string, prec: number | undefined): string {
  const neg = v < 0 || Object.is(v, -0);
  const a = Math.abs(v);
  let body: string;
  switch (verb) {
    case "b": {
      const { mant, exp } = floatBits(a);
      body = `${mant}p${exp < 0 ? "-" : "+"}${Math.abs(exp)}`;
      break;
    }
    case "x":
    case "X":
      body = hexFloat(a, verb === "X");
      break;
    case "e":
    case "E":
    case "f":
    case "F":
      body = formatFixed(a, verb, prec ?? 6);
      break;
    default:
      // %g, %G, %v
      if (prec === undefined || prec < 0) {
        body = formatFloat(a);
        if (verb === "G") body = body.toUpperCase();
      } else body = formatFixed(a, verb === "G" ? "G" : "g", prec);
  }
  return (neg ? "-" : "") + body;
}

/** fmt's "#" flag on floats: keep a decimal point, and trailing zeros for %g/%v. */
function sharpFloat(num: string, verb: string, prec: number | undefined): string {
  if (verb === "b") return num;
  let digits = verb === "v" || verb === "g" || verb === "G" || verb === "x" ? (prec ?? 6) : 0;
  let tail = "";
  let body = num;
  let hasPoint = false;
  let sawNonzero = false;
  const sign = /^[+\- ]/.test(body) ? body[0] : "";
  if (sign) body = body.slice(1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === ".") hasPoint = true;
    else if (c === "p" || c === "P" || ((c === "e" || c === "E") && verb !== "x" && verb !== "X")) {
      tail = body.slice(i);
      body = body.slice(0, i);
      break;
    } else {
      if (c !== "0") sawNonzero = true;
      if (sawNonzero) digits--;
    }
  }
  if (!hasPoint) {
    if (body === "0") digits--;
    body += ".";
  }
  while (digits > 0) {
    body += "0";
    digits--;
  }
  return sign + body + tail;
}

function fmtFloatArg(v: number, verb: string, f: Flags): string | undefined {
  if (!"vbgGxXfFeE".includes(verb)) return undefined;
  if (!Number.isFinite(v)) {
    let s = Number.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
    if (Number.isNaN(v) && (f.plus || f.space)) s = (f.plus ? "+" : " ") + s;
    else if (v > 0 && !f.plus) s = f.space ? " Inf" : "Inf";
    return pad(s, f, false);
  }
  let s = formatFloatVerb(v, verb === "v" ? "g" : verb, f.prec);
  if (!s.startsWith("-")) {
    if (f.plus) s = "+" + s;
    else if (f.space) s = " " + s;
  }
  if (f.sharp) s = sharpFloat(s, verb, f.prec);
  if (f.zero && !f.minus && f.wid !== undefined && runeCount(s) < f.wid) {
    const sign = /^[+\- ]/.test(s) ? s[0] : "";
    const rest = sign ? s.slice(1) : s;
    return sign + "0".repeat(f.wid - runeCount(s)) + rest;
  }
  return pad(s, f);
}

// ---- strings --------------------------------------------------------------------------

function truncate(s: string, f: Flags): string {
  if (f.prec === undefined) return s;
  return [...s].slice(0, f.prec).join("");
}

function hexString(s: string, verb: string, f: Flags): string {
  const bytes = Buffer.from(truncate(s, f), "utf8");
  const parts: string[] = [];
  for (const b of bytes) {
    let h = b.toString(16).padStart(2, "0");
    if (verb === "X") h = h.toUpperCase();
    parts.push(h);
  }
  const prefix = f.sharp ? (verb === "X" ? "0X" : "0x") : "";
  if (f.space) return pad(parts.map((p) => prefix + p).join(" "), f);
  return pad(parts.length ? prefix + parts.join("") : "", f);
}

function fmtStr(s: string, verb: string, f: Flags): string | undefined {
  switch (verb) {
    case "v":
      if (f.sharpV) return pad(goQuote(s), f);
      return pad(truncate(s, f), f);
    case "s":
      return pad(truncate(s, f), f);
    case "q": {
      const t = truncate(s, f);
      if (f.sharp && !/[`\x00-\x08\x0a-\x1f\x7f]/.test(t)) return pad("`" + t + "`", f);
      let q = goQuote(t);
      if (f.plus) q = asciiOnly(q);
      return pad(q, f);
    }
    case "x":
    case "X":
      return hexString(s, verb, f);
  }
  return undefined;
}

// ---- any value ----------------------------------------------------------------------------

function goSyntax(v: GoValue, top: boolean): string {
  if (v === null || v === undefined) return top ? "<nil>" : "interface {}(nil)";
  if (typeof v === "string") return goQuote(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v instanceof GoFloat) return formatFloat(v.value);
  if (Array.isArray(v)) return "[]interface {}{" + v.map((e) => goSyntax(e, false)).join(", ") + "}";
  if (v instanceof Map) {
    const keys = [...v.keys()].sort();
    return "map[string]interface {}{" + keys.map((k) => `${goQuote(k)}:${goSyntax(v.get(k), false)}`).join(", ") + "}";
  }
  return formatValue(v);
}

function badVerb(v: GoValue, verb: string, f: Flags): string {
  if (v === null || v === undefined) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(v)}=${printArg(v, "v", { ...f, sharpV: false }, 0)})`;
}

function printArg(v: GoValue, verb: string, f: Flags, depth: number): string {
  if (v === null || v === undefined) {
    if (verb === "T" || verb === "v") return pad("<nil>", f);
    return badVerb(v, verb, f);
  }
  if (verb === "T") return pad(goTypeName(v), f);
  if (verb === "v" && f.sharpV) return pad(goSyntax(v, depth === 0), f);
  let r: string | undefined;
  if (typeof v === "boolean") r = verb === "v" || verb === "t" ? pad(v ? "true" : "false", f) : undefined;
  else if (typeof v === "number") r = fmtInt(v, verb, f);
  else if (v instanceof GoFloat) r = fmtFloatArg(v.value, verb, f);
  else if (typeof v === "string") r = fmtStr(v, verb, f);
  else if (Array.isArray(v)) {
    r = "[" + v.map((e) => (e === null || e === undefined ? pad("<nil>", f) : printArg(e, verb, f, depth + 1))).join(" ") + "]";
  } else if (v instanceof Map) {
    const keys = [...v.keys()].sort();
    r = "map[" + keys.map((k) => `${printArg(k, verb, f, depth + 1)}:${(() => { const e = v.get(k); return e === null || e === undefined ? pad("<nil>", f) : printArg(e, verb, f, depth + 1); })()}`).join(" ") + "]";
  } else if (isGoObject(v) && v.string && "vsxXq".includes(verb)) {
    // fmt's handleMethods: a fmt.Stringer prints its String() for the string verbs.
    r = fmtStr(v.string(), verb, f);
  } else if (isGoFunc(v) || isGoObject(v)) {
    r = verb === "v" || verb === "s" ? pad(formatValue(v), f) : undefined;
  }
  return r ?? badVerb(v, verb, f);
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: GoValue[]): string {
  for (const a of args) guardExpansion(a, "printf");
  let out = "";
  let argNum = 0;
  let reordered = false;
  let goodArgNum = true;
  const end = format.length;
  let i = 0;

  const argNumber = (): void => {
    // "[n]" selects argument n (1-based).
    if (format[i] !== "[") return;
    reordered = true;
    const close = format.indexOf("]", i);
    const n = close > 0 ? Number(format.slice(i + 1, close)) : NaN;
    if (close < 0 || !Number.isInteger(n) || n < 1 || format.slice(i + 1, close) === "") {
      goodArgNum = false;
      i = close < 0 ? end : close + 1;
      return;
    }
    i = close + 1;
    if (n - 1 < args.length) argNum = n - 1;
    else goodArgNum = false;
  };
  const parseNum = (): number | undefined => {
    let j = i;
    while (j < end && format[j] >= "0" && format[j] <= "9") j++;
    if (j === i) return undefined;
    const n = Number(format.slice(i, j));
    i = j;
    return n;
  };
  const intArg = (): number | undefined => {
    if (argNum >= args.length) return undefined;
    const a = args[argNum++];
    return typeof a === "number" ? a : undefined;
  };

  while (i < end) {
    const pct = format.indexOf("%", i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const f = noFlags();
    goodArgNum = true;
    flags: for (; i < end; i++) {
      switch (format[i]) {
        case "#":
          f.sharp = true;
          break;
        case "0":
          f.zero = !f.minus;
          break;
        case "+":
          f.plus = true;
          break;
        case "-":
          f.minus = true;
          f.zero = false;
          break;
        case " ":
          f.space = true;
          break;
        default:
          break flags;
      }
    }
    argNumber();
    if (format[i] === "*") {
      i++;
      const w = intArg();
      if (w === undefined) out += "%!(BADWIDTH)";
      else {
        f.wid = Math.abs(w);
        if (w < 0) {
          f.minus = true;
          f.zero = false;
        }
      }
    } else {
      const w = parseNum();
      if (w !== undefined) f.wid = w;
    }
    if (format[i] === ".") {
      i++;
      argNumber();
      if (format[i] === "*") {
        i++;
        const p = intArg();
        if (p === undefined || p < 0) out += "%!(BADPREC)";
        else f.prec = p;
      } else {
        f.prec = parseNum() ?? 0;
      }
    }
    argNumber();
    if (i >= end) {
      out += "%!(NOVERB)";
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === "%") {
      out += "%";
      continue;
    }
    if (!goodArgNum) {
      out += `%!${verb}(BADINDEX)`;
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argNum++];
    if (verb === "v") {
      // %#v is Go syntax; %+v only changes structs.
      if (f.sharp) {
        f.sharp = false;
        f.sharpV = true;
      }
      f.plus = false;
    }
    if (verb === "w") {
      out += badVerb(arg, verb, f);
      continue;
    }
    out += printArg(arg, verb, f, 0);
  }
  if (!reordered && argNum < args.length) {
    out += "%!(EXTRA " + args.slice(argNum).map((a) => (a === null || a === undefined ? "<nil>" : `${goTypeName(a)}=${printArg(a, "v", noFlags(), 0)}`)).join(", ") + ")";
  }
  return out;
}

/** fmt.Sprint: spaces between operands when neither is a string. */
export function sprint(args: GoValue[]): string {
  for (const a of args) guardExpansion(a, "print");
  let out = "";
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== "string" && typeof args[i - 1] !== "string") out += " ";
    out += printArg(a, "v", noFlags(), 0);
  });
  return out;
}

/** fmt.Sprintln: spaces between all operands, newline at the end. */
export function sprintln(args: GoValue[]): string {
  for (const a of args) guardExpansion(a, "println");
  return args.map((a) => printArg(a, "v", noFlags(), 0)).join(" ") + "\n";
}
