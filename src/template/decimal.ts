// Exact decimal digits of a float64 and Go's rounding (strconv's decimal type),
// for fmt's %e %f %g with a precision: round half to even on the exact value.

export interface Digits {
  /** Significant digits, no leading or trailing zeros ("" for zero). */
  d: string;
  /** Decimal point position: value = 0.d × 10^dp. */
  dp: number;
}

/** The exact decimal expansion of |f| (finite). */
export function exactDigits(f: number): Digits {
  const a = Math.abs(f);
  if (a === 0) return { d: "", dp: 0 };
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, a);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (expBits === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = expBits - 1075;
  }
  let digits: string;
  let dp: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    dp = digits.length;
  } else {
    const k = -exp;
    digits = (mant * 5n ** BigInt(k)).toString();
    dp = digits.length - k;
  }
  const lead = digits.length - digits.replace(/^0+/, "").length;
  digits = digits.slice(lead);
  digits = digits.replace(/0+$/, "");
  return { d: digits, dp };
}

/** Round to `nd` significant digits, half to even (strconv decimal.Round). */
export function roundDigits(x: Digits, nd: number): Digits {
  if (nd < 0) return { d: "", dp: x.dp };
  if (nd >= x.d.length) return x;
  const next = x.d.charCodeAt(nd) - 48;
  let up: boolean;
  if (next > 5) up = true;
  else if (next < 5) up = false;
  else if (nd + 1 < x.d.length) up = true;
  else up = nd > 0 && (x.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  if (!up) return { d: x.d.slice(0, nd).replace(/0+$/, ""), dp: x.dp };
  // Round up: add one at position nd-1, carrying.
  const arr = x.d.slice(0, nd).split("").map(Number);
  let i = nd - 1;
  while (i >= 0 && arr[i] === 9) {
    arr[i] = 0;
    i--;
  }
  if (i < 0) return { d: "1", dp: x.dp + 1 };
  arr[i]++;
  return { d: arr.slice(0, i + 1).join(""), dp: x.dp };
}

function digitAt(x: Digits, i: number): string {
  return i >= 0 && i < x.d.length ? x.d[i] : "0";
}

/** %e body with `prec` digits after the point (Go's fmtE), of already rounded digits. */
export function formatE(x: Digits, prec: number, upper: boolean, sharp = false): string {
  let s = x.d.length === 0 ? "0" : x.d[0];
  if (prec > 0 || sharp) s += ".";
  for (let i = 1; i <= prec; i++) s += digitAt(x, i);
  const exp = x.d.length === 0 ? 0 : x.dp - 1;
  const a = Math.abs(exp);
  return s + (upper ? "E" : "e") + (exp < 0 ? "-" : "+") + (a < 10 ? "0" : "") + a;
}

/** %f body with `prec` digits after the point (Go's fmtF), of already rounded digits. */
export function formatF(x: Digits, prec: number, sharp = false): string {
  let s = "";
  if (x.dp > 0) {
    for (let i = 0; i < x.dp; i++) s += digitAt(x, i);
  } else s = "0";
  if (prec > 0 || sharp) s += ".";
  for (let i = 0; i < prec; i++) s += digitAt(x, x.dp + i);
  return s;
}

/** strconv.FormatFloat(|f|, 'e'|'f'|'g', prec, 64) for prec >= 0. */
export function formatFixed(f: number, verb: "e" | "E" | "f" | "F" | "g" | "G", prec: number): string {
  const exact = exactDigits(f);
  switch (verb) {
    case "e":
    case "E":
      return formatE(roundDigits(exact, prec + 1), prec, verb === "E");
    case "f":
    case "F":
      return formatF(roundDigits(exact, exact.dp + prec), prec);
    default: {
      let p = prec === 0 ? 1 : prec;
      const digs = roundDigits(exact, p);
      const nd = digs.d.length;
      let eprec = p;
      if (eprec > nd && nd >= digs.dp) eprec = nd;
      const exp = digs.dp - 1;
      if (digs.d.length > 0 && (exp < -4 || exp >= eprec)) {
        if (p > nd) p = nd;
        return formatE(digs, p - 1, verb === "G");
      }
      if (p > digs.dp) p = nd;
      return formatF(digs, Math.max(p - digs.dp, 0));
    }
  }
}
