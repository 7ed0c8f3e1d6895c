// Parsing one werf.yaml document the way werf reads it: gopkg.in/yaml.v2's UnmarshalStrict (YAML
// 1.1 scalars: yes/no/on/off booleans, 0755 octal; `<<` merge keys; aliases; every key set twice in
// one mapping is an error, also when a merge brings it in), then plain data that remembers, for
// every value, the YAML node it came from (for positions and for the scalar's source text). The
// yaml.v2 semantics and our limits (depth, size, alias expansion, control characters) are in
// ../yaml-v2.ts.
//
// Syntax errors are found and worded by the `yaml` package's parser, which reports some errors
// yaml.v2 accepts (e.g. a tab after an indicator) and vice versa; both reject tabs used for
// indentation.

import { isScalar, type Node, type Scalar, type YAMLMap, type YAMLSeq } from "yaml";
import type { Diagnostic } from "../diagnostics.js";
import { V2Decoder, YamlV2Error, parseV2Document, type Resolved, type V2Builder } from "../yaml-v2.js";
import type { RenderedDocument } from "./documents.js";
import type { Locator } from "./locate.js";

/** Where one entry of a mapping or sequence came from. */
export interface Slot {
  /** The mapping key node (absent for sequence items). */
  key?: Node;
  /** The value node (aliases resolved); null for an empty value (`key:`). */
  value: Node | null;
}

/** A parsed document: plain data plus the way back to YAML nodes. */
export class YamlDocument {
  constructor(
    readonly source: RenderedDocument,
    readonly locator: Locator,
    readonly value: unknown,
    /** Per plain container (object or array): its entries' slots. */
    private readonly slots: WeakMap<object, Map<string | number, Slot>>,
    /** Per plain container: its own node. */
    private readonly nodes: WeakMap<object, Node>,
  ) {}

  slot(container: object, key: string | number): Slot | undefined {
    return this.slots.get(container)?.get(key);
  }

  /** Rendered offset where the container itself starts. */
  containerOffset(container: object): number {
    const node = this.nodes.get(container);
    return this.source.offset + (node?.range?.[0] ?? 0);
  }

  /** Rendered offset of an entry's key (or its value when there is no key). */
  keyOffset(container: object, key: string | number): number {
    const s = this.slot(container, key);
    const node = s?.key ?? s?.value;
    if (node?.range) return this.source.offset + node.range[0];
    return this.containerOffset(container);
  }

  /** Rendered offset of an entry's value (its key when the value is empty). */
  valueOffset(container: object, key: string | number): number {
    const s = this.slot(container, key);
    const node = s?.value ?? s?.key;
    if (node?.range) return this.source.offset + node.range[0];
    return this.containerOffset(container);
  }

  /**
   * The text yaml.v2 puts in a Go string field: a scalar's source as written
   * (`0755` stays "0755", `yes` stays "yes"), "" for null.
   */
  text(container: object, key: string | number): string | undefined {
    const v = (container as Record<string | number, unknown>)[key];
    if (v === undefined) return undefined;
    if (v === null) return "";
    if (typeof v === "string") return v;
    const node = this.slot(container, key)?.value;
    if (node && isScalar(node) && typeof node.value === "string") return node.value;
    return String(v);
  }

  /** Walk a path of keys from the root: [container, lastKey] of the deepest existing entry. */
  resolve(path: readonly PropertyKey[]): { container: object; key: string | number } | undefined {
    let cur: unknown = this.value;
    let last: { container: object; key: string | number } | undefined;
    for (const seg of path) {
      if (typeof seg === "symbol" || cur === null || typeof cur !== "object") break;
      const key = Array.isArray(cur) ? Number(seg) : String(seg);
      if (!(key in (cur as object))) break;
      last = { container: cur as object, key };
      cur = (cur as Record<string | number, unknown>)[key];
    }
    return last;
  }

  /** Rendered offset for a path (value position; key position with `atKey`). */
  offsetOf(path: readonly PropertyKey[], atKey = false): number {
    if (path.length === 0 || !this.value || typeof this.value !== "object") return this.firstContentOffset();
    const r = this.resolve(path);
    if (!r) return this.containerOffset(this.value as object);
    return atKey ? this.keyOffset(r.container, r.key) : this.valueOffset(r.container, r.key);
  }

