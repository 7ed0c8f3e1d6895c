// The render, the "mapping matches a file" check and the listing through the persistent cache: a re-plan after a
// commit uses the previous render only when the commit changed nothing it looked up, and the plan is always the
// one made without the cache (warnings and the notice of unused uncommitted changes included).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { planProject } from "../../src/plan/plan.js";
import { CacheStore } from "../../src/cache/store.js";
import { renderCounts } from "../../src/cache/render.js";
import type { BaseImageResolver } from "../../src/plan/model.js";
import { commitAll, git, tempDir, writeFile } from "../git/gitFixture.js";

const ASSUMED: BaseImageResolver = { resolve: async () => ({ user: "", workdir: "", source: "assumed" }) };

const WERF_YAML = `project: rendercache
configVersion: 1
---
image: app
from: {{ include "base" . }}
git:
- add: /src
  to: /app
  stageDependencies:
    install: ["*.go"]
shell:
  install:
  - echo {{ .Files.Get "conf/version.txt" | trim }}
  - echo {{ env "RENDER_CACHE_VALUE" "unset" }}
{{- range $p, $_ := .Files.Glob "conf/*.list" }}
  - echo {{ $p }}
{{- end }}
{{- if .Files.Exists "conf/extra.txt" }}
  - echo extra
{{- end }}
`;

function makeProject(yaml = WERF_YAML): string {
  const dir = tempDir("render-cache");
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", yaml);
  writeFile(dir, "werf-giterminism.yaml", "giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowEnvVariables: [RENDER_CACHE_VALUE]\n");
  writeFile(dir, ".werf/base.tmpl", '{{ define "base" }}stapel2docker/base-busybox:latest{{ end }}');
  writeFile(dir, "conf/version.txt", "1.0\n");
  writeFile(dir, "conf/a.list", "a\n");
  writeFile(dir, "src/main.go", "package main\n");
  writeFile(dir, "docs/readme.md", "# docs\n");
  commitAll(dir, "initial");
  return dir;
}

async function plans(dir: string, cacheDir: string, environ: Record<string, string> = {}): Promise<{ cached: string; plain: string; how: string }> {
  const before = { ...renderCounts };
  const cached = JSON.stringify(await planProject({ dir, environ, baseImages: ASSUMED, cache: new CacheStore({ dir: cacheDir }) }));
  const how = (Object.keys(renderCounts) as (keyof typeof renderCounts)[]).filter((k) => renderCounts[k] !== before[k]).join(",");
  const plain = JSON.stringify(await planProject({ dir, environ, baseImages: ASSUMED, cache: false }));
  return { cached, plain, how };
}

test("a render is used again exactly when the commit did not change what it looked up", async () => {
  const dir = makeProject();
  const cacheDir = tempDir("render-cache-dir");
  const steps: [string, () => void, string, Record<string, string>?][] = [
    ["initial", () => {}, "rendered"],
    ["a file the render does not read", () => writeFile(dir, "docs/readme.md", "# changed\n"), "derived"],
    ["a mapped source file", () => writeFile(dir, "src/main.go", "package main // 2\n"), "derived"],
    ["a file .Files.Get reads", () => writeFile(dir, "conf/version.txt", "2.0\n"), "rendered"],
    ["a partial", () => writeFile(dir, ".werf/base.tmpl", '{{ define "base" }}stapel2docker/base-bash:latest{{ end }}'), "rendered"],
    ["a new partial", () => writeFile(dir, ".werf/other.tmpl", '{{ define "other" }}x{{ end }}'), "rendered"],
    ["a file .Files.Glob finds", () => writeFile(dir, "conf/b.list", "b\n"), "rendered"],
    ["a file .Files.Exists asked about", () => writeFile(dir, "conf/extra.txt", "x\n"), "rendered"],
    ["unrelated again", () => writeFile(dir, "docs/readme.md", "# changed again\n"), "derived"],
    // a file added anywhere may change what the Glob's walk from the project's top saw: rendered again
    ["an unrelated file added", () => writeFile(dir, "docs/more.md", "more\n"), "rendered"],
    ["an env value read", () => writeFile(dir, "docs/readme.md", "# env\n"), "rendered", { RENDER_CACHE_VALUE: "set" }],
  ];
  for (const [what, change, expected, environ] of steps) {
    change();
    commitAll(dir, what);
    const r = await plans(dir, cacheDir, environ);
    assert.equal(r.cached, r.plain, `${what}: plan`);
    assert.equal(r.how, expected, `${what}: how the render was had`);
  }
  // the same commit again: the render of this very tree
  const again = await plans(dir, cacheDir, { RENDER_CACHE_VALUE: "set" });
  assert.equal(again.how, "sameTree");
  assert.equal(again.cached, again.plain);
  // another value of the variable: rendered again, with it
  const other = await plans(dir, cacheDir, { RENDER_CACHE_VALUE: "other" });
  assert.equal(other.how, "rendered");
  assert.equal(other.cached, other.plain);
  assert.match(other.cached, /echo other/);
});

