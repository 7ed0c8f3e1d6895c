// A remote git mapping's `url`, `branch`, `tag` and `commit` are written by whoever pushes a branch, and git runs
// them on the build machine: a local path or `file://` URL would read another checkout or the remote-git cache of a
// private repository into the image, and `ext::` runs a command. Only network transports are accepted; a local
// mirror is the operator's to give with url.<base>.insteadOf (docs/remote-git.md). Refused at validate, located.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/diagnostics.js";
import { loadWerfConfig } from "../../src/config/index.js";
import { remoteUrlProblem } from "../../src/config/stapel-image.js";
import { renderWerfConfig } from "../../src/template/render.js";
import { remoteRepoName } from "../../src/git/remote.js";
import { commitAll, git, tempDir, writeFile } from "../git/gitFixture.js";
import { repoRoot } from "../support/paths.js";

async function problems(mapping: string): Promise<string[]> {
  const dir = tempDir("sec-url");
  writeFile(dir, "werf.yaml", `project: p\nconfigVersion: 1\n---\nimage: app\nfrom: alpine\ngit:\n- ${mapping}\n  add: /\n  to: /src\n`);
  try {
    loadWerfConfig(await renderWerfConfig({ dir, environ: {} }));
    return [];
  } catch (e) {
    assert.ok(e instanceof UserError, String(e));
    return e.diagnostics.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.message}`);
  }
}

test("local paths, file://, transport helpers and odd schemes are refused at the url, located", async () => {
  for (const url of ["/home/ci/builds/other/secret", "file:///home/ci/.cache/stapel2docker/git/0123.git", "FILE:///srv/x", "./sibling", "../other.git", "~/repo", "repo.git"]) {
    assert.deepEqual(await problems(`url: ${JSON.stringify(url)}`), [`7:8 git url ${JSON.stringify(url)} is a path on the build machine`], url);
  }
  assert.deepEqual(await problems('url: "ext::sh -c touch% /tmp/pwned"'), ['7:8 git url "ext::sh -c touch% /tmp/pwned" holds a blank or control character']);
  assert.deepEqual(await problems('url: "ext::sh"'), ['7:8 git url "ext::sh" names a git transport helper (`<helper>::`), which may run commands on the build machine']);
  assert.deepEqual(await problems('url: "fd::7"'), ['7:8 git url "fd::7" names a git transport helper (`<helper>::`), which may run commands on the build machine']);
  assert.deepEqual(await problems('url: "--upload-pack=touch /tmp/x"'), ['7:8 git url "--upload-pack=touch /tmp/x" holds a blank or control character']);
  assert.deepEqual(await problems('url: "-uhost:x"'), ['7:8 git url "-uhost:x" starts with `-`']);
  assert.deepEqual(await problems('url: "ftp://host/x.git"'), ['7:8 git url "ftp://host/x.git" uses the transport `ftp://`, which stapel2docker does not fetch from']);
  assert.deepEqual(await problems('url: "https:///x.git"'), ['7:8 git url "https:///x.git" names no host']);
});

test("network URLs pass: https, http, ssh, git, scp-like, IPv6", async () => {
  for (const url of ["https://github.com/werf/werf.git", "http://gitea.local:3000/a/b", "ssh://git@host:22/a.git", "git://host/a", "git+ssh://host/a", "git@github.com:werf/werf.git", "host:path/repo", "[::1]:repo.git", "https://gitlab-ci-token:x@gitlab.example/g/p.git"]) {
    assert.equal(remoteUrlProblem(url), undefined, url);
    assert.deepEqual(await problems(`url: ${JSON.stringify(url)}\n  tag: v1.2.3`), [], url);
  }
});

