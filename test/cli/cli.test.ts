// The command line as a user meets it: exit codes, help, render/validate/schema on real directories.
import { after, test } from "node:test";
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
    env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), XDG_CACHE_HOME: process.env.XDG_CACHE_HOME ?? os.tmpdir(), ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const made: string[] = [];
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "s2d-cli-"));
  made.push(dir);
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
      "from: alpine",
      "import:",
      "- image: missing",
      "  add: /x",
      "  after: install",
      "",
    ].join("\n"),
  });
  const r = run(["validate", "--dir", dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^werf\.yaml:6:1: .*shel/m);
  assert.match(r.stderr, /did you mean `shell`/);
  assert.match(r.stderr, /^werf\.yaml:12:\d+: .*missing/m);
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

test("hints for what real users trip on: an unset variable in project, an image in the meta document, no images", () => {
  const unset = run(["validate", "--dir", project({ "werf.yaml": 'configVersion: 1\nproject: {{ env "CI_PROJECT_PATH_SLUG" }}\n---\nimage: a\nfrom: alpine\n' })]);
  assert.equal(unset.code, 1);
  assert.match(unset.stderr, /^werf\.yaml:2:1: 'project' field cannot be empty!\n {4}hint: the templates read unset environment variables \("CI_PROJECT_PATH_SLUG"\)/m);

  const meta = run(["validate", "--dir", project({ "werf.yaml": "configVersion: 1\nproject: p\nimage: a\nfrom: alpine\n" })]);
  assert.equal(meta.code, 1);
  assert.match(meta.stderr, /^werf\.yaml:3:1: unknown fields: `image`!\n {4}hint: `image` belongs to an image document: the meta document .* must end with a `---` line/m);

  const dir = project({ "werf.yaml": 'configVersion: 1\nproject: p\n---\n{{ if eq .Env "prod" }}\nimage: a\nfrom: alpine\n{{ end }}\n' });
  const none = run(["validate", "--dir", dir]);
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stderr, /^warning: werf\.yaml:1:1: no images: every image document rendered empty/m);
  const compile = run(["compile", "--dir", dir]);
  assert.equal(compile.code, 0, compile.stderr);
  assert.match(compile.stdout, /^nothing to compile: no images$/m);
  assert.equal(fs.existsSync(path.join(dir, ".stapel2docker")), false, "no Dockerfile without a FROM");
  assert.equal(run(["validate", "--dir", dir, "--env", "prod"]).stderr, "");
});

test("plan: an image of several platforms shows each platform's stage digests; linux/amd64's are the digests without a platform", () => {
  const werf = (platform: string) => `project: p\nconfigVersion: 1\n---\nimage: app\nfrom: scratch\n${platform}shell:\n  install:\n  - echo hi\n`;
  const multi = project({ "werf.yaml": werf("platform: [linux/amd64, linux/arm64]\n") });
  const plain = project({ "werf.yaml": werf("") });
  try {
    const one = JSON.parse(run(["plan", "--json", "--dir", plain]).stdout);
    const none = one.images[0].digest as string;
    assert.equal(JSON.parse(run(["plan", "--json", "--dir", plain, "--platform", "linux/amd64"]).stdout).images[0].digest, none);
    const arm = JSON.parse(run(["plan", "--json", "--dir", plain, "--platform", "linux/arm64"]).stdout).images[0].digest as string;
    assert.notEqual(arm, none);
    const r = run(["plan", "--json", "--dir", multi]);
    assert.equal(r.code, 0, r.stderr);
    const pp = JSON.parse(r.stdout).images[0].perPlatform;
    assert.deepEqual(pp.platforms.map((p: { platform: string; digest: string }) => [p.platform, p.digest]), [["linux/amd64", none], ["linux/arm64", arm]]);
    assert.deepEqual(pp.platforms[0].stages.map((s: { name: string }) => s.name), ["from", "install"]);
    const text = run(["plan", "--dir", multi]).stdout;
    assert.match(text, new RegExp(`platforms linux/amd64, linux/arm64: the image \\(an index over them\\) ${pp.digest}`));
    assert.match(text, new RegExp(`\\n    linux/amd64 ${none}\\n`));
    assert.match(text, new RegExp(`\\n    linux/arm64 ${arm}\\n`));
  } finally {
    fs.rmSync(multi, { recursive: true, force: true });
    fs.rmSync(plain, { recursive: true, force: true });
  }
});

test("plan: an image without platform built on a multi-platform image is planned on that image's stages for its platform, as build builds it", () => {
  const dir = project({
    "werf.yaml": "project: p\nconfigVersion: 1\n---\nimage: base\nfrom: scratch\nplatform: [linux/amd64, linux/arm64]\nshell:\n  install:\n  - echo base\n---\nimage: x\nfromImage: base\nshell:\n  install:\n  - echo x\n",
  });
  try {
    const r = run(["plan", "--json", "--dir", dir]);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    const base = plan.images.find((i: { name: string }) => i.name === "base");
    const x = plan.images.find((i: { name: string }) => i.name === "x");
    const amd64 = base.perPlatform.platforms.find((p: { platform: string }) => p.platform === "linux/amd64").digest;
    assert.deepEqual(x.stages[0].inputs.base, { image: amd64 });
    assert.notEqual(amd64, base.digest, "not the digest over the platform list");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
