// The command line as a user meets it: exit codes, help, render/validate/schema on real directories.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "../support/paths.js";
import { reportFailure } from "../../src/cli/program.js";

const cli = path.join(repoRoot, "dist", "src", "cli", "main.js");

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function project(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "s2d-cli-"));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

test("--help works on every command and exits 0", () => {
  for (const args of [["--help"], ["render", "--help"], ["validate", "--help"], ["schema", "--help"]]) {
    const r = run(args);
    assert.equal(r.code, 0, args.join(" "));
    assert.match(r.stdout, /Usage: stapel2docker/);
  }
});

test("an unknown command or option is a user error (exit 1)", () => {
  assert.equal(run(["frobnicate"]).code, 1);
  assert.equal(run(["render", "--no-such-flag"]).code, 1);
});

test("render prints the rendered example, with partials and env defaults", () => {
  const r = run(["render", "--dir", path.join(repoRoot, "examples", "basic"), "--env", "staging"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^artifact: assets$/m);
  assert.match(r.stdout, /fromCacheVersion: "node-20"/);
  assert.match(r.stdout, /echo "asset style.css" > \/build\/style.css/);
  assert.match(r.stdout, /APP_ENV: "staging"/);
  assert.match(r.stdout, /echo "1.0.0" > \/app\/VERSION/);
  assert.doesNotMatch(r.stdout, /\{\{/);
});

test("render reads environment variables through env", () => {
  const r = run(["render", "--dir", path.join(repoRoot, "examples", "basic")], { NODE_VERSION: "22" });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /fromCacheVersion: "node-22"/);
});

test("validate summarises every image and artifact of the example", () => {
  const r = run(["validate", "--dir", path.join(repoRoot, "examples", "basic")]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^artifact assets\b/m);
  assert.match(r.stdout, /^image backend\b/m);
});

test("validate reports every problem with file:line:col and exits 1", () => {
  const dir = project({
    "werf.yaml": [
      "project: p",
      "configVersion: 1",
      "---",
      "image: a",
      "from: alpine",
      "shel:",
      "  install: [echo]",
      "---",
      "image: b",
      "fromImage: missing",
      "",
    ].join("\n"),
  });
  const r = run(["validate", "--dir", dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^werf\.yaml:6:1: .*shel/m);
  assert.match(r.stderr, /did you mean `shell`/);
  assert.match(r.stderr, /^werf\.yaml:10:\d+: .*missing/m);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, "no stack trace");
});

test("a template error names the partial and line", () => {
  const dir = project({
    "werf.yaml": 'project: p\nconfigVersion: 1\n---\n{{ include "base.tmpl" . }}\n',
    ".werf/base.tmpl": "image: a\nfrom: {{ .Nope.Deeper }\n",
  });
  const r = run(["render", "--dir", dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^\.werf\/base\.tmpl:2:/m);
});

test("a missing werf.yaml is a clear user error", () => {
  const dir = project({ "README.md": "nothing here\n" });
  const r = run(["validate", "--dir", dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /werf\.yaml/);
});

test("schema prints a JSON Schema", () => {
  const r = run(["schema"]);
  assert.equal(r.code, 0, r.stderr);
  const schema = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.ok(typeof schema.$schema === "string" || schema.anyOf || schema.oneOf, "looks like a JSON Schema");
  assert.match(r.stdout, /stageDependencies/);
});

test("an internal error exits 2 with a please-report note and no full stack", () => {
  const writes: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (writes.push(String(s)), true)) as typeof process.stderr.write;
  try {
    const code = reportFailure(new TypeError("boom"));
    assert.equal(code, 2);
  } finally {
    process.stderr.write = orig;
  }
  const out = writes.join("");
  assert.match(out, /internal error: boom/);
  assert.match(out, /report/);
});

test("a missing include says what to add", () => {
  const dir = project({
    "werf.yaml": 'project: p\nconfigVersion: 1\n---\n{{ include "header.tmpl" . }}\n',
    ".werf/base.tmpl": "image: a\n",
  });
  const r = run(["render", "--dir", dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^werf\.yaml:4:4: .*no template "header\.tmpl"/m);
  assert.match(r.stderr, /hint: add \.werf\/header\.tmpl or a \{\{ define "header\.tmpl" \}\}; known templates: "base\.tmpl"/);
});
