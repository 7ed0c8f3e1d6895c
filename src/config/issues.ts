// Turning zod issues into located diagnostics with werf's wording: unknown keys
// become "unknown fields: `x`!" with a did-you-mean, type errors quote the value
// the way werf's Go code does.

import { closest, distance } from "fastest-levenshtein";
import type { z } from "zod";
import type { Diagnostic } from "../diagnostics.js";
import { goFormat } from "./go-format.js";
import type { YamlDocument } from "./yaml.js";

/** Keys of older werf versions, with what to do about them. */
const RETIRED_KEYS: Record<string, string> = {
  dimg: "werf v1.0 key; rename to image",
  dimgs: "werf v1.0 key; use one `image:` document per image",
  ONBUILD: "werf v1.0 docker directive; not supported any more, remove it",
  STOPSIGNAL: "werf v1.0 docker directive; use imageSpec.config.stopSignal",
  contextAddFile: "old spelling; use contextAddFiles",
};

export function issuesToDiagnostics(issues: readonly z.core.$ZodIssue[], schema: z.ZodType, doc: YamlDocument): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      const allowed = keysAt(schema, issue.path);
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        const hint = issue.path.length === 0 && allowed.includes("configVersion") && IMAGE_KEYS.has(key) ? missingSeparatorHint(key) : unknownKeyHint(key, allowed);
        const d = doc.locator.diagnostic(doc.offsetOf(path, true), `unknown fields: \`${key}\`!`, hint);
        out.push(d);
      }
      continue;
    }
    const where = fieldPath(issue.path);
    let message = issue.message;
    if (issue.code === "invalid_type" && /^Invalid input/.test(message)) {
      message = `${issue.expected} expected, got \`${goFormat(valueAt(doc.value, issue.path))}\`!`;
    } else if (/^(Invalid|Too|Number must)/.test(message)) {
      message = `${message.replace(/^Invalid input: /, "")}, got \`${goFormat(valueAt(doc.value, issue.path))}\`!`;
    }
    out.push(doc.locator.diagnostic(doc.offsetOf(issue.path), message, where ? `in \`${where}\`` : undefined));
  }
  return out;
}

/** Keys of image documents: found in the meta document, they mean a missing `---` line. */
const IMAGE_KEYS = new Set(["image", "artifact", "from", "fromImage", "fromArtifact", "dockerfile", "context", "git", "shell", "ansible", "docker", "import", "dependencies", "mount", "imageSpec", "final"]);

function missingSeparatorHint(key: string): string {
  return `\`${key}\` belongs to an image document: the meta document (configVersion, project, ...) must end with a \`---\` line before the first image`;
}

function unknownKeyHint(key: string, allowed: string[]): string {
  const retired = RETIRED_KEYS[key];
  if (retired && !allowed.includes(key)) return retired;
  if (allowed.length === 0) return "remove this key";
  const best = closest(key, allowed);
  const limit = Math.max(2, Math.floor(key.length / 3));
  if (distance(key.toLowerCase(), best.toLowerCase()) <= limit) return `did you mean \`${best}\`?`;
  return `allowed here: ${allowed.map((k) => `\`${k}\``).join(", ")}`;
}

/** `git[0].stageDependencies.install` */
export function fieldPath(path: readonly PropertyKey[]): string {
  let s = "";
  for (const seg of path) {
    if (typeof seg === "number") s += `[${seg}]`;
    else s += s ? `.${String(seg)}` : String(seg);
  }
  return s;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
  valueType?: z.ZodType;
}

function def(s: z.ZodType): SchemaDef {
  return (s as unknown as { def: SchemaDef }).def;
}

/** Peel optional/nullable/default/pipe wrappers; for unions, the first object/array option. */
function unwrap(s: z.ZodType, want?: "object" | "array"): z.ZodType {
  for (let i = 0; i < 20; i++) {
    const d = def(s);
    if ((d.type === "optional" || d.type === "nullable" || d.type === "default" || d.type === "readonly") && d.innerType) s = d.innerType;
    else if (d.type === "pipe" && d.in) s = d.in;
    else if (d.type === "union" && d.options) {
      const o = d.options.find((x) => def(unwrap(x)).type === (want ?? "object"));
      if (!o) return s;
      s = o;
    } else return s;
  }
  return s;
}

/** Keys a strict object accepts at `path` of `schema`. */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s = unwrap(schema);
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const d = def(s);
    if (d.type === "object" && d.shape) {
      const next = d.shape[String(seg)];
      if (!next) return [];
      s = unwrap(next, typeof path[i + 1] === "number" ? "array" : "object");
    } else if (d.type === "array" && d.element) s = unwrap(d.element);
    else if (d.type === "record" && d.valueType) s = unwrap(d.valueType);
    else return [];
  }
  const d = def(s);
  return d.type === "object" && d.shape ? Object.keys(d.shape) : [];
}
