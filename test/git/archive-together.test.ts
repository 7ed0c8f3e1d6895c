// writePlannedArchives (the archives of one listing written together, each blob read once from one cat-file) writes
// exactly the bytes writePlannedArchive writes for each archive alone: overlapping and disjoint mappings, another
// `to`, owner/group, a single file, symlinks, a blob bigger than the whole-body limit shared by several archives,
// an archive whose last entries are directories. And a blob missing from the repository is a UserError.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { GitRepo } from "../../src/git/repo.js";
import { ArchivePlan, planArchiveLazy, writePlannedArchive, writePlannedArchives, type ArchiveJob } from "../../src/git/archive.js";
import { ListingRange, lsTreeRaw, RawListing } from "../../src/git/tree.js";
import type { GitMappingSpec } from "../../src/git/mapping.js";
import { UserError } from "../../src/diagnostics.js";
import { binaryData, commitAll, makeRepo, tempDir, writeFile } from "./gitFixture.js";

const MAPPINGS: GitMappingSpec[] = [
  { add: "/", to: "/repo", includePaths: [], excludePaths: ["docs"] },
  { add: "/", to: "/", includePaths: [], excludePaths: [] },
  { add: "/app", to: "/srv/app", includePaths: [], excludePaths: ["lib/deep"], owner: "www-data", group: 33 },
  { add: "/app/data", to: "/data", includePaths: [], excludePaths: [] },
  { add: "/composer.json", to: "/etc/composer.json", includePaths: [], excludePaths: [] },
  { add: "/app", to: "/x", includePaths: ["**/*.go"], excludePaths: [] },
];

async function plans(repo: GitRepo, commit: string): Promise<ArchivePlan[]> {
  const listing = RawListing.parse(await lsTreeRaw(repo, commit));
  assert.ok(listing);
  return MAPPINGS.map((m) => {
    const scope = m.add.slice(1);
    let from = 0;
    while (from < listing.length && !(scope === "" || listing.path(from) === scope || listing.path(from).startsWith(`${scope}/`))) from++;
    const { planned } = planArchiveLazy(new ListingRange(listing, from, listing.length, scope), m);
    assert.ok(planned instanceof ArchivePlan && planned.rawListing === listing, `${m.add} planned over the raw listing`);
    return planned;
  });
}

test("archives written together are the bytes of each written alone, with their entry lengths and summaries", async () => {
  const r = makeRepo();
  const out = tempDir("together");
  try {
    // a blob past the 1 MiB whole-body limit, in three archives; a second symlink; an empty directory-only tail
    writeFile(r.dir, "app/data/big.bin", binaryData(3 << 20));
    writeFile(r.dir, "app/zz/last/only.txt", "last\n");
    const commit = commitAll(r.dir, "big");
    const repo = await GitRepo.open(r.dir);
    const planned = await plans(repo, commit);
    const jobs: ArchiveJob[] = planned.map((p, k) => ({ planned: p, mapping: MAPPINGS[k], outFile: path.join(out, `t${k}.tar`), names: true, lengths: [] }));
    const together = await writePlannedArchives(repo, jobs);
    for (let k = 0; k < MAPPINGS.length; k++) {
      const lengths: number[] = [];
      const alone = await writePlannedArchive(repo, planned[k], MAPPINGS[k], path.join(out, `a${k}.tar`), { lengths });
      assert.ok(readFileSync(path.join(out, `t${k}.tar`)).equals(readFileSync(path.join(out, `a${k}.tar`))), `${MAPPINGS[k].add} → ${MAPPINGS[k].to}: same bytes`);
      assert.deepEqual(together[k], alone);
      assert.deepEqual(jobs[k].lengths, lengths);
      assert.equal(lengths.length, planned[k].length);
    }
    assert.ok(together[0].entries.includes("repo/app/data/big.bin") && together[3].entries.includes("data/big.bin"));
  } finally {
    r.cleanup();
    rmSync(out, { recursive: true, force: true });
  }
});

test("archives written together: a blob missing from the repository is a UserError naming it", async () => {
  const r = makeRepo();
  const out = tempDir("together-missing");
  try {
    const repo = await GitRepo.open(r.dir);
    // the listing of the commit read from the repository, then a blob of it removed from a copy of its objects
    const planned = await plans(repo, r.commit);
    const oid = planned[1].rawListing!.entry(planned[1].fileIndexes![0]).oid;
    rmSync(path.join(r.dir, ".git", "objects", oid.slice(0, 2), oid.slice(2)));
    const jobs: ArchiveJob[] = planned.map((p, k) => ({ planned: p, mapping: MAPPINGS[k], outFile: path.join(out, `t${k}.tar`) }));
    await assert.rejects(writePlannedArchives(repo, jobs), (e: unknown) => e instanceof UserError && e.message.includes(oid));
  } finally {
    r.cleanup();
    rmSync(out, { recursive: true, force: true });
  }
});

