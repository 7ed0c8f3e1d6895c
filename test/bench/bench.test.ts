// The benchmark's generator and measuring harness at a tiny size (no timing is asserted).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildTree, generateBenchRepo, Rng, BENCH_DATE } from "../../bench/generate.js";
import { gitMasks, loadConfig, localMappings } from "../../bench/measure.js";
import { runBench, formatTable, interleave, median, ratioTargets, roundRatio, targets, type RowResult } from "../../bench/run.js";
import { analyzeProfile } from "../../bench/profile.js";

const TINY = { files: 400, seed: 7, bigFiles: 1, bigFileSize: 2 * 65536 + 123 };

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: dir, encoding: "utf8", env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null" } });
}

function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), "s2d-bench-test-"));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

function treeDigest(files: ReturnType<typeof buildTree>): string {
  const h = createHash("sha256");
  for (const f of files) h.update(`${f.path}\0${f.mode}\0`).update(f.content);
  return h.digest("hex");
}

test("the PRNG is seeded and uniform enough", () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const xs = Array.from({ length: 1000 }, () => a.int(10));
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.int(10)));
  for (let d = 0; d < 10; d++) {
    const n = xs.filter((x) => x === d).length;
    assert.ok(n > 50 && n < 150, `digit ${d} drawn ${n} times of 1000`);
  }
  assert.notDeepEqual(xs, Array.from({ length: 1000 }, () => new Rng(43).int(10)));
});

test("buildTree: exactly N distinct entries, deterministic per seed, with every kind of file", () => {
  const files = buildTree(3000, 1, 1, 70_000);
  assert.equal(files.length, 3000);
  assert.equal(new Set(files.map((f) => f.path)).size, 3000);
  assert.equal(treeDigest(files), treeDigest(buildTree(3000, 1, 1, 70_000)));
  assert.notEqual(treeDigest(files), treeDigest(buildTree(3000, 2, 1, 70_000)));
  // no path is both a file and a directory
  const paths = new Set(files.map((f) => f.path));
  for (const f of files) {
    const parts = f.path.split("/");
    for (let n = 1; n < parts.length; n++) assert.ok(!paths.has(parts.slice(0, n).join("/")), `${f.path} is below a file`);
  }
  assert.ok(files.some((f) => f.mode === "120000"), "symlinks");
  assert.ok(files.some((f) => f.mode === "100755"), "executables");
  assert.ok(files.some((f) => f.binary && f.content.includes(0)), "binaries");
  assert.ok(files.some((f) => /[^\x00-\x7f]/.test(f.path)), "unicode names");
  assert.ok(files.some((f) => f.path.includes(" ")), "names with spaces");
  assert.ok(files.some((f) => Buffer.byteLength(f.path) > 255), "paths longer than 255 bytes");
  assert.ok(files.some((f) => f.content.length === 70_000 && f.path.startsWith("data/")), "the big file");
  for (const top of ["services/", "frontend/", "vendor/", "docs/", "config/"]) assert.ok(files.some((f) => f.path.startsWith(top)), top);
});

test("generateBenchRepo: a real repository, the same commit in any directory, reused when unchanged", async () => {
  await withTemp(async (tmp) => {
    const a = await generateBenchRepo(path.join(tmp, "a"), TINY);
    assert.equal(a.reused, false);
    assert.equal(a.files, TINY.files);
    const listed = git(a.dir, "ls-tree", "-r", "-z", "HEAD").split("\0").filter(Boolean);
    assert.equal(listed.length, TINY.files);
    assert.equal(listed.filter((l) => l.startsWith("120000 ")).length, a.symlinks);
    assert.equal(listed.filter((l) => l.startsWith("100755 ")).length, a.executables);
    assert.equal(git(a.dir, "show", "-s", "--format=%ct %an", "HEAD").trim(), `${BENCH_DATE} Bench`);
    assert.equal(git(a.dir, "status", "--porcelain").trim(), "", "a clean worktree (sparse checkout)");
    assert.ok(existsSync(path.join(a.dir, "werf.yaml")));
    assert.ok(!existsSync(path.join(a.dir, "services")), "only werf.yaml is checked out");

    const b = await generateBenchRepo(path.join(tmp, "b"), TINY);
    assert.equal(b.commit, a.commit);
    const again = await generateBenchRepo(path.join(tmp, "a"), TINY);
    assert.equal(again.reused, true);
    assert.equal(again.commit, a.commit);
    const other = await generateBenchRepo(path.join(tmp, "a"), { ...TINY, seed: 8 });
    assert.equal(other.reused, false);
    assert.notEqual(other.commit, a.commit);
  });
});

