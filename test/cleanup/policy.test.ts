// werf's keep policies on synthetic histories: reference selection (last/in/operator), images per reference,
// the defaults, config parsing; then the cleanup plan per tag (chains kept, the time limit, shared manifests,
// other projects' and foreign tags, bytes).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  cleanupProblems,
  defaultKeepPolicies,
  imagesKeptByReference,
  parseCleanupConfig,
  parseGoDuration,
  selectReferences,
  type CommitNode,
  type GitRef,
  type KeepPolicy,
} from "../../src/cleanup/policy.js";
import { makeCleanupPlan, formatCleanupPlan, type CleanupInput, type ManifestFacts } from "../../src/cleanup/plan.js";
import { makeRecords, parseRecord, recordAnnotations, recordTag, type StoredRecord } from "../../src/cleanup/records.js";
import { UserError } from "../../src/diagnostics.js";

const H = 3600_000;
const NOW = 1_800_000_000_000;
const pos = { file: "werf.yaml", line: 1, col: 1 };
const c = (n: string) => n.padEnd(40, "0");

/** A linear or branched history: name → [parents, hours ago]. */
function history(spec: Record<string, [string[], number]>): Map<string, CommitNode> {
  return new Map(Object.entries(spec).map(([k, [parents, ago]]) => [c(k), { parents: parents.map(c), time: NOW - ago * H }]));
}

function policy(raw: Record<string, unknown>): KeepPolicy[] {
  return parseCleanupConfig({ keepPolicies: [raw] }, pos).keepPolicies;
}

test("parseGoDuration: Go's units and forms", () => {
  assert.equal(parseGoDuration("168h"), 168 * H);
  assert.equal(parseGoDuration("1h30m"), 1.5 * H);
  assert.equal(parseGoDuration("1.5h"), 1.5 * H);
  assert.equal(parseGoDuration("90s"), 90_000);
  assert.equal(parseGoDuration("0"), 0);
  assert.equal(parseGoDuration("7d"), undefined);
  assert.equal(parseGoDuration("h"), undefined);
  assert.equal(parseGoDuration(""), undefined);
});

test("parseCleanupConfig: werf's defaults, names vs /regex/, bad values located with a hint", () => {
  const d = parseCleanupConfig(undefined, pos);
  assert.equal(d.defaults, true);
  assert.equal(d.keepHours, 2);
  assert.deepEqual(d.keepPolicies.map((p) => p.kind), ["tag", "branch", "branch"]);
  assert.equal(d.keepPolicies[1].imagesPerReference?.last, 2);
  assert.equal(d.keepPolicies[1].limit?.in, 168 * H);
  const exact = policy({ references: { branch: "release.1" } })[0];
  assert.equal(exact.regex.test("release.1"), true);
  assert.equal(exact.regex.test("releasex1"), false, "a plain name is matched literally");
  const re = policy({ references: { tag: "/v[0-9]+/" } })[0];
  assert.equal(re.regex.test("v12"), true);
  assert.equal(re.regex.test("xv12"), false, "anchored");
  const both = parseCleanupConfig({ keepImagesBuiltWithinLastNHours: 0, disableKubernetesBasedPolicy: true, keepPolicies: [{ references: { branch: "/.*/", limit: { last: 3, in: "12h" } } }] }, pos);
  assert.equal(both.keepHours, 0);
  assert.equal(both.keepPolicies[0].limit?.operator, "And");
  assert.deepEqual(both.kubernetesKeys, ["disableKubernetesBasedPolicy"]);
  assert.equal(parseCleanupConfig({ disableBuiltWithinLastNHoursPolicy: true }, pos).keepHours, undefined);
  // validate reports every problem cleanup would refuse, located
  const problems = cleanupProblems({ keepImagesBuiltWithinLastNHours: "2", keepPolicies: [{ references: { tag: "/[/" } }] }, pos);
  assert.deepEqual(problems.map((p) => p.message.split(":")[0]), ["cleanup.keepPolicies[0].references.tag", "cleanup.keepImagesBuiltWithinLastNHours"]);
  assert.deepEqual(cleanupProblems(undefined, pos), []);
  // located at the value when the positions of cleanup: are known, else at its nearest located parent
  const at = { "cleanup.keepPolicies[0]": { file: "werf.yaml", line: 5, col: 5 }, "cleanup.keepPolicies[0].references.tag": { file: "werf.yaml", line: 6, col: 12 } };
  const located = cleanupProblems({ keepPolicies: [{ references: { tag: "/[/", limit: { in: "7d" } } }] }, pos, at);
  assert.deepEqual(located.map((p) => `${p.pos?.line}:${p.pos?.col} ${p.message.split(":")[0]}`), ["5:5 cleanup.keepPolicies[0].references.limit.in", "6:12 cleanup.keepPolicies[0].references.tag"]);
  for (const [raw, want] of [
    [{ keepPolicies: [{ references: { branch: "a", tag: "b" } }] }, /not both/],
    [{ keepPolicies: [{ imagesPerReference: { last: 1 } }] }, /needs a references section/],
    [{ keepPolicies: [{ references: { branch: "/(/" } }] }, /invalid regular expression/],
    [{ keepPolicies: [{ references: { branch: "a", limit: { in: "7d" } } }] }, /expected a duration/],
    [{ keepPolicies: [{ references: { branch: "a", limit: { operator: "Xor" } } }] }, /unsupported value "Xor"/],
    [{ keepImagesBuiltWithinLastNHours: -1 }, /whole number/],
  ] as const) {
    assert.throws(() => parseCleanupConfig(raw as Record<string, unknown>, pos), (e: unknown) => e instanceof UserError && want.test(e.message) && /werf\.yaml:1:1/.test(e.message));
  }
});

