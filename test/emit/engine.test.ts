// A compiled project built for real: scripts/stack/up.sh, then OUT/build.sh (from another working directory)
// runs `docker buildx bake`; the image is read back with docker run / docker inspect. Hostile values must
// come back byte for byte; named git owners must be chowned; WERF_COMMIT_* must be visible to commands
// but not in the image config, and a changed commit.env must not rebuild a cached RUN.
// Nothing is skipped: if the stack cannot come up, this fails with up.sh's message.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { emitProject } from "../../src/emit/index.js";
import type { Plan } from "../../src/plan/model.js";
import { repoRoot } from "../support/paths.js";
import { git, makeRepo } from "../git/gitFixture.js";
import { dockerfileStages, graphProblems } from "./dockerfileGraph.js";
import { readFileSync } from "node:fs";
import {
  cmd,
  docker,
  gitSource,
  image,
  importDirective,
  importFrom,
  mapping,
  plan as makePlan,
  stage,
  userBody,
} from "./planFixture.js";

function run(file: string, args: string[], cwd = "/", timeoutMs = 300_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout: timeoutMs, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(" ")} failed (${String(error.code)})\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

const BASE = "stapel2docker/base-busybox:latest";
const HOSTILE_FILE = `# hash line\nback slash at end \\\n$HOME 'sq' "dq" é 日本\t tab\nSTAPEL_EOF_1\n`;
const ENV_VALUE = `a "q" 'sq' $HOME \\x\\ é 日本 # not a comment`;
const LABEL_VALUE = "ends with a backslash \\";
const WORKDIR = "/w d/$x";

