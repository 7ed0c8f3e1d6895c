// `when:` conditions: evaluated at compile time when they only use known variables, else compiled into a bash
// test over the values of `register`ed tasks of the same RUN (rc, stdout, stderr-less; failed/succeeded/changed/
// skipped). Grammar: or / and / not, parentheses, == != < > <= >= in, `is [not] defined|undefined|failed|
// succeeded|success|failure|changed|skipped`, literals, names with .attr.
import { JinjaError, toBool, toText, type Scope } from "./jinja.js";
import { q } from "./types.js";

/**
 * A registered task's bash variables: `ansible_reg_<name>_rc`, `_stdout`, `_skipped`, and the module's own
 * results (`stat.exists` → `ansible_reg_<name>_stat_exists`).
 */
export function regVar(name: string, field: string): string {
  return `ansible_reg_${name}_${field.replace(/\./g, "_")}`;
}

/** Results a module registers besides rc/stdout, by dotted name: bool ("True"/"False"), str or int. */
export type RegFields = Readonly<Record<string, "bool" | "str" | "int">>;

/** Registered names of the current RUN → the module results they hold. */
export type Registered = ReadonlyMap<string, RegFields>;

type V = { s: unknown } | { rc: string } | { str: string } | { cond: string };

export type WhenResult = { static: boolean } | { bash: string };

export function compileWhen(cond: unknown, scope: Scope, registered: Registered): WhenResult {
  const list = Array.isArray(cond) ? cond : [cond];
  const parts: string[] = [];
  for (const c of list) {
    if (typeof c === "boolean") {
      if (!c) return { static: false };
      continue;
    }
    const r = toCond(new Parser(toText(c).trim().replace(/^\{\{(.*)\}\}$/s, "$1"), scope, registered).parse());
    if ("s" in r) {
      if (!toBool(r.s)) return { static: false };
    } else parts.push(r.cond);
  }
  return parts.length === 0 ? { static: true } : { bash: parts.join(" && ") };
}

function toCond(v: V): { s: unknown } | { cond: string } {
  if ("s" in v) return { s: v.s !== undefined && v.s !== null && v.s !== "" && v.s !== false && v.s !== 0 && !(Array.isArray(v.s) && v.s.length === 0) };
  if ("cond" in v) return v;
  if ("rc" in v) return { cond: `[ "$${v.rc}" -ne 0 ]` };
  return { cond: `[ -n "$${v.str}" ]` };
}

const TOKEN = /\s*(\(|\)|==|!=|<=|>=|<|>|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?[0-9]+|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|\S)/y;

