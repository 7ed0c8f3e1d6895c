// diffMapping, writePatch and patchApplyScript without the engine (the engine check is patch-engine.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { GitRepo } from "../../src/git/repo.js";
import { diffMapping, diffMappingByPlans, patchApplyScript, writePatch } from "../../src/git/patch.js";
import type { GitMappingSpec } from "../../src/git/mapping.js";
import { UserError } from "../../src/diagnostics.js";
import { binaryData, commitAll, git, tempDir, writeFile } from "./gitFixture.js";

const all = (to: string, extra: Partial<GitMappingSpec> = {}): GitMappingSpec => ({
  add: "/",
  to,
  includePaths: [],
  excludePaths: [],
  ...extra,
});

/** diffMapping, checked against the reference (full plans of both commits) on the way. */
async function diff(repo: GitRepo, from: string, to: string, m: GitMappingSpec) {
  const quick = await diffMapping(repo, from, to, m);
  assert.deepEqual(quick, await diffMappingByPlans(repo, from, to, m), `quick path ${from}..${to} ${JSON.stringify(m)}`);
  return quick;
}

function repoWith(): { dir: string; cleanup(): void } {
  const dir = tempDir("patch-unit");
  git(dir, "init", "-q", "-b", "main");
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function tarList(file: string): string[] {
  const out = execFileSync("tar", ["--numeric-owner", "-tvf", file], { encoding: "utf8" }).trim();
  return out === "" ? [] : out.split("\n").map((l) => l.replace(/^(\S+) (\S+) +\d+ \S+ \S+ /, "$1 $2 "));
}

test("diffMapping: edits, additions, deletions, type changes, modes, symlinks; new directories only; sizes", async () => {
  const r = repoWith();
  try {
    const w = (rel: string, c: string | Buffer, mode?: number) => writeFile(r.dir, rel, c, mode);
    const rm = (rel: string) => rmSync(path.join(r.dir, rel), { recursive: true, force: true });
    w("a.txt", "a\n");
    w("same.txt", "same\n");
    w("dir/b.txt", "b\n");
    w("dir/c.txt", "c\n");
    w("gone/deep/g.txt", "g\n");
    w("x", "x file\n");
    w("y/inner.txt", "y dir\n");
    w("run.sh", "echo\n");
    symlinkSync("a.txt", path.join(r.dir, "link"));
    const c0 = commitAll(r.dir, "c0");
    w("a.txt", "a edited\n");
    w("new/deep/n.bin", binaryData(1000));
    rm("dir/b.txt");
    rm("gone");
    rm("x");
    w("x/inner.txt", "x dir\n");
    rm("y");
    w("y", "y file\n");
    chmodSync(path.join(r.dir, "run.sh"), 0o755);
    rm("link");
    symlinkSync("same.txt", path.join(r.dir, "link"));
    const c1 = commitAll(r.dir, "c1");
    const repo = await GitRepo.open(r.dir);

    const changes = await diff(repo, c0, c1, all("/app"));
    assert.deepEqual(changes.write, [
      "app/a.txt",
      "app/link",
      "app/new/",
      "app/new/deep/",
      "app/new/deep/n.bin",
      "app/run.sh",
      "app/x/",
      "app/x/inner.txt",
      "app/y",
    ]);
    // "gone" merely disappears (its file is listed, the directories go when empty); "x" and "y" changed type
    assert.deepEqual(changes.remove, ["app/dir/b.txt", "app/gone/deep/g.txt", "app/x", "app/y"]);
    const sizes = ["a edited\n", "same.txt", "echo\n", "x dir\n", "y file\n"].map((s) => Buffer.byteLength(s));
    assert.equal(changes.size, sizes.reduce((a, b) => a + b, 0) + 1000);
    assert.equal(changes.empty, false);

    // the reverse step
    const back = await diff(repo, c1, c0, all("/app"));
    assert.deepEqual(back.remove, ["app/new/deep/n.bin", "app/x", "app/y"]);
    assert.deepEqual(back.write, [
      "app/a.txt",
      "app/dir/b.txt",
      "app/gone/",
      "app/gone/deep/",
      "app/gone/deep/g.txt",
      "app/link",
      "app/run.sh",
      "app/x",
      "app/y/",
      "app/y/inner.txt",
    ]);

    // nothing changed
    assert.deepEqual(await diff(repo, c1, c1, all("/app")), { write: [], remove: [], size: 0, empty: true });
  } finally {
    r.cleanup();
  }
});

test("diffMapping: masks apply on both sides, scope and single-file add, unknown commits", async () => {
  const r = repoWith();
  try {
    const w = (rel: string, c: string) => writeFile(r.dir, rel, c);
    const rm = (rel: string) => rmSync(path.join(r.dir, rel), { recursive: true, force: true });
    w("src/keep.txt", "k\n");
    w("src/secret/s.txt", "s\n");
    w("src/move.txt", "m\n");
    w("conf/app.yml", "a: 1\n");
    w("other/o.txt", "o\n");
    const c0 = commitAll(r.dir, "c0");
    w("other/o.txt", "o2\n"); // outside every scope below
    w("src/secret/s.txt", "s2\n"); // excluded
    const c1 = commitAll(r.dir, "c1");
    rm("src/move.txt");
    w("src/secret/move.txt", "m\n"); // moves into the excluded directory
    rm("src/secret/s.txt");
    w("src/s.txt", "s2\n"); // moves out of it
    w("conf/app.yml", "a: 2\n");
    const c2 = commitAll(r.dir, "c2");
    const repo = await GitRepo.open(r.dir);
    const masked: GitMappingSpec = { add: "/src", to: "/opt", includePaths: [], excludePaths: ["secret"] };

    assert.equal((await diff(repo, c0, c1, masked)).empty, true);
    const moved = await diff(repo, c1, c2, masked);
    assert.deepEqual(moved, { write: ["opt/s.txt"], remove: ["opt/move.txt"], size: 3, empty: false });

    const single: GitMappingSpec = { add: "/conf/app.yml", to: "/etc/app/settings.yml", includePaths: [], excludePaths: [] };
    assert.equal((await diff(repo, c0, c1, single)).empty, true);
    assert.deepEqual(await diff(repo, c1, c2, single), { write: ["etc/app/settings.yml"], remove: [], size: 5, empty: false });

    // `add` appearing below a path that was a file: the parent's change is seen
    rm("other");
    w("other", "now a file\n");
    const c3 = commitAll(r.dir, "c3");
    rm("other");
    w("other/deep/x.txt", "x\n");
    const c4 = commitAll(r.dir, "c4");
    const deep: GitMappingSpec = { add: "/other/deep", to: "/d", includePaths: [], excludePaths: [] };
    assert.deepEqual(await diff(repo, c3, c4, deep), { write: ["d/", "d/x.txt"], remove: [], size: 2, empty: false });
    assert.deepEqual(await diff(repo, c4, c3, deep), { write: [], remove: ["d/x.txt"], size: 0, empty: false });

    await assert.rejects(diffMapping(repo, "0".repeat(40), c1, masked), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /cannot compare commits 0{40} and [0-9a-f]{40}/);
      return true;
    });
  } finally {
    r.cleanup();
  }
});

