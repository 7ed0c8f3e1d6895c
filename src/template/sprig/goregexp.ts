// Go RE2 syntax (package regexp) translated to a JavaScript RegExp with the
// same meaning, plus Go's match iteration, replacement template expansion and
// Split. Constructs Go rejects are rejected with Go's wording; constructs JS
// cannot express the same way are rejected with a clear message.

export class RegexpSyntaxError extends Error {}

function goErr(code: string, expr: string): RegexpSyntaxError {
  return new RegexpSyntaxError(`error parsing regexp: ${code}: \`${expr}\``);
}

/** Go's ASCII POSIX classes as code point ranges. */
const POSIX_CLASSES: Record<string, [number, number][]> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]], alpha: [[0x41, 0x5a], [0x61, 0x7a]], ascii: [[0, 0x7f]],
  blank: [[9, 9], [0x20, 0x20]], cntrl: [[0, 0x1f], [0x7f, 0x7f]], digit: [[0x30, 0x39]], graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]], print: [[0x20, 0x7e]], punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[9, 13], [0x20, 0x20]], upper: [[0x41, 0x5a]], word: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};

/** Ranges as the body of a JS (u-mode) character class; `negate` gives the complement over all code points. */
function classRanges(ranges: [number, number][], negate: boolean): string {
  let rs = ranges;
  if (negate) {
    rs = [];
    let next = 0;
    for (const [lo, hi] of ranges) {
      if (lo > next) rs.push([next, lo - 1]);
      next = hi + 1;
    }
    if (next <= 0x10ffff) rs.push([next, 0x10ffff]);
  }
  const cp = (c: number) => `\\u{${c.toString(16)}}`;
  return rs.map(([lo, hi]) => (lo === hi ? cp(lo) : `${cp(lo)}-${cp(hi)}`)).join("");
}

/** Perl classes as Go defines them (ASCII only; Go's \s has no \v). */
const PERL_IN_CLASS: Record<string, string> = { d: "0-9", w: "0-9A-Za-z_", s: "\\t\\n\\f\\r " };

export interface CompiledRegexp {
  re: RegExp;
  /** Names of the capture groups by index (index 0 is the whole match, named ""). */
  groupNames: string[];
}

function escapeLiteral(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? "\\" + ch : ch;
}

