// Git patches on the real engine: for every step A→B of a commit sequence and every mapping, the full archive of
// the first commit with the patches applied one after another (by patchApplyScript, with the toolchain image's
// busybox and bash, in a BuildKit RUN) must give exactly the same file tree as the full archive of B extracted
// fresh: paths, types, modes, owners, contents and link targets (the whole image is dumped, so nothing outside
// `to` may change either). One `docker buildx build` runs every chain; its dumps are exported and compared here.
// Nothing is skipped: if the stack cannot come up, this fails with up.sh's message.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, symlinkSync, chmodSync, writeFileSync } from "node:fs";
import path from "node:path";
import { GitRepo } from "../../src/git/repo.js";
import { writeGitArchive } from "../../src/git/archive.js";
import { diffMapping, diffMappingByPlans, patchApplyScript, writePatch } from "../../src/git/patch.js";
import type { GitMappingSpec } from "../../src/git/mapping.js";
import { repoRoot } from "../support/paths.js";
import { binaryData, commitAll, git, tempDir, writeFile } from "./gitFixture.js";

const TOOLCHAIN = "--mount=type=bind,from=stapel2docker/toolchain:latest,source=/.stapel,target=/.stapel";
const CTX = "--mount=type=bind,source=.,target=/.ctx";
const BASE = "stapel2docker/base-busybox:latest";

/** Every path of the image but the build's own mounts: type, mode, owner, name (and link target), then file hashes. */
const DUMP = `PATH=/.stapel/bin
cd /
find . \\( -path ./proc -o -path ./sys -o -path ./dev -o -path ./.stapel -o -path ./.ctx -o -path ./dump.txt \\
  -o -path ./etc/hosts -o -path ./etc/hostname -o -path ./etc/resolv.conf -o -path ./tmp/.paths \\) -prune -o -print0 | sort -z > /tmp/.paths
xargs -0 stat -c '%F %a %u:%g %N' < /tmp/.paths > /dump.txt
echo "-- contents" >> /dump.txt
find . \\( -path ./proc -o -path ./sys -o -path ./dev -o -path ./.stapel -o -path ./.ctx -o -path ./dump.txt \\) -prune \\
  -o -type f ! -path ./tmp/.paths -print0 | sort -z | xargs -0 sha256sum >> /dump.txt
rm /tmp/.paths`;

function heredocRun(mounts: string[], body: string): string {
  assert.ok(!body.split("\n").includes("STAPEL_EOF"));
  return `RUN ${mounts.join(" ")} <<'STAPEL_EOF'\n#!/.stapel/bin/bash -e\n${body}\nSTAPEL_EOF`;
}

const sq = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

const named = (v: string | number | undefined) => typeof v === "string" && !/^\d+$/.test(v);

/** Extracts a full archive as the emitter does: ADD, or (named owner/group) busybox tar + chown by the image's names. */
function extractArchive(file: string, m: GitMappingSpec, entries: string[], ctx: string): string {
  if (!named(m.owner) && !named(m.group)) return `ADD ${file} /`;
  const list = `${file}.entries`;
  writeFileSync(path.join(ctx, list), entries.map((e) => `${e.replace(/\/$/, "")}\0`).join(""));
  const id = (f: string, v: string | number | undefined) =>
    v === undefined ? "0" : named(v) ? `$(awk -F: -v n='${v}' '$1 == n { print $3; exit }' ${f})` : String(v);
  return heredocRun(
    [TOOLCHAIN, CTX],
    [
      "PATH=/.stapel/bin",
      `tar -xf /.ctx/${file} -C /`,
      `cd / && xargs -0 chown -h "${id("/etc/passwd", m.owner)}:${id("/etc/group", m.group)}" < /.ctx/${list}`,
    ].join("\n"),
  );
}

interface Case {
  name: string;
  mapping: GitMappingSpec;
  /** Copy the patch files to these paths inside the build container and apply from there (quoting check). */
  odd?: { tar: string; list: string };
}

