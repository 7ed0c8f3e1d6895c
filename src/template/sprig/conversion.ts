// Type conversion, JSON and reflection helpers: toJson family, fromJson,
// atoi/int/int64/float64/toDecimal, typeOf/kindOf/typeIs/kindIs, deepEqual.
import { type FuncMap, GoFloat, type GoValue, goFunc } from "../value.js";
import { argString, castFloat64, castInt64, deepEqual, kindName, strval, typeName } from "./args.js";
import { decodeJson, encodeJson } from "./json.js";
import { guardExpansion } from "../expansion.js";

/** strconv.Atoi: optional sign and decimal digits; out of range clamps (sprig ignores the error). */
function atoi(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) return 0;
  const n = BigInt(s);
  if (n > 9223372036854775807n) return Number(9223372036854775807n);
  if (n < -9223372036854775808n) return Number(-9223372036854775808n);
  return Number(n);
}

/** sprig's toDecimal: fmt.Sprint(v) parsed as an octal int64, 0 when that fails. */
function toDecimal(v: GoValue): number {
  const s = strval(v);
  if (!/^[+-]?[0-7]+$/.test(s)) return 0;
  const magnitude = BigInt("0o" + s.replace(/^[+-]/, ""));
  const n = s.startsWith("-") ? -magnitude : magnitude;
  if (n > 9223372036854775807n || n < -9223372036854775808n) return 0;
  return Number(n);
}

export function registerConversion(fm: FuncMap): void {
  const json = (escapeHTML: boolean, indent: string, swallow: boolean) =>
    goFunc(1, 1, (v) => {
      guardExpansion(v, "toJson");
      try {
        return encodeJson(v, { escapeHTML, indent });
      } catch (e) {
        if (swallow) return "";
        throw e;
      }
    });
  fm.set("toJson", json(true, "", true));
  fm.set("mustToJson", json(true, "", false));
  fm.set("toPrettyJson", json(true, "  ", true));
  fm.set("mustToPrettyJson", json(true, "  ", false));
  fm.set("toRawJson", json(false, "", false));
  fm.set("mustToRawJson", json(false, "", false));
  fm.set("fromJson", goFunc(1, 1, (s) => {
    const text = argString(s);
    try {
      return decodeJson(text);
    } catch {
      return null;
    }
  }));
  fm.set("mustFromJson", goFunc(1, 1, (s) => decodeJson(argString(s))));

  fm.set("atoi", goFunc(1, 1, (s) => atoi(argString(s))));
  fm.set("int", goFunc(1, 1, (v) => castInt64(v)));
  fm.set("int64", goFunc(1, 1, (v) => castInt64(v)));
  fm.set("float64", goFunc(1, 1, (v) => new GoFloat(castFloat64(v))));
  fm.set("toDecimal", goFunc(1, 1, toDecimal));

  fm.set("typeOf", goFunc(1, 1, (v) => typeName(v)));
  fm.set("typeIs", goFunc(2, 2, (t, v) => argString(t) === typeName(v)));
  fm.set("typeIsLike", goFunc(2, 2, (t, v) => {
    const target = argString(t);
    const actual = typeName(v);
    return target === actual || "*" + target === actual;
  }));
  fm.set("kindOf", goFunc(1, 1, (v) => kindName(v)));
  fm.set("kindIs", goFunc(2, 2, (t, v) => argString(t) === kindName(v)));
  fm.set("deepEqual", goFunc(2, 2, (a, b) => deepEqual(a, b)));
}
