// A base image whose config cannot be read: the warning's hint says how to get it, and never tells users to
// `docker pull` the test stack's own stapel2docker/base-* images, which exist in no registry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { git, tempDir, writeFile } from "../git/gitFixture.js";
import { repoRoot } from "../support/paths.js";

test("plan: an unreadable base image's hint: docker pull for a registry image, the stack script for stapel2docker/base-*", (t) => {
  const dir = tempDir("base-hint");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", `project: hint
configVersion: 1
---
image: local
from: stapel2docker/base-nosuch
---
image: remote
from: registry.invalid/team/app:1.0
`);
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "init");
  const out = execFileSync("bash", ["-c", `${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(repoRoot, "dist/src/cli/main.js"))} plan --dir . 2>&1 >/dev/null`], { cwd: dir, encoding: "utf8" });
  const warnings = out.split("\n").filter((l) => l.startsWith("warning:") || l.startsWith("  "));
  const text = warnings.join("\n");
  assert.match(text, /base image stapel2docker\/base-nosuch could not be read/);
  assert.match(text, /base image registry\.invalid\/team\/app:1\.0 could not be read/);
  assert.doesNotMatch(out, /docker pull stapel2docker\//);
  assert.match(out, /scripts\/stack\/up\.sh/);
  assert.match(out, /docker pull registry\.invalid\/team\/app:1\.0/);
});
