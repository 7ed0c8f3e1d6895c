// werf's fromYaml (gopkg.in/yaml.v2 Unmarshal into map[string]interface{}) and
// a toYaml in yaml.v2's Marshal style (sorted keys, 2-space indent, block
// style, sequences not indented under their key). werf v2 itself registers
// only fromYaml; toYaml is kept for configs written for older werf.
import { isMap, isScalar, isSeq, parseDocument, stringify, type Node } from "yaml";
import { type FuncMap, GoFloat, type GoMap, type GoValue, goFunc, toJS } from "../value.js";
import { argString } from "./args.js";

/** YAML 1.1 integers as yaml.v2 resolves them (the rest of the numbers are float64). */
const INT_11 = /^[-+]?(0b[01_]+|0x[0-9a-fA-F_]+|0[0-7_]+|[1-9][0-9_]*(:[0-5]?[0-9])+|[1-9][0-9_]*|0)$/;

function nodeToGo(node: Node | null | undefined): GoValue {
  if (node === null || node === undefined) return null;
  if (isMap(node)) {
    const m: GoMap = new Map();
    for (const pair of node.items) {
      const k = nodeToGo(pair.key as Node);
      m.set(k === null ? "null" : typeof k === "string" ? k : String(toJS(k)), nodeToGo(pair.value as Node));
    }
    return m;
  }
  if (isSeq(node)) return node.items.map((n) => nodeToGo(n as Node));
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === "number") {
      const src = (node.source ?? String(v)).trim();
      return INT_11.test(src) && Number.isSafeInteger(v) ? v : new GoFloat(v);
    }
    if (typeof v === "bigint") return Number(v);
    if (v === null || v === undefined) return null;
    if (typeof v === "string" || typeof v === "boolean") return v;
    if (v instanceof Date) return v.toISOString();
    return String(v);
  }
  // Aliases are resolved by the document before conversion.
  return null;
}

/** yaml.v2 Unmarshal of a document into map[string]interface{}. */
export function fromYaml(text: string): GoMap {
  const doc = parseDocument(text, { version: "1.1", merge: true, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new Error(`yaml: line ${e.linePos?.[0].line ?? 1}: ${e.message.split("\n")[0]}`);
  }
  const contents = doc.contents as Node | null;
  if (contents === null || (isScalar(contents) && contents.value === null)) return new Map();
  if (!isMap(contents)) {
    const tag = isSeq(contents) ? "!!seq" : "!!str";
    throw new Error(`yaml: unmarshal errors:\n  line 1: cannot unmarshal ${tag} into map[string]interface {}`);
  }
  return nodeToGo(contents) as GoMap;
}

/** yaml.v2 Marshal, as close as the eemeli serializer gets: sorted keys, no sequence indent, no line folding. */
export function toYaml(v: GoValue): string {
  return stringify(toJS(v), { version: "1.1", sortMapEntries: true, indentSeq: false, lineWidth: 0, minContentWidth: 0 });
}

export function registerYaml(fm: FuncMap): void {
  fm.set("fromYaml", goFunc(1, 1, (s) => fromYaml(argString(s))));
  fm.set("toYaml", goFunc(1, 1, (v) => toYaml(v).replace(/\n$/, "")));
}
