// CommitFiles.openPaths: a reader of a commit that lists only the paths a render reads first (werf.yaml, the
// giterminism file, `.werf`), so a render need not wait for the whole listing; any other question sets `missed`
// and the render is made again with the whole listing (src/template/render.ts). The answers it gives must be the
// whole listing's, and a render through it must be the same as one through the whole listing.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { CommitFiles, NotCovered } from "../../src/project/commit-files.js";
import { projectCommit } from "../../src/project/commit.js";
import { renderWerfConfig } from "../../src/template/render.js";
import { tempDir } from "../git/gitFixture.js";

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" };

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", env: GIT_ENV }).trim();
}

/** A committed repository; `links` maps a path to a symlink target. */
function repo(files: Record<string, string>, links: Record<string, string> = {}, sub = ""): { root: string; dir: string } {
  const root = tempDir("commit-files");
  git(root, "init", "-q", "-b", "main");
  const dir = path.join(root, sub);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  for (const [rel, target] of Object.entries(links)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.symlinkSync(target, path.join(dir, rel));
  }
  git(root, "add", "-A");
  git(root, "commit", "-qm", "c");
  return { root, dir };
}

const FIRST = ["werf.yaml", "werf.yml", "werf-giterminism.yaml", ".werf"];

for (const sub of ["", "deploy/app"]) {
  test(`openPaths answers about the paths it listed as the whole listing does, and misses anything else${sub ? " (project in a subfolder)" : ""}`, async () => {
    const { dir } = repo(
      {
        "werf.yaml": "project: p\n",
        ".werf/a.tmpl": "A",
        ".werf/deep/b.tmpl": "B",
        ".werf/notes.txt": "n",
        // names a pathspec would take as patterns, and names that extend the listed ones
        ".werfx/c.tmpl": "C",
        "werf.yaml.bak": "old",
        "we*rf.yaml": "star",
        "other/x.txt": "x",
      },
      {},
      sub,
    );
    const pc = (await projectCommit(dir))!;
    const full = await CommitFiles.open(dir, pc.repo, pc.commit, pc.subdir);
    const part = (await CommitFiles.openPaths(dir, pc.repo, pc.commit, pc.subdir, FIRST))!;
    assert.ok(part);
    for (const r of [full, part]) {
      assert.equal(r.readFile("werf.yaml").toString(), "project: p\n");
      assert.equal(r.tryResolve("werf.yml"), undefined);
      assert.equal(r.tryResolve("werf-giterminism.yaml"), undefined);
      assert.deepEqual(r.listFiles(".werf"), [".werf/a.tmpl", ".werf/deep/b.tmpl", ".werf/notes.txt"]);
      assert.equal(r.tryResolve(".werf")?.stat.isDirectory(), true);
    }
    assert.deepEqual([...part.seen.exact].sort(), [...full.seen.exact].sort());
    assert.deepEqual([...part.seen.under].sort(), [...full.seen.under].sort());
    assert.equal(part.missed, false);
    // anything else: the whole listing is needed
    assert.equal(full.readFile("other/x.txt").toString(), "x");
    assert.throws(() => part.readFile("other/x.txt"), NotCovered);
    assert.equal(part.missed, true);
    const again = (await CommitFiles.openPaths(dir, pc.repo, pc.commit, pc.subdir, FIRST))!;
    assert.throws(() => again.listFiles(""), NotCovered);
    assert.equal(again.missed, true);
    const third = (await CommitFiles.openPaths(dir, pc.repo, pc.commit, pc.subdir, FIRST))!;
    assert.throws(() => third.tryResolve("we*rf.yaml"), NotCovered);
    assert.equal(full.readFile("we*rf.yaml").toString(), "star");
  });
}

test("a render through the first paths alone is the render through the whole listing, also when it reads more or follows links", async () => {
  const cases: { files: Record<string, string>; links?: Record<string, string>; text: string }[] = [
    // the first paths only
    { files: { "werf.yaml": 'project: p\nconfigVersion: 1\n{{ include "a.tmpl" . }}\n', ".werf/a.tmpl": "# a" }, text: "project: p\nconfigVersion: 1\n# a\n" },
    // .Files of other paths: made again with the whole listing
    {
      files: { "werf.yaml": 'project: {{ .Files.Get "conf/name.txt" | trim }}\n# {{ range $p, $_ := .Files.Glob "**/*.txt" }}{{ $p }} {{ end }}\n', "conf/name.txt": "n\n", "x/y.txt": "" },
      text: "project: n\n# conf/name.txt x/y.txt \n",
    },
    // werf.yaml and .werf as links to other folders
    { files: { "conf/werf.yaml": 'project: l\n{{ include "t.tmpl" . }}\n', "tpl/t.tmpl": "# t" }, links: { "werf.yaml": "conf/werf.yaml", ".werf": "tpl" }, text: "project: l\n# t\n" },
  ];
  for (const c of cases) {
    const { dir } = repo(c.files, c.links);
    const r = await renderWerfConfig({ dir, environ: {} });
    assert.equal(r.text, c.text);
    assert.deepEqual(r.ignoredChanges, []);
  }
  // an error of a render that read only the first paths is its own (not made again)
  const { dir } = repo({ "werf.yaml": "project: {{ .Nope.x }\n" });
  await assert.rejects(renderWerfConfig({ dir, environ: {} }), /werf\.yaml:1:/);
  // an error found after a miss is the whole listing's answer: a missing file is reported as missing
  const missing = repo({ "werf.yaml": 'project: {{ .Files.Get "absent.txt" }}\n' });
  await assert.rejects(renderWerfConfig({ dir: missing.dir, environ: {} }), (e: Error) => /absent\.txt/.test(e.message) && !/internal/.test(e.message));
});