test("keep policy /regexps/ are Go's (RE2): linear time, RE2 syntax, Go's errors naming the expression", () => {
  const redos = policy({ references: { branch: "/(a+)+/" } })[0];
  // Exponential for a backtracking engine; RE2 answers at once.
  assert.equal(redos.regex.test("a".repeat(5000) + "!"), false);
  assert.equal(redos.regex.test("a".repeat(5000)), true);
  const re2 = policy({ references: { tag: "/(?i)v\\pN+(?P<pre>-rc[[:digit:]])?/" } })[0];
  assert.equal(re2.regex.test("V12-rc1"), true);
  assert.equal(re2.regex.test("v12-rcx"), false);
  for (const [pattern, error] of [
    ["/(a)\\1/", "invalid escape sequence: `\\1`"],
    ["/(?!main)/", "invalid or unsupported Perl syntax: `(?!`"],
    ["/(/", "missing closing ): `(`"],
  ]) {
    assert.throws(
      () => policy({ references: { branch: pattern } }),
      (e: unknown) =>
        e instanceof UserError &&
        e.message.includes(`cleanup.keepPolicies[0].references.branch: invalid regular expression ${JSON.stringify(pattern)}: error parsing regexp: ${error}`),
    );
  }
});

test("selectReferences: last, in, And/Or, tags by their time, the last policy's imagesPerReference wins", () => {
  const refs: GitRef[] = [
    { kind: "branch", name: "main", commit: c("m"), time: NOW - 1 * H },
    { kind: "branch", name: "old", commit: c("o"), time: NOW - 500 * H },
    { kind: "branch", name: "f1", commit: c("f1"), time: NOW - 10 * H },
    { kind: "branch", name: "f2", commit: c("f2"), time: NOW - 20 * H },
    { kind: "tag", name: "v1", commit: c("m"), time: NOW - 300 * H },
    { kind: "tag", name: "v2", commit: c("m"), time: NOW - 2 * H },
  ];
  const names = (ps: KeepPolicy[]) => selectReferences(refs, ps, NOW).map((s) => `${s.ref.kind}:${s.ref.name}`);
  assert.deepEqual(names(policy({ references: { branch: "/.*/", limit: { last: 2 } } })), ["branch:main", "branch:f1"]);
  assert.deepEqual(names(policy({ references: { branch: "/.*/", limit: { in: "100h" } } })), ["branch:main", "branch:f1", "branch:f2"]);
  assert.deepEqual(names(policy({ references: { branch: "/.*/", limit: { last: 1, in: "100h", operator: "Or" } } })), ["branch:main", "branch:f1", "branch:f2"]);
  assert.deepEqual(names(policy({ references: { branch: "/.*/", limit: { last: 4, in: "15h" } } })), ["branch:main", "branch:f1"]);
  assert.deepEqual(names(policy({ references: { tag: "/.*/", limit: { last: 1 } } })), ["tag:v2"]);
  // branches first, then tags; a reference selected twice takes the later imagesPerReference
  const two = [
    ...policy({ references: { branch: "/.*/" }, imagesPerReference: { last: 2 } }),
    ...policy({ references: { branch: "main" }, imagesPerReference: { last: 5 } }),
    ...policy({ references: { tag: "v1" } }),
  ];
  const sel = selectReferences(refs, two, NOW);
  assert.deepEqual(sel.map((s) => s.ref.name), ["main", "f1", "f2", "old", "v1"]);
  assert.equal(sel[0].imagesPerReference?.last, 5);
  assert.equal(sel[0].policies.length, 2);
  assert.equal(sel[1].imagesPerReference?.last, 2);
  // werf's defaults: branches within 168h (old is out), tags last 10
  assert.deepEqual(selectReferences(refs, defaultKeepPolicies(), NOW).map((s) => s.ref.name), ["main", "f1", "f2", "v2", "v1"]);
});

