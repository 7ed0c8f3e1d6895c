// The state shared while one document is turned into model objects: the parsed
// document (for positions and scalar texts) and the diagnostics collected so far.

import type { Diagnostic, SourcePos } from "../diagnostics.js";
import type { YamlDocument } from "./yaml.js";

export class DocContext {
  constructor(
    readonly doc: YamlDocument,
    readonly diagnostics: Diagnostic[],
  ) {}

  /** Position of `container[key]`: its key, or its value with `at: "value"`. */
  pos(container: object, key: string | number, at: "key" | "value" = "key"): SourcePos {
    const off = at === "key" ? this.doc.keyOffset(container, key) : this.doc.valueOffset(container, key);
    return this.doc.locator.pos(off);
  }

  /** Position of a container (a mapping or list) itself. */
  containerPos(container: object): SourcePos {
    return this.doc.locator.pos(this.doc.containerOffset(container));
  }

  /** Report a problem at `container[key]` (its value, or the key with `at: "key"`). */
  error(container: object, key: string | number | undefined, message: string, hint?: string, at: "key" | "value" = "value"): void {
    const off =
      key === undefined
        ? this.doc.containerOffset(container)
        : at === "key"
          ? this.doc.keyOffset(container, key)
          : this.doc.valueOffset(container, key);
    this.diagnostics.push(this.doc.locator.diagnostic(off, message, hint));
  }

  /** Go string field value (scalar text as written); undefined when absent or empty. */
  str(container: object, key: string): string | undefined {
    const t = this.doc.text(container, key);
    return t === undefined || t === "" ? undefined : t;
  }

  /** The positions of the values under `key` into `at`: `key` for a scalar, `key[i]` for list items, `key.NAME`
   *  for map values (prefixed with `prefix`). */
  valuePositions(container: object, key: string, at: Record<string, SourcePos>, prefix = ""): void {
    const v = (container as Record<string, unknown>)[key];
    if (v == null) return;
    if (Array.isArray(v)) v.forEach((_, i) => (at[`${prefix}${key}[${i}]`] = this.pos(v, i, "value")));
    else if (typeof v === "object") for (const k of Object.keys(v)) at[`${prefix}${key}.${k}`] = this.pos(v, k, "value");
    else at[`${prefix}${key}`] = this.pos(container, key, "value");
  }

  /** A string-or-list field as string[] (schema already checked the shape). */
  list(container: object, key: string): string[] {
    const v = (container as Record<string, unknown>)[key];
    if (v == null) return [];
    if (Array.isArray(v)) return v.map((_, i) => this.doc.text(v, i) ?? "");
    return [this.doc.text(container, key) ?? ""];
  }

  /** A map[string]string field. */
  map(container: object, key: string): Record<string, string> {
    const v = (container as Record<string, unknown>)[key];
    const out: Record<string, string> = {};
    if (v && typeof v === "object" && !Array.isArray(v)) for (const k of Object.keys(v)) out[k] = this.doc.text(v, k) ?? "";
    return out;
  }

  bool(container: object, key: string): boolean | undefined {
    const v = (container as Record<string, unknown>)[key];
    return typeof v === "boolean" ? v : undefined;
  }

  /** A list of mappings (null → []). */
  objects(container: object, key: string): Record<string, unknown>[] {
    const v = (container as Record<string, unknown>)[key];
    return Array.isArray(v) ? (v as Record<string, unknown>[]) : [];
  }

  object(container: object, key: string): Record<string, unknown> | undefined {
    const v = (container as Record<string, unknown>)[key];
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  }
}
