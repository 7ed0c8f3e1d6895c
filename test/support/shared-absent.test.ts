// A clone elsewhere has no ../shared: every suite that reads it must skip with one clear line and fail nothing.
// Run here with the shared material's location pointed at an empty folder (STAPEL2DOCKER_SHARED_DIR).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "./paths.js";

const SUITES = [
  "config/json-schema.test.js",
  "config/model.test.js",
  "git/doublestar.test.js",
  "template/conformance.test.js",
  "template/sprig/corpus-functions.test.js",
  "template/yaml-corpus.test.js",
  "corpus/corpus.test.js",
  "corpus/corpus-compile.test.js",
  "ansible/engine.test.js",
];

test("the suites that read ../shared skip with one line each and fail nothing when it is absent", { timeout: 300_000 }, () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "s2d-no-shared-"));
  try {
    const files = SUITES.map((s) => path.join(repoRoot, "dist", "test", s));
    for (const f of files) assert.ok(fs.existsSync(f), `${f} is built`);
    // a test runner of its own (NODE_TEST_CONTEXT would make it think it runs inside this one)
    const { NODE_TEST_CONTEXT: _inner, ...env } = process.env;
    const r = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...files], {
      encoding: "utf8",
      env: { ...env, STAPEL2DOCKER_SHARED_DIR: empty },
      timeout: 280_000,
    });
    const out = r.stdout + r.stderr;
    assert.equal(r.status, 0, out.slice(-3000));
    assert.match(out, /^ℹ fail 0$/m);
    const skipped = Number(/^ℹ skipped (\d+)$/m.exec(out)?.[1] ?? "0");
    assert.ok(skipped >= SUITES.length, `${skipped} skipped\n${out.slice(-3000)}`);
    // each skip says what is missing, in one line
    const lines = out.split("\n").filter((l) => l.includes("# SKIP") || /skipped: .* not found/.test(l) || /no corpus at/.test(l));
    assert.ok(lines.length >= SUITES.length, out.slice(-3000));
    for (const l of lines) assert.match(l, /not found|no corpus at/);
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});
