import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readlinkSync, statSync, lstatSync, rmSync } from "node:fs";
import path from "node:path";
import { GitRepo } from "../../src/git/repo.js";
import { writeGitArchive } from "../../src/git/archive.js";
import type { GitMappingSpec } from "../../src/git/mapping.js";
import { UserError } from "../../src/diagnostics.js";
import { binaryData, git, makeRepo, tempDir } from "./gitFixture.js";

function tarList(file: string): string[] {
  return execFileSync("tar", ["--numeric-owner", "-tvf", file], { encoding: "utf8" }).trim().split("\n");
}

test("archive: content, layout, modes, symlinks and names, checked with the system tar", async () => {
  const r = makeRepo();
  const out = tempDir("archive");
  try {
    const repo = await GitRepo.open(r.dir);
    const mapping: GitMappingSpec = { add: "/app", to: "/srv/app", includePaths: [], excludePaths: ["lib/deep"] };
    const file = path.join(out, "a.tar");
    const summary = await writeGitArchive(repo, r.commit, mapping, file);
    assert.deepEqual(summary.entries, [
      "srv/app/",
      "srv/app/bin/",
      "srv/app/bin/run.sh",
      "srv/app/data/",
      "srv/app/data/blob.bin",
      "srv/app/dir with space/",
      "srv/app/dir with space/file é.txt",
      "srv/app/empty.txt",
      "srv/app/lib/",
      "srv/app/lib/util.go",
      "srv/app/link.go",
      "srv/app/main.go",
      "srv/app/日本/",
      "srv/app/日本/語.txt",
    ]);
    assert.equal(summary.files, 7);
    assert.equal(summary.symlinks, 1);
    const listing = tarList(file);
    assert.equal(listing.length, summary.entries.length);
    assert.match(listing.find((l) => l.endsWith("srv/app/bin/run.sh"))!, /^-rwxr-xr-x 0\/0 +\d+ 1970-01-01 /);
    assert.match(listing.find((l) => l.endsWith("srv/app/main.go"))!, /^-rw-r--r-- 0\/0 /);
    assert.match(listing.find((l) => l.includes("srv/app/link.go"))!, /^l.* srv\/app\/link\.go -> main\.go$/);
    assert.match(listing.find((l) => l.endsWith("srv/app/lib/"))!, /^drwxr-xr-x 0\/0 /);

    const x = path.join(out, "x");
    mkdirSync(x);
    execFileSync("tar", ["-xf", file, "-C", x]);
    assert.deepEqual(readFileSync(path.join(x, "srv/app/data/blob.bin")), binaryData());
    assert.equal(readFileSync(path.join(x, "srv/app/dir with space/file é.txt"), "utf8"), "spaced\n");
    assert.equal(readlinkSync(path.join(x, "srv/app/link.go")), "main.go");
    assert.ok(lstatSync(path.join(x, "srv/app/link.go")).isSymbolicLink());
    assert.equal(statSync(path.join(x, "srv/app/bin/run.sh")).mode & 0o777, 0o755);
    assert.equal(statSync(path.join(x, "srv/app/empty.txt")).size, 0);
  } finally {
    r.cleanup();
    rmSync(out, { recursive: true, force: true });
  }
});

test("archive: single-file add is renamed to `to`; owner/group names and ids; includePaths", async () => {
  const r = makeRepo();
  const out = tempDir("archive");
  try {
    const repo = await GitRepo.open(r.dir);
    const single = path.join(out, "s.tar");
    const s = await writeGitArchive(repo, r.commit, { add: "/composer.json", to: "/app/composer.json.dist", includePaths: [], excludePaths: [], owner: "www", group: 33 }, single);
    assert.deepEqual(s.entries, ["app/composer.json.dist"]);
    const verbose = execFileSync("tar", ["-tvf", single], { encoding: "utf8" });
    assert.match(verbose, /^-rw-r--r-- www\/33 /);
    const inc = path.join(out, "i.tar");
    const i = await writeGitArchive(repo, r.commit, { add: "/", to: "/", includePaths: ["**/*.md", "app/bin"], excludePaths: [], owner: 1000, group: "staff" }, inc);
    assert.deepEqual(i.entries, ["README.md", "app/", "app/bin/", "app/bin/run.sh", "docs/", "docs/guide.md"]);
    assert.match(tarList(inc)[0], /^-rw-r--r-- 1000\/0 /);
  } finally {
    r.cleanup();
    rmSync(out, { recursive: true, force: true });
  }
});

test("archive: a mapping that matches nothing is an error, as in werf", async () => {
  const r = makeRepo();
  const out = tempDir("archive");
  try {
    const repo = await GitRepo.open(r.dir);
    await assert.rejects(
      writeGitArchive(repo, r.commit, { add: "/nope", to: "/app", includePaths: [], excludePaths: [] }, path.join(out, "n.tar")),
      (e: unknown) => e instanceof UserError && e.message.includes('"git.add: /nope" in werf.yaml matches no files'),
    );
    await assert.rejects(
      writeGitArchive(repo, r.commit, { add: "/app", to: "/app", includePaths: ["*.rs"], excludePaths: [] }, path.join(out, "m.tar")),
      (e: unknown) => e instanceof UserError && /matches no files after includePaths/.test(e.message),
    );
  } finally {
    r.cleanup();
    rmSync(out, { recursive: true, force: true });
  }
});

test("archive: byte-identical twice and in a second clone", async () => {
  const r = makeRepo();
  const out = tempDir("archive");
  try {
    const clone = path.join(out, "clone");
    git(out, "clone", "-q", r.dir, clone);
    const mapping: GitMappingSpec = { add: "/", to: "/src", includePaths: [], excludePaths: [], owner: "app", group: "app" };
    const a = path.join(out, "a.tar");
    const b = path.join(out, "b.tar");
    const c = path.join(out, "c.tar");
    await writeGitArchive(await GitRepo.open(r.dir), r.commit, mapping, a);
    await writeGitArchive(await GitRepo.open(r.dir), r.commit, mapping, b);
    await writeGitArchive(await GitRepo.open(clone), r.commit, mapping, c);
    assert.ok(readFileSync(a).length > 65536);
    assert.deepEqual(readFileSync(a), readFileSync(b));
    assert.deepEqual(readFileSync(a), readFileSync(c));
  } finally {
    r.cleanup();
    rmSync(out, { recursive: true, force: true });
  }
});
