// werf's git-history-based cleanup policy (reference: werf pkg/cleaning/git_history_based_cleanup, config
// meta_cleanup), as pure functions over plain data: which git references the keep policies select, and which
// images (records' final stages) each selected reference keeps. Nothing here reads git or the registry.
//
// Semantics, as werf:
//   - References are branches and tags. A policy names one kind: `branch:`/`tag:` is a name, or a regular
//     expression between slashes (`/.*/`), matched against the whole name (`^...$`).
//   - `references.limit`: `last` N newest references (branches by their head commit's committer time, tags by the
//     tag's time), `in` (a Go duration: 168h) references newer than that, `operator` And (default) / Or.
//   - `imagesPerReference`: of the images whose commits a reference reaches (a branch: its head and every
//     ancestor; a tag: its commit only), `last` N (counted by their newest reaching commit), `in` only those built
//     for commits newer than that, `operator` as above; default: every image reached. When several policies select
//     one reference, the last one's imagesPerReference applies (werf overwrites it).
//   - No keepPolicies: werf's defaults (tags: last 10; branches: last 10 in 168h, 2 images per reference in 168h;
//     main|master|staging|production: 10 images per reference).
//   - keepImagesBuiltWithinLastNHours (default 2) keeps every stage built within that time.

import { UserError } from "../diagnostics.js";
import type { SourcePos } from "../diagnostics.js";
import { compileGoRegexp, matchString } from "../template/sprig/goregexp.js";

export type Operator = "And" | "Or";

export interface Limit {
  last?: number;
  /** Milliseconds. */
  in?: number;
  operator: Operator;
}

export interface KeepPolicy {
  kind: "branch" | "tag";
  /** As written (`main`, `/.*\/`). */
  pattern: string;
  /** The whole reference name against the pattern (a RegExp for the built-in defaults). */
  regex: { test(name: string): boolean };
  limit?: Limit;
  imagesPerReference?: Limit;
}

export interface CleanupConfig {
  /** `cleanup.disable`: cleanup does nothing. */
  disabled: boolean;
  /** The policies in force (werf's defaults when werf.yaml gives none). */
  keepPolicies: KeepPolicy[];
  /** Whether keepPolicies are werf's defaults. */
  defaults: boolean;
  /** disableGitHistoryBasedPolicy: no image is kept by git history. */
  gitHistory: boolean;
  /** keepImagesBuiltWithinLastNHours; undefined when disableBuiltWithinLastNHoursPolicy. */
  keepHours?: number;
  /** Kubernetes-based policy keys seen (accepted, not applied). */
  kubernetesKeys: string[];
}

const HOUR = 3600_000;

/** werf's default keep policies (pkg/cleaning/git_history_based_cleanup ReferencesToScan). */
export function defaultKeepPolicies(): KeepPolicy[] {
  const all = /^.*$/;
  return [
    { kind: "tag", pattern: "/.*/", regex: all, limit: { last: 10, operator: "And" } },
    {
      kind: "branch",
      pattern: "/.*/",
      regex: all,
      limit: { last: 10, in: 168 * HOUR, operator: "And" },
      imagesPerReference: { last: 2, in: 168 * HOUR, operator: "And" },
    },
    { kind: "branch", pattern: "/(main|master|staging|production)/", regex: /^(main|master|staging|production)$/, imagesPerReference: { last: 10, operator: "And" } },
  ];
}

/** A policy in words, for the report: `branch /.*\/ (limit last 10 in 168h And; images per reference last 2)`. */
export function describePolicy(p: KeepPolicy): string {
  const parts: string[] = [];
  if (p.limit) parts.push(`references ${describeLimit(p.limit)}`);
  if (p.imagesPerReference) parts.push(`images per reference ${describeLimit(p.imagesPerReference)}`);
  return `${p.kind} ${p.pattern}${parts.length ? ` (${parts.join("; ")})` : ""}`;
}