  /** Offset of the document's first non-blank, non-comment character. */
  firstContentOffset(): number {
    const m = /^(?:[ \t]*(?:#.*)?\r?\n)*[ \t]*/.exec(this.source.text);
    return this.source.offset + (m ? m[0].length : 0);
  }
}

type Slots = WeakMap<object, Map<string | number, Slot>>;

/** Plain data for the schema: records and arrays of strings, numbers, booleans and null. */
function plainBuilder(slots: Slots, nodes: WeakMap<object, Node>): V2Builder<unknown, Record<string, unknown>, unknown[]> {
  const slotsOf = (container: object): Map<string | number, Slot> => {
    let m = slots.get(container);
    if (!m) slots.set(container, (m = new Map()));
    return m;
  };
  return {
    scalar: (_node: Scalar, r: Resolved) => (r.tag === "null" ? null : r.value),
    // Keys as yaml.v2 puts them in a Go string: the scalar's text as written ("on" stays "on").
    key: (node: Scalar, r: Resolved) => (r.tag === "null" ? "" : r.tag === "str" ? r.value : String(node.value)),
    newMap(node: YAMLMap) {
      const out: Record<string, unknown> = {};
      nodes.set(out, node);
      slotsOf(out);
      return out;
    },
    set(m, k, v, keyNode, valueNode) {
      // defineProperty: a key named "__proto__" is data, not the object's prototype.
      Object.defineProperty(m, k, { value: v, enumerable: true, writable: true, configurable: true });
      slotsOf(m).set(k, { key: keyNode, value: valueNode });
    },
    newSeq(node: YAMLSeq) {
      const out: unknown[] = [];
      nodes.set(out, node);
      slotsOf(out);
      return out;
    },
    push(l, v, node) {
      slotsOf(l).set(l.length, { value: node });
      l.push(v);
    },
    mapValue: (m) => m,
    seqValue: (l) => l,
    nullValue: () => null,
  };
}

export function parseYamlDocument(source: RenderedDocument, locator: Locator): { doc?: YamlDocument; errors: Diagnostic[] } {
  const slots: Slots = new WeakMap();
  const nodes = new WeakMap<object, Node>();
  let value: unknown;
  const errors: Diagnostic[] = [];
  try {
    const ydoc = parseV2Document(source.text);
    const decoder = new V2Decoder(ydoc, plainBuilder(slots, nodes), true);
    const top = decoder.decodeTopMapping();
    value = top.kind === "map" ? top.value : top.kind === "null" ? null : decoder.decodeAny();
    for (const t of decoder.typeErrors) {
      errors.push(locator.diagnostic(source.offset + t.offset, `invalid YAML: ${t.detail}`, yamlHint(t.detail, source.text, t.offset)));
    }
  } catch (e) {
    if (!(e instanceof YamlV2Error)) throw e;
    const offset = e.offset ?? 0;
    return { errors: [locator.diagnostic(source.offset + offset, `invalid YAML: ${e.detail}`, yamlHint(e.detail, source.text, offset))] };
  }
  if (errors.length > 0) return { errors };
  return { doc: new YamlDocument(source, locator, value, slots, nodes), errors };
}

function yamlHint(detail: string, text: string, offset: number): string {
  if (/already set in map/.test(detail))
    return "each key may appear once in a mapping (yaml.v2's UnmarshalStrict, which werf uses, rejects duplicates, also those a `<<` merge brings in); remove or rename the repeated key";
  if (/control characters|invalid Unicode/.test(detail)) {
    const code = text.codePointAt(offset) ?? 0;
    return `remove the character U+${code.toString(16).toUpperCase().padStart(4, "0")} here; YAML allows only printable characters, tab and line breaks`;
  }
  if (/excessive aliasing/.test(detail)) return "aliases (*name) here expand to far more data than the document holds (yaml.v2 refuses this); write the data out or use fewer nested aliases";
  if (/contains itself/.test(detail)) return "an alias may not refer to the anchored node that contains it";
  if (/unknown anchor/.test(detail)) return "define the anchor (&name) before the alias (*name) that uses it, in the same document";
  if (/map merge requires/.test(detail)) return "`<<` merges a mapping (`<<: *name`) or a list of them (`<<: [*a, *b]`)";
  if (/exceeded max depth/.test(detail)) return "the document nests mappings and lists too deeply; flatten it";
  if (/too large/.test(detail)) return "split the data into several documents or files; one YAML document this large is not a werf config";
  if (/tab/i.test(detail)) return "indent with spaces; YAML forbids tabs in indentation";
  if (/cannot decode/.test(detail)) return "the value does not match its explicit tag (!!int, !!bool, ...); fix the value or drop the tag";
  return "check the indentation and quoting around this line of the rendered werf.yaml (`werf config render` / `stapel2docker render`)";
}
