// The small Jinja subset that werf configs use in ansible tasks, rendered at compile time.
//
// Supported: `{% raw %}...{% endraw %}`, `{{ expr }}` where expr is a name with `.attr` / `[index]`
// lookups, a string/number/boolean literal, or a list literal, followed by filters: default(x) (alias d),
// join(sep), quote, lower, upper, trim, string, int, bool. Anything else (other tags, other filters,
// function calls such as lookup()) throws JinjaError; the task compiler turns it into a located UserError.
// A template that is exactly one `{{ expr }}` renders to the expression's native value (so
// `with_items: "{{ packages }}"` iterates a list); anything else renders to a string.

export class JinjaError extends Error {}

/**
 * `lookup('file', PATH)`: werf's controller is the build container, so the file is read there at run time.
 * Only a whole option value can be one (apt_key `data`, copy `content`); modules read it with Args.textOrFile.
 */
export class FileLookup {
  constructor(readonly path: string) {}
}

export type Scope = Readonly<Record<string, unknown>>;

const UNDEFINED = Symbol("undefined");
type Val = unknown | typeof UNDEFINED;

export function hasJinja(text: string): boolean {
  return text.includes("{{") || text.includes("{%") || text.includes("{#");
}

/** Renders every string inside `value` (lists and mappings walked), keeping non-strings. */
export function renderDeep(value: unknown, scope: Scope): unknown {
  if (typeof value === "string") return renderTemplate(value, scope);
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, scope));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderDeep(v, scope);
    return out;
  }
  return value;
}

/** Renders one template string. */
export function renderTemplate(text: string, scope: Scope): unknown {
  if (!hasJinja(text)) return text;
  const whole = /^\{\{-?([^]*?)-?\}\}$/.exec(text);
  if (whole && !whole[1]!.includes("}}") && !whole[1]!.includes("{{")) {
    const v = evaluate(whole[1]!, scope);
    return v === UNDEFINED ? "" : v;
  }
  let out = "";
  let i = 0;
  while (i < text.length) {
    const open = nextOpen(text, i);
    if (open < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, open);
    const kind = text.slice(open, open + 2);
    if (kind === "{#") {
      const end = text.indexOf("#}", open + 2);
      if (end < 0) throw new JinjaError("unclosed Jinja comment `{#`");
      i = end + 2;
    } else if (kind === "{%") {
      const end = text.indexOf("%}", open + 2);
      if (end < 0) throw new JinjaError("unclosed Jinja tag `{%`");
      const tag = text.slice(open + 2, end).replace(/^-|-$/g, "").trim();
      if (tag !== "raw") throw new JinjaError(`Jinja tag \`{% ${tag} %}\` is not supported (only {% raw %})`);
      const endRaw = /\{%-?\s*endraw\s*-?%\}/g;
      endRaw.lastIndex = end + 2;
      const m = endRaw.exec(text);
      if (!m) throw new JinjaError("`{% raw %}` without `{% endraw %}`");
      out += text.slice(end + 2, m.index);
      i = m.index + m[0].length;
    } else {
      const end = findClose(text, open + 2);
      const v = evaluate(text.slice(open + 2, end).replace(/^-|-$/g, ""), scope);
      out += toText(v);
      i = end + 2;
    }
  }
  return out;
}

