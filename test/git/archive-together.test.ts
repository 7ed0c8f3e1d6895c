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