class Parser {
  private toks: string[] = [];
  private p = 0;
  constructor(readonly src: string, readonly scope: Scope, readonly registered: Registered) {
    TOKEN.lastIndex = 0;
    let m: RegExpExecArray | null;
    while (TOKEN.lastIndex < src.length && (m = TOKEN.exec(src))) this.toks.push(m[1]!);
  }
  fail(msg: string): never {
    throw new JinjaError(`when \`${this.src}\`: ${msg}`);
  }
  peek(): string | undefined {
    return this.toks[this.p];
  }
  parse(): V {
    const v = this.or();
    if (this.p < this.toks.length) this.fail(`unexpected \`${this.toks[this.p]}\``);
    return v;
  }
  or(): V {
    let a = this.and();
    while (this.peek() === "or") {
      this.p++;
      const b = this.and();
      a = combine(a, b, "||");
    }
    return a;
  }
  and(): V {
    let a = this.not();
    while (this.peek() === "and") {
      this.p++;
      const b = this.not();
      a = combine(a, b, "&&");
    }
    return a;
  }
  not(): V {
    if (this.peek() === "not") {
      this.p++;
      const c = toCond(this.not());
      return "s" in c ? { s: !c.s } : { cond: `! { ${c.cond}; }` };
    }
    return this.cmp();
  }
  cmp(): V {
    const a = this.atom();
    const op = this.peek();
    if (op === "is") {
      this.p++;
      let neg = false;
      if (this.peek() === "not") {
        neg = true;
        this.p++;
      }
      if (this.peek() === "sameas") this.p++;
      const test = this.toks[this.p++];
      const r = this.test(a, test ?? "");
      if ("s" in r) return { s: neg ? !r.s : r.s };
      return neg ? { cond: `! { ${r.cond}; }` } : r;
    }
    if (op === "in" || (op === "not" && this.toks[this.p + 1] === "in")) {
      const neg = op === "not";
      this.p += neg ? 2 : 1;
      const b = this.atom();
      let r: V;
      if ("s" in a && "s" in b) {
        const hay = b.s;
        r = { s: Array.isArray(hay) ? hay.map((x) => toText(x)).includes(toText(a.s)) : toText(hay).includes(toText(a.s)) };
      } else if ("s" in a && "str" in b) r = { cond: `[[ "$${b.str}" == *${q(toText(a.s))}* ]]` };
      else this.fail("`in` needs a literal on the left and a registered stdout or a known value on the right");
      if ("s" in r) return { s: neg ? !r.s : r.s };
      return neg ? { cond: `! ${(r as { cond: string }).cond}` } : r;
    }
    if (op && ["==", "!=", "<", ">", "<=", ">="].includes(op)) {
      this.p++;
      const b = this.atom();
      if ("s" in a && "s" in b) {
        const x = a.s as never, y = b.s as never;
        return { s: op === "==" ? x === y || toText(x) === toText(y) : op === "!=" ? !(x === y || toText(x) === toText(y)) : op === "<" ? x < y : op === ">" ? x > y : op === "<=" ? x <= y : x >= y };
      }
      const [rt, st, flip] = "s" in b ? [a, b, false] : "s" in a ? [b, a, true] : this.fail("compare a registered value with a literal");
      const litv = (st as { s: unknown }).s;
      if ("cond" in rt && (op === "==" || op === "!=") && typeof litv === "boolean") {
        // a registered boolean (stat.exists == true)
        return (op === "==") === litv ? { cond: rt.cond } : { cond: `! ${rt.cond}` };
      }
      const lit = toText(litv);
      const o = flip ? ({ "<": ">", ">": "<", "<=": ">=", ">=": "<=" } as Record<string, string>)[op] ?? op : op;
      if ("rc" in rt) {
        if (!/^-?[0-9]+$/.test(lit)) this.fail("rc is compared with a number");
        const num = { "==": "-eq", "!=": "-ne", "<": "-lt", ">": "-gt", "<=": "-le", ">=": "-ge" }[o]!;
        return { cond: `[ "$${rt.rc}" ${num} ${lit} ]` };
      }
      if ("str" in rt) {
        if (o !== "==" && o !== "!=") this.fail("a registered stdout is compared with == or !=");
        return { cond: `[ "$${rt.str}" ${o === "==" ? "=" : "!="} ${q(lit)} ]` };
      }
      this.fail("unsupported comparison");
    }
    return a;
  }
  test(a: V, test: string): { s: boolean } | { cond: string } {
    const reg = (a as { reg?: string }).reg;
    const field = (a as { field?: string }).field;
    switch (test) {
      case "defined":
        if (field !== undefined) return { cond: `[ -n "\${${field}+set}" ]` };
        return { s: reg !== undefined || ("s" in a && a.s !== undefined) };
      case "undefined":
        if (field !== undefined) return { cond: `[ -z "\${${field}+set}" ]` };
        return { s: !(reg !== undefined || ("s" in a && a.s !== undefined)) };
      case "true":
      case "false":
        if ("s" in a) return { s: a.s === (test === "true") };
        if ("cond" in a) return test === "true" ? { cond: a.cond } : { cond: `! ${a.cond}` };
        break;
      case "failed":
      case "failure":
      case "succeeded":
      case "success":
      case "changed":
      case "skipped": {
        if (reg === undefined) this.fail(`\`is ${test}\` needs a registered task`);
        const rc = regVar(reg, "rc");
        const sk = regVar(reg, "skipped");
        if (test === "failed" || test === "failure") return { cond: `[ "$${rc}" -ne 0 ]` };
        if (test === "skipped") return { cond: `[ -n "$${sk}" ]` };
        return test === "changed" ? { cond: `[ -z "$${sk}" ]` } : { cond: `[ "$${rc}" -eq 0 ]` };
      }
    }
    this.fail(`test \`is ${test}\` is not supported`);
  }
  atom(): V {
    const t = this.toks[this.p++];
    if (t === undefined) this.fail("expression ends early");
    if (t === "(") {
      const v = this.or();
      if (this.toks[this.p++] !== ")") this.fail("missing `)`");
      return v;
    }
    if (/^['"]/.test(t)) return { s: t.slice(1, -1).replace(/\\(.)/g, "$1") };
    if (/^-?[0-9]+$/.test(t)) return { s: Number(t) };
    if (/^(true|True)$/.test(t)) return { s: true };
    if (/^(false|False)$/.test(t)) return { s: false };
    if (/^(none|None)$/.test(t)) return { s: null };
    if (!/^[A-Za-z_]/.test(t)) this.fail(`unexpected \`${t}\``);
    const [head, ...path] = t.split(".");
    const fields = this.registered.get(head!);
    if (fields !== undefined) {
      const f = path.join(".");
      const type = Object.prototype.hasOwnProperty.call(fields, f) ? fields[f] : undefined;
      const fv = regVar(head!, f);
      const known = ["rc", "stdout", "failed", "skipped", ...Object.keys(fields)].join(", ");
      const v: V & { reg?: string; field?: string } =
        type === "bool" ? { cond: `[ "$\{${fv}:-\}" = True ]` } : type === "str" ? { str: fv } : type === "int" ? { rc: fv }
        : f === "" ? { rc: regVar(head!, "rc") } : f === "rc" ? { rc: regVar(head!, "rc") } : f === "stdout" ? { str: regVar(head!, "stdout") }
        : f === "failed" ? { cond: `[ "$${regVar(head!, "rc")}" -ne 0 ]` } : f === "skipped" ? { cond: `[ -n "$${regVar(head!, "skipped")}" ]` }
        : this.fail(`\`${t}\`: of this registered task only ${known} are known`);
      v.reg = head!;
      if (type !== undefined) v.field = fv;
      return v;
    }
    let v: unknown = Object.prototype.hasOwnProperty.call(this.scope, head!) ? this.scope[head!] : undefined;
    for (const k of path) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
    return { s: v };
  }
}

function combine(a: V, b: V, op: "&&" | "||"): V {
  const x = toCond(a), y = toCond(b);
  if ("s" in x && "s" in y) return { s: op === "&&" ? !!x.s && !!y.s : !!x.s || !!y.s };
  if ("s" in x) return op === "&&" ? (x.s ? y : { s: false }) : x.s ? { s: true } : y;
  if ("s" in y) return op === "&&" ? (y.s ? x : { s: false }) : y.s ? { s: true } : x;
  return { cond: `{ ${x.cond}; } ${op} { ${y.cond}; }` };
}
