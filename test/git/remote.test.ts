// Remote git mappings: bare clones in a cache dir, fetch rules, offline tags/commits, insteadOf redirects, errors.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import { execFile } from "node:child_process";
import path from "node:path";
import { openRemote, remoteRepoName, remoteCachePath, defaultGitCacheDir, type RemoteSpec } from "../../src/git/remote.js";
import { listTree } from "../../src/git/tree.js";
import { UserError } from "../../src/diagnostics.js";
import { git, tempDir, writeFile, commitAll } from "./gitFixture.js";
import { repoRoot } from "../support/paths.js";

const pos = { file: "werf.yaml", line: 7, col: 5 };

describe("remoteRepoName (werf's getRepositoryID)", () => {
  const cases: [string, string][] = [
    ["git@github.com:company/name.git", "company/name"],
    ["git@github.com:company/name", "company/name"],
    ["https://github.com/company/name.git", "company/name"],
    ["https://username:password@github.com/company/name.git", "company/name"],
    ["file:///path/workspace/name.git/", "workspace/name"],
    ["../name", "../name"],
    ["https://github.com/werf/werf", "werf/werf"],
    ["ssh://git@gitlab.example.com:2222/group/sub/project.git", "sub/project"],
  ];
  for (const [url, want] of cases) test(url, () => assert.equal(remoteRepoName(url), want));
});

test("defaultGitCacheDir follows XDG_CACHE_HOME", () => {
  assert.equal(defaultGitCacheDir({ XDG_CACHE_HOME: "/x/cache" }), "/x/cache/stapel2docker/git");
  assert.match(defaultGitCacheDir({}), /\/\.cache\/stapel2docker\/git$/);
});

