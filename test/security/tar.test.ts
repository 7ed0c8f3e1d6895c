// Git archives: every entry stays under its mapping's `to`, owners of every size survive, and the archives read
// back identically with GNU tar and Python's tarfile (long and non-ASCII names included).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, symlinkSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { GitRepo } from "../../src/git/repo.js";
import { writeGitArchive } from "../../src/git/archive.js";
import { mappingTarget, type GitMappingSpec } from "../../src/git/mapping.js";
import { diagnosticsOf, META } from "../config/helpers.js";
import { git, tempDir, writeFile } from "../git/gitFixture.js";

const LONG_DIR = `${"d".repeat(70)}/${"e".repeat(70)}/${"f".repeat(70)}`; // over 155 bytes: no ustar prefix split
const LONG_NAME = `${"n".repeat(120)}.txt`; // over 100 bytes, no slash: pax path
const UNICODE = "ünïcødé/日本語 ✓.txt";
const LONG_LINK = `../${"t".repeat(120)}/target`;

function repoWithTrickyNames(): { dir: string; commit: string } {
  const dir = tempDir("sec-tar");
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "src/plain.txt", "plain\n");
  writeFile(dir, `src/${LONG_DIR}/deep.txt`, "deep\n");
  writeFile(dir, `src/${LONG_NAME}`, "long\n");
  writeFile(dir, `src/${UNICODE}`, "unicode\n");
  writeFile(dir, "src/run.sh", "#!/bin/sh\n", 0o755);
  symlinkSync(LONG_LINK, path.join(dir, "src/long-link"));
  symlinkSync("plain.txt", path.join(dir, "src/ünï-link"));
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "tricky");
  return { dir, commit: git(dir, "rev-parse", "HEAD") };
}

/** What Python's tarfile reads: one JSON object per member. */
function pythonList(file: string): { name: string; type: string; uid: number; gid: number; uname: string; gname: string; linkname: string; mode: number; data: string | null }[] {
  const script = `
import json, sys, tarfile
out = []
with tarfile.open(sys.argv[1], encoding="utf-8") as t:
    for m in t.getmembers():
        data = t.extractfile(m).read().decode("utf-8") if m.isfile() else None
        out.append({"name": m.name, "type": "dir" if m.isdir() else "symlink" if m.issym() else "file" if m.isfile() else "other",
                    "uid": m.uid, "gid": m.gid, "uname": m.uname, "gname": m.gname, "linkname": m.linkname, "mode": m.mode, "data": data})
print(json.dumps(out))
`;
  return JSON.parse(execFileSync("python3", ["-c", script, file], { encoding: "utf8" }));
}

/** GNU tar's verbose listing, numeric: "mode uid/gid name[ -> target]" per entry. */
function gnuList(file: string): string[] {
  return execFileSync("tar", ["--numeric-owner", "--quoting-style=literal", "-tvf", file], { encoding: "utf8", env: { ...process.env, LC_ALL: "C.UTF-8" } })
    .trimEnd()
    .split("\n")
    .map((l) => {
      // perms owner size date time name (the name may hold spaces)
      const m = /^(\S+) (\S+)\s+\d+ \S+ \S+ (.*)$/.exec(l);
      assert.ok(m, l);
      return `${m[1]} ${m[2]} ${m[3]}`;
    });
}

async function archive(mapping: GitMappingSpec): Promise<string> {
  const r = repoWithTrickyNames();
  const out = path.join(tempDir("sec-tar-out"), "a.tar");
  await writeGitArchive(await GitRepo.open(r.dir), r.commit, mapping, out);
  return out;
}

