// Reading YAML the way gopkg.in/yaml.v2 (2.4.0) decodes it, on top of the `yaml` package's parser.
//
// werf reads werf.yaml documents with yaml.UnmarshalStrict and `fromYaml` with yaml.Unmarshal. The
// `yaml` package gives us the syntax tree; the meaning is yaml.v2's and is reimplemented here:
// - scalars resolve as yaml.v2's resolve.go does (YAML 1.1 booleans y/yes/on/off..., 0755 octal,
//   0x/0o/0b ints, `~`, .inf/.nan; timestamps and 1:20 stay strings; explicit !!tags checked);
// - aliases are expanded as copies, and `<<` merge keys are applied in document order into the
//   mapping being built (so a key written after `<<` wins and one written before it loses; in a
//   `<<: [*a, *b]` list earlier sources win). In strict mode (UnmarshalStrict) every key set twice
//   in one mapping, by a merge or not, is an error;
// - alias expansion is bounded by yaml.v2's own rule (decode.go allowedAliasRatio: once more than
//   100 of more than 1000 decode steps come from aliases, their share may not pass 99% up to 400k
//   steps, sliding to 10% at 4M), so "billion laughs" documents fail fast with yaml.v2's message.
//
// Limits of our own, which yaml.v2 does not have in this form, keep memory and the JS stack bounded:
// - MAX_YAML_DEPTH nesting levels (yaml.v2 allows 10000; the `yaml` package composes recursively and
//   V8 can abort the process when a stack overflow hits regexp compilation, so we check the depth on
//   the parser's flat token tree before composing);
// - MAX_YAML_CHARS characters per document (the parser needs ~100 bytes of heap and ~1 µs per
//   input byte, so larger documents would take minutes and gigabytes).
import { Composer, Parser, isAlias, isMap, isPair, isScalar, isSeq, type Alias, type Document, type Node, type Scalar, type YAMLMap, type YAMLSeq } from "yaml";
import { goQuote } from "./template/strconv.js";

/** Nesting levels (mappings and sequences) allowed in one document. */
export const MAX_YAML_DEPTH = 256;
/** Characters allowed in one YAML document (8 MiB). */
export const MAX_YAML_CHARS = 8 * 1024 * 1024;

/** A yaml.v2 failure: its message (without "yaml: ") and where it happened, when known. */
export class YamlV2Error extends Error {
  constructor(
    readonly detail: string,
    /** Offset in the document text. */
    readonly offset: number | undefined,
    /** yaml.v2 prefixes this message with "line N: ". */
    readonly goLine: boolean,
  ) {
    super(detail);
    this.name = "YamlV2Error";
  }

  /** The message as Go's yaml.v2 words it: "yaml: line 3: ..." or "yaml: ...". */
  goMessage(text: string): string {
    return this.goLine && this.offset !== undefined ? `yaml: line ${lineOf(text, this.offset)}: ${this.detail}` : `yaml: ${this.detail}`;
  }
}

/** 1-based line of an offset. */
export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

// ---- reading and parsing -----------------------------------------------------------------------

/**
 * The first character yaml.v2's reader refuses: it accepts TAB, LF, CR, printable ASCII, NEL,
 * U+00A0..U+D7FF, U+E000..U+FFFD and the supplementary planes ("control characters are not allowed").
 */
export function findForbiddenChar(text: string): { offset: number; detail: string } | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) continue;
    if (c === 0x09 || c === 0x0a || c === 0x0d || c === 0x85) continue;
    if (c >= 0xa0 && c <= 0xd7ff) continue;
    if (c >= 0xe000 && c <= 0xfffd) continue;
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
      return { offset: i, detail: "invalid Unicode character" };
    }
    if (c >= 0xdc00 && c <= 0xdfff) return { offset: i, detail: "invalid Unicode character" };
    return { offset: i, detail: "control characters are not allowed" };
  }
  return undefined;
}