const CASES: Case[] = [
  { name: "whole", mapping: { add: "/", to: "/srv/app", includePaths: [], excludePaths: [] } },
  {
    name: "masked-named",
    mapping: { add: "/src", to: "/opt/src", includePaths: ["**/*.txt", "bin", "links", "t"], excludePaths: ["secret", "**/skip.txt"], owner: "nobody", group: "nogroup" },
  },
  { name: "numeric", mapping: { add: "/src", to: "/opt/num", includePaths: [], excludePaths: [], owner: 1234, group: "4321" } },
  { name: "owner-only", mapping: { add: "/src", to: "/opt/own", includePaths: [], excludePaths: ["t"], owner: "nobody" } },
  { name: "single-file", mapping: { add: "/conf/app.yml", to: "/etc/app/settings.yml", includePaths: [], excludePaths: [] } },
  { name: "at-root", mapping: { add: "/rootmap", to: "/", includePaths: [], excludePaths: [] } },
  {
    name: "odd-paths",
    mapping: { add: "/odd", to: "/srv/we ird $HOME 'q\" `x`", includePaths: [], excludePaths: [] },
    odd: { tar: "/tmp/p a'tch \"$x\" `y`\n.tar", list: "/tmp/r $(id) 'l'\n\\.list" },
  },
];

/** The commit sequence: each step covers a family of changes (see the comments). */
function makeHistory(dir: string): string[] {
  const w = (rel: string, content: string | Buffer, mode?: number) => writeFile(dir, rel, content, mode);
  const rm = (rel: string) => rmSync(path.join(dir, rel), { recursive: true, force: true });
  const ln = (target: string, rel: string) => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    symlinkSync(target, path.join(dir, rel));
  };
  git(dir, "init", "-q", "-b", "main");
  git(dir, "config", "core.symlinks", "true");
  const commits: string[] = [];
  // C0
  w("top.txt", "top\n");
  w("src/a.txt", "a\n");
  w("src/dir/b.txt", "b\n");
  w("src/dir/keep.txt", "keep\n");
  w("src/bin/run.sh", "#!/bin/sh\necho run\n", 0o755);
  w("src/bin/tool", "tool\n", 0o644);
  ln("../a.txt", "src/links/up");
  ln("/etc/passwd", "src/links/abs");
  ln("b.txt", "src/dir/rel");
  w("src/data/blob.bin", binaryData());
  w("src/x.txt", "x is a file\n");
  w("src/d2/sub/f.txt", "f\n");
  w("src/empty-me/one.txt", "1\n");
  w("src/empty-me/deep/two.txt", "2\n");
  w("src/secret/k.txt", "k\n");
  w("src/skip.txt", "skip\n");
  w("src/t/1.txt", "t1\n");
  w("conf/app.yml", "a: 1\n");
  w("rootmap/zz-top/r.txt", "r\n");
  w("rootmap/zz-top/gone/g.txt", "g\n");
  w("rootmap/zz-file", "zf\n");
  w("odd/sp ace/q'uote\"$dollar`tick`.txt", "odd\n");
  w("odd/nl\nname.txt", "newline\n");
  w("odd/-dash", "dash\n");
  commits.push(commitAll(dir, "c0"));
  // C1: edits, additions, deletions (a directory emptied), a binary renamed, chmod ±x, symlinks retargeted and
  // replaced by a file, a file turned into a directory, a directory into a file, excluded paths changed
  w("src/a.txt", "a, edited\n");
  w("src/new/deep/n.txt", "new\n");
  rm("src/dir/b.txt");
  rm("src/data/blob.bin");
  w("src/data2/blob.bin", binaryData());
  chmodSync(path.join(dir, "src/bin/run.sh"), 0o644);
  chmodSync(path.join(dir, "src/bin/tool"), 0o755);
  rm("src/links/up");
  ln("dir/keep.txt", "src/links/up");
  rm("src/links/abs");
  w("src/links/abs", "now a file\n");
  rm("src/x.txt");
  w("src/x.txt/inner.txt", "x is a dir\n");
  rm("src/d2");
  w("src/d2", "d2 is a file\n");
  rm("src/empty-me");
  w("src/secret/k.txt", "k2\n");
  w("src/skip.txt", "skip2\n");
  ln("/usr/bin/env", "src/links/abs2");
  ln("../../top.txt", "src/dir/up2");
  w("conf/app.yml", "a: 2\n");
  rm("rootmap/zz-top/gone");
  w("rootmap/zz-top/r.txt", "r2\n");
  rm("odd/sp ace/q'uote\"$dollar`tick`.txt");
  w("odd/sp ace/q'uote\"$dollar`tick` 2.txt", "odd2\n");
  w("odd/nl\nname.txt", "newline2\n");
  commits.push(commitAll(dir, "c1"));
  // C2: and back: the directory becomes a file again, the file a directory again, a file becomes a symlink, a
  // mode-only change, a file moves from an excluded path to an included one, a new top-level entry at `to: /`
  rm("src/x.txt");
  w("src/x.txt", "x is a file again\n");
  rm("src/d2");
  w("src/d2/sub/f.txt", "f again\n");
  rm("src/bin/tool");
  ln("run.sh", "src/bin/tool");
  chmodSync(path.join(dir, "src/bin/run.sh"), 0o755);
  rm("src/links/up");
  ln("../x.txt", "src/links/up");
  rm("src/secret/k.txt");
  w("src/k.txt", "k2\n");
  rm("src/t");
  w("src/t", "t is a file\n");
  w("rootmap/zz-new/n.txt", "n\n");
  rm("rootmap/zz-file");
  ln("zz-top/r.txt", "rootmap/zz-file");
  w("conf/app.yml", "a: 2\nb: 3\n");
  rm("odd/-dash");
  commits.push(commitAll(dir, "c2"));
  // C3: large deletions: whole subtrees go, only a few files stay
  rm("src/new");
  rm("src/data2");
  rm("src/links");
  rm("src/d2");
  w("src/dir/keep.txt", "kept\n");
  rm("rootmap/zz-top");
  w("rootmap/zz-new/n.txt", "n2\n");
  commits.push(commitAll(dir, "c3"));
  return commits;
}