test("a template that reads .Commit or calls a time or random function is never used for another commit", async () => {
  for (const [extra, expected] of [
    ["  - echo {{ .Commit.Hash }}\n", "rendered"],
    ["  - echo {{ toJson . | len }}\n", "rendered"],
    ['  - echo {{ now | date "2006" }}\n', "uncacheable"],
    ["  - echo {{ randAlphaNum 4 | len }}\n", "uncacheable"],
  ] as const) {
    const dir = makeProject(WERF_YAML + extra);
    const cacheDir = tempDir("render-cache-dir");
    const first = await plans(dir, cacheDir);
    if (expected === "uncacheable") {
      assert.equal(first.how, "", `${extra}: not stored`);
      assert.equal(fs.existsSync(path.join(cacheDir, "v1", "render")), false);
    } else {
      assert.equal(first.how, "rendered");
    }
    writeFile(dir, "docs/readme.md", "# changed\n");
    commitAll(dir, "unrelated");
    const second = await plans(dir, cacheDir);
    assert.equal(second.how, expected === "uncacheable" ? "" : "rendered", extra);
    if (expected !== "uncacheable") assert.equal(second.cached, second.plain, extra);
  }
});

test("the notice of unused uncommitted changes is the same from a cached render", async () => {
  const dir = makeProject();
  const cacheDir = tempDir("render-cache-dir");
  await plans(dir, cacheDir);
  writeFile(dir, "docs/readme.md", "# committed\n");
  commitAll(dir, "unrelated");
  // uncommitted: a file .Files.Get reads, one .Files.Glob would find, a partial, a mapped file, an unrelated one
  writeFile(dir, "conf/version.txt", "9.9\n");
  writeFile(dir, "conf/new.list", "n\n");
  writeFile(dir, ".werf/base.tmpl", "{{ define \"base\" }}changed{{ end }}");
  writeFile(dir, "src/main.go", "package main // uncommitted\n");
  writeFile(dir, "docs/other.md", "x\n");
  const r = await plans(dir, cacheDir);
  assert.equal(r.how, "derived");
  assert.equal(r.cached, r.plain);
  const notice = (JSON.parse(r.cached) as { warnings: { message: string }[] }).warnings.find((w) => w.message.startsWith("uncommitted changes are not used"));
  assert.ok(notice, "the notice is there");
  for (const p of [".werf/base.tmpl", "conf/new.list", "conf/version.txt", "src/main.go"]) assert.ok(notice.message.includes(p), `${p} in ${notice.message}`);
  assert.ok(!notice.message.includes("docs/other.md"));
});

test("a mapping that stops matching any file after a commit fails as without the cache", async () => {
  const dir = makeProject();
  const cacheDir = tempDir("render-cache-dir");
  await plans(dir, cacheDir);
  fs.rmSync(path.join(dir, "src"), { recursive: true });
  writeFile(dir, "other.txt", "x\n");
  commitAll(dir, "no more src");
  const plain = await planProject({ dir, environ: {}, baseImages: ASSUMED, cache: false }).then(() => "", (e: Error) => e.message);
  const cached = await planProject({ dir, environ: {}, baseImages: ASSUMED, cache: new CacheStore({ dir: cacheDir }) }).then(() => "", (e: Error) => e.message);
  assert.match(plain, /matches no files/);
  assert.equal(cached, plain);
});
