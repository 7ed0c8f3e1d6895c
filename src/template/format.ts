// Go's fmt "%v" for template values: what {{ . }}, print and sprig's toString print.
import { guardExpansion } from "./expansion.js";
import { GoFloat, type GoValue, isGoFunc } from "./value.js";

/** strconv.FormatFloat(f, 'g', -1, 64) as fmt's %v uses it: shortest digits, %e when exp < -4 || exp >= 6 (strconv's eprec for shortest). */
export function formatFloat(f: number): string {
  if (Number.isNaN(f)) return "NaN";
  if (f === Infinity) return "+Inf";
  if (f === -Infinity) return "-Inf";
  if (f === 0) return Object.is(f, -0) ? "-0" : "0";
  const [mant, expStr] = f.toExponential().split("e");
  const exp = Number(expStr);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? "-" : "+";
    const abs = Math.abs(exp);
    return `${mant}e${sign}${abs < 10 ? "0" : ""}${abs}`;
  }
  return toPlainDecimal(f);
}

/** The shortest digits of `f` without an exponent: strconv.FormatFloat(f, 'f', -1, 64). */
export function toPlainDecimal(f: number): string {
  if (!Number.isFinite(f)) return formatFloat(f);
  // Number#toString switches to exponent form below 1e-6 and above 1e21; expand it by hand.
  const s = String(f);
  if (!s.includes("e")) return s;
  const neg = f < 0;
  const [mant, expStr] = Math.abs(f).toExponential().split("e");
  const exp = Number(expStr);
  const digits = mant.replace(".", "");
  let out: string;
  if (exp < 0) out = "0." + "0".repeat(-exp - 1) + digits;
  else out = digits.length > exp + 1 ? digits.slice(0, exp + 1) + "." + digits.slice(exp + 1) : digits + "0".repeat(exp + 1 - digits.length);
  return (neg ? "-" : "") + out;
}

/** fmt.Sprint-style %v of one value. `undefined` (a missing key) prints as Go's "<no value>" only at template top level; here it is nil. */
export function formatValue(v: GoValue): string {
  if (typeof v === "object" && v !== null) guardExpansion(v, "printing a value");
  return formatInner(v);
}

function formatInner(v: GoValue): string {
  if (v === null || v === undefined) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return String(v);
  if (v instanceof GoFloat) return formatFloat(v.value);
  if (Array.isArray(v)) return "[" + v.map(formatInner).join(" ") + "]";
  if (v instanceof Map) {
    const keys = [...v.keys()].sort();
    return "map[" + keys.map((k) => `${k}:${formatInner(v.get(k))}`).join(" ") + "]";
  }
  if (isGoFunc(v)) return "0x1";
  if (v.string) return v.string();
  return `{${v.goType}}`;
}
