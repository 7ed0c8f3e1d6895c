// The toolchain image: its printed Dockerfile parses into the expected stages; --import makes a scratch-based image
// whose static bash and busybox applets run (checked with docker run), from this machine's packages, no pull.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { DockerfileParser } from "dockerfile-ast";
import tar from "tar-stream";
import {
  toolchainDockerfile,
  toolchainBuildArgs,
  toolchainRootfsTar,
  importToolchain,
  isStaticElf,
  TOOLCHAIN_STAGE,
} from "../../src/toolchain/toolchain.js";
import { UserError } from "../../src/diagnostics.js";
import { repoRoot } from "../support/paths.js";

test("the printed Dockerfile: a Debian build stage, then FROM scratch with /.stapel", () => {
  const text = toolchainDockerfile();
  const df = DockerfileParser.parse(text);
  const froms = df.getFROMs().map((f) => [f.getImageName(), f.getImageTag(), f.getBuildStage()]);
  assert.deepEqual(froms, [["debian", "bookworm-slim", "toolchain-build"], ["scratch", null, TOOLCHAIN_STAGE]]);
  const keywords = df.getInstructions().map((i) => i.getKeyword());
  assert.deepEqual(keywords, ["FROM", "RUN", "FROM", "COPY", "CMD"]);
  const run = df.getInstructions()[1].getTextContent();
  assert.match(run, /apt-get install -y --no-install-recommends bash-static busybox-static/);
  assert.match(run, /cp \/bin\/bash-static \/out\/\.stapel\/bin\/bash/);
  const copy = df.getCOPYs()[0];
  assert.equal(copy.getFromFlag()?.getValue(), "toolchain-build");
  assert.match(toolchainDockerfile({ base: "registry.local:5000/debian:12" }), /^FROM registry\.local:5000\/debian:12 AS toolchain-build$/m);
  assert.throws(() => toolchainDockerfile({ base: "debian\nRUN evil" }), UserError);
});

test("build arguments: buildx, the scratch target, the tag, Dockerfile from stdin", () => {
  assert.deepEqual(toolchainBuildArgs({ tag: "reg/t:1", contextDir: "/tmp/empty" }), [
    "buildx", "build", "--load", "--target", "toolchain", "--tag", "reg/t:1", "--file", "-", "/tmp/empty",
  ]);
});

test("isStaticElf tells Debian's static binaries from dynamic ones", () => {
  assert.equal(isStaticElf("/bin/bash-static"), true);
  assert.equal(isStaticElf(process.execPath), false); // node is dynamically linked
  assert.equal(isStaticElf(path.join(repoRoot, "package.json")), false);
});

test("the rootfs tar is deterministic: sorted, root-owned, mtime 0, applets link to busybox", async () => {
  const a = await toolchainRootfsTar();
  const b = await toolchainRootfsTar();
  assert.ok(a.equals(b));
  const names: string[] = [];
  const ex = tar.extract();
  ex.on("entry", (h, s, next) => {
    assert.equal(h.uid, 0);
    assert.equal(h.mtime?.getTime(), 0);
    if (h.type === "symlink") assert.equal(h.linkname, "busybox");
    names.push(h.name);
    s.resume();
    s.on("end", next);
  });
  await new Promise<void>((resolve, reject) => ex.on("finish", () => resolve()).on("error", reject).end(a));
  assert.deepEqual(names, [...names].sort());
  assert.deepEqual(names.slice(0, 2), [".stapel/", ".stapel/bin/"]);
  for (const n of [".stapel/bin/bash", ".stapel/bin/busybox", ".stapel/bin/sh", ".stapel/bin/tar"]) assert.ok(names.includes(n), n);
});

test("a missing or dynamic binary: UserError with the apt-get hint", async () => {
  await assert.rejects(toolchainRootfsTar({ bash: "/nonexistent/bash-static" }), /no static bash found \(looked at \/nonexistent\/bash-static\)/);
  await assert.rejects(toolchainRootfsTar({ busybox: process.execPath }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /is not a statically linked executable/);
    return true;
  });
});

describe("--import with the real daemon", () => {
  const TAG = "stapel2docker-test/toolchain:import";
  before(() => execFileSync("bash", [path.join(repoRoot, "scripts/stack/up.sh")], { stdio: "ignore" }));
  after(() => {
    try {
      execFileSync("docker", ["image", "rm", "-f", TAG], { stdio: "ignore" });
    } catch {
      // gone
    }
  });

  test("the imported image runs bash and busybox applets with nothing else in it", async () => {
    const id = await importToolchain({ tag: TAG });
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const out = execFileSync(
      "docker",
      ["run", "--rm", TAG, "/.stapel/bin/bash", "-c", 'echo "$BASH_VERSION"; /.stapel/bin/ls -a /; /.stapel/bin/sh -c "echo applets ok"'],
      { encoding: "utf8" },
    );
    const lines = out.trim().split("\n");
    assert.match(lines[0], /^\d+\.\d+\.\d+/);
    assert.ok(!lines.includes("bin"), "no /bin: a scratch-based image");
    assert.ok(lines.includes(".stapel"));
    assert.equal(lines[lines.length - 1], "applets ok");
  });

  test("the CLI: `toolchain --import --tag` (exit 0), `--build --import` is a user error (exit 1)", () => {
    const cli = path.join(repoRoot, "dist/src/cli/main.js");
    const run = (...args: string[]) => spawnSync(process.execPath, [cli, "toolchain", ...args], { encoding: "utf8" });
    const ok = run("--import", "--tag", TAG);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`^${TAG.replace(/[/.:]/g, "\\$&")} sha256:[0-9a-f]{64}\\n$`));
    const bad = run("--build", "--import");
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^--build and --import exclude each other\n/);
    const printed = run();
    assert.equal(printed.status, 0);
    assert.equal(printed.stdout, toolchainDockerfile());
  });
});
