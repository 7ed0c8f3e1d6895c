// sprig's dictionary functions (dict.go) over map[string]interface{}.
import { type FuncMap, type GoMap, type GoValue, GoFloat, goFunc } from "../value.js";
import { argMap, argString, isEmpty, strval } from "./args.js";
import { guardExpansion } from "../expansion.js";

/**
 * mergo.Merge / MergeWithOverwrite as sprig calls them on map[string]interface{}:
 * nested maps merge in place, a missing or empty destination value takes the
 * source value, overwrite replaces scalars and lists but never replaces a
 * non-empty destination with a source map, and a nil source value only
 * counts when overwriting.
 */
export function mergeInto(dst: GoMap, src: GoMap, overwrite: boolean): void {
  for (const [key, s] of src) {
    const d = dst.get(key);
    const hasD = dst.has(key);
    if (s === null || s === undefined) {
      if (overwrite) dst.set(key, null);
      continue;
    }
    if (s instanceof Map) {
      if (d instanceof Map) mergeInto(d, s, overwrite);
      if (hasD && !isEmpty(d)) continue;
    } else if (Array.isArray(s)) {
      if (overwrite) {
        dst.set(key, s);
        continue;
      }
      if (hasD && !isEmpty(d)) continue;
    }
    if (overwrite || !hasD || isEmpty(d)) dst.set(key, s);
  }
}

/** copystructure.Copy: a deep copy of maps and lists; scalars are values already. */
export function deepCopy(v: GoValue): GoValue {
  if (Array.isArray(v)) return v.map(deepCopy);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, deepCopy(x)]));
  if (v instanceof GoFloat) return new GoFloat(v.value);
  return v;
}

/** The argument of a map[string]interface{} variadic parameter. */
function mapArgs(args: GoValue[]): GoMap[] {
  return args.map(argMap);
}

function dig(...ps: GoValue[]): GoValue {
  if (ps.length < 3) throw new Error("dig needs at least three arguments");
  const last = ps[ps.length - 1];
  if (!(last instanceof Map)) throw new Error(`interface conversion: interface {} is ${last === null || last === undefined ? "nil" : "not map[string]interface {}"}, not map[string]interface {}`);
  const def = ps[ps.length - 2];
  const keys = ps.slice(0, -2).map((k) => {
    if (typeof k !== "string") throw new Error("interface conversion: interface {} is not string");
    return k;
  });
  let cur: GoMap = last;
  for (let i = 0; i < keys.length; i++) {
    if (!cur.has(keys[i])) return def;
    const step = cur.get(keys[i]);
    if (i === keys.length - 1) return step;
    if (!(step instanceof Map)) throw new Error("interface conversion: interface {} is not map[string]interface {}");
    cur = step;
  }
  return def;
}

export function registerDicts(fm: FuncMap): void {
  fm.set("dict", goFunc(0, Infinity, (...v) => {
    const d: GoMap = new Map();
    for (let i = 0; i < v.length; i += 2) d.set(strval(v[i]), i + 1 < v.length ? v[i + 1] : "");
    return d;
  }));
  fm.set("get", goFunc(2, 2, (d, k) => {
    const m = argMap(d);
    const key = argString(k);
    return m.has(key) ? m.get(key)! : "";
  }));
  fm.set("set", goFunc(3, 3, (d, k, v) => {
    const m = argMap(d);
    m.set(argString(k), v);
    return m;
  }));
  fm.set("unset", goFunc(2, 2, (d, k) => {
    const m = argMap(d);
    m.delete(argString(k));
    return m;
  }));
  fm.set("hasKey", goFunc(2, 2, (d, k) => argMap(d).has(argString(k))));
  fm.set("pluck", goFunc(1, Infinity, (k, ...ds) => {
    const key = argString(k);
    return mapArgs(ds).filter((m) => m.has(key)).map((m) => m.get(key)!);
  }));
  // Go ranges over maps in random order; we give insertion order (tests sort with sortAlpha).
  fm.set("keys", goFunc(0, Infinity, (...ds) => mapArgs(ds).flatMap((m) => [...m.keys()])));
  fm.set("values", goFunc(1, 1, (d) => [...argMap(d).values()]));
  fm.set("pick", goFunc(1, Infinity, (d, ...ks) => {
    const m = argMap(d);
    const out: GoMap = new Map();
    for (const k of ks.map(argString)) if (m.has(k)) out.set(k, m.get(k)!);
    return out;
  }));
  fm.set("omit", goFunc(1, Infinity, (d, ...ks) => {
    const m = argMap(d);
    const drop = new Set(ks.map(argString));
    return new Map([...m].filter(([k]) => !drop.has(k)));
  }));
  const merge = (overwrite: boolean) => goFunc(1, Infinity, (d, ...srcs) => {
    const dst = argMap(d);
    guardExpansion(dst, "merge");
    for (const s of mapArgs(srcs)) (guardExpansion(s, "merge"), mergeInto(dst, s, overwrite));
    return dst;
  });
  fm.set("merge", merge(false));
  fm.set("mustMerge", merge(false));
  fm.set("mergeOverwrite", merge(true));
  fm.set("mustMergeOverwrite", merge(true));
  // copystructure.Copy fails on nil (reflect on a zero Value), in both forms.
  const copy = goFunc(1, 1, (v) => {
    if (v === null || v === undefined) throw new Error("reflect: call of reflect.Value.Type on zero Value");
    guardExpansion(v, "deepCopy");
    return deepCopy(v);
  });
  fm.set("deepCopy", copy);
  fm.set("mustDeepCopy", copy);
  fm.set("dig", goFunc(0, Infinity, dig));
}
