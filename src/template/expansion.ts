// Template values may share parts: `{{ $d = dict "a" $d "b" $d }}` thirty times over is a map of a billion leaves
// made in thirty steps (and `set $d "self" $d` a cycle). Whatever walks such a value in full (printing it, toJson,
// toYaml, deepCopy, deepEqual, merge) would run for minutes and take gigabytes before any output limit is reached,
// or never end; the step limit does not see it (one call). The walkers first measure the value with its shared parts
// counted once per use (memoized, so the measure itself is linear in the distinct parts) and refuse it past a bound
// far above any real werf.yaml's data. Go's text/template would run out of memory on the same templates.

import type { GoValue } from "./value.js";

/** Bound on a value's expanded size: one per list, map, key and scalar, plus the characters of its strings. */
export const MAX_EXPANDED = 64 * 1024 * 1024;

/** The expanded size of `v` (Infinity for a cycle or past `limit`). */
export function expandedSize(v: GoValue, limit = MAX_EXPANDED): number {
  const memo = new Map<object, number>();
  const visit = (x: GoValue): number => {
    if (typeof x === "string") return 1 + x.length;
    if (!Array.isArray(x) && !(x instanceof Map)) return 1;
    const known = memo.get(x);
    if (known !== undefined) return known;
    memo.set(x, Infinity); // a value inside itself: endless
    let n = 1;
    if (Array.isArray(x)) {
      for (const e of x) if ((n += visit(e)) > limit) break;
    } else {
      for (const [k, e] of x) if ((n += 1 + k.length + visit(e)) > limit) break;
    }
    const size = n > limit ? Infinity : n;
    memo.set(x, size);
    return size;
  };
  return visit(v);
}

/** A value refused by guardExpansion (a template function's error, or the printing action's). */
export class ExpansionError extends Error {}

/** Throws (a template function error, located by the caller) when `v` is too big to walk in full. */
export function guardExpansion(v: GoValue, what: string): void {
  if (typeof v !== "object" || v === null) return;
  const n = expandedSize(v);
  if (n === Infinity) {
    throw new ExpansionError(
      `${what}: the value holds itself, or is over ${MAX_EXPANDED / 1048576} Mi values and characters once the parts it shares are counted each time they are used (a map or list put into itself, or doubled in a loop); this is stapel2docker's limit`,
    );
  }
}