test("the generated werf.yaml: 10 images, an artifact with imports, a shared base, 40 git masks", async () => {
  await withTemp(async (tmp) => {
    const repo = await generateBenchRepo(path.join(tmp, "r"), TINY);
    const config = await loadConfig(repo.dir);
    assert.equal(config.images.length, 10);
    assert.deepEqual(config.images.filter((i) => i.kind === "artifact").map((i) => i.name), ["go-build"]);
    assert.ok(config.images.filter((i) => i.fromImage === "base").length >= 3);
    assert.ok(config.images.some((i) => i.import.some((d) => d.source === "go-build")));
    assert.ok(config.images.some((i) => i.docker !== undefined));
    assert.equal(gitMasks(config).length, 40);
    const mappings = localMappings(config);
    assert.ok(mappings.some((m) => m.add === "/"), "a mapping of the whole repository");
    for (const stage of ["install", "beforeSetup", "setup"] as const) {
      assert.ok(mappings.some((m) => m.stageDependencies[stage].length > 0), `stageDependencies.${stage}`);
    }
  });
});

test("runBench measures every row in child processes and judges the targets", async () => {
  await withTemp(async (tmp) => {
    const profileDir = path.join(tmp, "prof");
    const result = await runBench({ ...TINY, dir: path.join(tmp, "r"), runs: 1, profileDir });
    const names = result.rows.map((r) => r.name);
    assert.deepEqual(names, ["git ls-tree", "git archive", "plan", "compile", "list-tree", "checksums", "archives", "masks", "node -e 0", "stapel2docker --version"]);
    for (const r of result.rows) {
      assert.ok(r.ms > 0 && Number.isFinite(r.ms), `${r.name} time`);
      assert.ok(r.wallMs >= r.ms, `${r.name} wall time`);
      if (!r.name.startsWith("git")) assert.ok(r.maxRssMB! > 10, `${r.name} RSS`);
    }
    const row = (n: string) => result.rows.find((r) => r.name === n)!;
    assert.equal(row("plan").info!.images, 10);
    assert.equal(row("compile").info!.images, 10);
    assert.equal(row("list-tree").info!.entries, TINY.files);
    assert.equal(row("archives").info!.archives, 11);
    assert.equal(row("masks").info!.tests, TINY.files * 40);
    assert.deepEqual(
      result.targets.map((t) => t.name),
      ["plan / ls-tree", "compile / (ls-tree + archive)", "plan peak RSS", "compile peak RSS", "--version / node -e 0"],
    );
    // /usr/bin/time counts CPU in 10 ms steps: a tiny git command may show 0 (no CPU ratio then)
    for (const t of result.targets) if (t.unit === "×") assert.ok(t.cpuValue === undefined || t.cpuValue > 0, `${t.name}: CPU-time ratio`);
    assert.ok(result.targets.find((t) => t.name === "--version / node -e 0")!.cpuValue! > 0, "start-up: a CPU-time ratio");
    const table = formatTable(result);
    assert.match(table, /^(PASS|FAIL) {2}plan \/ ls-tree +\d+\.\d\d×/m);
    assert.match(table, new RegExp(`${TINY.files} files`));
    for (const t of ["plan", "compile"]) {
      const file = path.join(profileDir, `${t}.cpuprofile`);
      assert.ok(existsSync(file), file);
    }
  });
});

test("median and targets", () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  const row = (name: RowResult["name"], ms: number, maxRssMB?: number): RowResult => ({ name, ms, wallMs: ms, maxRssMB, runs: [ms] });
  const t = targets([row("git ls-tree", 100), row("git archive", 400), row("plan", 250, 120), row("compile", 1600, 301)]);
  assert.deepEqual(
    t.map((x) => [x.name, x.value, x.pass]),
    [
      ["plan / ls-tree", 2.5, false],
      ["compile / (ls-tree + archive)", 3.2, false],
      ["plan peak RSS", 120, true],
      ["compile peak RSS", 301, false],
    ],
  );
  assert.deepEqual(targets([row("plan", 1)]), [], "no ratio without git ls-tree");
});

