// compile's toolchain reference without --repo: the local image `toolchain --import` makes (the final tags name local
// images too: a build on this machine), said on stderr with what to give to build elsewhere; build.sh checks that
// the image is there before running bake. (With --repo: test/toolchain/image.test.ts.)
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "../support/paths.js";

const cli = path.join(repoRoot, "dist", "src", "cli", "main.js");
const made: string[] = [];
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function tmp(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

/** A `docker` on PATH that records its arguments and answers `image inspect` with `inspect` (0 or 1). */
function fakeDocker(inspect: number): { bin: string; log: string } {
  const bin = tmp("s2d-fake-docker-");
  const log = path.join(bin, "calls.log");
  fs.writeFileSync(
    path.join(bin, "docker"),
    `#!/bin/sh\necho "$*" >> '${log}'\nif [ "$1 $2" = "image inspect" ]; then exit ${inspect}; fi\nexit 0\n`,
    { mode: 0o755 },
  );
  return { bin, log };
}

test("compile without --repo: the local toolchain image, said so; build.sh stops with what to do when it is missing", () => {
  const dir = tmp("s2d-compile-tc-");
  fs.writeFileSync(path.join(dir, "werf.yaml"), "project: tc\nconfigVersion: 1\n---\nimage: app\nfrom: scratch\nshell:\n  install:\n  - echo hi\n");
  const r = spawnSync(process.execPath, [cli, "compile", "--dir", dir], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), XDG_CACHE_HOME: process.env.XDG_CACHE_HOME ?? os.tmpdir(), STAPEL2DOCKER_CACHE: "off" } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /toolchain: stapel2docker\/toolchain:latest, a local image \(make it once: stapel2docker toolchain --import\)/);
  assert.match(r.stderr, /compile with --repo REGISTRY\/PATH .* or --toolchain REF@sha256/);
  const out = path.join(dir, ".stapel2docker");
  const bake = JSON.parse(fs.readFileSync(path.join(out, "docker-bake.json"), "utf8"));
  assert.equal(bake.target.app.contexts["stapel-toolchain"], "docker-image://stapel2docker/toolchain:latest");
  assert.deepEqual(bake.target.app.tags.map((t: string) => t.split(":")[0]), ["tc"], "final tags of local images");

  const missing = fakeDocker(1);
  const failed = spawnSync(path.join(out, "build.sh"), [], { encoding: "utf8", env: { PATH: `${missing.bin}:${process.env.PATH}` } });
  assert.equal(failed.status, 1);
  assert.match(failed.stderr, /^build\.sh: the toolchain image stapel2docker\/toolchain:latest is not on this machine: make it with `stapel2docker toolchain --import` \(or compile with --repo REGISTRY\/PATH\)$/m);
  assert.doesNotMatch(fs.readFileSync(missing.log, "utf8"), /buildx/, "no bake run");

  const there = fakeDocker(0);
  const ok = spawnSync(path.join(out, "build.sh"), ["--print"], { encoding: "utf8", env: { PATH: `${there.bin}:${process.env.PATH}` } });
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(fs.readFileSync(there.log, "utf8").trim().split("\n"), ["image inspect stapel2docker/toolchain:latest", "buildx bake -f .stapel2docker/docker-bake.json --print"]);
});
