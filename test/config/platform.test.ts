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
