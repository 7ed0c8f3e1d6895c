// scripts/stack/down.sh (`npm run stack:down` = down.sh --purge). The shared stack other sessions use must stay up,
// so: a purge of a state dir whose daemons this stack did not start (removes the state dir and the tests' temp
// folders, leaves the engine alone), and a dry run against the real state (says what it would stop and remove:
// the stack's images, the build cache, the daemons, the state dir) that changes nothing.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "../support/paths.js";

const down = path.join(repoRoot, "scripts/stack/down.sh");
const up = path.join(repoRoot, "scripts/stack/up.sh");

before(() => {
  execFileSync("bash", [up], { stdio: "ignore" });
});

test("down.sh --purge of a state dir it did not start daemons for: state and temp folders go, the engine stays", (t) => {
  const base = mkdtempSync(path.join(os.tmpdir(), "s2d-down-"));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const state = path.join(base, "state");
  const tmp = path.join(base, "tmp");
  mkdirSync(path.join(state, "registry", "data"), { recursive: true });
  mkdirSync(path.join(state, "run"), { recursive: true });
  writeFileSync(path.join(state, "logs.txt"), "x");
  for (const d of ["s2d-build-project-1", "stapel2docker-build-2", "unrelated"]) mkdirSync(path.join(tmp, d), { recursive: true });
  const out = execFileSync("bash", [down, "--purge"], { env: { ...process.env, STAPEL2DOCKER_STACK_DIR: state, TMPDIR: tmp }, encoding: "utf8" });
  assert.match(out, /^images +left as they are \(no running dockerd started by this stack\) \[\d+\.\d s\]$/m);
  assert.match(out, /^registry +not running/m);
  assert.match(out, /^dockerd +not running/m);
  assert.match(out, /^state +removed /m);
  assert.match(out, /^temp +removed 2 temp folder\(s\)/m);
  assert.equal(existsSync(state), false);
  assert.equal(existsSync(path.join(tmp, "s2d-build-project-1")), false);
  assert.equal(existsSync(path.join(tmp, "stapel2docker-build-2")), false);
  assert.equal(existsSync(path.join(tmp, "unrelated")), true);
  execFileSync("docker", ["info"], { stdio: "ignore" });
});

test("down.sh --purge --dry-run against the running stack: lists the images, cache, daemons and state; changes nothing", (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "s2d-down-dry-"));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const out = execFileSync("bash", [down, "--purge", "--dry-run"], { env: { ...process.env, TMPDIR: tmp }, encoding: "utf8" });
  assert.match(out, /^would +remove \d+ image\(s\): /m);
  assert.match(out, /^would +prune the build cache/m);
  assert.match(out, /^would +stop registry \(pid \d+\)/m);
  assert.match(out, /^would +stop dockerd \(pid \d+\)/m);
  assert.match(out, /^would +remove \/\S+ \(\S+\)/m);
  // nothing changed
  execFileSync("docker", ["image", "inspect", "stapel2docker/base-busybox:latest"], { stdio: "ignore" });
  execFileSync("curl", ["-fsS", "-o", "/dev/null", "http://127.0.0.1:5000/v2/"]);
});
