// Parsing one werf.yaml document the way gopkg.in/yaml.v2 reads it (YAML 1.1:
// yes/no/on/off booleans, 0755 octal, `<<` merge keys; duplicate keys are an
// error), and turning it into plain data that remembers, for every value, the
// YAML node it came from (for positions and for the scalar's source text).
//
// Differences from yaml.v2 that we know of:
// - sexagesimal numbers (`1:20`) and timestamps are plain strings here, as in
//   yaml.v2 when decoding into interface{} (eemeli's 1.1 schema would resolve them);
// - eemeli reports some errors yaml.v2 accepts (e.g. a tab after an indicator)
//   and vice versa; both reject tabs used for indentation.

import {
  Alias,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
  type Node,
  type Tags,
} from "yaml";
import type { Diagnostic } from "../diagnostics.js";
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
    if (node && isScalar(node) && typeof node.source === "string") return node.source;
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

/** yaml.v2 leaves sexagesimal numbers and timestamps as strings in interface{} values. */
function yamlV2Tags(tags: Tags): Tags {
  return tags.filter((t) => {
    if (typeof t !== "object" || t === null) return true;
    const tag = t as { tag?: string; format?: string };
    return tag.format !== "TIME" && tag.tag !== "tag:yaml.org,2002:timestamp";
  });
}

export function parseYamlDocument(source: RenderedDocument, locator: Locator): { doc?: YamlDocument; errors: Diagnostic[] } {
  const ydoc = parseDocument(source.text, {
    version: "1.1",
    customTags: yamlV2Tags,
    uniqueKeys: true,
    prettyErrors: false,
    merge: true,
  });
  const errors: Diagnostic[] = ydoc.errors.map((e) =>
    locator.diagnostic(
      source.offset + (e.pos?.[0] ?? 0),
      `invalid YAML: ${e.message.replace(/\s+at line \d+, column \d+:?[\s\S]*$/, "")}`,
      yamlHint(e.code, e.message),
    ),
  );
  if (errors.length > 0) return { errors };
  const slots = new WeakMap<object, Map<string | number, Slot>>();
  const nodes = new WeakMap<object, Node>();
  const value = toPlain(ydoc, ydoc.contents as Node | null, slots, nodes, 0);
  return { doc: new YamlDocument(source, locator, value, slots, nodes), errors };
}

function yamlHint(code: string, message: string): string {
  if (code === "DUPLICATE_KEY") return "each key may appear once in a mapping (yaml.v2 rejects duplicates); remove or merge the repeated key";
  if (/tab/i.test(message)) return "indent with spaces; YAML forbids tabs in indentation";
  if (code === "BAD_INDENT" || code === "MISSING_CHAR" || code === "UNEXPECTED_TOKEN")
    return "check the indentation and quoting around this line of the rendered werf.yaml (`werf config render` / `stapel2docker render`)";
  return "fix the YAML syntax of the rendered werf.yaml at this place";
}

const MAX_DEPTH = 200;

function toPlain(
  doc: Document,
  node: Node | null | undefined,
  slots: WeakMap<object, Map<string | number, Slot>>,
  nodes: WeakMap<object, Node>,
  depth: number,
): unknown {
  if (node == null) return null;
  if (depth > MAX_DEPTH) return null;
  if (isAlias(node)) return toPlain(doc, (node as Alias).resolve(doc) as Node | undefined, slots, nodes, depth + 1);
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || typeof v === "string" || typeof v === "boolean") return v;
    // eemeli's 1.1 float pattern takes "." or "1_" as numbers; yaml.v2 keeps them as strings.
    if (typeof v === "number") return Number.isNaN(v) && !/^\.nan$/i.test(node.source ?? "") ? (node.source ?? "") : v;
    if (typeof v === "bigint") return Number(v);
    return node.source ?? String(v);
  }
  if (isSeq(node)) {
    const out: unknown[] = [];
    const m = new Map<string | number, Slot>();
    slots.set(out, m);
    nodes.set(out, node);
    node.items.forEach((item, i) => {
      const value = deref(doc, item as Node | null);
      m.set(i, { value });
      out.push(toPlain(doc, item as Node | null, slots, nodes, depth + 1));
    });
    return out;
  }
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    const m = new Map<string | number, Slot>();
    slots.set(out, m);
    nodes.set(out, node);
    const merged: Array<[string, unknown, Slot]> = [];
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as Node | null;
      const valueNode = pair.value as Node | null;
      const key = keyText(keyNode);
      if (key === "<<") {
        // Merge keys: entries of the merged mapping(s) not set explicitly.
        const sources = deref(doc, valueNode);
        const list = sources && isSeq(sources) ? sources.items.map((i) => deref(doc, i as Node | null)) : [sources];
        for (const src of list) {
          const plain = toPlain(doc, src, slots, nodes, depth + 1);
          if (plain && typeof plain === "object" && !Array.isArray(plain)) {
            for (const [k, v] of Object.entries(plain)) {
              const s = slots.get(plain)?.get(k) ?? { value: null };
              merged.push([k, v, s]);
            }
          }
        }
        continue;
      }
      m.set(key, { key: keyNode ?? undefined, value: deref(doc, valueNode) });
      out[key] = toPlain(doc, valueNode, slots, nodes, depth + 1);
    }
    for (const [k, v, s] of merged) {
      if (k in out) continue;
      out[k] = v;
      m.set(k, s);
    }
    return out;
  }
  return null;
}

function deref(doc: Document, node: Node | null | undefined): Node | null {
  let n = node ?? null;
  for (let i = 0; n && isAlias(n) && i < MAX_DEPTH; i++) n = ((n as Alias).resolve(doc) as Node | undefined) ?? null;
  return n;
}

/** Mapping keys as yaml.v2 puts them in a Go string: the scalar's source text. */
function keyText(node: Node | null): string {
  if (node == null) return "";
  if (isScalar(node)) return typeof node.source === "string" ? node.source : String(node.value);
  return String((node as { toJSON?: () => unknown }).toJSON?.() ?? "");
}
