// Go's package regexp for the template functions and werf's /regexp/ settings, on re2js (a port of RE2/J with
// Go's syntax, errors and linear-time matching: no pattern from werf.yaml can make matching backtrack). This file
// adds what re2js leaves to the caller: Go's Regexp.Expand template syntax ($1, ${name}), Split, QuoteMeta, and
// capture group names by index (Go allows a name to repeat; re2js refuses that, so repeats are compiled unnamed).
import { createRequire } from "node:module";
import type * as Re2js from "re2js";

/** re2js, loaded on the first regexp (its ~260 KB module costs 10–30 ms: most renders use no regexp). */
let re2js: typeof Re2js | undefined;
function lib(): typeof Re2js {
  return (re2js ??= createRequire(import.meta.url)("re2js") as typeof Re2js);
}

export class RegexpSyntaxError extends Error {}

/** re2js's Go-style engine (FindAllSubmatchIndex, Match, ...). */
type RE2 = ReturnType<Re2js.RE2JS["re2"]>;

export interface CompiledRegexp {
  re: RE2;
  /** Names of the capture groups by index (index 0 is the whole match, named ""). */
  groupNames: string[];
}

interface GroupScan {
  /** Names by group index, "" for unnamed (index 0 included). */
  names: string[];
  /** The expression with the second and later groups of a repeated name made plain `(` groups (same numbering). */
  unique: string;
}

/**
 * Capture groups of an expression in order, with their names: a `(` that does not start `(?`, or `(?P<name>` /
 * `(?<name>`. Escapes (`\Q...\E` too) and character classes (`[]a]`, `[[:alpha:]]`) hold no groups. Only used on an
 * expression that compiles; re2js's own group count is checked against it.
 */
function scanGroups(expr: string): GroupScan {
  const names = [""];
  const seen = new Set<string>();
  let unique = "";
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (c === "\\") {
      if (expr[i + 1] === "Q") {
        const end = expr.indexOf("\\E", i + 2);
        const stop = end < 0 ? expr.length : end + 2;
        unique += expr.slice(i, stop);
        i = stop;
      } else {
        unique += expr.slice(i, i + 2);
        i += 2;
      }
      continue;
    }
    if (c === "[") {
      let j = i + 1;
      if (expr[j] === "^") j++;
      if (expr[j] === "]") j++;
      while (j < expr.length && expr[j] !== "]") {
        if (expr[j] === "\\") j += 2;
        else if (expr[j] === "[" && expr[j + 1] === ":") {
          const close = expr.indexOf(":]", j + 2);
          j = close < 0 ? j + 1 : close + 2;
        } else j++;
      }
      unique += expr.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === "(") {
      const named = /^\(\?P?<([A-Za-z0-9_]+)>/.exec(expr.slice(i));
      if (named) {
        names.push(named[1]);
        unique += seen.has(named[1]) ? "(" : named[0];
        seen.add(named[1]);
        i += named[0].length;
        continue;
      }
      if (expr[i + 1] !== "?") names.push("");
    }
    unique += c;
    i++;
  }
  return { names, unique };
}

function compileRaw(expr: string): RE2 {
  const { RE2JS, RE2JSException, RE2JSSyntaxException } = lib();
  try {
    return RE2JS.compile(expr).re2();
  } catch (e) {
    // Go's syntax.Error text: "error parsing regexp: CODE: `EXPR`" (re2js leaves out an empty EXPR).
    if (e instanceof RE2JSSyntaxException) throw new RegexpSyntaxError(`error parsing regexp: ${e.getDescription()}: \`${e.getPattern() ?? ""}\``);
    if (e instanceof RE2JSException) throw new RegexpSyntaxError(e.message);
    throw e;
  }
}

