// Submodules as werf does: reached gitlinks expand into the submodule's files at the recorded commit (nested too),
// read from .git/modules; a missing submodule is a UserError with the path and `git submodule update --init`.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createReadStream, rmSync } from "node:fs";
import path from "node:path";
import tar from "tar-stream";
import { GitRepo } from "../../src/git/repo.js";
import { writeGitArchive } from "../../src/git/archive.js";
import { listTreeWithSubmodules } from "../../src/git/submodules.js";
import { UserError } from "../../src/diagnostics.js";
import { git, tempDir, writeFile, commitAll } from "./gitFixture.js";

const spec = (add: string, to: string, includePaths: string[] = [], excludePaths: string[] = []) => ({
  add, to, includePaths, excludePaths,
});

/** name → content (files), "->target" (symlinks), "dir" (directories). */
async function readTar(file: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const ex = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on("entry", (h, stream, next) => {
      const parts: Buffer[] = [];
      stream.on("data", (b: unknown) => void parts.push(b as Buffer));
      stream.on("end", () => {
        out.set(h.name, h.type === "symlink" ? `->${h.linkname}` : h.type === "directory" ? "dir" : Buffer.concat(parts).toString());
        next();
      });
    });
    ex.on("finish", resolve);
    ex.on("error", reject);
  });
  createReadStream(file).pipe(ex);
  await done;
  return out;
}

describe("submodules", () => {
  let work: string;
  let sup: string;
  let commit: string;
  let libCommitV1: string;

  before(() => {
    work = tempDir("submod");
    const inner = path.join(work, "inner");
    const lib = path.join(work, "lib");
    sup = path.join(work, "sup");
    git(work, "init", "-q", "-b", "main", inner);
    writeFile(inner, "deep.txt", "inner file\n");
    commitAll(inner, "inner");
    git(work, "init", "-q", "-b", "main", lib);
    writeFile(lib, "a.txt", "lib a v1\n");
    writeFile(lib, "src/run.sh", "#!/bin/sh\n", 0o755);
    git(lib, "-c", "protocol.file.allow=always", "submodule", "add", "-q", inner, "third/inner");
    libCommitV1 = commitAll(lib, "lib v1");
    writeFile(lib, "a.txt", "lib a v2 (not recorded by sup)\n");
    commitAll(lib, "lib v2");
    git(work, "init", "-q", "-b", "main", sup);
    writeFile(sup, "app/main.txt", "main\n");
    git(sup, "-c", "protocol.file.allow=always", "submodule", "add", "-q", "--name", "the-lib", lib, "app/vendor/lib");
    git(sup, "-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init", "--recursive");
    git(path.join(sup, "app/vendor/lib"), "checkout", "-q", libCommitV1);
    commit = commitAll(sup, "sup");
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test("the archive holds the submodule's files at the recorded commit, nested submodules too", async () => {
    const out = path.join(work, "all.tar");
    const s = await writeGitArchive(await GitRepo.open(sup), commit, spec("/app", "/srv"), out);
    const files = await readTar(out);
    assert.equal(files.get("srv/main.txt"), "main\n");
    assert.equal(files.get("srv/vendor/lib/a.txt"), "lib a v1\n");
    assert.equal(files.get("srv/vendor/lib/src/run.sh"), "#!/bin/sh\n");
    assert.equal(files.get("srv/vendor/lib/third/inner/deep.txt"), "inner file\n");
    assert.equal(files.get("srv/vendor/lib/third/inner/"), "dir");
    assert.deepEqual(s.skippedSubmodules, []);
    assert.ok(![...files.keys()].some((k) => k.endsWith(".gitmodules") === false && k.includes(".git/")));
  });

  test("add inside a submodule, and includePaths reaching into one", async () => {
    const repo = await GitRepo.open(sup);
    const out = path.join(work, "scoped.tar");
    await writeGitArchive(repo, commit, spec("/app/vendor/lib/third", "/x"), out);
    assert.deepEqual([...(await readTar(out)).entries()], [["x/", "dir"], ["x/inner/", "dir"], ["x/inner/deep.txt", "inner file\n"]]);
    const entries = await listTreeWithSubmodules(repo, commit, { scope: "app/vendor/lib/src" });
    assert.deepEqual(entries.map((e) => [e.path, e.submodule]), [["app/vendor/lib/src/run.sh", "app/vendor/lib"]]);
    await writeGitArchive(repo, commit, spec("/", "/y", ["**/deep.txt"]), out);
    assert.deepEqual([...(await readTar(out)).keys()].filter((k) => !k.endsWith("/")), ["y/app/vendor/lib/third/inner/deep.txt"]);
  });

  test("works when the submodule checkout is gone but .git/modules has the objects", async () => {
    const copy = path.join(work, "copy");
    git(work, "clone", "-q", sup, copy);
    git(copy, "-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init", "--recursive");
    rmSync(path.join(copy, "app/vendor/lib"), { recursive: true, force: true });
    const out = path.join(work, "gone.tar");
    await writeGitArchive(await GitRepo.open(copy), commit, spec("/app", "/srv"), out);
    assert.equal((await readTar(out)).get("srv/vendor/lib/third/inner/deep.txt"), "inner file\n");
  });

  test("a submodule that is not initialised: UserError with the path and the hint; excluding it needs nothing", async () => {
    const bare = path.join(work, "noinit");
    git(work, "clone", "-q", sup, bare);
    const repo = await GitRepo.open(bare);
    const pos = { file: "werf.yaml", line: 12, col: 7 };
    await assert.rejects(writeGitArchive(repo, commit, spec("/app", "/srv"), path.join(work, "x.tar"), { pos }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /^werf\.yaml:12:7: git submodule app\/vendor\/lib \(commit [0-9a-f]{40}\) is not available locally/);
      assert.match(e.message, /hint: .*git submodule update --init --recursive/);
      return true;
    });
    const out = path.join(work, "excluded.tar");
    await writeGitArchive(repo, commit, spec("/app", "/srv", [], ["vendor"]), out);
    assert.deepEqual([...(await readTar(out)).keys()], ["srv/", "srv/main.txt"]);
    const skipped = await writeGitArchive(repo, commit, spec("/app", "/srv"), out, { submodules: "skip" });
    assert.deepEqual(skipped.skippedSubmodules, ["app/vendor/lib"]);
  });

  test("a submodule repository without the recorded commit is an error too", async () => {
    const stale = path.join(work, "stale");
    git(work, "clone", "-q", sup, stale);
    git(stale, "-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init", "--recursive");
    // make the submodule's repository lose the recorded commit's objects
    const modules = path.join(stale, ".git/modules/the-lib");
    git(stale, "submodule", "deinit", "-q", "-f", "app/vendor/lib");
    rmSync(modules, { recursive: true, force: true });
    git(work, "init", "-q", "--bare", modules);
    await assert.rejects(
      writeGitArchive(await GitRepo.open(stale), commit, spec("/app", "/srv"), path.join(work, "y.tar")),
      /git submodule app\/vendor\/lib: its commit [0-9a-f]{40} is not in the local submodule repository/,
    );
  });
});