interface CstLike {
  type?: string;
  offset?: number;
  value?: unknown;
  items?: Array<{ key?: unknown; value?: unknown }>;
}

/** The first collection nested deeper than MAX_YAML_DEPTH, by walking the parser's tokens without recursion. */
function tooDeep(tokens: readonly unknown[]): number | undefined {
  const stack: Array<[CstLike, number]> = [];
  for (const t of tokens) if (t && typeof t === "object") stack.push([t as CstLike, 0]);
  while (stack.length > 0) {
    const [t, depth] = stack.pop()!;
    let d = depth;
    if (t.type === "block-map" || t.type === "block-seq" || t.type === "flow-collection") {
      d++;
      if (d > MAX_YAML_DEPTH) return t.offset ?? 0;
    }
    if (t.type === "document" && t.value && typeof t.value === "object") stack.push([t.value as CstLike, d]);
    for (const it of t.items ?? []) {
      if (it.key && typeof it.key === "object") stack.push([it.key as CstLike, d]);
      if (it.value && typeof it.value === "object") stack.push([it.value as CstLike, d]);
    }
  }
  return undefined;
}

/** The parser's messages end with " at line L, column C:" and a source excerpt; yaml.v2's do not. */
function firstLine(message: string): string {
  return message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

/**
 * Parse the first YAML document of `text` (yaml.v2 ignores the rest) into the `yaml` package's
 * tree, with every scalar kept as written (failsafe schema: we resolve them ourselves).
 */
export function parseV2Document(text: string): Document {
  if (text.length > MAX_YAML_CHARS) {
    throw new YamlV2Error(`document too large: ${text.length} characters, over the limit of ${MAX_YAML_CHARS} (8 MiB)`, 0, false);
  }
  const bad = findForbiddenChar(text);
  if (bad) throw new YamlV2Error(bad.detail, bad.offset, false);
  const tokens = [...new Parser().parse(text)];
  const deep = tooDeep(tokens);
  if (deep !== undefined) throw new YamlV2Error(`exceeded max depth of ${MAX_YAML_DEPTH}`, deep, true);
  const composer = new Composer({ version: "1.1", schema: "failsafe", uniqueKeys: false, merge: false });
  let doc: Document | undefined;
  for (const d of composer.compose(tokens, true, text.length)) {
    doc ??= d as Document;
  }
  if (!doc) throw new YamlV2Error("no document", 0, false);
  const err = doc.errors[0];
  if (err) throw new YamlV2Error(firstLine(err.message), err.pos[0], true);
  return doc;
}

// ---- scalars ----------------------------------------------------------------------------------

const TAG = "tag:yaml.org,2002:";

export type Resolved =
  | { tag: "null" }
  | { tag: "str"; value: string }
  | { tag: "bool"; value: boolean }
  | { tag: "int"; value: number }
  | { tag: "float"; value: number };

const BOOL_NULL: Record<string, Resolved> = {};
for (const s of ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]) BOOL_NULL[s] = { tag: "bool", value: true };
for (const s of ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"]) BOOL_NULL[s] = { tag: "bool", value: false };
for (const s of ["", "~", "null", "Null", "NULL"]) BOOL_NULL[s] = { tag: "null" };
for (const s of [".nan", ".NaN", ".NAN"]) BOOL_NULL[s] = { tag: "float", value: NaN };
for (const s of [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"]) BOOL_NULL[s] = { tag: "float", value: Infinity };
for (const s of ["-.inf", "-.Inf", "-.INF"]) BOOL_NULL[s] = { tag: "float", value: -Infinity };

/** The timestamp forms yaml.v2 accepts (parseTimestamp: YYYY-M-D, optionally with a time). */
const TIMESTAMP = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?(Z|[-+][0-9]{2}:[0-9]{2})?)?$/;
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const DOT_FLOAT = /^\.[0-9]+([eE][-+]?[0-9]+)?$/;

/** Go's strconv.ParseUint(s, 0, 64) digits after an optional base prefix; undefined when invalid. */
function parseUintBase0(s: string): bigint | undefined {
  if (s === "") return undefined;
  let base = 10;
  let digits = s;
  if (s[0] === "0") {
    const p = s[1]?.toLowerCase();
    if (s.length >= 3 && p === "b") (base = 2), (digits = s.slice(2));
    else if (s.length >= 3 && p === "o") (base = 8), (digits = s.slice(2));
    else if (s.length >= 3 && p === "x") (base = 16), (digits = s.slice(2));
    else (base = 8), (digits = s.slice(1));
  }
  let n = 0n;
  const b = BigInt(base);
  for (const ch of digits) {
    const v = parseInt(ch, 16);
    if (Number.isNaN(v) || v >= base) return undefined;
    n = n * b + BigInt(v);
  }
  return n;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** yaml.v2 resolve() of an untagged plain scalar (or one tagged with a resolvable tag). */
function resolvePlain(s: string): Resolved {
  const known = BOOL_NULL[s];
  if (known) return known;
  const c = s[0]!;
  if (c === ".") {
    if (DOT_FLOAT.test(s)) {
      const f = Number(s);
      if (Number.isFinite(f)) return { tag: "float", value: f };
    }
    return { tag: "str", value: s };
  }
  if (c === "+" || c === "-" || (c >= "0" && c <= "9")) {
    const plain = s.replace(/_/g, "");
    // strconv.ParseInt(plain, 0, 64), then ParseUint (no sign), then a YAML-style float.
    const neg = plain[0] === "-";
    const unsigned = plain[0] === "+" || plain[0] === "-" ? plain.slice(1) : plain;
    const u = parseUintBase0(unsigned);
    if (u !== undefined) {
      const v = neg ? -u : u;
      if (v >= INT64_MIN && v <= INT64_MAX) return { tag: "int", value: Number(v) };
      if (plain[0] !== "+" && !neg && v <= UINT64_MAX) return { tag: "int", value: Number(v) };
    }
    if (YAML_STYLE_FLOAT.test(plain)) {
      const f = Number(plain);
      if (Number.isFinite(f)) return { tag: "float", value: f };
    }
  }
  return { tag: "str", value: s };
}

function shortTag(tag: string): string {
  return tag.startsWith(TAG) ? "!!" + tag.slice(TAG.length) : tag;
}

/** yaml.v2's value of a scalar node (decode.go scalar() + resolve.go resolve()). */
export function resolveScalar(node: Scalar): Resolved {
  const text = String(node.value ?? "");
  const tag = node.tag ?? "";
  // Only untagged plain scalars are resolved implicitly; quoted and block scalars are strings.
  if (tag === "" && node.type !== "PLAIN") return { tag: "str", value: text };
  if (tag === TAG + "binary") {
    // Go's base64.StdEncoding skips line breaks and nothing else.
    const b64 = text.replace(/[\r\n]/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
      throw new YamlV2Error("!!binary value contains invalid base64 data", node.range?.[0], false);
    }
    return { tag: "str", value: Buffer.from(b64, "base64").toString("utf8") };
  }
  const resolvable = tag === "" || [TAG + "str", TAG + "bool", TAG + "int", TAG + "float", TAG + "null", TAG + "timestamp"].includes(tag);
  if (!resolvable || tag === TAG + "str") return { tag: "str", value: text };
  const r = resolvePlain(text);
  if (tag === "" || tag === TAG + r.tag) return r;
  if (tag === TAG + "float" && r.tag === "int") return { tag: "float", value: r.value };
  // A timestamp stays the text as written (yaml.v2 keeps interface{} values of them as strings).
  if (tag === TAG + "timestamp" && r.tag === "str" && TIMESTAMP.test(text)) return r;
  throw new YamlV2Error(`cannot decode ${shortTag(TAG + r.tag)} \`${text}\` as a ${shortTag(tag)}`, node.range?.[0], false);
}

/** `<<` as yaml.v2 recognizes a merge key: plain and untagged, or tagged !!merge. */
function isMergeKey(node: unknown): boolean {
  if (!isScalar(node) || node.value !== "<<") return false;
  return node.tag === TAG + "merge" || (node.tag === undefined && node.type === "PLAIN");
}

// ---- decoding ---------------------------------------------------------------------------------

/** What a decoder builds values with (Go values for fromYaml, plain data with positions for werf.yaml). */
export interface V2Builder<V, M, L> {
  scalar(node: Scalar, r: Resolved): V;
  /** The key under which a scalar key is stored: yaml.v2 gives top-level keys of map[string]... the text as written. */
  key(node: Scalar, r: Resolved, top: boolean): string;
  newMap(node: YAMLMap): M;
  /** `keyNode`/`valueNode`: where the entry is written (inside the anchored mapping for merged entries). */
  set(map: M, key: string, value: V, keyNode: Node, valueNode: Node | null): void;
  newSeq(node: YAMLSeq): L;
  push(list: L, value: V, node: Node | null): void;
  mapValue(map: M): V;
  seqValue(list: L): V;
  nullValue(): V;
}

/** A strict-mode error that does not stop decoding (yaml.v2 collects these as "unmarshal errors"). */
export interface V2TypeError {
  detail: string;
  offset: number;
}

function allowedAliasRatio(decodeCount: number): number {
  if (decodeCount <= 400_000) return 0.99;
  if (decodeCount >= 4_000_000) return 0.1;
  return 0.99 - 0.89 * ((decodeCount - 400_000) / 3_600_000);
}

function anchorsOf(doc: Document): Map<Alias, Node> {
  // yaml.v2 registers an anchor when its node starts, so an alias refers to the latest node with
  // that anchor that starts before it (possibly one that contains it, which is then an error).
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node>();
  const visit = (n: unknown): void => {
    if (n === null || n === undefined || typeof n !== "object") return;
    if (isAlias(n)) {
      const t = anchors.get(n.source);
      if (!t) throw new YamlV2Error(`unknown anchor '${n.source}' referenced`, n.range?.[0], false);
      targets.set(n, t);
      return;
    }
    const node = n as Node;
    if (node.anchor) anchors.set(node.anchor, node);
    if (isMap(node)) {
      for (const p of node.items) {
        visit(p.key);
        visit(p.value);
      }
    } else if (isSeq(node)) {
      for (const i of node.items) visit(i);
    }
  };
  visit(doc.contents);
  return targets;
}

export class V2Decoder<V, M, L> {
  private decodeCount = 0;
  private aliasCount = 0;
  private aliasDepth = 0;
  private readonly expanding = new Set<Alias>();
  /** The alias being expanded that is itself outside any expansion. */
  private outerAlias: Alias | undefined;
  private readonly targets: Map<Alias, Node>;
  /** Strict mode: the keys each map got so far, as Go compares them. */
  private readonly strictKeys = new Map<M, Set<string>>();
  readonly typeErrors: V2TypeError[] = [];

  constructor(
    private readonly doc: Document,
    private readonly b: V2Builder<V, M, L>,
    /** yaml.UnmarshalStrict: a key set twice in a mapping is an error. */
    private readonly strict: boolean,
  ) {
    this.targets = anchorsOf(doc);
  }

  /** One decode step, counted the way yaml.v2 counts them for its alias-expansion limit. */
  private step(node: Node | null): void {
    this.decodeCount++;
    if (this.aliasDepth > 0) this.aliasCount++;
    if (this.aliasCount > 100 && this.decodeCount > 1000 && this.aliasCount / this.decodeCount > allowedAliasRatio(this.decodeCount)) {
      // Located at the alias, written outside any expansion, whose expansion went over the limit.
      throw new YamlV2Error("document contains excessive aliasing", (this.outerAlias ?? node)?.range?.[0], false);
    }
  }

  /** Collections being decoded, one inside the other (aliases can nest them deeper than the text does). */
  private depth = 0;

  private enter(node: Node): void {
    if (++this.depth > MAX_YAML_DEPTH) throw new YamlV2Error(`exceeded max depth of ${MAX_YAML_DEPTH}`, node.range?.[0], true);
  }

  private decode(node: Node | null): V {
    if (node === null || node === undefined) return this.b.nullValue();
    this.step(node);
    if (isAlias(node)) return this.withAlias(node, (t) => this.decode(t));
    if (isScalar(node)) {
      const r = resolveScalar(node);
      return r.tag === "null" ? this.b.nullValue() : this.b.scalar(node, r);
    }
    if (isMap(node)) {
      const m = this.b.newMap(node);
      this.mappingInto(node, m, undefined);
      return this.b.mapValue(m);
    }
    if (isSeq(node)) {
      const l = this.b.newSeq(node);
      this.enter(node);
      for (const item of node.items) {
        const n = (item ?? null) as Node | null;
        this.b.push(l, this.decode(n), this.deref(n));
      }
      this.depth--;
      return this.b.seqValue(l);
    }
    return this.b.nullValue();
  }

  private withAlias<T>(alias: Alias, f: (target: Node) => T): T {
    if (this.expanding.has(alias)) throw new YamlV2Error(`anchor '${alias.source}' value contains itself`, alias.range?.[0], false);
    this.expanding.add(alias);
    if (this.aliasDepth === 0) this.outerAlias = alias;
    this.aliasDepth++;
    try {
      return f(this.targets.get(alias)!);
    } finally {
      this.aliasDepth--;
      this.expanding.delete(alias);
      if (this.aliasDepth === 0) this.outerAlias = undefined;
    }
  }

  /** The node an alias stands for (the node itself otherwise). */
  deref(node: Node | null): Node | null {
    let n = node;
    for (let i = 0; n && isAlias(n) && i < 1000; i++) n = this.targets.get(n) ?? null;
    return n;
  }

  /**
   * Decode a mapping's entries into `out` (a new map, or the map a `<<` merges into; `site` is then
   * that `<<` key, where duplicates are reported).
   */
  private mappingInto(node: YAMLMap, out: M, site: Node | undefined): void {
    this.enter(node);
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = (pair.key ?? null) as Node | null;
      const valueNode = (pair.value ?? null) as Node | null;
      if (isMergeKey(keyNode)) {
        this.merge(valueNode, out, site ?? keyNode!);
        continue;
      }
      const top = out === this.rootMap;
      const k = this.decodeKey(keyNode, top);
      if (k === undefined) continue;
      const value = this.decode(valueNode);
      if (this.strict) {
        // Go compares the keys it decoded: strings at the top, resolved values below (`y` and
        // `true` are the same key there, `1` and "1" are not).
        const id = top ? `str:${k.key}` : k.id;
        let seen = this.strictKeys.get(out);
        if (!seen) this.strictKeys.set(out, (seen = new Set()));
        if (seen.has(id)) {
          const at = site ?? keyNode;
          this.typeErrors.push({ detail: `key ${top ? goQuote(k.key) : k.goRepr} already set in map`, offset: at?.range?.[0] ?? node.range?.[0] ?? 0 });
          continue;
        }
        seen.add(id);
      }
      this.b.set(out, k.key, value, keyNode ?? node, this.deref(valueNode));
    }
    this.depth--;
  }

  /** The whole document as one value (for documents that are not a mapping). */
  decodeAny(): V {
    return this.decode((this.doc.contents ?? null) as Node | null);
  }

  /** The top-level map (keys decoded as Go strings there, as interface{} values below). */
  private rootMap: M | undefined;

  /** The top-level mapping: fromYaml and werf decode it into map[string]interface{}. */
  decodeTopMapping(): { value: M | undefined; kind: "map" | "null" | "seq" | "scalar"; node: Node | null } {
    const contents = (this.doc.contents ?? null) as Node | null;
    // yaml.v2 counts a step for the document node and one for its content.
    this.step(contents);
    if (contents === null) return { value: undefined, kind: "null", node: null };
    this.step(contents);
    const resolved = this.deref(contents);
    if (resolved && isScalar(resolved)) {
      const r = resolveScalar(resolved);
      return { value: undefined, kind: r.tag === "null" ? "null" : "scalar", node: resolved };
    }
    if (resolved && isSeq(resolved)) return { value: undefined, kind: "seq", node: resolved };
    if (!resolved || !isMap(resolved)) return { value: undefined, kind: "null", node: resolved };
    const m = this.b.newMap(resolved);
    this.rootMap = m;
    this.mappingInto(resolved, m, undefined);
    return { value: m, kind: "map", node: resolved };
  }

  private decodeKey(keyNode: Node | null, top: boolean): DecodedKey | undefined {
    const scalarKey = (n: Scalar, r: Resolved): DecodedKey => ({
      key: this.b.key(n, r, top),
      id: r.tag === "null" ? "null:" : `${r.tag}:${r.value}`,
      goRepr: r.tag === "null" ? "<nil>" : r.tag === "str" ? goQuote(r.value) : String(r.value),
    });
    if (keyNode === null) {
      this.step(null);
      return scalarKey(emptyScalar, { tag: "null" });
    }
    this.step(keyNode);
    const key = (n: Node): DecodedKey | undefined => {
      if (isAlias(n)) return this.withAlias(n, (t) => (this.step(t), key(t)));
      if (isScalar(n)) return scalarKey(n, resolveScalar(n));
      const kind = isMap(n) ? "!!map" : "!!seq";
      if (top) {
        this.typeErrors.push({ detail: `cannot unmarshal ${kind} into string`, offset: n.range?.[0] ?? 0 });
        return undefined;
      }
      throw new YamlV2Error(`invalid map key: ${isMap(n) ? "map[interface {}]interface {}{...}" : "[]interface {}{...}"}`, n.range?.[0], false);
    };
    return key(keyNode);
  }

  private merge(valueNode: Node | null, out: M, site: Node): void {
    const wantMap = (): never => {
      throw new YamlV2Error("map merge requires map or sequence of maps as the value", valueNode?.range?.[0] ?? site.range?.[0], false);
    };
    const into = (n: Node): void => {
      // unmarshal(n, out) with `out` already a map: the entries land in it.
      this.step(n);
      if (isAlias(n)) {
        this.withAlias(n, (t) => {
          if (!isMap(t)) wantMap();
          this.step(t);
          this.mappingInto(t as YAMLMap, out, site);
        });
      } else this.mappingInto(n as YAMLMap, out, site);
    };
    if (valueNode && isMap(valueNode)) return into(valueNode);
    if (valueNode && isAlias(valueNode)) {
      if (!isMap(this.targets.get(valueNode))) wantMap();
      return into(valueNode);
    }
    if (valueNode && isSeq(valueNode)) {
      // Backwards, as earlier sources take precedence.
      const items = valueNode.items as Array<Node | null>;
      for (let i = items.length - 1; i >= 0; i--) {
        const n = items[i] ?? null;
        if (!n || !(isMap(n) || (isAlias(n) && isMap(this.targets.get(n))))) wantMap();
        into(n!);
      }
      return;
    }
    wantMap();
  }
}

const emptyScalar = { value: "", type: "PLAIN" } as unknown as Scalar;

interface DecodedKey {
  /** The key in our maps. */
  key: string;
  /** What Go compares (type and value). */
  id: string;
  /** The key as Go's %#v prints it in "key ... already set in map". */
  goRepr: string;
}