test("imagesKeptByReference: a branch reaches its ancestors, a tag its commit; last counts images by their newest commit", () => {
  // m1 - m2 - m3 - m4 (main), m2 - f1 - f2 (feature)
  const commits = history({ m1: [[], 60], m2: [["m1"], 50], m3: [["m2"], 40], m4: [["m3"], 30], f1: [["m2"], 20], f2: [["f1"], 10] });
  const hits = [
    { stage: "S1", commit: c("m1") },
    { stage: "S2", commit: c("m2") },
    { stage: "S3", commit: c("m3") },
    { stage: "S3", commit: c("m4") }, // m4 rebuilt nothing: same image as m3
    { stage: "SF1", commit: c("f1") },
    { stage: "SF2", commit: c("f2") },
  ];
  const main = { ref: { kind: "branch" as const, name: "main", commit: c("m4"), time: NOW - 30 * H }, policies: [] };
  const all = imagesKeptByReference(main, hits, commits, NOW);
  assert.deepEqual(all.map((k) => k.stage), ["S3", "S2", "S1"], "every image main reaches, newest first; feature images are not reached");
  assert.deepEqual(all[0].commits, [c("m3"), c("m4")]);
  const last2 = imagesKeptByReference({ ...main, imagesPerReference: { last: 2, operator: "And" } }, hits, commits, NOW);
  assert.deepEqual(last2.map((k) => k.stage), ["S3", "S2"]);
  const in45 = imagesKeptByReference({ ...main, imagesPerReference: { in: 45 * H, operator: "And" } }, hits, commits, NOW);
  assert.deepEqual(in45.map((k) => k.stage), ["S3"], "only commits within 45h count (m3, m4)");
  const orIn = imagesKeptByReference({ ...main, imagesPerReference: { last: 1, in: 55 * H, operator: "Or" } }, hits, commits, NOW);
  assert.deepEqual(orIn.map((k) => k.stage), ["S3", "S2"], "last 1 (S3) or within 55h (S2 by m2)");
  const andIn = imagesKeptByReference({ ...main, imagesPerReference: { last: 3, in: 45 * H, operator: "And" } }, hits, commits, NOW);
  assert.deepEqual(andIn.map((k) => k.stage), ["S3"]);
  const tag = { ref: { kind: "tag" as const, name: "v1", commit: c("m2"), time: NOW }, policies: [] };
  assert.deepEqual(imagesKeptByReference(tag, hits, commits, NOW).map((k) => k.stage), ["S2"], "a tag reaches its own commit only");
  const feature = { ref: { kind: "branch" as const, name: "feature", commit: c("f2"), time: NOW }, policies: [], imagesPerReference: { last: 3, operator: "And" as const } };
  assert.deepEqual(imagesKeptByReference(feature, hits, commits, NOW).map((k) => k.stage), ["SF2", "SF1", "S2"]);
  // two images with the same newest commit count as one
  const twins = [...hits, { stage: "S3b", commit: c("m4") }];
  assert.deepEqual(imagesKeptByReference({ ...main, imagesPerReference: { last: 1, operator: "And" } }, twins, commits, NOW).map((k) => k.stage), ["S3", "S3b"]);
});

// ---------------------------------------------------------------- the plan

const D = (n: number) => n.toString(16).padStart(56, "0");
const OLD = NOW - 100 * H;
const st = (n: number, ms = OLD) => `${D(n)}-${ms}`;

