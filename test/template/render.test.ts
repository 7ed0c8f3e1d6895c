// renderWerfConfig on temporary projects: partials, git commit data, .Files, env, errors.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/diagnostics.js";
import { renderWerfConfig } from "../../src/template/render.js";
import { loadWerfConfig } from "../../src/config/index.js";
import { TemplateError } from "../../src/template/template.js";
import { goTimeString, tplTemplateName } from "../../src/template/werf.js";
import { adler32 } from "../../src/template/sprig/encoding.js";
import { tempDir } from "../git/gitFixture.js";

function project(files: Record<string, string>): string {
  const dir = tempDir("render");
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-C", dir, ...args], {
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z", GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z" },
  }).trim();
}

test("adler32 and tpl names match werf's", () => {
  assert.equal(adler32(Buffer.from("Wikipedia")), 0x11e60398);
  assert.equal(tplTemplateName("Wikipedia"), `tpl-${0x11e60398}`);
  assert.equal(goTimeString(1767225600), "2026-01-01 00:00:00 +0000 UTC");
});

test("partials in .werf/**/*.tmpl are named by their relative path and share defines", async () => {
  const dir = project({
    "werf.yaml": 'project: p\nconfigVersion: 1\n---\n{{ include "images/app.tmpl" . }}\n{{- include "common" (dict "name" "b") }}\n',
    ".werf/images/app.tmpl": "image: a\nfrom: {{ .Env | default \"alpine\" }}\n",
    ".werf/defs.tmpl": '{{ define "common" }}---\nimage: {{ .name }}\n{{ end }}',
  });
  const r = await renderWerfConfig({ dir, env: "prod" });
  assert.equal(r.file, "werf.yaml");
  assert.equal(r.absPath, path.join(dir, "werf.yaml"));
  assert.equal(r.text, "project: p\nconfigVersion: 1\n---\nimage: a\nfrom: prod\n---\nimage: b\n\n");
  // The text that include printed unchanged keeps the partial's own positions.
  assert.deepEqual(r.map.lookup(0), { file: "werf.yaml", line: 1, col: 1 });
  assert.deepEqual(r.map.lookup(r.text.indexOf("image: a")), { file: ".werf/images/app.tmpl", line: 1, col: 1 });
  assert.deepEqual(r.map.lookup(r.text.indexOf("image: b")), { file: ".werf/defs.tmpl", line: 2, col: 1 });
});

test("werf.yml and --config are found; a missing config is a UserError with a hint", async () => {
  const dir = project({ "werf.yml": "project: yml\n", "conf/other.yaml": "project: other\n" });
  assert.equal((await renderWerfConfig({ dir })).text, "project: yml\n");
  const other = await renderWerfConfig({ dir, configFile: "conf/other.yaml" });
  assert.equal(other.file, "conf/other.yaml");
  assert.equal(other.text, "project: other\n");
  const empty = project({});
  await assert.rejects(renderWerfConfig({ dir: empty }), (e: unknown) => e instanceof UserError && !!e.diagnostics[0].hint && /werf\.yaml/.test(e.message));
});

