// sprig's regex.go: regexMatch, regexFind(All), regexReplaceAll(Literal),
// regexSplit, regexQuoteMeta, and their must* forms. The plain forms panic on
// a bad expression (MustCompile), except regexMatch, which answers false.
import { type FuncMap, goFunc } from "../value.js";
import { argInt, argString } from "./args.js";
import { type CompiledRegexp, compileGoRegexp, expandTemplate, findAll, quoteMeta, replaceAll, split } from "./goregexp.js";

const cache = new Map<string, CompiledRegexp>();

function compile(expr: string): CompiledRegexp {
  let c = cache.get(expr);
  if (!c) {
    c = compileGoRegexp(expr);
    cache.set(expr, c);
  }
  return c;
}

/** regexp.MustCompile's panic text. */
function mustCompile(expr: string): CompiledRegexp {
  try {
    return compile(expr);
  } catch (e) {
    throw new Error(`regexp: Compile(${JSON.stringify(expr)}): ${(e as Error).message}`);
  }
}

export function registerRegex(fm: FuncMap): void {
  const both = (name: string, min: number, max: number, body: (get: (expr: string) => CompiledRegexp, ...a: import("../value.js").GoValue[]) => import("../value.js").GoValue) => {
    fm.set(name, goFunc(min, max, (...a) => body(mustCompile, ...a)));
    const must = "must" + name[0].toUpperCase() + name.slice(1);
    fm.set(must, goFunc(min, max, (...a) => body(compile, ...a)));
  };
  fm.set("regexMatch", goFunc(2, 2, (r, s) => {
    const expr = argString(r);
    const str = argString(s);
    try {
      return findAll(compile(expr), str, 1).length > 0;
    } catch {
      return false;
    }
  }));
  fm.set("mustRegexMatch", goFunc(2, 2, (r, s) => {
    const expr = argString(r);
    return findAll(compile(expr), argString(s), 1).length > 0;
  }));
  both("regexFindAll", 3, 3, (get, r, s, n) => {
    const c = get(argString(r));
    const str = argString(s);
    return findAll(c, str, argInt(n)).map((m) => m.groups[0] ?? "");
  });
  both("regexFind", 2, 2, (get, r, s) => {
    const c = get(argString(r));
    return findAll(c, argString(s), 1)[0]?.groups[0] ?? "";
  });
  both("regexReplaceAll", 3, 3, (get, r, s, repl) => {
    const c = get(argString(r));
    const tpl = argString(repl);
    return replaceAll(c, argString(s), (m) => expandTemplate(tpl, m, c.groupNames));
  });
  both("regexReplaceAllLiteral", 3, 3, (get, r, s, repl) => {
    const c = get(argString(r));
    const lit = argString(repl);
    return replaceAll(c, argString(s), () => lit);
  });
  both("regexSplit", 3, 3, (get, r, s, n) => {
    const expr = argString(r);
    const c = get(expr);
    return split(c, expr, argString(s), argInt(n)) ?? [];
  });
  fm.set("regexQuoteMeta", goFunc(1, 1, (s) => quoteMeta(argString(s))));
}