describe("compiled project built with docker buildx bake", () => {
  const repo = makeRepo();
  let p: Plan;
  let out: string;
  let tag: string;

  before(async () => {
    await run("bash", [path.join(repoRoot, "scripts/stack/up.sh")], repoRoot, 600_000);
    const builder = image("builder", "artifact", [
      stage("builder", "s2d-emit-builder", "from", { kind: "from", base: { kind: "external", ref: BASE } }, 3),
      stage("builder", "s2d-emit-builder", "install",
        userBody("install", [cmd("mkdir -p /out/sub && echo A > /out/a.txt && echo B > /out/sub/b.log", 6)]), 5),
    ], { slug: "s2d-emit-builder" });
    const app = image("app", "image", [
      stage("app", "s2d-emit-app", "from", { kind: "from", base: { kind: "external", ref: BASE } }, 10),
      stage("app", "s2d-emit-app", "beforeInstall", userBody("beforeInstall", [
        cmd(`cat > /hostile.txt <<'STAPEL_EOF'\n${HOSTILE_FILE}STAPEL_EOF`, 12),
        cmd('id -u > /uid.txt; echo "commit=$WERF_COMMIT_HASH unix=$WERF_COMMIT_TIME_UNIX" > /commit.txt', 13),
      ]), 11),
      stage("app", "s2d-emit-app", "gitArchive", {
        kind: "gitArchive",
        archives: [
          { source: gitSource("aaaaaaaaaaaaaaaa", mapping("/app", "/srv/app", { owner: "nobody", group: "nogroup" }), repo.dir, repo.commit), file: "git/own-aaaaaaaaaaaaaaaa.tar" },
          { source: gitSource("bbbbbbbbbbbbbbbb", mapping("/docs", "/docs"), repo.dir, repo.commit), file: "git/own-bbbbbbbbbbbbbbbb.tar" },
        ],
      }, 20),
      stage("app", "s2d-emit-app", "dependenciesBeforeSetup", {
        kind: "dependencies",
        imports: [],
        dependencies: [],
      }, 30),
      stage("app", "s2d-emit-app", "dockerInstructions", {
        kind: "dockerInstructions",
        docker: docker({ env: { HOSTILE: ENV_VALUE }, label: { "x.hostile": LABEL_VALUE }, entrypoint: ["/bin/cat"], workdir: WORKDIR, volume: ["/data $x"] }),
      }, 40),
    ], { slug: "s2d-emit-app", base: { user: "nobody", workdir: "", source: "daemon" } });
    const deps = app.stages[3].body;
    if (deps.kind === "dependencies") {
      deps.imports.push(importFrom(builder, importDirective("builder", "/out", "/imp")));
      deps.imports.push(importFrom(builder, importDirective("builder", "/out", "/flt", { includePaths: ["**/*.log"], owner: "nobody", group: "nogroup" })));
    }
    const unix = Number(git(repo.dir, "log", "-1", "--format=%ct"));
    p = makePlan([builder, app], { dir: repo.dir, project: "s2d-emit-test", commit: { hash: repo.commit, timeUnix: unix, timeHuman: "2024-01-02 03:04:05 +0000 UTC" } });
    out = path.join(repo.dir, ".stapel2docker");
    await emitProject(p, { out, tags: ["{image}-latest"] });
    tag = "s2d-emit-test:s2d-emit-app-latest";
    await run(path.join(out, "build.sh"), ["--progress=plain"], "/");
  });

  after(async () => {
    await run("docker", ["rmi", "-f", tag, `s2d-emit-test:s2d-emit-app-${p?.images[1].digest}`]).catch(() => {});
    repo.cleanup();
  });

  const cat = async (file: string) => (await run("docker", ["run", "--rm", tag, file])).stdout;
  const sh = async (script: string) => (await run("docker", ["run", "--rm", "--user", "0", "--entrypoint", "/bin/sh", tag, "-c", script])).stdout;

  test("the Dockerfile's stage graph resolves", () => {
    const stages = dockerfileStages(readFileSync(path.join(out, "Dockerfile"), "utf8"));
    assert.deepEqual(graphProblems(stages, ["stapel-toolchain"], (r) => r === BASE), []);
  });

  test("commands run as root with bash, in /, and hostile heredoc lines come back exactly", async () => {
    assert.equal(await cat("/hostile.txt"), HOSTILE_FILE);
    assert.equal(await cat("/uid.txt"), "0\n");
  });

  test("WERF_COMMIT_* are visible to commands but not in the image config", async () => {
    assert.equal(await cat("/commit.txt"), `commit=${repo.commit} unix=${p.commit!.timeUnix}\n`);
    const env = JSON.parse((await run("docker", ["inspect", "--format", "{{json .Config.Env}}", tag])).stdout) as string[];
    assert.ok(!env.some((e) => e.startsWith("WERF_")), env.join("\n"));
    assert.ok(env.includes(`HOSTILE=${ENV_VALUE}`), env.join("\n"));
  });

  test("image config: labels, ENTRYPOINT with CMD reset, WORKDIR, VOLUME, USER restored", async () => {
    const cfg = JSON.parse((await run("docker", ["inspect", "--format", "{{json .Config}}", tag])).stdout);
    assert.equal(cfg.Labels["x.hostile"], LABEL_VALUE);
    assert.equal(cfg.Labels["io.stapel2docker.stage"], "dockerInstructions");
    assert.deepEqual(cfg.Entrypoint, ["/bin/cat"]);
    assert.ok(cfg.Cmd == null || (Array.isArray(cfg.Cmd) && cfg.Cmd.length === 0), JSON.stringify(cfg.Cmd));
    assert.equal(cfg.WorkingDir, WORKDIR);
    assert.deepEqual(Object.keys(cfg.Volumes), ["/data $x"]);
    assert.equal(cfg.User, "nobody");
  });

  test("git archives: named owner chowned by the image's names, no owner stays root", async () => {
    const owners = await sh("cd / && stat -c '%u:%g %n' srv/app srv/app/main.go srv/app/bin/run.sh docs/guide.md && stat -c '%u:%g %F' srv/app/link.go");
    assert.equal(owners, [
      "65534:65534 srv/app",
      "65534:65534 srv/app/main.go",
      "65534:65534 srv/app/bin/run.sh",
      "0:0 docs/guide.md",
      "65534:65534 symbolic link",
    ].join("\n") + "\n");
    assert.equal(await cat("/srv/app/dir with space/file é.txt"), "spaced\n");
  });

  test("imports: the directory's contents into `to`; includePaths filtered through the helper, chowned", async () => {
    assert.equal(await sh("cd / && find imp flt | sort"), ["flt", "flt/sub", "flt/sub/b.log", "imp", "imp/a.txt", "imp/sub", "imp/sub/b.log"].join("\n") + "\n");
    assert.equal(await sh("stat -c '%u:%g' /flt/sub/b.log"), "65534:65534\n");
  });

  test("a changed commit.env does not rebuild a cached RUN", async () => {
    writeFileSync(path.join(out, "commit.env"), "export WERF_COMMIT_HASH=changed\n");
    const r = await run(path.join(out, "build.sh"), ["--progress=plain"], repo.dir);
    assert.match(r.stderr, /CACHED/);
    assert.equal(await cat("/commit.txt"), `commit=${repo.commit} unix=${p.commit!.timeUnix}\n`);
  });
});