test("writePatch: the tar holds exactly the written entries with the archive's headers, the list the removals", async () => {
  const r = repoWith();
  const out = tempDir("patch-out");
  try {
    writeFile(r.dir, "a.txt", "a\n");
    writeFile(r.dir, "d/old.txt", "o\n");
    writeFile(r.dir, "q\"u o'te $x.txt", "q\n");
    const c0 = commitAll(r.dir, "c0");
    writeFile(r.dir, "a.txt", "a2\n", 0o755);
    rmSync(path.join(r.dir, "d/old.txt"));
    writeFile(r.dir, "d/new/n.txt", "n\n");
    writeFile(r.dir, "q\"u o'te $x.txt", "q2\n");
    symlinkSync("../a.txt", path.join(r.dir, "d/l"));
    const c1 = commitAll(r.dir, "c1");
    const repo = await GitRepo.open(r.dir);
    const m = all("/srv", { owner: "1000", group: "www" });
    const changes = await diff(repo, c0, c1, m);
    const tarFile = path.join(out, "p.tar");
    const listFile = path.join(out, "p.list");
    await writePatch(repo, c1, m, changes, tarFile, listFile);
    assert.deepEqual(tarList(tarFile), [
      "-rwxr-xr-x 1000/0 srv/a.txt",
      "lrwxrwxrwx 1000/0 srv/d/l -> ../a.txt",
      "drwxr-xr-x 1000/0 srv/d/new/",
      "-rw-r--r-- 1000/0 srv/d/new/n.txt",
      "-rw-r--r-- 1000/0 srv/q\"u o'te $x.txt",
    ]);
    assert.equal(execFileSync("tar", ["-tvf", tarFile], { encoding: "utf8" }).split("\n")[0].split(/\s+/)[1], "1000/www");
    assert.equal(readFileSync(listFile, "utf8"), "/srv/d/old.txt\0");
    // the same bytes without diffMapping's cached plan (changes read back from JSON)
    const again = path.join(out, "again.tar");
    await writePatch(repo, c1, m, JSON.parse(JSON.stringify(changes)), again, path.join(out, "again.list"));
    assert.deepEqual(readFileSync(again), readFileSync(tarFile));
    // changes that do not belong to the commit are a bug, not silently dropped
    await assert.rejects(
      writePatch(repo, c0, m, changes, path.join(out, "x.tar"), path.join(out, "x.list")),
      /patch entry "srv\/d\/l" is not in the archive of commit/,
    );
  } finally {
    r.cleanup();
    rmSync(out, { recursive: true, force: true });
  }
});