function record(image: string, commit: string, stages: string[], tags: string[], project = "demo"): StoredRecord {
  const r = { project, image, commit: c(commit), commitTime: 0, finalStage: stages[stages.length - 1], stages: [...stages].sort(), tags: [...tags].sort() };
  return { ...r, tag: recordTag(r) };
}

function input(over: Partial<CleanupInput>): CleanupInput {
  const tags = over.tags ?? [];
  return {
    repo: "r/demo",
    project: "demo",
    nowMs: NOW,
    config: parseCleanupConfig({ keepImagesBuiltWithinLastNHours: 2, keepPolicies: [{ references: { branch: "/.*/" }, imagesPerReference: { last: 1 } }] }, pos),
    records: [],
    refs: [],
    commits: new Map(),
    digests: new Map(tags.map((t) => [t, `sha256:${t}`])),
    manifests: new Map(),
    ...over,
    tags,
  };
}

test("makeCleanupPlan: a kept image keeps its whole chain and final tags; the rest goes, with reasons and bytes", () => {
  const commits = history({ a: [[], 50], b: [["a"], 40] });
  const ra = record("app", "a", [st(1), st(2), st(3)], [`app-${D(3)}`]);
  const rb = record("app", "b", [st(1), st(2), st(4), st(5)], [`app-${D(5)}`]);
  const young = `${D(9)}-${NOW - 1 * H}`;
  const tags = [st(1), st(2), st(3), st(4), st(5), `app-${D(3)}`, `app-${D(5)}`, ra.tag, rb.tag, young, "latest", `${D(7)}-${OLD}`];
  const digests = new Map(tags.map((t) => [t, `sha256:${t}`]));
  digests.set(`app-${D(5)}`, `sha256:${st(5)}`); // a final tag is a copy of its last stage's manifest
  digests.set(`app-${D(3)}`, `sha256:${st(3)}`);
  digests.set("latest", `sha256:${st(3)}`); // someone's tag on the old image
  const manifests = new Map<string, ManifestFacts>([
    [`sha256:${st(4)}`, { size: 100, blobs: { "sha256:l4": 1000, "sha256:l1": 7 } }],
    [`sha256:${D(7)}-${OLD}`, { size: 10, blobs: { "sha256:l7": 50 } }],
    [`sha256:${st(1)}`, { size: 100, blobs: { "sha256:l1": 7 } }],
  ]);
  const p = makeCleanupPlan(input({
    tags,
    digests,
    manifests,
    records: [ra, rb],
    refs: [{ kind: "branch", name: "main", commit: c("b"), time: NOW - 40 * H }],
    commits,
  }));
  const by = new Map(p.tags.map((t) => [t.tag, t]));
  for (const t of [st(1), st(2), st(4), st(5), `app-${D(5)}`, rb.tag]) assert.equal(by.get(t)!.action, "keep", t);
  assert.match(by.get(st(4))!.reason, /part of image app of commit b0000000000.*branch main/);
  assert.match(by.get(young)!.reason, /built within the last 2 hour/);
  assert.equal(by.get(ra.tag)!.action, "delete");
  assert.equal(by.get(`${D(7)}-${OLD}`)!.action, "delete");
  assert.equal(by.get("latest")!.kind, "other");
  // st(3) and app-D3 would go, but "latest" (not ours) shares their manifest
  assert.equal(by.get(st(3))!.action, "keep");
  assert.match(by.get(st(3))!.reason, /shares its manifest with the kept tag/);
  assert.deepEqual(p.delete.map((d) => d.tags).flat().sort(), [`${D(7)}-${OLD}`, ra.tag].sort());
  // bytes: the deleted stage's manifest and its layer no kept manifest has
  assert.equal(p.totals.bytes, 10 + 50);
  assert.equal(p.totals.deleteTags, 2);
  assert.match(formatCleanupPlan(p, { dryRun: true }), /dry run: would delete 2 tag\(s\) in 2 manifest\(s\)/);
});