test("OpenShift-style uid/gid and names over 32 bytes survive in pax records (GNU tar and Python agree)", async () => {
  const longUser = "a-user-name-that-is-longer-than-32-bytes";
  const file = await archive({ add: "/src", to: "/app", includePaths: [], excludePaths: [], owner: 1000650000, group: 1000650001 });
  for (const m of pythonList(file)) {
    assert.equal(m.uid, 1000650000, m.name);
    assert.equal(m.gid, 1000650001, m.name);
  }
  for (const line of gnuList(file)) assert.match(line, /^\S+ 1000650000\/1000650001 app\//);
  // busybox tar (the toolchain's, which applies patches) ignores pax ids but reads the base-256 field
  const bb = execFileSync("busybox", ["tar", "-tvf", file], { encoding: "utf8" }).trim().split("\n");
  assert.equal(bb.length, pythonList(file).length);
  for (const line of bb) assert.match(line, /^\S+ 1000650000\/1000650001 /);
  // an id between 0o777777 and 0o7777777 takes the 7-digit ustar form
  for (const m of pythonList(await archive({ add: "/src", to: "/app", includePaths: [], excludePaths: [], owner: 300000, group: 2000000 }))) {
    assert.deepEqual([m.uid, m.gid], [300000, 2000000]);
  }
  const named = await archive({ add: "/src", to: "/app", includePaths: [], excludePaths: [], owner: longUser, group: "g-" + "x".repeat(40) });
  for (const m of pythonList(named)) {
    assert.equal(m.uname, longUser);
    assert.equal(m.gname, "g-" + "x".repeat(40));
    assert.equal(m.uid, 0);
  }
  const gnuNames = execFileSync("tar", ["-tvf", named], { encoding: "utf8" }).trim().split("\n");
  for (const l of gnuNames) assert.ok(l.includes(`${longUser}/g-${"x".repeat(40)}`), l);
});

test("long paths, long link targets and non-ASCII names read back the same with GNU tar and Python", async () => {
  const file = await archive({ add: "/src", to: "/srv/app", includePaths: [], excludePaths: [] });
  const py = pythonList(file);
  const expected = [
    { name: "srv/app", type: "dir" },
    { name: `srv/app/${LONG_DIR.split("/")[0]}`, type: "dir" },
    { name: `srv/app/${LONG_DIR.split("/").slice(0, 2).join("/")}`, type: "dir" },
    { name: `srv/app/${LONG_DIR}`, type: "dir" },
    { name: `srv/app/${LONG_DIR}/deep.txt`, type: "file", data: "deep\n" },
    { name: "srv/app/long-link", type: "symlink", linkname: LONG_LINK },
    { name: `srv/app/${LONG_NAME}`, type: "file", data: "long\n" },
    { name: "srv/app/plain.txt", type: "file", data: "plain\n" },
    { name: "srv/app/run.sh", type: "file", data: "#!/bin/sh\n", mode: 0o755 },
    { name: "srv/app/ünï-link", type: "symlink", linkname: "plain.txt" },
    { name: "srv/app/ünïcødé", type: "dir" },
    { name: `srv/app/${UNICODE}`, type: "file", data: "unicode\n" },
  ];
  assert.deepEqual(
    py.map((m) => m.name).sort(),
    expected.map((e) => e.name).sort(),
  );
  for (const e of expected) {
    const m = py.find((x) => x.name === e.name)!;
    assert.equal(m.type, e.type, e.name);
    if (e.data !== undefined) assert.equal(m.data, e.data, e.name);
    if (e.linkname !== undefined) assert.equal(m.linkname, e.linkname, e.name);
    if (e.mode !== undefined) assert.equal(m.mode, e.mode, e.name);
  }
  // GNU tar lists the same names (directories with their slash), in the same order, every one under srv/app
  const gnu = gnuList(file);
  assert.deepEqual(
    gnu.map((l) => l.split(" ").slice(2).join(" ").replace(/ -> .*$/, "").replace(/\/$/, "")),
    py.map((m) => m.name),
  );
  assert.ok(gnu.some((l) => l.endsWith(`srv/app/long-link -> ${LONG_LINK}`)));
  // and the archive is deterministic
  const again = await archive({ add: "/src", to: "/srv/app", includePaths: [], excludePaths: [] });
  assert.ok(readFileSync(file).equals(readFileSync(again)));
});

test("`to` with `..` never yields a ../ entry: normalised below / in the archive, refused at validate", async () => {
  assert.equal(mappingTarget({ add: "/", to: "/../../etc", includePaths: [], excludePaths: [] }), "etc");
  assert.equal(mappingTarget({ add: "/", to: "/app/../../x", includePaths: [], excludePaths: [] }), "x");
  const file = await archive({ add: "/src", to: "/app/../../x", includePaths: ["plain.txt"], excludePaths: [] });
  assert.deepEqual(pythonList(file).map((m) => m.name), ["x", "x/plain.txt"]);
  const text = `${META}image: a\nfrom: alpine\ngit:\n- add: /\n  to: /../../etc\n- add: /src/../..\n  to: /app\n`;
  const diags = diagnosticsOf(text).map((d) => `${d.pos?.file}:${d.pos?.line}:${d.pos?.col}: ${d.message} | ${d.hint}`);
  assert.deepEqual(diags, [
    "werf.yaml:8:7: `to: /../../etc` must not contain `..` for git! | write the path without `..`, e.g. \"/etc\"",
    "werf.yaml:9:8: `add: /src/../..` must not contain `..` for git! | write the path without `..`, e.g. \"/\"",
  ]);
});
