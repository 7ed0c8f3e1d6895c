// planProblems (src/emit/check.ts: the plan lowered and printed to find what compile would refuse) through the
// persistent cache (docs/cache.md, kind `problems`). They are a function of the plan as JSON (compile takes a plan
// from its JSON too), without the `gitMatches` lists that only `plan` shows. Only a plan without problems is kept (a
// problem is found again, with its message).
//
// The key is the sha256 of that JSON, with the git and digest ids renamed, and a stamp of the code. A commit changes
// the plan's digests, checksums and commit ids, but not its problems: lowering and printing take each id as an opaque
// token (lowercase hex: no character that a Dockerfile, shell or bake value must escape or refuse; compared with
// other values only for equality). So every string value that is a whole id (40, 56 or 64 lowercase hex digits: a
// commit or tree id, a stage digest, a checksum) is renamed, in order of first appearance, to a stand-in of the same
// length and look (the sha256 of its rank: distinct ids keep distinct prefixes too), and the plan's commit time to a
// constant (lowering asks only whether the plan has a commit): two plans
// that differ in ids alone share the key, two that differ in anything else do not, and equal ids stay equal. A
// string that only holds an id among other text (a rendered `{{ .Commit.Hash }}` in a command) is kept as it is.
// test/cache/problems.test.ts checks a re-plan after a commit is answered from the cache, and that planProblems of
// a renamed plan is the same as of the plan.

import { createHash } from "node:crypto";
import type { Diagnostic } from "../diagnostics.js";
import { planProblems } from "../emit/check.js";
import type { Plan } from "../plan/model.js";
import { codeStamp } from "./config.js";
import type { CacheStore } from "./store.js";

/** Counts for tests. */
export const problemsCounts = { cache: 0, checked: 0 };

const ID = /^(?:[0-9a-f]{40}|[0-9a-f]{56}|[0-9a-f]{64})$/;

/** The plan's JSON without `gitMatches`, its ids renamed (see above): what its problems are a function of. */
export function problemsKeyJson(plan: Plan): string {
  const names = new Map<string, string>();
  const rename = (id: string) => {
    let n = names.get(id);
    if (n === undefined) names.set(id, (n = createHash("sha256").update(`id ${names.size}`).digest("hex").slice(0, id.length)));
    return n;
  };
  return JSON.stringify(plan, function (this: unknown, k: string, v: unknown) {
    if (k === "gitMatches") return undefined;
    if (k === "commit" && this === plan && v && typeof v === "object") return { hash: (v as { hash: unknown }).hash, time: 0 };
    return typeof v === "string" && ID.test(v) ? rename(v) : v;
  });
}

export function planProblemsCached(plan: Plan, store: CacheStore | undefined): Diagnostic[] {
  if (!store) return planProblems(plan);
  const key = createHash("sha256").update(codeStamp()).update("\0").update(problemsKeyJson(plan)).digest("hex");
  if (store.get("problems", key)?.toString("utf8") === "none") {
    problemsCounts.cache++;
    return [];
  }
  const problems = planProblems(plan);
  problemsCounts.checked++;
  if (problems.length === 0) store.put("problems", key, "none");
  return problems;
}