test("makeCleanupPlan: a deleted branch's and an unreachable commit's images go; other projects' stages and records stay", () => {
  const commits = history({ a: [[], 50] });
  const kept = record("app", "a", [st(1), st(2)], [`app-${D(2)}`]);
  const orphan = record("app", "f", [st(1), st(3)], [`app-${D(3)}`]); // commit f: branch deleted, not in history
  const foreign = record("app", "a", [st(5)], [], "other");
  const tags = [st(1), st(2), st(3), `app-${D(2)}`, `app-${D(3)}`, kept.tag, orphan.tag, foreign.tag, st(6)];
  const base = input({ tags, records: [kept, orphan, foreign], refs: [{ kind: "branch", name: "main", commit: c("a"), time: NOW }], commits });
  const p = makeCleanupPlan({ ...base, stageProjects: new Map([[st(3), "demo"], [st(6), "other"]]) });
  const by = new Map(p.tags.map((t) => [t.tag, t]));
  assert.equal(by.get(st(3))!.action, "delete");
  assert.equal(by.get(`app-${D(3)}`)!.action, "delete");
  assert.equal(by.get(orphan.tag)!.action, "delete");
  assert.equal(by.get(foreign.tag)!.action, "keep");
  assert.match(by.get(foreign.tag)!.reason, /record of project "other"/);
  assert.equal(by.get(st(6))!.action, "keep");
  assert.match(by.get(st(6))!.reason, /project "other"/);
  for (const t of [st(1), st(2), `app-${D(2)}`, kept.tag]) assert.equal(by.get(t)!.action, "keep", t);
  // purge: nothing kept by history or time
  const purge = makeCleanupPlan({ ...base, config: { disabled: false, keepPolicies: [], defaults: false, gitHistory: false, kubernetesKeys: [] } });
  assert.deepEqual(purge.tags.filter((t) => t.action === "keep").map((t) => t.tag), [foreign.tag]);
  // a second plan after the deletions deletes nothing
  const left = p.tags.filter((t) => t.action === "keep").map((t) => t.tag);
  const again = makeCleanupPlan({ ...base, tags: left, records: [kept, foreign], stageProjects: new Map([[st(6), "other"]]) });
  assert.equal(again.delete.length, 0);
});

test("records: names hash the content (immutable), read back from annotations, made per final image with its needs", () => {
  const r = { project: "p", image: "app", commit: c("a"), commitTime: 5, finalStage: st(2), stages: [st(1), st(2)], tags: ["app-x"] };
  assert.match(recordTag(r), /^meta-[0-9a-f]{12}-a0{39}-[0-9a-f]{12}$/);
  assert.notEqual(recordTag(r), recordTag({ ...r, stages: [st(1), st(3)] }));
  assert.deepEqual(parseRecord(recordTag(r), recordAnnotations(r)), { ...r, tag: recordTag(r) });
  assert.equal(parseRecord("latest", recordAnnotations(r)), undefined);
  // a final image importing from an artifact records the artifact's stages too
  const stage = (name: string, body: unknown) => ({ name, body, digest: "", target: "", inputs: {}, pos, labels: {} });
  const plan = {
    project: "p",
    commit: { hash: c("a"), timeUnix: 5, timeHuman: "" },
    images: [
      { name: "tool", kind: "artifact", final: false, stages: [stage("from", { kind: "from", base: { kind: "external", ref: "x" } })] },
      { name: "app", kind: "image", final: true, stages: [stage("from", { kind: "from", base: { kind: "external", ref: "x" } }), stage("dependenciesAfterInstall", { kind: "dependencies", imports: [{ source: { kind: "image", image: "tool", target: "t", digest: "" } }], dependencies: [] })] },
      { name: "lone", kind: "image", final: true, stages: [stage("from", { kind: "from", base: { kind: "external", ref: "x" } })] },
    ],
    dockerfileImages: [],
  } as unknown as Parameters<typeof makeRecords>[0];
  const recs = makeRecords(plan, "r/p", [
    { image: "tool", tags: [], stages: [{ tag: `r/p:${st(7)}` }] },
    { image: "app", tags: [`r/p:app-${D(2)}`], stages: [{ tag: `r/p:${st(1)}` }, { tag: `r/p:${st(2)}` }] },
    { image: "lone", tags: [`r/p:lone-${D(8)}`], stages: [{ tag: `r/p:${st(8)}` }] },
  ]);
  assert.deepEqual(recs.map((x) => [x.image, x.finalStage, x.stages, x.tags]), [
    ["app", st(2), [st(1), st(2), st(7)].sort(), [`app-${D(2)}`]],
    ["lone", st(8), [st(8)], [`lone-${D(8)}`]],
  ]);
});
