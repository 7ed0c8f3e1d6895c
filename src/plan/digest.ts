// stapel2docker's stage digest scheme (docs/digests.md). Versioned: a change of what is hashed or how
// bumps DIGEST_SCHEME, which changes every digest (and so rebuilds every stage once).
//
//   digest(stage) = sha3-224-hex( canonicalJson({ scheme, stage, inputs, parent }) )
//
// `inputs` is the stage's own inputs (a JSON object), `parent` the digest of the previous stage of the
// image (null for `from`, whose base is one of its inputs). Canonical JSON: object keys sorted by code
// unit, no whitespace, `undefined` members left out, so `{a: 1, b: undefined}` and `{a: 1}` hash alike.

import { createHash } from "node:crypto";

export const DIGEST_SCHEME = "stapel2docker-digest/1";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue | undefined };

/** JSON with sorted keys and without undefined members: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "string" || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} has no JSON form`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.keys(value as object)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  throw new TypeError(`canonicalJson: a ${typeof value} has no JSON form`);
}

/** The digest of a stage named `stage` with these inputs on top of `parent` (undefined for the first stage). */
export function stageDigest(stage: string, inputs: Record<string, unknown>, parent: string | undefined): string {
  const text = canonicalJson({ scheme: DIGEST_SCHEME, stage, inputs, parent: parent ?? null });
  return createHash("sha3-224").update(text, "utf8").digest("hex");
}

/** A short stable id of a JSON value (16 hex of sha256 over its canonical JSON). */
export function shortId(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value), "utf8").digest("hex").slice(0, 16);
}
