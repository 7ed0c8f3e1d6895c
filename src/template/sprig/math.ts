// sprig's arithmetic (numeric.go and the inline add/sub/mul/div/mod): integer
// functions go through cast.ToInt64 and return int64; the *f family goes
// through shopspring/decimal and returns float64.
import { type FuncMap, GoFloat, type GoValue, goFunc } from "../value.js";
import { argInt, castFloat64, castInt64 } from "./args.js";
import * as dec from "./decimal.js";

/** Go int64 arithmetic wraps; JS numbers lose precision past 2^53, so compute in BigInt and wrap. */
function wrap64(x: bigint): number {
  return Number(BigInt.asIntN(64, x));
}

function intOp(a: number, b: number, op: (x: bigint, y: bigint) => bigint): number {
  return wrap64(op(BigInt(a), BigInt(b)));
}

/** untilStep: Go's loop, collecting ints. */
export function untilStep(start: number, stop: number, step: number): number[] {
  const v: number[] = [];
  if (stop < start) {
    if (step >= 0) return v;
    for (let i = start; i > stop; i += step) v.push(i);
    return v;
  }
  if (step <= 0) return v;
  for (let i = start; i < stop; i += step) v.push(i);
  return v;
}

function seq(...params: number[]): string {
  const join = (xs: number[]) => xs.join(" ");
  switch (params.length) {
    case 1: {
      const end = params[0];
      const inc = end < 1 ? -1 : 1;
      return join(untilStep(1, end + inc, inc));
    }
    case 2: {
      const [start, end] = params;
      const step = end < start ? -1 : 1;
      return join(untilStep(start, end + step, step));
    }
    case 3: {
      const [start, step, end] = params;
      let inc = 1;
      if (end < start) {
        inc = -1;
        if (step > 0) return "";
      }
      return join(untilStep(start, end + inc, step));
    }
    default:
      return "";
  }
}

/** sprig's round(a, places, roundOn=.5). */
function round(a: GoValue, places: number, roundOn = 0.5): number {
  const pow = Math.pow(10, places);
  const digit = pow * castFloat64(a);
  const frac = digit - Math.trunc(digit);
  const r = frac >= roundOn ? Math.ceil(digit) : Math.floor(digit);
  return r / pow;
}

function decimalOp(first: GoValue, rest: GoValue[], op: (a: dec.Decimal, b: dec.Decimal) => dec.Decimal): GoFloat {
  let acc = dec.fromFloat(castFloat64(first));
  for (const x of rest) acc = op(acc, dec.fromFloat(castFloat64(x)));
  return new GoFloat(dec.toFloat(acc));
}

export function registerMath(fm: FuncMap): void {
  const f = (v: number) => new GoFloat(v);
  fm.set("add1", goFunc(1, 1, (a) => intOp(castInt64(a), 1, (x, y) => x + y)));
  fm.set("add", goFunc(0, Infinity, (...xs) => xs.reduce<number>((acc, x) => intOp(acc, castInt64(x), (p, q) => p + q), 0)));
  fm.set("sub", goFunc(2, 2, (a, b) => intOp(castInt64(a), castInt64(b), (x, y) => x - y)));
  fm.set("mul", goFunc(1, Infinity, (a, ...xs) => xs.reduce<number>((acc, x) => intOp(acc, castInt64(x), (p, q) => p * q), castInt64(a))));
  fm.set("div", goFunc(2, 2, (a, b) => {
    const d = castInt64(b);
    if (d === 0) throw new Error("runtime error: integer divide by zero");
    return intOp(castInt64(a), d, (x, y) => x / y);
  }));
  fm.set("mod", goFunc(2, 2, (a, b) => {
    const d = castInt64(b);
    if (d === 0) throw new Error("runtime error: integer divide by zero");
    return intOp(castInt64(a), d, (x, y) => x % y);
  }));
  const max = goFunc(1, Infinity, (a, ...xs) => xs.reduce<number>((acc, x) => Math.max(acc, castInt64(x)), castInt64(a)));
  fm.set("max", max);
  fm.set("biggest", max);
  fm.set("min", goFunc(1, Infinity, (a, ...xs) => xs.reduce<number>((acc, x) => Math.min(acc, castInt64(x)), castInt64(a))));
  fm.set("maxf", goFunc(1, Infinity, (a, ...xs) => f(xs.reduce<number>((acc, x) => Math.max(acc, castFloat64(x)), castFloat64(a)))));
  fm.set("minf", goFunc(1, Infinity, (a, ...xs) => f(xs.reduce<number>((acc, x) => Math.min(acc, castFloat64(x)), castFloat64(a)))));
  fm.set("floor", goFunc(1, 1, (a) => f(Math.floor(castFloat64(a)))));
  fm.set("ceil", goFunc(1, 1, (a) => f(Math.ceil(castFloat64(a)))));
  fm.set("round", goFunc(2, 3, (a, p, on) => {
    const places = argInt(p);
    if (on === undefined) return f(round(a, places));
    if (!(on instanceof GoFloat) && typeof on !== "number") throw new Error(`wrong type for value; expected float64; got ${typeof on}`);
    return f(round(a, places, castFloat64(on)));
  }));
  fm.set("add1f", goFunc(1, 1, (a) => decimalOp(a, [1], dec.add)));
  fm.set("addf", goFunc(0, Infinity, (...xs) => decimalOp(new GoFloat(0), xs, dec.add)));
  fm.set("subf", goFunc(1, Infinity, (a, ...xs) => decimalOp(a, xs, dec.sub)));
  fm.set("mulf", goFunc(1, Infinity, (a, ...xs) => decimalOp(a, xs, dec.mul)));
  fm.set("divf", goFunc(1, Infinity, (a, ...xs) => decimalOp(a, xs, dec.div)));
  fm.set("until", goFunc(1, 1, (c) => {
    const n = argInt(c);
    return untilStep(0, n, n < 0 ? -1 : 1);
  }));
  fm.set("untilStep", goFunc(3, 3, (a, b, c) => untilStep(argInt(a), argInt(b), argInt(c))));
  fm.set("seq", goFunc(0, Infinity, (...ps) => seq(...ps.map(argInt))));
}
