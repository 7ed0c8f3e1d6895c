import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync } from "node:fs";
import path from "node:path";
import { GitRepo } from "../../src/git/repo.js";
import { computeStageDependencies } from "../../src/git/checksum.js";
import type { GitMappingSpec } from "../../src/git/mapping.js";
import { commitAll, makeRepo, writeFile } from "./gitFixture.js";

const mapping: GitMappingSpec = { add: "/app", to: "/srv", includePaths: [], excludePaths: ["lib/deep"] };
const masks = ["*.go", "lib"];

test("checksum: matched paths per mask, relative to add, include/exclude applied", async () => {
  const r = makeRepo();
  try {
    const repo = await GitRepo.open(r.dir);
    const res = await computeStageDependencies(repo, r.commit, mapping, masks);
    assert.match(res.checksum, /^[0-9a-f]{64}$/);
    assert.deepEqual(res.masks, [
      { mask: "*.go", paths: ["link.go", "main.go"] },
      { mask: "lib", paths: ["lib/util.go"] },
    ]);
    assert.deepEqual(res.paths, ["lib/util.go", "link.go", "main.go"]);
    assert.deepEqual(await computeStageDependencies(repo, r.commit, mapping, []), { checksum: "", paths: [], masks: [] });
    // deterministic
    assert.equal((await computeStageDependencies(repo, r.commit, mapping, masks)).checksum, res.checksum);
  } finally {
    r.cleanup();
  }
});

test("checksum: sensitive to matched content and mode, blind to unmatched files", async () => {
  const r = makeRepo();
  try {
    const repo = await GitRepo.open(r.dir);
    const sum = async (c: string) => (await computeStageDependencies(repo, c, mapping, masks)).checksum;
    const base = await sum(r.commit);

    writeFile(r.dir, "app/README.txt", "not a dependency\n");
    writeFile(r.dir, "app/lib/deep/notes.txt", "excluded by the mapping\n");
    writeFile(r.dir, "docs/guide.md", "outside add\n");
    const unrelated = commitAll(r.dir, "unrelated");
    assert.equal(await sum(unrelated), base, "unmatched changes keep the checksum");

    writeFile(r.dir, "app/lib/util.go", "package lib // changed\n");
    const content = commitAll(r.dir, "content");
    const afterContent = await sum(content);
    assert.notEqual(afterContent, base, "a matched file's content");

    chmodSync(path.join(r.dir, "app/main.go"), 0o755);
    const mode = commitAll(r.dir, "mode");
    const afterMode = await sum(mode);
    assert.notEqual(afterMode, afterContent, "a matched file's mode");

    writeFile(r.dir, "app/extra.go", "package main\n");
    const added = commitAll(r.dir, "new matched file");
    assert.notEqual(await sum(added), afterMode, "a new matched file");
    // the worktree is never read: an uncommitted change does not count
    writeFile(r.dir, "app/main.go", "dirty\n");
    assert.equal(await sum(added), await sum(added));
  } finally {
    r.cleanup();
  }
});