function describeLimit(l: Limit): string {
  const a: string[] = [];
  if (l.last !== undefined) a.push(`last ${l.last}`);
  if (l.in !== undefined) a.push(`in ${formatDuration(l.in)}`);
  if (l.last !== undefined && l.in !== undefined) a.push(l.operator);
  return a.join(" ");
}

function formatDuration(ms: number): string {
  return ms % HOUR === 0 ? `${ms / HOUR}h` : `${ms / 1000}s`;
}

/** Go's time.ParseDuration (`168h`, `1h30m`, `90m`, `1.5h`, `300ms`), in milliseconds; undefined when invalid. */
export function parseGoDuration(s: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: HOUR };
  let rest = s.trim();
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") return undefined;
  let total = 0;
  const re = /^([0-9]*\.?[0-9]*)(ns|us|µs|μs|ms|s|m|h)/;
  while (rest !== "") {
    const m = re.exec(rest);
    if (!m || m[1] === "" || m[1] === ".") return undefined;
    total += Number(m[1]) * units[m[2]];
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

/** werf.yaml's `cleanup:` (as written) → the policies in force. Errors name werf.yaml's meta document. */
export function parseCleanupConfig(raw: Record<string, unknown> | undefined, pos: SourcePos, at: Record<string, SourcePos> = {}): CleanupConfig {
  const r = raw ?? {};
  const problems: { pos: SourcePos; message: string; hint?: string }[] = [];
  const where = (key: string): SourcePos => {
    // the value's own position, else its nearest located parent's, else the meta document's
    for (let k = `cleanup.${key}`; k; k = k.replace(/(\.[^.[\]]*|\[[0-9]+\])$/, "")) {
      if (at[k]) return at[k];
      if (!/[.[]/.test(k)) break;
    }
    return pos;
  };
  const bad = (key: string, message: string, hint?: string) => problems.push({ pos: where(key), message: `cleanup.${key}: ${message}`, ...(hint ? { hint } : {}) });
  const limitOf = (key: string, v: unknown): Limit | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "object" || Array.isArray(v)) {
      bad(key, "expected a mapping with last, in, operator");
      return undefined;
    }
    const o = v as Record<string, unknown>;
    const l: Limit = { operator: "And" };
    if (o.last !== undefined) {
      if (typeof o.last !== "number" || !Number.isInteger(o.last) || o.last < -1) bad(`${key}.last`, `expected a whole number (or -1 for all), got ${JSON.stringify(o.last)}`);
      else l.last = o.last;
    }
    if (o.in !== undefined) {
      const d = typeof o.in === "string" ? parseGoDuration(o.in) : undefined;
      if (d === undefined || d < 0) bad(`${key}.in`, `expected a duration such as 168h or 30m, got ${JSON.stringify(o.in)}`, "units: h, m, s (Go's time.ParseDuration; no d)");
      else l.in = d;
    }
    if (o.operator !== undefined) {
      if (o.operator !== "And" && o.operator !== "Or") bad(`${key}.operator`, `unsupported value ${JSON.stringify(o.operator)}`, "operator: And or Or");
      else l.operator = o.operator;
    }
    return l;
  };
  const policies: KeepPolicy[] = [];
  const list = r.keepPolicies;
  if (list !== undefined && list !== null && !Array.isArray(list)) bad("keepPolicies", "expected a list");
  for (const [i, p] of (Array.isArray(list) ? list : []).entries()) {
    const key = `keepPolicies[${i}]`;
    const o = (p ?? {}) as Record<string, unknown>;
    const refs = o.references as Record<string, unknown> | undefined;
    if (!refs || typeof refs !== "object") {
      bad(key, "a keep policy needs a references section", "references: {branch: /.*/} or {tag: /.*/}");
      continue;
    }
    const branch = typeof refs.branch === "string" && refs.branch !== "" ? refs.branch : undefined;
    const tag = typeof refs.tag === "string" && refs.tag !== "" ? refs.tag : undefined;
    if (!branch === !tag) {
      bad(`${key}.references`, branch ? "give either tag or branch, not both" : "tag: NAME|/REGEX/ or branch: NAME|/REGEX/ is required");
      continue;
    }
    const pattern = (branch ?? tag)!;
    const body = pattern.length >= 2 && pattern.startsWith("/") && pattern.endsWith("/") ? pattern.slice(1, -1) : pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const limit = limitOf(`${key}.references.limit`, refs.limit);
    const ipr = limitOf(`${key}.imagesPerReference`, o.imagesPerReference);
    let regex: KeepPolicy["regex"];
    try {
      // Go's regexp, as werf reads it (RE2: linear time whatever the pattern); the body alone first, so that an
      // error names the expression as written.
      compileGoRegexp(body);
      const c = compileGoRegexp(`^${body}$`);
      regex = { test: (name) => matchString(c, name) };
    } catch (e) {
      bad(`${key}.references.${branch ? "branch" : "tag"}`, `invalid regular expression ${JSON.stringify(pattern)}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    policies.push({ kind: branch ? "branch" : "tag", pattern, regex, ...(limit ? { limit } : {}), ...(ipr ? { imagesPerReference: ipr } : {}) });
  }
  let keepHours: number | undefined = 2;
  if (r.keepImagesBuiltWithinLastNHours !== undefined) {
    const n = r.keepImagesBuiltWithinLastNHours;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) bad("keepImagesBuiltWithinLastNHours", `expected a whole number >= 0, got ${JSON.stringify(n)}`);
    else keepHours = n;
  }
  if (r.disableBuiltWithinLastNHoursPolicy === true) keepHours = undefined;
  if (problems.length) throw new UserError(problems);
  const given = Array.isArray(list) && list.length > 0;
  return {
    disabled: r.disable === true,
    keepPolicies: given ? policies : defaultKeepPolicies(),
    defaults: !given,
    gitHistory: r.disableGitHistoryBasedPolicy !== true,
    ...(keepHours !== undefined ? { keepHours } : {}),
    kubernetesKeys: Object.keys(r).filter((k) => /kubernetes/i.test(k)),
  };
}

/** What `cleanup` would refuse in werf.yaml's `cleanup:` (for `validate`). */
export function cleanupProblems(raw: Record<string, unknown> | undefined, pos: SourcePos, at?: Record<string, SourcePos>): UserError["diagnostics"] {
  try {
    parseCleanupConfig(raw, pos, at);
    return [];
  } catch (e) {
    if (e instanceof UserError) return e.diagnostics;
    throw e;
  }
}

// ---------------------------------------------------------------- references

export interface GitRef {
  kind: "branch" | "tag";
  /** Short name (`main`, `v1.0`), without `origin/`. */
  name: string;
  /** The commit it points to. */
  commit: string;
  /** Unix milliseconds: a branch's head committer time, an annotated tag's tagger time (else its commit's). */
  time: number;
}

export interface SelectedRef {
  ref: GitRef;
  /** The imagesPerReference in force for it (the last selecting policy's). */
  imagesPerReference?: Limit;
  /** The policies that selected it: `policy N` (1-based, as the report numbers them). */
  policies: string[];
}

const newestFirst = (a: GitRef, b: GitRef) => b.time - a.time || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The references the policies keep, newest first (branches, then tags, as werf). */
export function selectReferences(refs: readonly GitRef[], policies: readonly KeepPolicy[], nowMs: number): SelectedRef[] {
  const selected = new Map<GitRef, SelectedRef>();
  for (const [i, p] of policies.entries()) {
    let matched = refs.filter((r) => r.kind === p.kind && p.regex.test(r.name)).sort(newestFirst);
    if (p.limit) matched = applyLimit(matched, p.limit, nowMs, (r) => r.time);
    for (const r of matched) {
      const s = selected.get(r) ?? { ref: r, policies: [] };
      s.policies.push(`policy ${i + 1}`);
      if (p.imagesPerReference) s.imagesPerReference = p.imagesPerReference;
      else delete s.imagesPerReference;
      selected.set(r, s);
    }
  }
  const all = [...selected.values()];
  return [...all.filter((s) => s.ref.kind === "branch"), ...all.filter((s) => s.ref.kind === "tag")].sort(
    (a, b) => (a.ref.kind === b.ref.kind ? newestFirst(a.ref, b.ref) : a.ref.kind === "branch" ? -1 : 1),
  );
}

/** `last` newest, `in` newer than now - in, combined by the operator (sorted newest first already). */
function applyLimit<T>(items: T[], l: Limit, nowMs: number, time: (t: T) => number): T[] {
  const byLast = l.last === undefined || l.last === -1 ? items : items.slice(0, l.last);
  const byIn = l.in === undefined ? items : items.filter((x) => time(x) > nowMs - l.in!);
  if (l.in === undefined) return byLast;
  if (l.last === undefined) return byIn;
  return l.operator === "Or" ? items.filter((x) => byLast.includes(x) || byIn.includes(x)) : items.filter((x) => byLast.includes(x) && byIn.includes(x));
}

// ---------------------------------------------------------------- images per reference

/** A commit of the history: its parents and committer time (Unix ms). */
export interface CommitNode {
  parents: string[];
  time: number;
}

/** An image built for a commit (a record): `stage` is the image's identity (its final stage tag). */
export interface ImageHit {
  stage: string;
  commit: string;
}

export interface KeptImage {
  stage: string;
  /** The commits through which the reference reached it. */
  commits: string[];
}

/**
 * The images one reference keeps, among `images` (one werf.yaml image's records): those built for a commit the
 * reference reaches (a tag: its own commit; a branch: its head and all ancestors), limited by imagesPerReference.
 * Sorted by newest reaching commit.
 */
export function imagesKeptByReference(sel: SelectedRef, images: readonly ImageHit[], commits: ReadonlyMap<string, CommitNode>, nowMs: number): KeptImage[] {
  const reach = new Set<string>();
  if (sel.ref.kind === "tag") reach.add(sel.ref.commit);
  else {
    const queue = [sel.ref.commit];
    while (queue.length) {
      const c = queue.pop()!;
      if (reach.has(c)) continue;
      reach.add(c);
      for (const p of commits.get(c)?.parents ?? []) queue.push(p);
    }
  }
  const p = sel.imagesPerReference;
  const timeOf = (c: string) => commits.get(c)?.time ?? 0;
  // `in` filters the commits first unless it is Or'ed with `last`
  const inFirst = p?.in !== undefined && (p.last === undefined || p.operator === "And");
  const hits = new Map<string, string[]>();
  for (const h of images) {
    if (!reach.has(h.commit)) continue;
    if (inFirst && !(timeOf(h.commit) > nowMs - p!.in!)) continue;
    const l = hits.get(h.stage) ?? [];
    if (!l.includes(h.commit)) l.push(h.commit);
    hits.set(h.stage, l);
  }
  // each image counted by its newest reaching commit; images with the same newest commit count as one
  const latest = (l: string[]) => l.reduce((a, b) => (timeOf(b) > timeOf(a) || (timeOf(b) === timeOf(a) && b < a) ? b : a));
  const groups = new Map<string, string[]>();
  for (const [stage, l] of hits) {
    const c = latest(l);
    groups.set(c, [...(groups.get(c) ?? []), stage]);
  }
  const order = [...groups.keys()].sort((a, b) => timeOf(b) - timeOf(a) || (a < b ? -1 : a > b ? 1 : 0));
  let keep = order;
  if (p?.last !== undefined && p.last !== -1 && order.length > p.last) {
    const byLast = order.slice(0, p.last);
    if (p.in === undefined || p.operator === "And") keep = byLast;
    else keep = order.filter((c) => byLast.includes(c) || timeOf(c) > nowMs - p.in!);
  }
  const out: KeptImage[] = [];
  for (const c of keep) for (const stage of groups.get(c)!.sort()) out.push({ stage, commits: [...hits.get(stage)!].sort() });
  return out;
}
