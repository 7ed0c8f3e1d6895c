// planProblems (src/emit/check.ts: the plan lowered and printed to find what compile would refuse) through the
// persistent cache (docs/cache.md, kind `problems`). They are a function of the plan as JSON (compile takes a plan
// from its JSON too), without the `gitMatches` lists that only `plan` shows: the key is the sha256 of that JSON and
// a stamp of the code. Only a plan without problems is kept (a problem is found again, with its message).

import { createHash } from "node:crypto";
import type { Diagnostic } from "../diagnostics.js";
import { planProblems } from "../emit/check.js";
import type { Plan } from "../plan/model.js";
import { codeStamp } from "./config.js";
import type { CacheStore } from "./store.js";

/** Counts for tests. */
export const problemsCounts = { cache: 0, checked: 0 };

export function planProblemsCached(plan: Plan, store: CacheStore | undefined): Diagnostic[] {
  if (!store) return planProblems(plan);
  const key = createHash("sha256")
    .update(codeStamp())
    .update("\0")
    .update(JSON.stringify(plan, (k, v: unknown) => (k === "gitMatches" ? undefined : v)))
    .digest("hex");
  if (store.get("problems", key)?.toString("utf8") === "none") {
    problemsCounts.cache++;
    return [];
  }
  const problems = planProblems(plan);
  problemsCounts.checked++;
  if (problems.length === 0) store.put("problems", key, "none");
  return problems;
}
