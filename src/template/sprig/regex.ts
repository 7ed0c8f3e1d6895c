// sprig's regex.go: regexMatch, regexFind(All), regexReplaceAll(Literal),
// regexSplit, regexQuoteMeta, and their must* forms. The plain forms panic on
// a bad expression (MustCompile), except regexMatch, which answers false.
// Expressions are Go's (RE2): compiled and matched by goregexp.ts on re2js, in
// linear time whatever the pattern.
import { goQuote } from "../strconv.js";
import { type FuncMap, goFunc } from "../value.js";
import { argInt, argString } from "./args.js";
import { type CompiledRegexp, compileGoRegexp, expandTemplate, findAll, matchString, quoteMeta, replaceAll, split } from "./goregexp.js";

const cache = new Map<string, CompiledRegexp>();

function compile(expr: string): CompiledRegexp {
  let c = cache.get(expr);
  if (!c) {
    c = compileGoRegexp(expr);
    cache.set(expr, c);
  }
  return c;
}

/** strconv.CanBackquote: one line of valid UTF-8 without a backquote, DEL, BOM or control character but tab. */
function canBackquote(s: string): boolean {
  return !/[\x00-\x08\x0a-\x1f`\x7f\ufeff\ufffd]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

/** regexp.MustCompile's panic text (Go's regexp.quote: backquoted when it can be). */
function mustCompile(expr: string): CompiledRegexp {
  try {
    return compile(expr);
  } catch (e) {
    throw new Error(`regexp: Compile(${canBackquote(expr) ? "`" + expr + "`" : goQuote(expr)}): ${(e as Error).message}`);
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
      return matchString(compile(expr), str);
    } catch {
      return false;
    }
  }));
  fm.set("mustRegexMatch", goFunc(2, 2, (r, s) => {
    const expr = argString(r);
    return matchString(compile(expr), argString(s));
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