test("branch and tag must be ref names (no refspec or glob), commit a hexadecimal id", async () => {
  const url = "url: https://h/x.git\n  ";
  assert.deepEqual(await problems(`${url}branch: "main:refs/heads/other"`), ['8:11 `branch: "main:refs/heads/other"` is not a valid git branch name']);
  assert.deepEqual(await problems(`${url}branch: "*"`), ['8:11 `branch: "*"` is not a valid git branch name']);
  assert.deepEqual(await problems(`${url}tag: "-v1"`), ['8:8 `tag: "-v1"` is not a valid git tag name']);
  assert.deepEqual(await problems(`${url}tag: "v1..v2"`), ['8:8 `tag: "v1..v2"` is not a valid git tag name']);
  assert.deepEqual(await problems(`${url}commit: "HEAD@{upstream}"`), ['8:11 `commit: "HEAD@{upstream}"` is not a commit id']);
  assert.deepEqual(await problems(`${url}commit: ":/secret"`), ['8:11 `commit: ":/secret"` is not a commit id']);
  assert.deepEqual(await problems(`${url}branch: feature/x-1.2`), []);
  assert.deepEqual(await problems(`${url}tag: v1.2.3`), []);
  assert.deepEqual(await problems(`${url}commit: 0123456789abcdef0123456789abcdef01234567`), []);
});

test("credentials in a remote URL reach no output: not the archive's name (the image's history), the plan or a message", () => {
  const TOKEN = "glpat-S2D-URL-TOKEN";
  assert.equal(remoteRepoName(`https://gitlab-ci-token:${TOKEN}@gitlab.example/group/lib.git`), "group/lib");
  assert.equal(remoteRepoName("git@github.com:werf/werf.git"), "werf/werf");
  const src = tempDir("sec-url-src");
  git(src, "init", "-q", "-b", "main");
  writeFile(src, "lib.txt", "lib\n");
  commitAll(src, "lib");
  const bare = path.join(tempDir("sec-url-bare"), "lib.git");
  git(src, "clone", "-q", "--bare", src, bare);
  const dir = tempDir("sec-url-project");
  git(dir, "init", "-q", "-b", "main");
  const url = `https://gitlab-ci-token:${TOKEN}@gitlab.example/group/lib.git`;
  writeFile(dir, "werf.yaml", `project: p\nconfigVersion: 1\n---\nimage: app\nfrom: stapel2docker/base-busybox:latest\ngit:\n- url: ${url}\n  branch: main\n  add: /\n  to: /lib\n`);
  writeFile(dir, "werf-giterminism.yaml", "giterminismConfigVersion: 1\nconfig:\n  stapel:\n    git:\n      allowBranch: true\n");
  commitAll(dir, "init");
  const n = Number(process.env.GIT_CONFIG_COUNT ?? "0");
  const env = { ...process.env, GIT_CONFIG_COUNT: String(n + 1), [`GIT_CONFIG_KEY_${n}`]: `url.file://${bare}.insteadOf`, [`GIT_CONFIG_VALUE_${n}`]: url, XDG_CACHE_HOME: tempDir("sec-url-cache"), STAPEL2DOCKER_CACHE: "off" };
  const cli = path.join(repoRoot, "dist", "src", "cli", "main.js");
  const out = path.join(tempDir("sec-url-out"), "o");
  const compiled = spawnSync(process.execPath, [cli, "compile", "--dir", dir, "--out", out], { encoding: "utf8", env });
  assert.equal(compiled.status, 0, compiled.stderr);
  const plan = spawnSync(process.execPath, [cli, "plan", "--json", "--dir", dir], { encoding: "utf8", env });
  assert.equal(plan.status, 0, plan.stderr);
  const texts = [compiled.stdout, compiled.stderr, plan.stdout, plan.stderr];
  const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
  for (const f of [...walk(out), ...walk(env.XDG_CACHE_HOME)]) texts.push(f, fs.readFileSync(f).toString("latin1"));
  assert.ok(walk(out).some((f) => f.endsWith(".tar") && path.basename(f).startsWith("group_lib-")), "the archive is named by the repository");
  for (const t of texts) assert.ok(!t.includes(TOKEN), `the token leaks: ${t.slice(Math.max(0, t.indexOf(TOKEN) - 200), t.indexOf(TOKEN) + 50)}`);
});
