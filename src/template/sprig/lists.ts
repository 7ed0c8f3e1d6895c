// sprig's list functions (list.go). The plain variants panic where the must*
// variants return an error; in a template both surface as an error.
import { type FuncMap, type GoValue, goFunc } from "../value.js";
import { argInt, argList, castInt64, deepEqual, isEmpty, kindName } from "./args.js";

type ListOp = (list: GoValue[], ...rest: GoValue[]) => GoValue;

function contains(haystack: GoValue[], needle: GoValue): boolean {
  return haystack.some((h) => deepEqual(needle, h));
}

/** cast.ToInt for slice's indices. */
function castInt(v: GoValue): number {
  return castInt64(v);
}

/** Go's l[start:end] on a slice: panics out of range. */
function sliceList(l: GoValue[], start: number, end: number): GoValue[] {
  if (start < 0 || end < start || end > l.length) {
    throw new Error(`runtime error: slice bounds out of range [${start}:${end}] with capacity ${l.length}`);
  }
  return l.slice(start, end);
}

export function registerLists(fm: FuncMap): void {
  /** A list function taking the list first, with its "Cannot X on type K" wording, in plain and must* form. */
  const def = (names: string[], what: (kind: string) => string, min: number, max: number, op: ListOp) => {
    const f = goFunc(min, max, (list, ...rest) => op(argList(list, what), ...rest));
    for (const n of names) fm.set(n, f);
  };

  const list = goFunc(0, Infinity, (...v) => v);
  fm.set("list", list);
  fm.set("tuple", list);

  def(["append", "push", "mustAppend", "mustPush"], (k) => `Cannot push on type ${k}`, 2, 2, (l, v) => [...l, v]);
  def(["prepend", "mustPrepend"], (k) => `Cannot prepend on type ${k}`, 2, 2, (l, v) => [v, ...l]);
  def(["first", "mustFirst"], (k) => `Cannot find first on type ${k}`, 1, 1, (l) => (l.length ? l[0] : null));
  def(["last", "mustLast"], (k) => `Cannot find last on type ${k}`, 1, 1, (l) => (l.length ? l[l.length - 1] : null));
  def(["rest", "mustRest"], (k) => `Cannot find rest on type ${k}`, 1, 1, (l) => l.slice(1));
  def(["initial", "mustInitial"], (k) => `Cannot find initial on type ${k}`, 1, 1, (l) => l.slice(0, -1));
  def(["reverse", "mustReverse"], (k) => `Cannot find reverse on type ${k}`, 1, 1, (l) => [...l].reverse());
  def(["compact", "mustCompact"], (k) => `Cannot compact on type ${k}`, 1, 1, (l) => l.filter((e) => !isEmpty(e)));
  def(["uniq", "mustUniq"], (k) => `Cannot find uniq on type ${k}`, 1, 1, (l) => {
    const out: GoValue[] = [];
    for (const e of l) if (!contains(out, e)) out.push(e);
    return out;
  });
  def(["without", "mustWithout"], (k) => `Cannot find without on type ${k}`, 1, Infinity, (l, ...omit) => l.filter((e) => !contains(omit, e)));
  def(["slice", "mustSlice"], (k) => `list should be type of slice or array but ${k}`, 1, Infinity, (l, ...idx) => {
    if (l.length === 0) return null;
    const start = idx.length > 0 ? castInt(idx[0]) : 0;
    const end = idx.length >= 2 ? castInt(idx[1]) : l.length;
    return sliceList(l, start, end);
  });

  const has = goFunc(2, 2, (needle, haystack) => {
    if (haystack === null || haystack === undefined) return false;
    if (!Array.isArray(haystack)) throw new Error(`Cannot find has on type ${kindName(haystack)}`);
    return contains(haystack, needle);
  });
  fm.set("has", has);
  fm.set("mustHas", has);

  const chunk = goFunc(2, 2, (size, list) => {
    const n = argInt(size);
    const l = argList(list, (k) => `Cannot chunk type ${k}`);
    if (n <= 0) throw new Error("runtime error: integer divide by zero");
    const out: GoValue[] = [];
    for (let i = 0; i < l.length; i += n) out.push(l.slice(i, i + n));
    return out;
  });
  fm.set("chunk", chunk);
  fm.set("mustChunk", chunk);

  fm.set("concat", goFunc(0, Infinity, (...lists) => {
    const out: GoValue[] = [];
    for (const l of lists) out.push(...argList(l, (k) => `Cannot concat type ${k} as list`));
    return out;
  }));
}