function nextOpen(text: string, from: number): number {
  const m = /\{[{%#]/g;
  m.lastIndex = from;
  const r = m.exec(text);
  return r ? r.index : -1;
}

/** The index of the `}}` closing an expression, skipping string literals. */
function findClose(text: string, from: number): number {
  let q: string | undefined;
  for (let i = from; i < text.length - 1; i++) {
    const c = text[i]!;
    if (q) {
      if (c === "\\") i++;
      else if (c === q) q = undefined;
    } else if (c === "'" || c === '"') q = c;
    else if (c === "}" && text[i + 1] === "}") return i;
  }
  throw new JinjaError("unclosed Jinja expression `{{`");
}

/** Jinja's string form of a value (Python's str()). */
export function toText(v: Val): string {
  if (v instanceof FileLookup) throw new JinjaError(`lookup('file', '${v.path}') can only be the whole value of apt_key \`data\` or copy \`content\``);
  if (v === UNDEFINED || v === undefined || v === null) return v === null ? "None" : "";
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return String(v);
  return pyRepr(v);
}

function pyRepr(v: unknown): string {
  if (typeof v === "string") return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  if (v !== null && typeof v === "object") return `{${Object.entries(v).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(", ")}}`;
  return toText(v);
}

// ------------------------------------------------------------------------------------------- expressions

type Tok = { t: "name" | "str" | "num" | "op"; v: string };

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      toks.push({ t: "name", v: m[0] });
      i += m[0].length;
    } else if (/[0-9]/.test(c) || (c === "-" && /[0-9]/.test(src[i + 1] ?? "") && (toks.length === 0 || toks[toks.length - 1]!.t === "op"))) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(src.slice(i))!;
      toks.push({ t: "num", v: m[0] });
      i += m[0].length;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let s = "";
      while (j < src.length && src[j] !== c) {
        if (src[j] === "\\" && j + 1 < src.length) {
          const n = src[j + 1]!;
          s += n === "n" ? "\n" : n === "t" ? "\t" : n;
          j += 2;
        } else s += src[j++];
      }
      if (j >= src.length) throw new JinjaError(`unclosed string in \`${src.trim()}\``);
      toks.push({ t: "str", v: s });
      i = j + 1;
    } else if ("|().,[]".includes(c)) {
      toks.push({ t: "op", v: c });
      i++;
    } else {
      throw new JinjaError(`\`${c}\` in \`{{ ${src.trim()} }}\` is not supported (only names, literals and filters)`);
    }
  }
  return toks;
}

const FILTERS = ["default", "d", "join", "quote", "lower", "upper", "trim", "string", "int", "bool"];

function evaluate(src: string, scope: Scope): Val {
  const toks = tokenize(src);
  let p = 0;
  const what = `\`{{ ${src.trim()} }}\``;
  const peek = () => toks[p];
  const expectOp = (v: string) => {
    const t = toks[p];
    if (!t || t.t !== "op" || t.v !== v) throw new JinjaError(`${what}: expected \`${v}\``);
    p++;
  };
  const primary = (): Val => {
    const t = toks[p++];
    if (!t) throw new JinjaError(`${what}: empty expression`);
    let v: Val;
    if (t.t === "str") v = t.v;
    else if (t.t === "num") v = Number(t.v);
    else if (t.t === "op" && t.v === "[") {
      const list: unknown[] = [];
      while (!(peek()?.t === "op" && peek()!.v === "]")) {
        const x = primary();
        list.push(x === UNDEFINED ? "" : x);
        if (peek()?.t === "op" && peek()!.v === ",") p++;
        else break;
      }
      expectOp("]");
      v = list;
    } else if (t.t === "name") {
      if (t.v === "true" || t.v === "True") v = true;
      else if (t.v === "false" || t.v === "False") v = false;
      else if (t.v === "none" || t.v === "None") v = null;
      else {
        if (peek()?.t === "op" && peek()!.v === "(") {
          if (t.v === "lookup" && toks[p + 1]?.t === "str" && toks[p + 1]!.v === "file" && toks[p + 2]?.v === "," && toks[p + 3]?.t === "str" && toks[p + 4]?.v === ")") {
            const path = toks[p + 3]!.v;
            p += 5;
            return new FileLookup(path);
          }
          throw new JinjaError(`${what}: calling \`${t.v}()\` is not supported at compile time (only lookup('file', '/path'))`);
        }
        v = Object.prototype.hasOwnProperty.call(scope, t.v) ? scope[t.v] : UNDEFINED;
      }
      // attribute and index lookups
      for (;;) {
        const n = peek();
        if (n?.t === "op" && n.v === ".") {
          p++;
          const a = toks[p++];
          if (!a || a.t !== "name") throw new JinjaError(`${what}: expected an attribute name after \`.\``);
          if (peek()?.t === "op" && peek()!.v === "(") throw new JinjaError(`${what}: method calls (\`.${a.v}()\`) are not supported`);
          v = lookupKey(v, a.v);
        } else if (n?.t === "op" && n.v === "[") {
          p++;
          const k = primary();
          expectOp("]");
          v = lookupKey(v, k);
        } else break;
      }
    } else throw new JinjaError(`${what}: unexpected \`${t.v}\``);
    return v;
  };
  let v = primary();
  while (peek()) {
    const t = toks[p++]!;
    if (t.t !== "op" || t.v !== "|") throw new JinjaError(`${what}: \`${t.v}\` is not supported (only filters after \`|\`)`);
    const f = toks[p++];
    if (!f || f.t !== "name") throw new JinjaError(`${what}: expected a filter name after \`|\``);
    const args: unknown[] = [];
    if (peek()?.t === "op" && peek()!.v === "(") {
      p++;
      while (!(peek()?.t === "op" && peek()!.v === ")")) {
        const a = primary();
        args.push(a === UNDEFINED ? undefined : a);
        if (peek()?.t === "op" && peek()!.v === ",") p++;
        else break;
      }
      expectOp(")");
    }
    if (!FILTERS.includes(f.v)) throw new JinjaError(`${what}: filter \`${f.v}\` is not supported (supported: ${FILTERS.join(", ")})`);
    v = applyFilter(f.v, v, args);
  }
  if (v === UNDEFINED) {
    throw new JinjaError(`${what}: \`${src.trim().split(/[|.[\s]/)[0]}\` is undefined (define it in the task's \`vars\`)`);
  }
  return v;
}

