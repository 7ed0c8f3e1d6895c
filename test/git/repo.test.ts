import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { GitRepo } from "../../src/git/repo.js";
import { listTree, parseTreeRecord } from "../../src/git/tree.js";
import { BlobReader, forEachBlob } from "../../src/git/blobs.js";
import { UserError } from "../../src/diagnostics.js";
import { binaryData, commitAll, git, makeRepo, tempDir, writeFile } from "./gitFixture.js";

test("repo: resolves HEAD, a short id and a branch; commit time; ancestry", async () => {
  const r = makeRepo();
  try {
    const repo = await GitRepo.open(r.dir + "/app");
    assert.equal(await repo.resolveCommit(), r.commit);
    assert.equal(await repo.resolveCommit(r.commit.slice(0, 8)), r.commit);
    assert.equal(await repo.resolveCommit("main"), r.commit);
    assert.equal(await repo.commitTime(r.commit), Date.parse("2024-01-02T03:04:05Z") / 1000);
    writeFile(r.dir, "new.txt", "x\n");
    const second = commitAll(r.dir, "second");
    assert.equal(await repo.isAncestor(r.commit, second), true);
    assert.equal(await repo.isAncestor(second, r.commit), false);
    assert.equal(await repo.isAncestor("0".repeat(40), second), false);
    assert.equal(await repo.hasCommit(second), true);
    assert.equal(await repo.hasCommit("1".repeat(40)), false);
  } finally {
    r.cleanup();
  }
});

test("repo: errors for not-a-repo, no commits and unknown commits are UserErrors with hints", async () => {
  const plain = tempDir("plain");
  try {
    await assert.rejects(GitRepo.open(plain), (e: unknown) => e instanceof UserError && /not inside a git repository/.test(e.message) && !!e.diagnostics[0].hint);
    git(plain, "init", "-q");
    const repo = await GitRepo.open(plain);
    await assert.rejects(repo.resolveCommit(), (e: unknown) => e instanceof UserError && /has no commits yet/.test(e.message));
    const r = makeRepo();
    try {
      const full = await GitRepo.open(r.dir);
      await assert.rejects(full.resolveCommit("nope"), (e: unknown) => e instanceof UserError && /unknown git commit "nope"/.test(e.message));
      await assert.rejects(full.resolveCommit("--help"), UserError);
    } finally {
      r.cleanup();
    }
  } finally {
    rmSync(plain, { recursive: true, force: true });
  }
});

test("tree: ls-tree entries with modes, types, symlinks, unicode and spaces; scoped and with directories", async () => {
  const r = makeRepo();
  try {
    const repo = await GitRepo.open(r.dir);
    const entries = await listTree(repo, r.commit);
    const byPath = new Map(entries.map((e) => [e.path, e]));
    assert.equal(byPath.get("app/bin/run.sh")?.mode, "100755");
    assert.equal(byPath.get("app/main.go")?.mode, "100644");
    assert.equal(byPath.get("app/link.go")?.mode, "120000");
    assert.ok(byPath.has("app/dir with space/file é.txt"));
    assert.ok(byPath.has("app/日本/語.txt"));
    assert.ok(entries.every((e) => e.type === "blob" && /^[0-9a-f]{40}$/.test(e.oid)));
    assert.equal(byPath.get("app/main.go")?.oid, git(r.dir, "rev-parse", `${r.commit}:app/main.go`));
    assert.equal(entries.length, 12);

    const scoped = await listTree(repo, r.commit, { scope: "app/lib" });
    assert.deepEqual(scoped.map((e) => e.path), ["app/lib/deep/notes.txt", "app/lib/util.go"]);
    const withDirs = await listTree(repo, r.commit, { scope: "app/lib", directories: true });
    assert.deepEqual(withDirs.map((e) => `${e.type}:${e.path}`), ["tree:app/lib/deep", "blob:app/lib/deep/notes.txt", "blob:app/lib/util.go"]);
    const single = await listTree(repo, r.commit, { scope: "app/main.go" });
    assert.deepEqual(single.map((e) => e.path), ["app/main.go"]);
    assert.deepEqual(await listTree(repo, r.commit, { scope: "missing" }), []);
  } finally {
    r.cleanup();
  }
});

test("tree: submodules are listed as commit entries", async () => {
  const sub = makeRepo();
  const r = makeRepo();
  try {
    git(r.dir, "-c", "protocol.file.allow=always", "submodule", "add", "-q", sub.dir, "vendor/sub");
    const c = commitAll(r.dir, "add submodule");
    const entries = await listTree(await GitRepo.open(r.dir), c);
    const s = entries.find((e) => e.path === "vendor/sub");
    assert.deepEqual(s && { mode: s.mode, type: s.type, oid: s.oid }, { mode: "160000", type: "commit", oid: sub.commit });
  } finally {
    sub.cleanup();
    r.cleanup();
  }
});

test("tree: parseTreeRecord rejects garbage", () => {
  assert.deepEqual(parseTreeRecord("100644 blob abc\ta b"), { mode: "100644", type: "blob", oid: "abc", path: "a b" });
  assert.throws(() => parseTreeRecord("nonsense"));
});

test("blobs: one cat-file process streams many blobs, binary-safe, including empty and missing ones", async () => {
  const r = makeRepo();
  try {
    const repo = await GitRepo.open(r.dir);
    const entries = await listTree(repo, r.commit);
    const oid = (p: string) => entries.find((e) => e.path === p)!.oid;
    const reader = new BlobReader(repo);
    try {
      assert.deepEqual(await reader.read(oid("app/data/blob.bin")), binaryData());
      assert.equal((await reader.read(oid("app/empty.txt"))).length, 0);
      assert.equal((await reader.read(oid("app/link.go"))).toString(), "main.go");
      await assert.rejects(reader.read("f".repeat(40)), (e: unknown) => e instanceof UserError && /missing/.test(e.message));
      // requests issued together are served in order
      const [a, b] = await Promise.all([reader.read(oid("app/main.go")), reader.read(oid("README.md"))]);
      assert.equal(a.toString(), "package main\n");
      assert.equal(b.toString(), "# demo\n");
      // a stream abandoned half-way does not block the next request
      const big = await reader.open(oid("app/data/blob.bin"));
      assert.equal(big.size, 65536);
      big.body.destroy();
      assert.equal((await reader.read(oid("docs/guide.md"))).toString(), "guide\n");
    } finally {
      reader.close();
    }
    const seen: string[] = [];
    await forEachBlob(repo, entries.filter((e) => e.mode !== "120000").map((e) => e.oid), (o, content) => {
      seen.push(o);
      assert.equal(content.length, Number(git(r.dir, "cat-file", "-s", o)));
    });
    assert.equal(seen.length, 11);
  } finally {
    r.cleanup();
  }
});