/** Translate a Go regexp into a JS RegExp (flags u and g, plus s/m/i from a leading flag group). */
export function compileGoRegexp(expr: string): CompiledRegexp {
  let i = 0;
  let out = "";
  let dotAll = false;
  let multiLine = false;
  let ignoreCase = false;
  const groupNames: string[] = [""];
  let depth = 0;
  const src = [...expr];

  let ungreedy = false;
  // Leading flag group: (?flags) applies to the whole expression.
  const lead = /^\(\?([imsU]+)\)/.exec(expr);
  if (lead) {
    for (const f of lead[1]) {
      if (f === "i") ignoreCase = true;
      else if (f === "m") multiLine = true;
      else if (f === "s") dotAll = true;
      else ungreedy = true;
    }
    i = [...lead[0]].length;
  }

  /** A repetition operator: a following "?" makes it lazy, and (?U) swaps greedy and lazy. */
  const quantifier = (text: string): string => {
    let lazy = false;
    if (src[i] === "?") {
      lazy = true;
      i++;
    }
    return text + (lazy !== ungreedy ? "?" : "");
  };

  const dot = () => (dotAll ? "[^]" : "[^\\n]");

  /** One escape outside or inside a class; returns the JS text. */
  const escape = (inClass: boolean): string => {
    const c = src[i + 1];
    if (c === undefined) throw goErr("trailing backslash at end of expression", "");
    i += 2;
    // \1-\7 followed by an octal digit start an octal escape (up to three digits); alone they would be backreferences.
    if (/[1-9]/.test(c) && !(/[1-7]/.test(c) && /[0-7]/.test(src[i] ?? ""))) throw goErr("invalid escape sequence", "\\" + c);
    if (/[0-7]/.test(c)) {
      // \0, \01, \012, \101: octal
      let oct = c;
      while (oct.length < 3 && /[0-7]/.test(src[i] ?? "")) oct += src[i++];
      return "\\u{" + parseInt(oct, 8).toString(16) + "}";
    }
    if (c === "x") {
      if (src[i] === "{") {
        const end = src.indexOf("}", i);
        if (end < 0) throw goErr("invalid escape sequence", "\\x{");
        const hex = src.slice(i + 1, end).join("");
        i = end + 1;
        if (!/^[0-9A-Fa-f]+$/.test(hex) || parseInt(hex, 16) > 0x10ffff) throw goErr("invalid escape sequence", `\\x{${hex}}`);
        return `\\u{${hex}}`;
      }
      const hex = (src[i] ?? "") + (src[i + 1] ?? "");
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw goErr("invalid escape sequence", "\\x" + hex);
      i += 2;
      return "\\x" + hex;
    }
    if (c === "p" || c === "P") {
      let name: string;
      if (src[i] === "{") {
        const end = src.indexOf("}", i);
        if (end < 0) throw goErr("invalid character class range", `\\${c}{`);
        name = src.slice(i + 1, end).join("");
        i = end + 1;
      } else {
        name = src[i++] ?? "";
      }
      let neg = c === "P";
      if (name.startsWith("^")) {
        neg = !neg;
        name = name.slice(1);
      }
      const prop = name === "Any" ? "Any" : /^[A-Z][a-z]?$/.test(name) ? `General_Category=${name}` : `Script=${name}`;
      try {
        new RegExp(`\\p{${prop}}`, "u");
      } catch {
        throw goErr("invalid character class range", `\\${c}{${name}}`);
      }
      return `\\${neg ? "P" : "p"}{${prop}}`;
    }
    if (c === "Q") {
      let lit = "";
      while (i < src.length && !(src[i] === "\\" && src[i + 1] === "E")) lit += src[i++];
      if (i < src.length) i += 2;
      return [...lit].map((ch) => (inClass ? "\\" + ch : escapeLiteral(ch))).join("");
    }
    if (inClass) {
      if (c in PERL_IN_CLASS) return PERL_IN_CLASS[c];
      if (c === "D" || c === "W" || c === "S") return "\\" + c;
    } else {
      if (c === "d" || c === "w" || c === "D" || c === "W" || c === "b" || c === "B") return "\\" + c;
      if (c === "s") return "[\\t\\n\\f\\r ]";
      if (c === "S") return "[^\\t\\n\\f\\r ]";
      if (c === "A") return "(?<![^])";
      if (c === "z") return "(?![^])";
    }
    const simple: Record<string, string> = { a: "\\x07", f: "\\f", t: "\\t", n: "\\n", r: "\\r", v: "\\v" };
    if (c in simple) return simple[c];
    if (/[!-\/:-@\[-`{-~]/.test(c)) {
      // Go lets any punctuation be escaped; JS's u-mode only accepts escaping syntax characters.
      if (c === "-") return inClass ? "\\-" : "-";
      return /[\\^$.*+?()[\]{}|/]/.test(c) ? "\\" + c : c;
    }
    throw goErr("invalid escape sequence", "\\" + c);
  };

  const charClass = (): string => {
    const start = i;
    i++; // [
    let body = "";
    if (src[i] === "^") {
      body += "^";
      i++;
    }
    let first = true;
    while (i < src.length && (src[i] !== "]" || first)) {
      first = false;
      if (src[i] === "[" && src[i + 1] === ":") {
        const rest = src.slice(i).join("");
        const m = /^\[:(\^?)([a-z]+):\]/.exec(rest);
        if (m) {
          const cls = POSIX_CLASSES[m[2]];
          if (!cls) throw goErr("invalid character class range", m[0]);
          body += classRanges(cls, m[1] === "^");
          i += [...m[0]].length;
          continue;
        }
      }
      if (src[i] === "\\") {
        body += escape(true);
        continue;
      }
      const ch = src[i++];
      body += ch === "[" || ch === "/" ? "\\" + ch : ch;
    }
    if (i >= src.length) throw goErr("missing closing ]", src.slice(start).join(""));
    i++; // ]
    return "[" + body + "]";
  };

  while (i < src.length) {
    const ch = src[i];
    if (ch === "\\") {
      out += escape(false);
    } else if (ch === "[") {
      out += charClass();
    } else if (ch === ".") {
      out += dot();
      i++;
    } else if (ch === "(") {
      if (src[i + 1] === "?") {
        const rest = src.slice(i).join("");
        // Go 1.19 knows only (?P<name>...); names may repeat, so the JS group stays unnamed.
        const named = /^\(\?P<([A-Za-z0-9_]+)>/.exec(rest);
        if (named) {
          groupNames.push(named[1]);
          out += "(";
          i += [...named[0]].length;
          depth++;
          continue;
        }
        if (rest.startsWith("(?:")) {
          out += "(?:";
          i += 3;
          depth++;
          continue;
        }
        const flags = /^\(\?([imsU-]*)(:|\))/.exec(rest);
        if (flags) throw new RegexpSyntaxError(`regexp flag group ${flags[0]} inside the expression is not supported (put flags at the very start): \`${expr}\``);
        throw goErr("invalid or unsupported Perl syntax", rest.slice(0, 3));
      }
      groupNames.push("");
      out += "(";
      i++;
      depth++;
    } else if (ch === ")") {
      if (depth === 0) throw goErr("unexpected )", expr);
      depth--;
      out += ")";
      i++;
    } else if (ch === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i).join(""));
      if (m) {
        if (Number(m[1]) > 1000 || (m[3] && Number(m[3]) > 1000)) throw goErr("invalid repeat count", m[0]);
        if (m[3] && Number(m[3]) < Number(m[1])) throw goErr("invalid repeat count", m[0]);
        i += m[0].length;
        out += quantifier(m[0]);
      } else {
        out += "\\{";
        i++;
      }
    } else if (ch === "}") {
      out += "\\}";
      i++;
    } else if (ch === "/") {
      out += "\\/";
      i++;
    } else if (ch === "^" && multiLine) {
      out += "(?<=^|\\n)";
      i++;
    } else if (ch === "$" && multiLine) {
      out += "(?=$|\\n)";
      i++;
    } else if (ch === "*" || ch === "+" || ch === "?") {
      i++;
      out += quantifier(ch);
    } else {
      out += ch;
      i++;
    }
  }
  if (depth > 0) throw goErr("missing closing )", expr);
  let flags = "gu";
  if (ignoreCase) flags += "i";
  let re: RegExp;
  try {
    re = new RegExp(out, flags);
  } catch (e) {
    throw new RegexpSyntaxError(`error parsing regexp: ${(e as Error).message}: \`${expr}\``);
  }
  return { re, groupNames };
}