test("interleave runs the rows round by round, every other round reversed; ratios are medians of per-round ratios", async () => {
  const order: string[] = [];
  let clock = 0;
  // row b is slow in round 2 only: a ratio of medians would mix rounds, the median of per-round ratios does not
  const row = (name: string, ms: (round: number) => number) => {
    let round = 0;
    return { name, measure: async () => (order.push(name), clock++, { ms: ms(round), wallMs: ms(round++), cpuMs: 10 }) };
  };
  const rows = await interleave([row("a", (r) => [100, 300, 120][r]), row("b", (r) => [50, 150, 60][r])], 3);
  assert.deepEqual(order, ["a", "b", "b", "a", "a", "b"]);
  assert.deepEqual(rows.map((r) => r.runs), [[100, 300, 120], [50, 150, 60]]);
  const [t] = ratioTargets(rows, [{ name: "a / b", num: ["a"], den: ["b"], limit: 1.5, op: "≤" }]);
  assert.equal(t.value, 2);
  assert.equal(t.cpuValue, 1);
  assert.equal(t.pass, false);
  const [g] = ratioTargets(rows, [{ name: "b / a", num: ["b"], den: ["a"], limit: 0.4, op: "≥" }]);
  assert.equal(g.value, 0.5);
  assert.equal(g.pass, true);
  assert.deepEqual(ratioTargets(rows, [{ name: "x", num: ["a"], den: ["missing"], limit: 1, op: "≤" }]), [], "a ratio of a row not measured is left out");
  assert.deepEqual(roundRatio([{ runs: [4, 9], cpuRuns: [2, undefined] }], [{ runs: [2, 3], cpuRuns: [1, 1] }]), { value: 2.5 });
});

test("analyzeProfile: self and inclusive time from samples", () => {
  const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
  const profile = {
    nodes: [
      { id: 1, callFrame: frame("(root)", ""), children: [2] },
      { id: 2, callFrame: frame("plan", "file:///x/dist/src/plan/plan.js"), children: [3, 4] },
      { id: 3, callFrame: frame("match", "file:///x/dist/src/git/pathMatcher.js") },
      { id: 4, callFrame: frame("parse", "file:///x/node_modules/yaml/dist/index.js") },
    ],
    // deltas (µs) are the time before each sample: sample i lasts timeDeltas[i + 1]
    samples: [3, 3, 4, 2, 3],
    timeDeltas: [0, 1000, 1000, 2000, 1000, 0],
    startTime: 0,
    endTime: 5000,
  };
  const s = analyzeProfile(profile, 10);
  assert.equal(s.totalMs, 5);
  assert.deepEqual(s.selfByFunction.map((h) => [h.name, h.ms]), [
    ["match src/git/pathMatcher.js:1", 2],
    ["parse npm:yaml:1", 2],
    ["plan src/plan/plan.js:1", 1],
  ]);
  assert.deepEqual(s.totalByProjectFunction.map((h) => [h.name, h.ms]), [
    ["plan src/plan/plan.js:1", 5],
    ["match src/git/pathMatcher.js:1", 2],
  ]);
});

test("the build bench reads a build's figures from the summary line the CLI prints (formatReport)", async () => {
  const { buildSummary } = await import("../../bench/build.js");
  const { formatReport } = await import("../../src/builder/report.js");
  const stage = (stage: string, status: "reused" | "built") => ({ stage, digest: "d".repeat(56), tag: `r:${"d".repeat(56)}-1`, status, seconds: 0 });
  const out = formatReport({
    repo: "r",
    images: [{ image: "app", configType: "stapel", final: true, digest: "d".repeat(56), tags: ["r:app-x"], stages: [stage("from", "reused"), stage("install", "built"), stage("setup", "built")] }],
    built: 2,
    bake: true,
    registryRequests: 7,
    seconds: 1.5,
  });
  assert.deepEqual(buildSummary("b", out), { built: 2, registryRequests: 7 });
  assert.throws(() => buildSummary("no-op", "something else\n"), /no-op: no summary line/);
});