test("archives written together from name bytes: names at the ustar limits, unicode, modes; the same bytes as alone, every entry given to the index sink", async () => {
  const r = makeRepo();
  const out = tempDir("together-bytes");
  try {
    // names (under `to`) of exactly 100 bytes, 101 bytes (split into a prefix), over 255 bytes (pax), directories of
    // 99 and 100 bytes (the "/" makes 100 and 101), non-ASCII at the end of an otherwise short name, an executable
    const pad = (n: number) => "p".repeat(n);
    writeFile(r.dir, `app/${pad(100 - "srv/app/".length)}`, "exactly 100\n");
    writeFile(r.dir, `app/${pad(101 - "srv/app/".length)}`, "101\n");
    writeFile(r.dir, `app/d/${pad(40)}/${pad(60)}/${pad(60)}/${pad(90)}.txt`, "long\n");
    writeFile(r.dir, `app/${pad(99 - "srv/app/".length)}/f`, "dir of 99\n");
    writeFile(r.dir, `app/${pad(100 - "srv/app/".length)}x/f`, "dir of 100\n");
    writeFile(r.dir, "app/ascii-then-é", "é\n");
    // a directory whose ustar split leaves an empty name (cut at its trailing "/"), and one too long for any split
    writeFile(r.dir, `app/${pad(120)}/f`, "cut at the end\n");
    writeFile(r.dir, `app/${pad(150)}/g`, "pax\n");
    // pax records whose length crosses 100 (the length's own digits: 2 or 3), a non-ASCII name over 100 bytes
    for (let n = 78; n <= 96; n++) writeFile(r.dir, `app/pax/é${"x".repeat(n)}`, `${n}\n`);
    writeFile(r.dir, `app/${"é".repeat(60)}`, "long unicode\n");
    writeFile(r.dir, "app/tool", "#!/bin/sh\n", 0o755);
    const commit = commitAll(r.dir, "names");
    const repo = await GitRepo.open(r.dir);
    const planned = await plans(repo, commit);
    for (const names of [false, true]) {
      const index = planned.map(() => ({ dirs: 0, files: 0, addDirBytes() { this.dirs++; }, addFileBytes() { this.files++; } }));
      const jobs: ArchiveJob[] = planned.map((p, k) => ({ planned: p, mapping: MAPPINGS[k], outFile: path.join(out, `t${k}.tar`), names, lengths: [], index: index[k] }));
      const together = await writePlannedArchives(repo, jobs);
      for (let k = 0; k < MAPPINGS.length; k++) {
        const lengths: number[] = [];
        const alone = await writePlannedArchive(repo, planned[k], MAPPINGS[k], path.join(out, `a${k}.tar`), { lengths, names });
        assert.ok(readFileSync(path.join(out, `t${k}.tar`)).equals(readFileSync(path.join(out, `a${k}.tar`))), `${MAPPINGS[k].add} → ${MAPPINGS[k].to}: same bytes`);
        assert.deepEqual(together[k], alone);
        assert.deepEqual(jobs[k].lengths, lengths);
        // the single-file mapping is written from strings (its name is `to`), every other one from bytes
        const bytes = planned[k].byteSteps() !== undefined;
        assert.equal(bytes, MAPPINGS[k].add !== "/composer.json", `${MAPPINGS[k].add}: written from bytes`);
        assert.equal(index[k].dirs + index[k].files, bytes ? planned[k].length : 0);
        if (bytes) assert.equal(index[k].dirs, alone.directories);
      }
      if (names) assert.ok(together[2].entries.includes(`srv/app/${pad(100 - "srv/app/".length)}`) && together[2].entries.includes("srv/app/ascii-then-é"));
    }
  } finally {
    r.cleanup();
    rmSync(out, { recursive: true, force: true });
  }
});

test("archives written together: a listing with a character above U+FFFF is written from strings, the same bytes", async () => {
  const r = makeRepo();
  const out = tempDir("together-astral");
  try {
    writeFile(r.dir, "app/emoji-😀/a.txt", "astral\n");
    writeFile(r.dir, "app/emoji-z/b.txt", "bmp\n");
    const commit = commitAll(r.dir, "astral");
    const repo = await GitRepo.open(r.dir);
    const planned = await plans(repo, commit);
    assert.ok(planned.every((p) => p.byteSteps() === undefined));
    const jobs: ArchiveJob[] = planned.map((p, k) => ({ planned: p, mapping: MAPPINGS[k], outFile: path.join(out, `t${k}.tar`) }));
    await writePlannedArchives(repo, jobs);
    for (let k = 0; k < MAPPINGS.length; k++) {
      await writePlannedArchive(repo, planned[k], MAPPINGS[k], path.join(out, `a${k}.tar`));
      assert.ok(readFileSync(path.join(out, `t${k}.tar`)).equals(readFileSync(path.join(out, `a${k}.tar`))), `${MAPPINGS[k].add}: same bytes`);
    }
  } finally {
    r.cleanup();
    rmSync(out, { recursive: true, force: true });
  }
});
