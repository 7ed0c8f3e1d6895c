// werf's fromYaml (gopkg.in/yaml.v2 Unmarshal into map[string]interface{}) and
// a toYaml in yaml.v2's Marshal style (sorted keys, 2-space indent, block
// style, sequences not indented under their key). werf v2 itself registers
// only fromYaml; toYaml is kept for configs written for older werf.
import { stringify, type Scalar } from "yaml";
import { V2Decoder, YamlV2Error, lineOf, parseV2Document, resolveScalar, type Resolved, type V2Builder } from "../../yaml-v2.js";
import { FuncError } from "../errors.js";
import { formatFloat } from "../format.js";
import { type FuncMap, GoFloat, type GoMap, type GoValue, goFunc, toJS } from "../value.js";
import { argString } from "./args.js";
import { guardExpansion } from "../expansion.js";

/**
 * Go values as yaml.Unmarshal builds them into interface{}: int, float64, bool, string, nil,
 * []interface{} and maps. Every alias is decoded again (a fresh copy, as in Go, so that `set` on one
 * copy leaves the others alone). Below the top level yaml.v2 builds map[interface{}]interface{} with
 * resolved keys (`y:` is the key true); our maps have string keys, so such a key is stored as Go
 * prints it ("true", "1", "1.5", "<nil>").
 */
const goBuilder: V2Builder<GoValue, GoMap, GoValue[]> = {
  scalar(_node: Scalar, r: Resolved): GoValue {
    switch (r.tag) {
      case "null":
        return null;
      case "float":
        return new GoFloat(r.value);
      default:
        return r.value;
    }
  },
  key(node: Scalar, r: Resolved, top: boolean): string {
    if (top) return r.tag === "null" ? "" : r.tag === "str" ? r.value : String(node.value);
    switch (r.tag) {
      case "null":
        return "<nil>";
      case "float":
        return formatFloat(r.value);
      default:
        return String(r.value);
    }
  },
  newMap: () => new Map(),
  set: (m, k, v) => void m.set(k, v),
  newSeq: () => [],
  push: (l, v) => void l.push(v),
  mapValue: (m) => m,
  seqValue: (l) => l,
  nullValue: () => null,
};

/** yaml.v2's "cannot unmarshal" wording of a value: `abc`, or its first 7 characters and "...". */
function shortValue(v: string): string {
  return v.length > 10 ? ` \`${v.slice(0, 7)}...\`` : ` \`${v}\``;
}

/** werf's fromYaml: yaml.v2 Unmarshal of the first document into map[string]interface{}. */
export function fromYaml(text: string): GoMap {
  try {
    const doc = parseV2Document(text);
    const d = new V2Decoder(doc, goBuilder, false);
    const top = d.decodeTopMapping();
    if (d.typeErrors.length > 0 || top.kind === "seq" || top.kind === "scalar") {
      const lines = d.typeErrors.map((t) => `line ${lineOf(text, t.offset)}: ${t.detail}`);
      if (top.kind === "seq") lines.push(`line ${lineOf(text, top.node?.range?.[0] ?? 0)}: cannot unmarshal !!seq into map[string]interface {}`);
      if (top.kind === "scalar") {
        const node = top.node as Scalar;
        const tag = node.tag ? node.tag.replace("tag:yaml.org,2002:", "!!") : `!!${resolveScalar(node).tag}`;
        lines.push(`line ${lineOf(text, node.range?.[0] ?? 0)}: cannot unmarshal ${tag}${shortValue(String(node.value))} into map[string]interface {}`);
      }
      throw new Error(`yaml: unmarshal errors:\n  ${lines.join("\n  ")}`);
    }
    return top.value ?? new Map();
  } catch (e) {
    if (e instanceof YamlV2Error) {
      // Go's message often has no line; say where in the YAML text it is.
      if (e.offset === undefined) throw new Error(e.goMessage(text));
      const line = lineOf(text, e.offset);
      const col = e.offset - (text.lastIndexOf("\n", e.offset - 1) + 1) + 1;
      throw new FuncError(e.goMessage(text), `at line ${line}, column ${col} of the YAML text given to fromYaml`);
    }
    throw e;
  }
}

/** yaml.v2 Marshal, as close as the eemeli serializer gets: sorted keys, no sequence indent, no line folding. */
export function toYaml(v: GoValue): string {
  guardExpansion(v, "toYaml");
  return stringify(toJS(v), { version: "1.1", sortMapEntries: true, indentSeq: false, lineWidth: 0, minContentWidth: 0 });
}

export function registerYaml(fm: FuncMap): void {
  fm.set("fromYaml", goFunc(1, 1, (s) => fromYaml(argString(s))));
  fm.set("toYaml", goFunc(1, 1, (v) => toYaml(v).replace(/\n$/, "")));
}
