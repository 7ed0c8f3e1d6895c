// Submodules are read only from the repository's own .git/modules: a .gitmodules name or path that git would
// refuse (`..`, `.git`, absolute) is refused, and a checkout's .git file naming a directory elsewhere is ignored.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/diagnostics.js";
import { GitRepo } from "../../src/git/repo.js";
import { listTreeWithSubmodules, unsafeSubmodulePath } from "../../src/git/submodules.js";
import { git, tempDir, writeFile, commitAll } from "../git/gitFixture.js";

const pos = { file: "werf.yaml", line: 7, col: 3 };

/** A superproject whose tree has a gitlink at `subPath` (to a commit of a separate repo) and `.gitmodules` naming it `name`. */
function superproject(name: string, subPath: string): { sup: string; commit: string; lib: string; libCommit: string } {
  const work = tempDir("sec-submod");
  const lib = path.join(work, "lib");
  git(work, "init", "-q", "-b", "main", lib);
  writeFile(lib, "secret.txt", "from outside modules\n");
  const libCommit = commitAll(lib, "lib");
  const sup = path.join(work, "sup");
  git(work, "init", "-q", "-b", "main", sup);
  writeFile(sup, "README", "x\n");
  writeFile(sup, ".gitmodules", `[submodule "${name}"]\n\tpath = ${subPath}\n\turl = ../lib\n`);
  git(sup, "add", "README", ".gitmodules");
  git(sup, "update-index", "--add", "--cacheinfo", `160000,${libCommit},${subPath}`);
  git(sup, "commit", "-q", "-m", "sup");
  return { sup, commit: git(sup, "rev-parse", "HEAD"), lib, libCommit };
}

test("unsafeSubmodulePath: what git refuses", () => {
  assert.equal(unsafeSubmodulePath("libs/a"), undefined);
  assert.equal(unsafeSubmodulePath("a..b/c"), undefined);
  assert.equal(unsafeSubmodulePath("../../x"), "it has a `..` component");
  assert.equal(unsafeSubmodulePath("a\\..\\x"), "it has a `..` component");
  assert.equal(unsafeSubmodulePath("a/.GIT/hooks"), "it has a `.git` component");
  assert.equal(unsafeSubmodulePath("/etc"), "it is an absolute path");
  assert.equal(unsafeSubmodulePath("C:x"), "it is an absolute path");
  assert.equal(unsafeSubmodulePath(""), "it is empty");
});

test("a .gitmodules name climbing out of .git/modules is refused, located at the mapping", async () => {
  const { sup, commit } = superproject("../../../../lib/.git", "vendor/lib");
  const repo = await GitRepo.open(sup);
  await assert.rejects(listTreeWithSubmodules(repo, commit, { pos }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(
      e.message,
      'werf.yaml:7:3: git submodule vendor/lib: its name "../../../../lib/.git" is refused: it has a `..` component\n' +
        "    hint: git refuses such submodules too; fix .gitmodules (or exclude the submodule's path with excludePaths)",
    );
    return true;
  });
});

test("a checkout's .git file naming a repository outside .git/modules is not opened", async () => {
  const { sup, commit, lib } = superproject("vendor/lib", "vendor/lib");
  mkdirSync(path.join(sup, "vendor/lib"), { recursive: true });
  writeFileSync(path.join(sup, "vendor/lib/.git"), `gitdir: ${path.join(lib, ".git")}\n`);
  const repo = await GitRepo.open(sup);
  await assert.rejects(listTreeWithSubmodules(repo, commit, { pos }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /^werf\.yaml:7:3: git submodule vendor\/lib \(commit [0-9a-f]{40}\) is not available locally$/m);
    return true;
  });
});

test("a submodule whose git directory is inside .git/modules is read", async () => {
  const { sup, commit, lib } = superproject("vendor/lib", "vendor/lib");
  git(sup, "clone", "-q", "--bare", lib, path.join(sup, ".git/modules/vendor/lib"));
  const repo = await GitRepo.open(sup);
  const files = (await listTreeWithSubmodules(repo, commit, { pos })).map((e) => e.path);
  assert.deepEqual(files.sort(), [".gitmodules", "README", "vendor/lib/secret.txt"]);
});
