// The archive writer (BlobPipeline + TarWriter) against the writer it replaced (BlobReader + tar-stream's pack,
// one stream per entry), kept here as the reference: same bytes on a repository full of corner cases.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createWriteStream, readFileSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { GitRepo } from "../../src/git/repo.js";
import { listArchiveTree, ownership, planArchive, writeGitArchive, type PlannedEntry } from "../../src/git/archive.js";
import { BlobReader, BlobPipeline } from "../../src/git/blobs.js";
import { TarWriter } from "../../src/git/tar.js";
import type { GitMappingSpec } from "../../src/git/mapping.js";
import { binaryData, git, tempDir, writeFile } from "./gitFixture.js";

/** The archive writer before src/git/tar.ts: tar-stream's pack, blobs through BlobReader one at a time. */
async function referenceArchive(repo: GitRepo, planned: readonly PlannedEntry[], mapping: GitMappingSpec, outFile: string, mtimeSec = 0): Promise<void> {
  const mtime = new Date(mtimeSec * 1000);
  const owner = ownership(mapping.owner);
  const group = ownership(mapping.group);
  const common = {
    mtime,
    uid: owner.id ?? 0,
    gid: group.id ?? 0,
    ...(owner.name ? { uname: owner.name } : {}),
    ...(group.name ? { gname: group.name } : {}),
  };
  const pack = tar.pack();
  const written = pipeline(pack, createWriteStream(outFile));
  const reader = new BlobReader(repo);
  const add = (header: Partial<tar.Header> & { name: string }) =>
    new Promise<void>((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
  try {
    for (const p of planned) {
      if (p.kind === "dir") await add({ ...common, name: `${p.name}/`, type: "directory", mode: 0o755 });
      else if (p.kind === "symlink") {
        const linkname = (await reader.read(p.source.oid)).toString("utf8");
        await add({ ...common, name: p.name, type: "symlink", linkname, mode: 0o777 });
      } else {
        const blob = await reader.open(p.source.oid);
        const mode = (parseInt(p.source.mode, 8) & 0o111) !== 0 ? 0o755 : 0o644;
        await pipeline(blob.body, pack.entry({ ...common, name: p.name, type: "file", mode, size: blob.size }));
      }
    }
    pack.finalize();
    await written;
  } finally {
    reader.close();
  }
}

/** Names and contents that take every path of the tar format: ustar prefix split, pax path and linkpath. */
function trickyRepo(): { dir: string; commit: string } {
  const dir = tempDir("tar-repo");
  git(dir, "init", "-q", "-b", "main");
  const long = (n: number, c: string) => c.repeat(n);
  writeFile(dir, "a/empty", "");
  writeFile(dir, "a/exactly-512", Buffer.alloc(512, 7));
  writeFile(dir, "a/513", Buffer.alloc(513, 8));
  writeFile(dir, "a/run.sh", "#!/bin/sh\n", 0o755);
  writeFile(dir, "a/bin.dat", binaryData(100_000));
  writeFile(dir, "a/big.bin", binaryData(1.5 * 1024 * 1024 + 3)); // streamed: over the whole-blob limit
  writeFile(dir, `a/${long(100, "n")}`, "name of exactly 100\n"); // 100 bytes → plain ustar
  writeFile(dir, `a/${long(101, "m")}`, "101 bytes, no slash to split at after a/\n");
  writeFile(dir, `${long(60, "d")}/${long(60, "e")}/${long(60, "f")}/file.txt`, "prefix split\n");
  writeFile(dir, `${long(120, "p")}/${long(50, "q")}/x`, "prefix over 155 after split\n");
  writeFile(dir, `${long(200, "g")}/${long(250, "h")}.txt`, "over 255 bytes\n");
  writeFile(dir, "ünï/cødé ✓.txt", "unicode\n");
  writeFile(dir, "docs/日本語/説明.md", "# 説明\n");
  writeFile(dir, "docs/with space/and\ttab.txt", "tab\n");
  symlinkSync("../a/run.sh", path.join(dir, "docs/short-link"));
  symlinkSync(`../${long(101, "t")}/target`, path.join(dir, "docs/long-link"));
  symlinkSync("日本語/説明.md", path.join(dir, "docs/unicode-link"));
  symlinkSync("missing", path.join(dir, `${long(60, "d")}/dangling ${long(90, "l")}`));
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "tricky");
  return { dir, commit: git(dir, "rev-parse", "HEAD") };
}

const MAPPINGS: GitMappingSpec[] = [
  { add: "/", to: "/", includePaths: [], excludePaths: [] },
  { add: "/", to: `/srv/${"z".repeat(80)}/app`, includePaths: [], excludePaths: [], owner: "www-data", group: 33 },
  { add: "/a", to: "/app", includePaths: [], excludePaths: ["*.bin"], owner: 1000, group: "a-very-long-group-name-over-32-bytes-long" },
  { add: "/docs", to: "/usr/share/doc/x", includePaths: ["**/*.md", "*link"], excludePaths: [], owner: 4_000_000, group: 5 },
  { add: "/a/run.sh", to: "/usr/local/bin/run", includePaths: [], excludePaths: [] },
];

/** The mappings whose owners tar-stream cannot write (a group name over 32 bytes, a uid over 0o777777). */
const BEYOND_TAR_STREAM = new Set([2, 3]);

test("tar writer: the same bytes as the tar-stream writer it replaced, on names and sizes of every kind", async () => {
  const r = trickyRepo();
  const out = tempDir("tar-out");
  try {
    const repo = await GitRepo.open(r.dir);
    for (const [i, mapping] of MAPPINGS.entries()) {
      const { planned } = planArchive(await listArchiveTree(repo, r.commit, mapping), mapping);
      const ref = path.join(out, `ref-${i}.tar`);
      const got = path.join(out, `new-${i}.tar`);
      const mtime = i === 1 ? 1_700_000_000 : 0;
      await referenceArchive(repo, planned, mapping, ref, mtime);
      const summary = await writeGitArchive(repo, r.commit, mapping, got, { mtime });
      const a = readFileSync(ref);
      const b = readFileSync(got);
      if (BEYOND_TAR_STREAM.has(i)) {
        // tar-stream truncates these owners (a group name over 32 bytes runs into the next field, a uid over
        // 0o777777 becomes 777777); the writer adds pax records instead (test/security/tar.test.ts), so only
        // the entries are compared here
        assert.ok(b.length > a.length, `mapping ${i}: pax records expected`);
      } else {
        assert.equal(b.length, a.length, `mapping ${i}: size`);
        assert.ok(a.equals(b), `mapping ${i}: bytes differ`);
      }
      assert.equal(summary.entries.length, planned.length);
      // and the system tar reads it
      const listed = execFileSync("tar", ["-tf", got], { encoding: "utf8" }).trim().split("\n");
      assert.equal(listed.length, planned.length, `mapping ${i}: tar -t`);
    }
  } finally {
    rmSync(r.dir, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
});

test("tar writer: a body of the wrong size is an error, not a corrupt archive", async () => {
  const out = tempDir("tar-size");
  try {
    const w = await TarWriter.create(path.join(out, "x.tar"), 4096);
    async function* pieces() {
      yield Buffer.from("abc");
    }
    await assert.rejects(
      w.addStream({ name: "f", type: "file", mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), size: 5 }, pieces()),
      /3 bytes instead of 5/,
    );
    await w.abort();
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("blob pipeline: answers in request order, across many chunks of git's output; a missing object is a UserError", async () => {
  const r = trickyRepo();
  try {
    const repo = await GitRepo.open(r.dir);
    const files = (await listArchiveTree(repo, r.commit, { add: "/", to: "/", includePaths: [], excludePaths: [] })).filter(
      (e) => e.mode !== "120000",
    );
    const reader = new BlobPipeline(repo);
    // every blob 3 times: more requests than are sent ahead at once are not needed for order, but repeats are
    const oids = [...files, ...files, ...files].map((e) => e.oid);
    reader.request(oids);
    for (const oid of oids) {
      const h = await reader.next();
      assert.equal(h.oid, oid);
      let body: Buffer;
      if (h.size > 1 << 20) {
        const parts: Buffer[] = [];
        for await (const piece of reader.bodyChunks()) parts.push(Buffer.from(piece));
        body = Buffer.concat(parts);
      } else {
        body = await reader.readBody();
      }
      assert.equal(body.length, h.size);
      assert.ok(body.equals(execFileSync("git", ["cat-file", "blob", oid], { cwd: r.dir, maxBuffer: 1 << 24 })));
    }
    reader.request(["0".repeat(40)]);
    await assert.rejects(reader.next(), /is missing from the repository/);
    reader.close();
  } finally {
    rmSync(r.dir, { recursive: true, force: true });
  }
});