test("writePatch: a newline in a written name is refused only when the mapping has owner/group", async () => {
  const r = repoWith();
  const out = tempDir("patch-out");
  try {
    writeFile(r.dir, "a.txt", "a\n");
    const c0 = commitAll(r.dir, "c0");
    writeFile(r.dir, "n\nl.txt", "x\n");
    const c1 = commitAll(r.dir, "c1");
    const repo = await GitRepo.open(r.dir);
    const plain = all("/srv");
    const changes = await diff(repo, c0, c1, plain);
    assert.deepEqual(changes.write, ["srv/n\nl.txt"]);
    await writePatch(repo, c1, plain, changes, path.join(out, "p.tar"), path.join(out, "p.list"));
    const owned = all("/srv", { owner: 5 });
    await assert.rejects(
      writePatch(repo, c1, owned, await diff(repo, c0, c1, owned), path.join(out, "q.tar"), path.join(out, "q.list")),
      (e: unknown) => e instanceof UserError && /newline in its name/.test(e.message),
    );
  } finally {
    r.cleanup();
    rmSync(out, { recursive: true, force: true });
  }
});

/** Runs the script's variable assignments in bash and returns the values (the quoting round trip). */
function assignedValues(script: string): Record<string, string> {
  const block = script.slice(script.indexOf("patch_tar="), script.search(/\n(mapfile|patch_id\(\))/));
  const prog = `${block}\nfor v in patch_tar patch_removals patch_top; do printf '%s\\0' "\${!v}"; done`;
  const r = spawnSync("bash", ["-c", prog], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const [tar, removals, top] = r.stdout.split("\0");
  return { tar, removals, top };
}

test("patchApplyScript: paths with spaces, quotes, $, backticks and newlines survive bash quoting; valid bash", () => {
  const tarPath = "/tmp/p a'tch \"$HOME\" `id`\n$(x).tar";
  const listPath = "/ctx/r\\m 'list'";
  const to = "/srv/we ird $PATH 'q\" `y`";
  const script = patchApplyScript(tarPath, listPath, all(to));
  assert.deepEqual(assignedValues(script), { tar: tarPath, removals: listPath, top: to });
  const check = spawnSync("bash", ["-n", "-c", script], { encoding: "utf8" });
  assert.equal(check.status, 0, check.stderr);
  assert.ok(script.startsWith("( "), "runs in a subshell");
  assert.match(script, /^PATH=\/\.stapel\/bin$/m);
  assert.doesNotMatch(script, /chown|\/etc\/passwd/, "no owner/group: the tar's 0:0 is right");
  assert.equal(assignedValues(patchApplyScript("/p.tar", "/p.list", all("/"))).top, "");
});

test("patchApplyScript: owner/group resolved in the image (names) or taken as ids, then chown of the tar's entries", () => {
  const named = patchApplyScript("/p.tar", "/p.list", all("/app", { owner: "o'brien", group: "www" }));
  assert.match(named, /patch_uid=\$\(patch_id \/etc\/passwd 'o'\\''brien' owner\)/);
  assert.match(named, /patch_gid=\$\(patch_id \/etc\/group 'www' group\)/);
  assert.match(named, /xargs -0 -r chown -h "\$patch_uid:\$patch_gid"/);
  const numeric = patchApplyScript("/p.tar", "/p.list", all("/app", { owner: 1000 }));
  assert.match(numeric, /patch_uid=\$\(patch_id \/etc\/passwd '1000' owner\)/);
  assert.match(numeric, /patch_gid=\$\(patch_id \/etc\/group '' group\)/);
  // the id helper itself, in bash with a fake passwd
  const dir = tempDir("patch-id");
  try {
    writeFile(dir, "passwd", "root:x:0:0::/root:/bin/sh\no'brien:x:1234:1234::/:/bin/false\n");
    const body = named.split("\n");
    const fn = body.slice(body.findIndex((l) => l.startsWith("patch_id()")), body.indexOf("}") + 1).join("\n");
    const run = (args: string) => spawnSync("bash", ["-c", `${fn}\npatch_id ${args}`], { encoding: "utf8" });
    assert.equal(run(`${dir}/passwd "o'brien" owner`).stdout, "1234\n");
    assert.equal(run(`${dir}/passwd 42 owner`).stdout, "42\n");
    assert.equal(run(`${dir}/passwd '' owner`).stdout, "0\n");
    const missing = run(`${dir}/passwd nobody owner`);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /owner "nobody" of git mapping is not in .*passwd of the image/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("diffMapping and writePatch through a submodule bump: the submodule's files at both recorded commits", async () => {
  const work = tempDir("patch-submod");
  try {
    const lib = path.join(work, "lib");
    const sup = path.join(work, "sup");
    git(work, "init", "-q", "-b", "main", lib);
    writeFile(lib, "a.txt", "lib v1\n");
    writeFile(lib, "old.txt", "old\n");
    const v1 = commitAll(lib, "v1");
    writeFile(lib, "a.txt", "lib v2\n");
    rmSync(path.join(lib, "old.txt"));
    writeFile(lib, "sub/new.txt", "new\n");
    const v2 = commitAll(lib, "v2");
    git(work, "init", "-q", "-b", "main", sup);
    writeFile(sup, "app/main.txt", "main\n");
    git(sup, "-c", "protocol.file.allow=always", "submodule", "add", "-q", lib, "app/vendor/lib");
    git(path.join(sup, "app/vendor/lib"), "checkout", "-q", v1);
    const s0 = commitAll(sup, "s0");
    git(path.join(sup, "app/vendor/lib"), "checkout", "-q", v2);
    const s1 = commitAll(sup, "s1");
    const repo = await GitRepo.open(sup);
    const m = all("/srv", { add: "/app" });
    const changes = await diff(repo, s0, s1, m);
    assert.deepEqual(changes, {
      write: ["srv/vendor/lib/a.txt", "srv/vendor/lib/sub/", "srv/vendor/lib/sub/new.txt"],
      remove: ["srv/vendor/lib/old.txt"],
      size: Buffer.byteLength("lib v2\nnew\n"),
      empty: false,
    });
    // `add` inside the submodule: the gitlink above it changed
    const inner = all("/x", { add: "/app/vendor/lib/sub" });
    assert.deepEqual(await diff(repo, s0, s1, inner), { write: ["x/", "x/new.txt"], remove: [], size: 4, empty: false });
    const tarFile = path.join(work, "p.tar");
    await writePatch(repo, s1, m, JSON.parse(JSON.stringify(changes)), tarFile, path.join(work, "p.list"));
    const x = path.join(work, "x");
    execFileSync("mkdir", [x]);
    execFileSync("tar", ["-xf", tarFile, "-C", x]);
    assert.equal(readFileSync(path.join(x, "srv/vendor/lib/a.txt"), "utf8"), "lib v2\n");
    assert.equal(readFileSync(path.join(x, "srv/vendor/lib/sub/new.txt"), "utf8"), "new\n");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
