// emitProject: the files it writes, determinism, atomic replacement of OUT and refusal of foreign folders.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { UserError } from "../../src/diagnostics.js";
import { emitProject, MARKER } from "../../src/emit/index.js";
import { makeRepo, tempDir } from "../git/gitFixture.js";
import { cmd, fakeFilter, gitSource, image, mapping, plan, stage, userBody } from "./planFixture.js";
import type { Plan } from "../../src/plan/model.js";

function projectPlan(dir: string, repoDir: string, commit: string, withCommit = true): Plan {
  const app = image("app", "image", [
    stage("app", "app", "from", { kind: "from", base: { kind: "external", ref: "stapel2docker/base-busybox:latest" } }, 3),
    stage("app", "app", "gitArchive", {
      kind: "gitArchive",
      archives: [{ source: gitSource("cccccccccccccccc", mapping("/app", "/srv", { owner: "nobody" }), repoDir, commit), file: "git/own-cccccccccccccccc.tar" }],
    }, 4),
    stage("app", "app", "install", userBody("install", [cmd("true", 6)]), 5),
  ]);
  // a second image holding the same archive: written once
  const other = image("other", "image", [
    stage("other", "other", "from", { kind: "from", base: { kind: "scratch" } }, 8),
    stage("other", "other", "gitArchive", { kind: "gitArchive", archives: (app.stages[1].body as unknown as { archives: never[] }).archives }, 9),
  ]);
  return plan([app, other], { dir, ...(withCommit ? { commit: { hash: commit, timeUnix: 1704164645, timeHuman: "2024-01-02 03:04:05 +0000 UTC" } } : {}) });
}

function snapshot(dir: string, rel = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, snapshot(dir, r));
    else out[r] = readFileSync(path.join(dir, r)).toString("base64");
  }
  return out;
}

describe("emitProject", () => {
  test("writes Dockerfile, bake file, executable build.sh, commit.env, deduplicated archives; twice → identical bytes", async () => {
    const repo = makeRepo();
    try {
      const p = projectPlan(repo.dir, repo.dir, repo.commit);
      const out = path.join(repo.dir, ".stapel2docker");
      const r = await emitProject(p, { out }, { importFilterScript: fakeFilter });
      assert.deepEqual(r.files, [
        MARKER, "Dockerfile", "build.sh", "commit.env",
        "context/git/own-cccccccccccccccc.tar", "context/git/own-cccccccccccccccc.tar.entries", "docker-bake.json",
      ].sort());
      assert.deepEqual(r.targets, ["app", "other"]);
      assert.equal(statSync(path.join(out, "build.sh")).mode & 0o111, 0o111);
      const env = readFileSync(path.join(out, "commit.env"), "utf8");
      assert.equal(env, `export WERF_COMMIT_HASH=${repo.commit}\nexport WERF_COMMIT_TIME_HUMAN='2024-01-02 03:04:05 +0000 UTC'\nexport WERF_COMMIT_TIME_UNIX=1704164645\n`);
      const sh = readFileSync(path.join(out, "build.sh"), "utf8");
      assert.match(sh, /^cd "\$\(dirname "\$0"\)"\/\.\.$/m);
      assert.match(sh, /^exec docker buildx bake -f \.stapel2docker\/docker-bake\.json "\$@"$/m);
      const entries = readFileSync(path.join(out, "context/git/own-cccccccccccccccc.tar.entries"), "utf8").split("\0");
      assert.ok(entries.includes("srv/main.go") && entries.includes("srv/lib"), entries.join(","));
      assert.doesNotMatch(readFileSync(path.join(out, "Dockerfile"), "utf8") + readFileSync(path.join(out, "docker-bake.json"), "utf8"), new RegExp(repo.dir), "no absolute paths");
      const first = snapshot(out);
      await emitProject(p, { out }, { importFilterScript: fakeFilter });
      assert.deepEqual(snapshot(out), first);
      // no git repository → no commit.env, no secret
      const r2 = await emitProject(projectPlan(repo.dir, repo.dir, repo.commit, false), { out }, { importFilterScript: fakeFilter });
      assert.ok(!r2.files.includes("commit.env"));
      assert.doesNotMatch(readFileSync(path.join(out, "docker-bake.json"), "utf8"), /secret/);
      assert.deepEqual(readdirSync(repo.dir).filter((f) => f.includes(".tmp-") || f.includes(".old-")), [], "no temp dirs left");
    } finally {
      repo.cleanup();
    }
  });

  test("refuses a foreign OUT; keeps the planner's git cache; a failing compile leaves OUT untouched", async () => {
    const repo = makeRepo();
    const dir = tempDir("emit");
    try {
      const p = projectPlan(dir, repo.dir, repo.commit);
      const foreign = path.join(dir, "mine");
      mkdirSync(foreign);
      writeFileSync(path.join(foreign, "precious.txt"), "keep");
      await assert.rejects(emitProject(p, { out: foreign }, { importFilterScript: fakeFilter }), (e: unknown) =>
        e instanceof UserError && /was not made by stapel2docker/.test(e.message));
      assert.equal(readFileSync(path.join(foreign, "precious.txt"), "utf8"), "keep");
      const file = path.join(dir, "file");
      writeFileSync(file, "x");
      await assert.rejects(emitProject(p, { out: file }, { importFilterScript: fakeFilter }), /is not a folder/);

      const out = path.join(dir, ".stapel2docker");
      mkdirSync(path.join(out, "git/remote"), { recursive: true });
      writeFileSync(path.join(out, "git/remote/HEAD"), "cache");
      await emitProject(p, { out }, { importFilterScript: fakeFilter });
      assert.equal(readFileSync(path.join(out, "git/remote/HEAD"), "utf8"), "cache");
      const before = snapshot(out);
      const bad = structuredClone(p);
      bad.images[0].stages[2].body = userBody("install", [], { builder: "ansible", tasks: [{ module: "xattr", config: { xattr: { path: "/x", key: "user.a" } }, pos: { file: "werf.yaml", line: 3, col: 5 } }] });
      await assert.rejects(emitProject(bad, { out }, { importFilterScript: fakeFilter }), /module `xattr` is supported by werf but not by stapel2docker/);
      assert.deepEqual(snapshot(out), before);
      // a git failure while writing archives (bad commit) also leaves OUT as it was
      const badCommit = projectPlan(dir, repo.dir, "0".repeat(40));
      await assert.rejects(emitProject(badCommit, { out }, { importFilterScript: fakeFilter }));
      assert.deepEqual(snapshot(out), before);
      assert.deepEqual(readdirSync(dir).filter((f) => f.includes(".tmp-") || f.includes(".old-")), []);
      assert.ok(existsSync(path.join(out, MARKER)));
    } finally {
      repo.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
