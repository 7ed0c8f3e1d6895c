// bench/incremental.ts works (no timing is asserted): the cache's rows on a small generated repository.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { formatIncremental, runIncrementalBench } from "../../bench/incremental.js";
import { tempDir } from "../git/gitFixture.js";

test("the incremental rows run on a shared clone, leave the generated repository as it was, and judge the targets", async () => {
  const tmp = tempDir("bench-incremental");
  try {
    const dir = path.join(tmp, "repo");
    const r = await runIncrementalBench({ dir, files: 400, seed: 7, runs: 1, rssFiles: 0 });
    assert.deepEqual(r.rows.map((x) => x.name), ["git ls-tree", "git archive", "plan, cold cache", "re-plan, 1-file commit", "compile, cold cache", "re-compile, 1-file commit"]);
    for (const row of r.rows) assert.ok(row.ms > 0 && row.maxRssMB > 0 && row.runs.length === 1, row.name);
    assert.deepEqual(r.targets.map((t) => t.name.trim()), ["cold plan / ls-tree", "re-plan / cold plan", "cold compile / (ls-tree+archive)", "same, CPU time", "re-compile / cold compile"]);
    assert.match(formatIncremental(r), /re-compile \/ cold compile/);
    // the generated repository keeps its single commit; the work folders are gone
    const log = (await import("node:child_process")).execFileSync("git", ["rev-list", "--count", "HEAD"], { cwd: dir, encoding: "utf8" });
    assert.equal(log.trim(), "1");
    assert.deepEqual(fs.readdirSync(tmp).sort(), ["repo"]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
