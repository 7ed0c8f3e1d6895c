// `platform` entries (an image's, meta build.platform) must be os/arch[/variant]: validate reports each bad one at its value.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { repoRoot } from "../support/paths.js";

test("validate: a bad platform is reported at its entry, every one; good ones pass", (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "s2d-platform-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cli = path.join(repoRoot, "dist", "src", "cli", "main.js");
  writeFileSync(path.join(dir, "werf.yaml"), 'project: v\nconfigVersion: 1\nbuild:\n  platform: [linux/amd64, "x86"]\n---\nimage: app\nfrom: alpine\nplatform:\n- linux/arm/v7\n- "linux amd64"\n');
  const bad = spawnSync(process.execPath, [cli, "validate", "--dir", dir], { encoding: "utf8" });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^werf\.yaml:4:27: "x86" is not a platform$/m);
  assert.match(bad.stderr, /^werf\.yaml:10:3: "linux amd64" is not a platform$/m);
  assert.match(bad.stderr, /2 problems found/);
  writeFileSync(path.join(dir, "werf.yaml"), "project: v\nconfigVersion: 1\nbuild:\n  platform: [linux/amd64, linux/arm64]\n---\nimage: app\nfrom: alpine\nplatform: [linux/arm/v7]\n");
  const ok = spawnSync(process.execPath, [cli, "validate", "--dir", dir], { encoding: "utf8" });
  assert.equal(ok.status, 0, ok.stderr);
});

test("validate and --platform: an architecture BuildKit spells otherwise, and a platform listed twice, are reported with BuildKit's name", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "s2d-platform-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cli = path.join(repoRoot, "dist", "src", "cli", "main.js");
  writeFileSync(path.join(dir, "werf.yaml"), "project: v\nconfigVersion: 1\nbuild:\n  platform: [linux/x86_64, linux/aarch64]\n---\nimage: app\nfrom: alpine\nplatform:\n- linux/arm64\n- linux/arm64/v8\n- linux/arm\n- linux/arm/v7\n- linux/armhf\n");
  const bad = spawnSync(process.execPath, [cli, "validate", "--dir", dir], { encoding: "utf8" });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^werf\.yaml:4:14: "linux\/x86_64": BuildKit names this platform linux\/amd64$/m);
  assert.match(bad.stderr, /^werf\.yaml:4:28: "linux\/aarch64": BuildKit names this platform linux\/arm64$/m);
  assert.match(bad.stderr, /^werf\.yaml:10:3: "linux\/arm64\/v8" is the platform "linux\/arm64" again \(BuildKit builds both as linux\/arm64\)$/m);
  assert.match(bad.stderr, /^werf\.yaml:12:3: "linux\/arm\/v7" is the platform "linux\/arm" again/m);
  assert.match(bad.stderr, /^werf\.yaml:13:3: "linux\/armhf": BuildKit names this platform linux\/arm\/v7$/m);
  assert.match(bad.stderr, /5 problems found/);
  const { parsePlatforms } = await import("../../src/cli/platforms.js");
  assert.throws(() => parsePlatforms("linux/amd64,linux/aarch64"), /"linux\/aarch64": BuildKit names this platform linux\/arm64/);
  assert.throws(() => parsePlatforms("linux/amd64,linux/amd64/v1"), /is the platform "linux\/amd64" again/);
  assert.deepEqual(parsePlatforms("linux/amd64, linux/arm64,linux/amd64"), ["linux/amd64", "linux/arm64"]);
});