function lookupKey(v: Val, k: unknown): Val {
  if (v === UNDEFINED || v === null || v === undefined) return UNDEFINED;
  if (Array.isArray(v) && typeof k === "number") return k < v.length ? v[k] : UNDEFINED;
  if (typeof v === "object" && Object.prototype.hasOwnProperty.call(v, String(k))) return (v as Record<string, unknown>)[String(k)];
  return UNDEFINED;
}

/** Python's shlex.quote, which Ansible's `quote` filter uses. */
export function pyShlexQuote(s: string): string {
  if (s === "") return "''";
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

function applyFilter(name: string, v: Val, args: unknown[]): Val {
  switch (name) {
    case "default":
    case "d": {
      const boolean = args[1] === true;
      if (v === UNDEFINED || (boolean && !v)) return args[0] ?? "";
      return v;
    }
    case "join": {
      if (v === UNDEFINED) throw new JinjaError("join of an undefined value");
      const sep = args[0] === undefined ? "" : toText(args[0]);
      return Array.isArray(v) ? v.map((x) => toText(x)).join(sep) : toText(v).split("").join(sep);
    }
    case "quote":
      return v === UNDEFINED ? v : pyShlexQuote(toText(v));
    case "lower":
      return v === UNDEFINED ? v : toText(v).toLowerCase();
    case "upper":
      return v === UNDEFINED ? v : toText(v).toUpperCase();
    case "trim":
      return v === UNDEFINED ? v : toText(v).trim();
    case "string":
      return v === UNDEFINED ? v : toText(v);
    case "int": {
      if (v === UNDEFINED) return v;
      const n = parseInt(toText(v), 10);
      return Number.isNaN(n) ? (args[0] ?? 0) : n;
    }
    case "bool":
      return v === UNDEFINED ? v : toBool(v);
  }
  throw new JinjaError(`filter ${name}`);
}

/** Ansible's boolean conversion of a module option (yes/no/true/false/1/0/on/off). */
export function toBool(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return ["yes", "on", "1", "true", "y", "t"].includes(v.trim().toLowerCase());
  return !!v;
}