/** regexp.Compile: Go's syntax and errors, RE2's linear-time matching. */
export function compileGoRegexp(expr: string): CompiledRegexp {
  // Compile as written first, so that every error names the expression the user wrote.
  let re: RE2;
  let scan: GroupScan | undefined;
  try {
    re = compileRaw(expr);
  } catch (e) {
    scan = scanGroups(expr);
    if (!(e instanceof RegexpSyntaxError) || !/duplicate capture group name/.test(e.message) || scan.unique === expr) throw e;
    try {
      re = compileRaw(scan.unique);
    } catch (e2) {
      // An error found past the renamed group: name the expression as written.
      if (e2 instanceof RegexpSyntaxError) throw new RegexpSyntaxError(e2.message.replace(`\`${scan.unique}\``, `\`${expr}\``));
      throw e2;
    }
  }
  scan ??= scanGroups(expr);
  let groupNames = scan.names;
  if (groupNames.length !== re.numberOfCapturingGroups() + 1) {
    // Not expected; the engine's own names are right for every expression without a repeated name.
    groupNames = Array.from({ length: re.numberOfCapturingGroups() + 1 }, () => "");
    for (const [name, idx] of Object.entries(re.namedGroups as Record<string, number>)) groupNames[idx] = name;
  }
  return { re, groupNames };
}

/** regexp.MatchString. */
export function matchString(c: CompiledRegexp, s: string): boolean {
  return c.re.match(s) as boolean;
}

export interface GoMatch {
  index: number;
  end: number;
  /** Submatches by group index; undefined where the group took no part in the match. */
  groups: (string | undefined)[];
}

/** Go's FindAllStringSubmatchIndex as matches: up to n (n < 0: all; 0: none). */
export function findAll(c: CompiledRegexp, s: string, n: number): GoMatch[] {
  if (n === 0) return [];
  const all = (c.re.findAllSubmatchIndex(s, n) ?? []) as number[][];
  return all.map((loc) => {
    const groups: (string | undefined)[] = [];
    for (let k = 0; k < loc.length; k += 2) groups.push(loc[k] < 0 ? undefined : s.slice(loc[k], loc[k + 1]));
    return { index: loc[0], end: loc[1], groups };
  });
}

/** Go's Regexp.Expand template syntax: $1, ${1}, $name, ${name}, $$. */
export function expandTemplate(tpl: string, m: GoMatch, groupNames: string[]): string {
  let out = "";
  let rest = tpl;
  for (;;) {
    const at = rest.indexOf("$");
    if (at < 0) break;
    out += rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (rest.startsWith("$")) {
      out += "$";
      rest = rest.slice(1);
      continue;
    }
    const brace = rest.startsWith("{");
    const body = brace ? rest.slice(1) : rest;
    const nm = /^[\p{L}\p{Nd}_]+/u.exec(body);
    if (!nm || (brace && body[nm[0].length] !== "}")) {
      out += "$";
      continue;
    }
    const name = nm[0];
    rest = body.slice(name.length + (brace ? 1 : 0));
    if (/^\d+$/.test(name)) {
      if (name.length > 8) continue; // Go treats huge numbers as invalid: nothing is written
      const num = Number(name);
      out += m.groups[num] ?? "";
    } else {
      // The first group of that name that took part in the match (names may repeat).
      const idx = groupNames.findIndex((g, k) => g === name && m.groups[k] !== undefined);
      if (idx >= 0) out += m.groups[idx] ?? "";
    }
  }
  return out + rest;
}

/**
 * Go's ReplaceAllString iteration. It replaces exactly the matches FindAll delivers: an empty match right after a
 * match is skipped by both, and both then move on one character.
 */
export function replaceAll(c: CompiledRegexp, s: string, repl: (m: GoMatch) => string): string {
  let out = "";
  let lastEnd = 0;
  for (const m of findAll(c, s, -1)) {
    out += s.slice(lastEnd, m.index) + repl(m);
    lastEnd = m.end;
  }
  return out + s.slice(lastEnd);
}

/** Go's Regexp.Split. */
export function split(c: CompiledRegexp, expr: string, s: string, n: number): string[] | null {
  if (n === 0) return null;
  if (expr.length > 0 && s.length === 0) return [""];
  const matches = findAll(c, s, n);
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  for (const m of matches) {
    if (n > 0 && out.length === n - 1) break;
    end = m.index;
    if (m.end !== 0) out.push(s.slice(beg, end));
    beg = m.end;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

/** regexp.QuoteMeta. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, (c) => "\\" + c);
}

/**
 * A werf `/regexp/` setting (giterminism's allowEnvVariables, a cleanup keep policy): Go's regexp matching the
 * whole string. Throws RegexpSyntaxError with Go's text for a bad expression.
 */
export function compileWholeMatch(body: string): (s: string) => boolean {
  compileRaw(body); // an error names the expression as written, not the anchored one
  const c = compileGoRegexp(`^(?:${body})$`);
  return (s) => matchString(c, s);
}
