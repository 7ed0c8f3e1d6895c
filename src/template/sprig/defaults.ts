// sprig's defaults.go: default, empty, coalesce, all, any, ternary, fail.
import { type FuncMap, goFunc } from "../value.js";
import { argBool, argString, isEmpty } from "./args.js";

export function registerDefaults(fm: FuncMap): void {
  // `default D` with no given value: sprig sees an empty variadic list and returns D.
  fm.set("default", goFunc(1, Infinity, (d, ...given) => (given.length === 0 || isEmpty(given[0]) ? d : given[0])));
  fm.set("empty", goFunc(1, 1, (v) => isEmpty(v)));
  fm.set("coalesce", goFunc(0, Infinity, (...vs) => vs.find((v) => !isEmpty(v)) ?? null));
  fm.set("all", goFunc(0, Infinity, (...vs) => vs.every((v) => !isEmpty(v))));
  fm.set("any", goFunc(0, Infinity, (...vs) => vs.some((v) => !isEmpty(v))));
  fm.set("ternary", goFunc(3, 3, (t, f, c) => (argBool(c) ? t : f)));
  fm.set("fail", goFunc(1, 1, (msg) => {
    throw new Error(argString(msg));
  }));
}
