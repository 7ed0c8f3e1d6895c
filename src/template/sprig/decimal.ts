// The slice of shopspring/decimal that sprig's addf/subf/mulf/divf use:
// exact decimal arithmetic on the shortest decimal form of float64 values,
// division rounded half away from zero to 16 places.

export interface Decimal {
  coef: bigint;
  /** value = coef * 10^exp */
  exp: number;
}

/** decimal.NewFromFloat: the shortest decimal that round-trips to f. */
export function fromFloat(f: number): Decimal {
  if (!Number.isFinite(f)) throw new Error(`Cannot create a Decimal from ${f}`);
  const [mant, e] = f.toExponential().split("e");
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  const fracLen = (mant.split(".")[1] ?? "").length;
  const coef = BigInt(digits) * (neg ? -1n : 1n);
  return { coef, exp: Number(e) - fracLen };
}

function align(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const exp = Math.min(a.exp, b.exp);
  return [a.coef * 10n ** BigInt(a.exp - exp), b.coef * 10n ** BigInt(b.exp - exp), exp];
}

export function add(a: Decimal, b: Decimal): Decimal {
  const [x, y, exp] = align(a, b);
  return { coef: x + y, exp };
}

export function sub(a: Decimal, b: Decimal): Decimal {
  const [x, y, exp] = align(a, b);
  return { coef: x - y, exp };
}

export function mul(a: Decimal, b: Decimal): Decimal {
  return { coef: a.coef * b.coef, exp: a.exp + b.exp };
}

const DIVISION_PRECISION = 16;

export function div(a: Decimal, b: Decimal): Decimal {
  if (b.coef === 0n) throw new Error("decimal division by zero");
  // a/b = (a.coef / b.coef) * 10^(a.exp - b.exp); compute to DIVISION_PRECISION places, rounding half away from zero.
  const shift = DIVISION_PRECISION + 1 + a.exp - b.exp;
  let num = a.coef;
  let den = b.coef;
  if (shift >= 0) num *= 10n ** BigInt(shift);
  else den *= 10n ** BigInt(-shift);
  let q = num / den; // truncated, one extra digit
  const neg = q < 0n;
  if (neg) q = -q;
  const last = q % 10n;
  q = q / 10n + (last >= 5n ? 1n : 0n);
  return { coef: neg ? -q : q, exp: -DIVISION_PRECISION };
}

export function toFloat(d: Decimal): number {
  return Number(`${d.coef}e${d.exp}`);
}