export interface GoMatch {
  index: number;
  end: number;
  groups: (string | undefined)[];
}

/**
 * Go's FindAll iteration: up to n matches (n < 0: all); an empty match right
 * after the previous match is skipped, and the search then moves on one rune.
 */
export function findAll(c: CompiledRegexp, s: string, n: number): GoMatch[] {
  const out: GoMatch[] = [];
  if (n === 0) return out;
  const re = c.re;
  let pos = 0;
  let prevEnd = -1;
  while ((n < 0 || out.length < n) && pos <= s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    let accept = true;
    if (end === start) {
      if (start === prevEnd) accept = false;
      const cp = s.codePointAt(end);
      pos = end + (cp !== undefined && cp > 0xffff ? 2 : 1);
    } else pos = end;
    prevEnd = end;
    if (accept) out.push({ index: start, end, groups: [...m] });
  }
  return out;
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

/** Go's replaceAll iteration: empty matches right after a replaced match are not replaced. */
export function replaceAll(c: CompiledRegexp, s: string, repl: (m: GoMatch) => string): string {
  let out = "";
  let lastEnd = 0;
  let searchPos = 0;
  const re = c.re;
  while (searchPos <= s.length) {
    re.lastIndex = searchPos;
    const r = re.exec(s);
    if (!r) break;
    const m: GoMatch = { index: r.index, end: r.index + r[0].length, groups: [...r] };
    out += s.slice(lastEnd, m.index);
    if (m.end > lastEnd || m.index === 0) out += repl(m);
    lastEnd = m.end;
    const cp = s.codePointAt(searchPos);
    const width = cp !== undefined && cp > 0xffff ? 2 : 1;
    if (searchPos + width > m.end) searchPos += width;
    else if (searchPos + 1 > m.end) searchPos++;
    else searchPos = m.end;
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