function sh(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test("patches applied with the toolchain give exactly the tree of the fresh archive, at every step", async () => {
  const up = spawnSync("bash", [path.join(repoRoot, "scripts/stack/up.sh")], { encoding: "utf8" });
  assert.equal(up.status, 0, `scripts/stack/up.sh failed:\n${up.stdout}\n${up.stderr}`);
  const src = tempDir("patch-repo");
  const ctx = tempDir("patch-ctx");
  try {
    const commits = makeHistory(src);
    const repo = await GitRepo.open(src);
    const lines: string[] = [];
    const dumps: { stage: string; file: string }[] = [];
    const dumpStage = (from: string, stage: string) => {
      lines.push(`FROM ${from} AS ${stage}`, heredocRun([TOOLCHAIN], DUMP));
      dumps.push({ stage, file: `${stage}.txt` });
    };
    let nonEmptyPatches = 0;
    for (const [ci, c] of CASES.entries()) {
      const m = c.mapping;
      // fresh archives of every commit
      for (const [i, commit] of commits.entries()) {
        const file = `c${ci}-full${i}.tar`;
        const summary = await writeGitArchive(repo, commit, m, path.join(ctx, file));
        lines.push(`FROM ${BASE} AS c${ci}-fresh${i}`, extractArchive(file, m, summary.entries, ctx));
        dumpStage(`c${ci}-fresh${i}`, `c${ci}-fresh${i}-dump`);
      }
      // the chain: archive of C0, then one patch per step
      for (let i = 1; i < commits.length; i++) {
        const changes = await diffMapping(repo, commits[i - 1], commits[i], m);
        assert.deepEqual(changes, await diffMappingByPlans(repo, commits[i - 1], commits[i], m), `${c.name} step ${i}: quick path`);
        if (!changes.empty) nonEmptyPatches++;
        const tar = `c${ci}-p${i}.tar`;
        const list = `c${ci}-p${i}.list`;
        await writePatch(repo, commits[i], m, changes, path.join(ctx, tar), path.join(ctx, list));
        const from = i === 1 ? `c${ci}-fresh0` : `c${ci}-chain${i - 1}`;
        lines.push(`FROM ${from} AS c${ci}-chain${i}`);
        if (c.odd) {
          const body = [
            `/.stapel/bin/busybox cp /.ctx/${tar} ${sq(c.odd.tar)}`,
            `/.stapel/bin/busybox cp /.ctx/${list} ${sq(c.odd.list)}`,
            patchApplyScript(c.odd.tar, c.odd.list, m),
            "/.stapel/bin/busybox rm -f /tmp/p* /tmp/r*",
          ].join("\n");
          lines.push(heredocRun([TOOLCHAIN, CTX], body));
        } else {
          lines.push(heredocRun([TOOLCHAIN, CTX], patchApplyScript(`/.ctx/${tar}`, `/.ctx/${list}`, m)));
        }
        dumpStage(`c${ci}-chain${i}`, `c${ci}-chain${i}-dump`);
      }
    }
    // user stages' traces survive a patch: a file in a directory whose git files all go, a directory's mode
    lines.push(`FROM c0-fresh0 AS user1`, "RUN touch /srv/app/src/empty-me/user.txt && chmod 700 /srv/app/src/dir");
    lines.push(heredocRun([TOOLCHAIN, CTX], patchApplyScript("/.ctx/c0-p1.tar", "/.ctx/c0-p1.list", CASES[0].mapping)));
    dumpStage("user1", "user1-dump");
    lines.push("FROM scratch AS out");
    for (const d of dumps) lines.push(`COPY --from=${d.stage} /dump.txt /${d.file}`);
    writeFileSync(path.join(ctx, "Dockerfile"), lines.join("\n") + "\n");
    const out = path.join(ctx, "out");
    sh("docker", ["buildx", "build", "--progress=plain", "--target", "out", "--output", `type=local,dest=${out}`, "."], ctx);

    const read = (name: string) => readFileSync(path.join(out, name), "utf8");
    assert.ok(nonEmptyPatches >= CASES.length * 2, `expected patches with changes, got ${nonEmptyPatches}`);
    for (const [ci, c] of CASES.entries()) {
      for (let i = 1; i < commits.length; i++) {
        const fresh = read(`c${ci}-fresh${i}-dump.txt`);
        assert.match(fresh, /-- contents/);
        assert.equal(read(`c${ci}-chain${i}-dump.txt`), fresh, `${c.name}: C0 + patches up to C${i} differs from the archive of C${i}`);
      }
      // the check is sensitive: consecutive commits do give different trees
      assert.notEqual(read(`c${ci}-fresh0-dump.txt`), read(`c${ci}-fresh1-dump.txt`), `${c.name}: C0 and C1 look the same`);
    }
    const user = read("user1-dump.txt").split("\n");
    const userOnly = user.filter((l) => l.includes("./srv/app/src/empty-me"));
    assert.deepEqual(userOnly, [
      "directory 755 0:0 ./srv/app/src/empty-me",
      "regular empty file 644 0:0 ./srv/app/src/empty-me/user.txt",
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  ./srv/app/src/empty-me/user.txt",
    ]);
    assert.ok(user.includes("directory 700 0:0 ./srv/app/src/dir"), "an existing directory's mode was reset");
    const rest = user
      .filter((l) => !l.includes("./srv/app/src/empty-me"))
      .map((l) => (l === "directory 700 0:0 ./srv/app/src/dir" ? "directory 755 0:0 ./srv/app/src/dir" : l));
    assert.equal(rest.join("\n"), read("c0-fresh1-dump.txt"));
  } finally {
    rmSync(src, { recursive: true, force: true });
    rmSync(ctx, { recursive: true, force: true });
  }
});