describe("openRemote", () => {
  let work: string;
  let origin: string; // a worktree that pushes to the bare "remote"
  let remote: string; // bare repository served through file://
  let url: string;
  let cache: string;
  let c1: string;
  let c2: string;

  before(() => {
    work = tempDir("remote");
    remote = path.join(work, "remote.git");
    origin = path.join(work, "origin");
    cache = path.join(work, "cache");
    git(work, "init", "-q", "--bare", "-b", "trunk", remote);
    git(work, "init", "-q", "-b", "trunk", origin);
    writeFile(origin, "src/app.txt", "one\n");
    writeFile(origin, "README", "readme\n");
    c1 = commitAll(origin, "one");
    git(origin, "tag", "-a", "v1", "-m", "v1");
    git(origin, "branch", "stable");
    writeFile(origin, "src/app.txt", "two\n");
    c2 = commitAll(origin, "two");
    git(origin, "push", "-q", remote, "trunk", "stable", "v1");
    url = `file://${remote}`;
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  const spec = (s: Partial<RemoteSpec>): RemoteSpec => ({ url, pos, ...s });

  test("no ref: the remote's default branch (HEAD), in a bare cache repo keyed by the URL", async () => {
    const r = await openRemote(spec({}), { cacheDir: cache });
    assert.equal(r.commit, c2);
    assert.equal(r.repo.root, remoteCachePath(cache, url));
    assert.equal(r.repoName, "work/remote".replace("work", path.basename(work)));
    const files = (await listTree(r.repo, r.commit)).map((e) => e.path);
    assert.deepEqual(files, ["README", "src/app.txt"]);
    assert.deepEqual(readdirSync(cache).filter((f) => !f.endsWith(".git")), [], "no temp dir or lock left behind");
  });

  test("the cache is keyed by the credentials too: a config without them never reads what was fetched with them", async () => {
    const cacheA = path.join(work, "cache-auth");
    const withAuth = await openRemote(spec({ tag: "v1", basicAuth: { username: "u", password: { value: "secret" } } as RemoteSpec["basicAuth"] }), { cacheDir: cacheA });
    const header = `Authorization: Basic ${Buffer.from("u:secret").toString("base64")}`;
    assert.equal(withAuth.repo.root, remoteCachePath(cacheA, url, header));
    const without = await openRemote(spec({ tag: "v1" }), { cacheDir: cacheA });
    assert.notEqual(without.repo.root, withAuth.repo.root);
    assert.equal(without.repo.root, remoteCachePath(cacheA, url));
    // credentials written in the URL count as well, and only a hash of them names the folder
    assert.notEqual(remoteCachePath(cacheA, url.replace("://", "://ci:token@")), remoteCachePath(cacheA, url));
    assert.ok(!remoteCachePath(cacheA, url, header).includes("secret"));
  });

  test("branch, tag (annotated) and commit resolve to their commits", async () => {
    assert.equal((await openRemote(spec({ branch: "stable" }), { cacheDir: cache })).commit, c1);
    assert.equal((await openRemote(spec({ tag: "v1" }), { cacheDir: cache })).commit, c1);
    assert.equal((await openRemote(spec({ commit: c1 }), { cacheDir: cache })).commit, c1);
  });

  test("a relative cacheDir is relative to projectDir", async () => {
    const r = await openRemote(spec({ tag: "v1" }), { cacheDir: "rel-cache", projectDir: work });
    assert.equal(r.repo.root, remoteCachePath(path.join(work, "rel-cache"), url));
  });

  test("branches are fetched every time (they move); tags and commits work offline once present", async () => {
    const cacheB = path.join(work, "cache-b");
    assert.equal((await openRemote(spec({ branch: "stable" }), { cacheDir: cacheB })).commit, c1);
    assert.equal((await openRemote(spec({ tag: "v1" }), { cacheDir: cacheB })).commit, c1);
    assert.equal((await openRemote(spec({ commit: c2 }), { cacheDir: cacheB })).commit, c2);
    // the branch moves
    git(origin, "checkout", "-q", "stable");
    writeFile(origin, "src/stable.txt", "s\n");
    const c3 = commitAll(origin, "stable moves");
    git(origin, "push", "-q", remote, "stable");
    git(origin, "checkout", "-q", "trunk");
    assert.equal((await openRemote(spec({ branch: "stable" }), { cacheDir: cacheB })).commit, c3);
    // the remote disappears: tags and commits still resolve, a branch is an error naming the mapping
    const away = `${remote}.away`;
    renameSync(remote, away);
    try {
      assert.equal((await openRemote(spec({ tag: "v1" }), { cacheDir: cacheB })).commit, c1);
      assert.equal((await openRemote(spec({ commit: c2 }), { cacheDir: cacheB })).commit, c2);
      await assert.rejects(openRemote(spec({ branch: "stable" }), { cacheDir: cacheB }), (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, /^werf\.yaml:7:5: git file:\/\/.*remote\.git: cannot fetch branch "stable": /);
        assert.match(e.message, /hint: .*insteadOf/);
        return true;
      });
    } finally {
      renameSync(away, remote);
    }
  });

  test("errors: unknown branch, tag, commit, unreachable URL, two refs", async () => {
    const check = async (s: Partial<RemoteSpec>, re: RegExp) =>
      assert.rejects(openRemote(spec(s), { cacheDir: cache }), (e: unknown) => {
        assert.ok(e instanceof UserError, String(e));
        assert.match(e.message, re);
        assert.ok(!/\n\s+at /.test(e.message), "no stack trace");
        return true;
      });
    await check({ branch: "nope" }, /werf\.yaml:7:5: .*cannot fetch branch "nope".*\n.*hint: check the branch name/);
    await check({ tag: "v9" }, /werf\.yaml:7:5: .*cannot fetch tag "v9"/);
    await check({ commit: "0123456789012345678901234567890123456789" }, /commit "0123456789012345678901234567890123456789" not found/);
    await check({ url: `file://${work}/missing.git` }, /werf\.yaml:7:5: git file:\/\/.*missing\.git: cannot fetch the default branch: /);
    await check({ branch: "trunk", tag: "v1" }, /specify only `branch: BRANCH`, `tag: TAG` or `commit: COMMIT`/);
  });

  test("url.<base>.insteadOf from GIT_CONFIG_COUNT/KEY/VALUE serves an https URL from a local repo", async () => {
    const saved = { ...process.env };
    process.env.GIT_CONFIG_COUNT = "1";
    process.env.GIT_CONFIG_KEY_0 = `url.file://${remote}.insteadOf`;
    process.env.GIT_CONFIG_VALUE_0 = "https://github.com/example/project.git";
    try {
      const r = await openRemote({ url: "https://github.com/example/project.git", tag: "v1", pos }, { cacheDir: cache });
      assert.equal(r.commit, c1);
      assert.equal(r.repoName, "example/project");
    } finally {
      for (const k of ["GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0"]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  test("basicAuth: credentials never reach the cache's config; a missing env var is a located error", async () => {
    const r = await openRemote(spec({ tag: "v1", basicAuth: { username: "u", password: { value: "s3cr3t-pw" } } }), {
      cacheDir: path.join(work, "cache-auth"),
    });
    const config = readFileSync(path.join(r.repo.root, "config"), "utf8");
    assert.ok(!config.includes("s3cr3t") && !config.includes(Buffer.from("u:s3cr3t-pw").toString("base64")));
    assert.ok(!config.includes("extraHeader"));
    await assert.rejects(
      openRemote(spec({ branch: "trunk", basicAuth: { username: "u", password: { env: "S2D_TEST_UNSET_PW" } } }), { cacheDir: cache }),
      /werf\.yaml:7:5: basicAuth\.password\.env: the environment variable S2D_TEST_UNSET_PW is not set/,
    );
  });

  test("concurrent opens of one URL (in-process and in other processes) share one cache repo", async () => {
    const cacheC = path.join(work, "cache-c");
    const script = path.join(repoRoot, "dist/src/git/remote.js");
    const child = () =>
      new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          ["--input-type=module", "-e",
            `const m = await import(${JSON.stringify(script)}); const r = await m.openRemote({url: ${JSON.stringify(url)}, branch: "trunk", pos: {file:"w",line:1,col:1}}, {cacheDir: ${JSON.stringify(cacheC)}}); process.stdout.write(r.commit);`],
          (err, stdout, stderr) => (err ? reject(new Error(stderr || String(err))) : resolve(stdout)),
        ),
      );
    const results = await Promise.all([
      child(),
      child(),
      openRemote(spec({ branch: "trunk" }), { cacheDir: cacheC }).then((r) => r.commit),
      openRemote(spec({ tag: "v1" }), { cacheDir: cacheC }).then((r) => r.commit),
      child(),
    ]);
    assert.deepEqual(results, [c2, c2, c2, c1, c2]);
    assert.deepEqual(readdirSync(cacheC), [path.basename(remoteCachePath(cacheC, url))]);
  });
});