test(".Commit comes from HEAD of a git repository", async () => {
  const dir = project({ "werf.yaml": "{{ .Commit.Hash }} {{ .Commit.Date.Unix }} {{ .Commit.Date.Human }}\n" });
  git(dir, "init", "-q");
  git(dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "add", ".");
  git(dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init");
  const hash = git(dir, "rev-parse", "HEAD");
  const r = await renderWerfConfig({ dir });
  assert.equal(r.text, `${hash} 1767225600 2026-01-01 00:00:00 +0000 UTC\n`);
});

test("outside git, .Commit falls back to an empty hash and the epoch", async () => {
  const dir = project({ "werf.yaml": "[{{ .Commit.Hash }}] {{ .Commit.Date.Unix }}\n" });
  assert.equal((await renderWerfConfig({ dir })).text, "[] 0\n");
});

test(".Files: Get, Glob (sorted, with **), Exists, IsDir", async () => {
  const dir = project({
    "werf.yaml":
      '{{ .Files.Get "conf/a.txt" }}|{{ range $p, $c := .Files.Glob "conf/**/*.txt" }}{{ $p }}={{ $c }};{{ end }}|{{ .Files.Exists "conf" }}{{ .Files.Exists "nope" }}|{{ .Files.IsDir "conf" }}{{ .Files.IsDir "conf/a.txt" }}\n',
    "conf/a.txt": "A",
    "conf/sub/b.txt": "B",
    "conf/sub/c.md": "C",
  });
  assert.equal((await renderWerfConfig({ dir })).text, "A|conf/a.txt=A;conf/sub/b.txt=B;|truefalse|truefalse\n");
});

test(".Files.Glob: doublestar braces, and an empty map when nothing matches (as werf)", async () => {
  const dir = project({
    "werf.yaml": '{{ range $p, $c := .Files.Glob "images/*/{Dockerfile,werf.inc.yaml}" }}{{ $p }};{{ end }}|{{ len (.Files.Glob "nothing/**/*.yaml") }}\n',
    "images/a/Dockerfile": "FROM x",
    "images/b/werf.inc.yaml": "image: b",
    "images/b/other.yaml": "no",
  });
  assert.equal((await renderWerfConfig({ dir })).text, "images/a/Dockerfile;images/b/werf.inc.yaml;|0\n");
});

test(".Files.Get of a missing file or outside the project is a located error", async () => {
  const dir = project({ "werf.yaml": 'a: 1\nb: {{ .Files.Get "missing.txt" }}\n' });
  await assert.rejects(renderWerfConfig({ dir }), (e: unknown) => {
    assert.ok(e instanceof TemplateError);
    // Go locates a method call at its last link (".Get").
    assert.deepEqual(e.pos, { file: "werf.yaml", line: 2, col: 13 });
    assert.match(e.message, /error calling Get: \{\{ \.Files\.Get "missing\.txt" \}\}/);
    return true;
  });
  const out = project({ "werf.yaml": '{{ .Files.Get "../etc/passwd" }}' });
  await assert.rejects(renderWerfConfig({ dir: out }), /outside the project directory/);
});

test("env: defaults, empty values, strict mode", async () => {
  const dir = project({
    "werf.yaml": '{{ env "A" }}|{{ env "B" "dflt" }}|{{ env "EMPTY" "d2" }}|{{ env "UNSET" }}\n',
    "werf-giterminism.yaml": "giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowEnvVariables: [A, B, EMPTY, UNSET]\n",
  });
  const environ = { A: "x", EMPTY: "" };
  assert.equal((await renderWerfConfig({ dir, environ })).text, "x|dflt|d2|\n");
  await assert.rejects(renderWerfConfig({ dir, environ, strictEnv: true }), (e: unknown) => {
    assert.ok(e instanceof TemplateError);
    assert.match(e.message, /the environment variable "UNSET" must be set or default must be provided/);
    assert.equal(e.pos.line, 1);
    return true;
  });
});

test("tpl sees the defines of all partials; errors in partials are reported in the partial", async () => {
  const dir = project({
    "werf.yaml": '{{ tpl (.Files.Get "snippet.txt") . }}\n{{ include "bad.tmpl" . }}\n',
    "snippet.txt": '{{ template "greet" }}',
    ".werf/greet.tmpl": '{{ define "greet" }}hi{{ end }}',
    ".werf/bad.tmpl": "ok\n{{ required \"need .Missing\" .Missing }}",
  });
  await assert.rejects(renderWerfConfig({ dir }), (e: unknown) => {
    assert.ok(e instanceof TemplateError);
    assert.deepEqual(e.pos, { file: ".werf/bad.tmpl", line: 2, col: 4 });
    assert.deepEqual(e.diagnostics[0].context, ["included from werf.yaml:2:4"]);
    return true;
  });
  fs.writeFileSync(path.join(dir, ".werf/bad.tmpl"), "ok");
  assert.equal((await renderWerfConfig({ dir })).text, "hi\nok\n");
});

test("errors inside tpl of a project file are located in that file, also through .Files.Glob and for YAML", async () => {
  const dir = project({
    "werf.yaml": 'project: p\nconfigVersion: 1\n---\n{{ tpl (.Files.Get ".werf/images.yaml") $ }}\n',
    ".werf/images.yaml": "image: a\nfrom: alpine\nshell:\n  install: {{ required \"need .Missing\" .Missing }}\n",
  });
  await assert.rejects(renderWerfConfig({ dir }), (e: unknown) => {
    assert.ok(e instanceof TemplateError);
    assert.deepEqual(e.pos, { file: ".werf/images.yaml", line: 4, col: 15 });
    assert.deepEqual(e.diagnostics[0].context, ["rendered by tpl from werf.yaml:4:4"]);
    assert.match(e.goError ?? "", /executing "tpl-\d+"/, "werf's template name stays in Go's own message");
    return true;
  });
  fs.writeFileSync(path.join(dir, "werf.yaml"), 'project: p\nconfigVersion: 1\n{{ range $p, $c := .Files.Glob "images/*/werf.inc.yaml" }}\n---\n{{ tpl $c $ }}\n{{ end }}\n');
  fs.mkdirSync(path.join(dir, "images/b"), { recursive: true });
  fs.writeFileSync(path.join(dir, "images/b/werf.inc.yaml"), "image: b\nfrom: alpine\n{{ fail \"broken on purpose\" }}\n");
  await assert.rejects(renderWerfConfig({ dir }), (e: unknown) => {
    assert.ok(e instanceof TemplateError);
    assert.equal(`${e.pos.file}:${e.pos.line}`, "images/b/werf.inc.yaml:3");
    return true;
  });
  // a YAML error in the tpl's output is located in the file too (through the source map)
  fs.writeFileSync(path.join(dir, "images/b/werf.inc.yaml"), "image: b\nfrom: alpine\nshell: {install: [a, b}\n");
  const rendered = await renderWerfConfig({ dir });
  assert.throws(() => loadWerfConfig(rendered), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(`${e.diagnostics[0].pos?.file}:${e.diagnostics[0].pos?.line}`, "images/b/werf.inc.yaml:3");
    return true;
  });
});

test("a parse error in a partial names the partial file", async () => {
  const dir = project({ "werf.yaml": "a: 1\n", ".werf/x/broken.tmpl": "line1\n{{ if }}\n" });
  await assert.rejects(renderWerfConfig({ dir }), (e: unknown) => {
    assert.ok(e instanceof TemplateError);
    assert.equal(e.pos.file, ".werf/x/broken.tmpl");
    assert.equal(e.goError, "template: x/broken.tmpl:2: missing value for if");
    return true;
  });
});
