// A cold plan feeds the stageDependencies checksums git's listing as it streams in (GitSources.prepareDependencies);
// a checksum that read a mapping's whole scope also gives "the mapping selects a file" its first selected file. Both
// must answer exactly as the computation from the whole listing: the same checksums, the same witness kept in the
// cache, the same errors.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { GitSources } from "../../src/plan/git-sources.js";
import { projectCommit } from "../../src/project/commit.js";
import { CacheStore } from "../../src/cache/store.js";
import type { GitMapping } from "../../src/config/model.js";
import { tempDir } from "../git/gitFixture.js";

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" };

function mapping(add: string, includePaths: string[], excludePaths: string[], masks: string[], to = "/app"): GitMapping {
  return { pos: { file: "werf.yaml", line: 1, col: 1 }, local: true, add, to, includePaths, excludePaths, stageDependencies: { install: masks, beforeSetup: [], setup: [] } };
}

/** What a mapping's check and checksum give: the witness the cache keeps (or the error), and the checksum. */
async function outcome(dir: string, m: GitMapping, streamed: boolean): Promise<{ witness?: string; error?: string; checksum?: string; streamedUsed: boolean; firstKnown?: boolean }> {
  const cacheDir = tempDir("streamed-cache");
  const witnesses: string[] = [];
  const store = new (class extends CacheStore {
    override put(kind: string, key: string, payload: Buffer | string | readonly Buffer[], sha?: string): void {
      if (kind === "matches") witnesses.push(String(payload));
      super.put(kind, key, payload, sha);
    }
  })({ dir: cacheDir });
  const git = new GitSources(dir, undefined, projectCommit(dir), store);
  git.ownChanges().catch(() => {});
  const source = await git.source(m);
  const requests = [{ masks: m.stageDependencies.install, label: "git.stageDependencies.install" }];
  let streamedUsed = false;
  if (streamed) {
    git.prepareDependencies(source, requests);
    streamedUsed = (git as unknown as { prepared: Map<string, unknown> }).prepared.size > 0;
  }
  try {
    await git.checkMatchesFiles(source);
  } catch (e) {
    return { error: (e as Error).message, streamedUsed };
  }
  const scans = [...(git as unknown as { prepared: Map<string, { scan: { firstSelected(): number | undefined } }> }).prepared.values()];
  const firstKnown = scans.some((p) => (p.scan.firstSelected() ?? -1) >= 0);
  const [sum] = await git.dependenciesOf(source, requests);
  // finished once, then let go
  if (streamedUsed) assert.equal((git as unknown as { prepared: Map<string, unknown> }).prepared.size, 0);
  return { witness: witnesses[0], checksum: sum.checksum, streamedUsed, firstKnown };
}

test("checks and checksums fed while git lists answer as the ones made from the whole listing", async () => {
  const root = tempDir("streamed");
  execFileSync("git", ["init", "-q", "-b", "main", root], { env: GIT_ENV });
  const files: Record<string, string> = { "VERSION": "1", "app.txt": "x", "docs/a.md": "a" };
  // many files before the first Go file of `app`
  for (let i = 0; i < 3000; i++) files[`app/assets/${String(i).padStart(5, "0")}-${"x".repeat(40)}.txt`] = String(i);
  Object.assign(files, { "app/main.go": "m", "app/main_test.go": "t", "app/z/util.go": "u", "app/z/go.mod": "g" });
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  execFileSync("git", ["-C", root, "add", "-A"], { env: GIT_ENV });
  execFileSync("git", ["-C", root, "commit", "-qm", "c"], { env: GIT_ENV });
  const cases = [
    mapping("/app", ["**/*.go"], ["**/*_test.go"], ["**/*.go"]),
    mapping("/app", ["**/go.mod"], [], ["**/*"]),
    mapping("/", [], ["app/assets"], ["**/*.md"]),
    mapping("/app", ["**/*.rs"], [], ["**/*"]), // selects nothing: the error
    mapping("/VERSION", [], [], ["*"], "/"), // a single file with `to: /`: the error
    mapping("/app", ["assets"], [], ["assets/*.txt"]), // prefix ranges: not the whole scope
  ];
  let used = 0;
  let firstKnown = 0;
  for (const m of cases) {
    const whole = await outcome(root, m, false);
    const fed = await outcome(root, m, true);
    if (fed.streamedUsed) used++;
    if (fed.firstKnown) firstKnown++;
    assert.deepEqual({ ...fed, streamedUsed: false, firstKnown: false }, { ...whole, streamedUsed: false, firstKnown: false }, JSON.stringify(m));
  }
  assert.ok(used >= 3, `the listing was still streaming for ${used} of ${cases.length} cases`);
  assert.ok(firstKnown >= 1, "a check took its first selected file from a checksum");
});
