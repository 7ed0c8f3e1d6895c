// Project file reads (.Files.*, werf.yaml, .werf/**/*.tmpl) stay inside the project: symlinks are followed only
// while they lead to something inside it, `..` may not climb out, and a leading "/" is project-relative (werf).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/diagnostics.js";
import { renderWerfConfig } from "../../src/template/render.js";
import { TemplateError } from "../../src/template/template.js";
import { tempDir } from "../git/gitFixture.js";

function project(files: Record<string, string>, links: Record<string, string> = {}): string {
  const dir = tempDir("sec-files");
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  for (const [rel, target] of Object.entries(links)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.symlinkSync(target, path.join(dir, rel));
  }
  return dir;
}

const SECRET = "S2D_SECRET_VALUE_do_not_leak";

/** Runs `fn` with a secret in this process's environment (what /proc/self/environ would show). */
async function withSecret<T>(fn: () => Promise<T>): Promise<T> {
  process.env.S2D_TEST_SECRET = SECRET;
  try {
    return await fn();
  } finally {
    delete process.env.S2D_TEST_SECRET;
  }
}

function rejectsWithout(secret: string, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.ok(!e.message.includes(secret), `the error message leaks the secret: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  };
}

test(".Files.Get of a committed link to /proc/self/environ is refused and leaks nothing", async () => {
  const dir = project({ "werf.yaml": 'v: {{ .Files.Get "leak" }}\n' }, { leak: "/proc/self/environ" });
  await withSecret(() =>
    assert.rejects(
      renderWerfConfig({ dir }),
      rejectsWithout(SECRET, /\{\{ \.Files\.Get "leak" \}\}: "leak" is a symbolic link \(or lies below one\) that leads outside the project directory/),
    ),
  );
});

test(".Files.Get through a linked directory, relative or absolute, that leads outside is refused", async () => {
  const outside = tempDir("sec-outside");
  fs.writeFileSync(path.join(outside, "secret.txt"), SECRET);
  for (const target of [outside, path.relative(os.tmpdir(), outside).replace(/^/, "../")]) {
    const dir = project({ "werf.yaml": 'v: {{ .Files.Get "conf/secret.txt" }}\n' }, { conf: target });
    await assert.rejects(renderWerfConfig({ dir }), rejectsWithout(SECRET, /"conf\/secret\.txt" is a symbolic link \(or lies below one\) that leads outside/));
  }
});

test("`..` climbing out of the project is refused for Get, Exists, IsDir and Glob", async () => {
  for (const call of ['.Files.Get "../x"', '.Files.Exists "a/../../x"', '.Files.IsDir "/../x"']) {
    const dir = project({ "werf.yaml": `v: {{ ${call} }}\n` });
    await assert.rejects(renderWerfConfig({ dir }), /is outside the project directory/, call);
  }
});

test("links inside the project are followed, as werf does", async () => {
  const dir = project(
    { "werf.yaml": 'a: {{ .Files.Get "alias.txt" }}\nb: {{ .Files.Get "d2/f.txt" }}\nc: {{ range $p, $c := .Files.Glob "d2/*" }}{{ $p }}={{ $c }};{{ end }}\nd: {{ .Files.IsDir "d2" }}\n', "real/f.txt": "F", "t.txt": "T" },
    { "alias.txt": "t.txt", d2: "real" },
  );
  const r = await renderWerfConfig({ dir });
  assert.equal(r.text, "a: T\nb: F\nc: d2/f.txt=F;\nd: true\n");
});

test("Exists and IsDir are false for a link leading outside (nothing about the host is revealed)", async () => {
  const dir = project({ "werf.yaml": 'e: {{ .Files.Exists "etc" }} {{ .Files.Exists "passwd" }}\nd: {{ .Files.IsDir "etc" }}\n' }, { etc: "/etc", passwd: "/etc/passwd" });
  assert.equal((await renderWerfConfig({ dir })).text, "e: false false\nd: false\n");
});

test(".Files.Glob fails on a matching link that leads outside, and skips one it cannot match", async () => {
  const dir = project({ "werf.yaml": '{{ range $p, $c := .Files.Glob "conf/*.txt" }}{{ $p }};{{ end }}\n', "conf/a.txt": "A" }, { "conf/b.txt": "/proc/self/environ", "other/x.txt": "/etc/hostname" });
  await withSecret(() => assert.rejects(renderWerfConfig({ dir }), rejectsWithout(SECRET, /\{\{ \.Files\.Glob "conf\/\*\.txt" \}\}: "conf\/b\.txt" is a symbolic link/)));
  const ok = project({ "werf.yaml": '{{ range $p, $c := .Files.Glob "conf/*.txt" }}{{ $p }};{{ end }}\n', "conf/a.txt": "A" }, { "other/x.txt": "/etc/hostname", "dir-out": "/etc" });
  assert.equal((await renderWerfConfig({ dir: ok })).text, "conf/a.txt;\n");
});

test("a leading / is project-relative in Get, Exists, IsDir and Glob (werf joins it with the project dir)", async () => {
  const dir = project({
    "werf.yaml": 'a: {{ .Files.Get "/build/components/versions.yml" }}\nb: {{ .Files.Exists "/build/components" }} {{ .Files.IsDir "/build" }}\nc: {{ range $p, $c := .Files.Glob "/build/**/*.yml" }}{{ $p }};{{ end }}\n',
    "build/components/versions.yml": "v1",
  });
  assert.equal((await renderWerfConfig({ dir })).text, "a: v1\nb: true true\nc: build/components/versions.yml;\n");
});

test("a link loop is an error, not a hang", async () => {
  const dir = project({ "werf.yaml": 'v: {{ .Files.Get "a" }}\n' }, { a: "b", b: "a" });
  await assert.rejects(renderWerfConfig({ dir }), (e: unknown) => e instanceof TemplateError && /too many levels of symbolic links/.test(e.message));
});

test("werf.yaml or a .werf template linked outside the project is a UserError and leaks nothing", async () => {
  const outside = tempDir("sec-outside");
  fs.writeFileSync(path.join(outside, "werf.yaml"), `project: ${SECRET}\n`);
  fs.writeFileSync(path.join(outside, "x.tmpl"), SECRET);
  const cfg = project({}, { "werf.yaml": path.join(outside, "werf.yaml") });
  await assert.rejects(renderWerfConfig({ dir: cfg }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.ok(!e.message.includes(SECRET));
    assert.match(e.message, /werf config "werf\.yaml" is a symbolic link \(or lies below one\) that leads outside the project directory/);
    assert.ok(e.diagnostics[0].hint);
    return true;
  });
  const tmpl = project({ "werf.yaml": 'v: {{ include "x.tmpl" . }}\n' }, { ".werf/x.tmpl": path.join(outside, "x.tmpl") });
  await assert.rejects(renderWerfConfig({ dir: tmpl }), (e: unknown) => e instanceof UserError && /template "\.werf\/x\.tmpl" is a symbolic link/.test(e.message) && !e.message.includes(SECRET));
  // a linked template inside the project is read, under its own name
  const inside = project({ "werf.yaml": 'v: {{ include "y.tmpl" . }}\n', "shared/y.tmpl": "Y" }, { ".werf/y.tmpl": "../shared/y.tmpl" });
  assert.equal((await renderWerfConfig({ dir: inside })).text, "v: Y\n");
});
