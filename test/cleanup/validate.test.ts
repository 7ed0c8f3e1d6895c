// `validate` reports what `cleanup` would refuse in werf.yaml's cleanup: section, each problem at its value.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { git, tempDir, writeFile } from "../git/gitFixture.js";
import { repoRoot } from "../support/paths.js";

test("validate: bad cleanup policies reported as file:line:col with hints, exit 1", (t) => {
  const dir = tempDir("cleanup-validate");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", `project: v
configVersion: 1
cleanup:
  disableKubernetesBasedPolicy: true
  keepPolicies:
  - references: {branch: "/[/"}
    imagesPerReference: {in: 7d, operator: Xor}
  - imagesPerReference: {last: 1}
---
image: app
from: alpine
`);
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "x");
  const r = spawnSync(process.execPath, [path.join(repoRoot, "dist/src/cli/main.js"), "validate", "--dir", dir], { encoding: "utf8" });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /werf\.yaml:7:30: cleanup\.keepPolicies\[0\]\.imagesPerReference\.in: expected a duration/);
  assert.match(r.stderr, /hint: units: h, m, s/);
  assert.match(r.stderr, /werf\.yaml:7:44: cleanup\.keepPolicies\[0\]\.imagesPerReference\.operator: unsupported value "Xor"/);
  assert.match(r.stderr, /werf\.yaml:6:26: cleanup\.keepPolicies\[0\]\.references\.branch: invalid regular expression/);
  assert.match(r.stderr, /werf\.yaml:8:5: cleanup\.keepPolicies\[1\]: a keep policy needs a references section/);
  assert.match(r.stderr, /4 problems found/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test("cleanup.disable: nothing is read or deleted; Kubernetes keys are accepted with a note", (t) => {
  const dir = tempDir("cleanup-disabled");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", "project: d\nconfigVersion: 1\ncleanup:\n  disable: true\n  disableKubernetesBasedPolicy: true\n---\nimage: app\nfrom: alpine\n");
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "x");
  // a registry port nothing listens on: any request would fail the command
  const r = spawnSync(process.execPath, [path.join(repoRoot, "dist/src/cli/main.js"), "cleanup", "--dir", dir, "--repo", "127.0.0.1:9/p/app", "--json"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /cleanup\.disableKubernetesBasedPolicy: the Kubernetes-based policy does not apply/);
  assert.match(r.stderr, /cleanup\.disable is true in werf\.yaml: nothing is deleted/);
  const out = JSON.parse(r.stdout) as { disabled: boolean; delete: unknown[]; registryRequests: number };
  assert.equal(out.disabled, true);
  assert.deepEqual(out.delete, []);
  assert.equal(out.registryRequests, 0);
});
