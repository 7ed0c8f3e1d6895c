// The loaded config through the persistent cache: the same WerfConfig as loading it (values, positions, undefined
// keys), a miss for any other text or source map, errors never cached.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { loadWerfConfig } from "../../src/config/index.js";
import { renderWerfConfig } from "../../src/template/render.js";
import { CacheStore } from "../../src/cache/store.js";
import { configCounts, loadWerfConfigCached } from "../../src/cache/config.js";
import { UserError } from "../../src/diagnostics.js";
import { tempDir, writeFile } from "../git/gitFixture.js";

const TEMPLATE = `{{- define "from" }}stapel2docker/base-busybox:latest{{ end -}}
project: cfgcache
configVersion: 1
---
image: app
from: {{ include "from" . }}
git:
- add: /src
  to: /app
  stageDependencies:
    install: ["*.go"]
shell:
  install: ["echo {{ .Env }}"]
docker:
  ENV:
    A: "1"
`;

async function render(dir: string, env?: string) {
  return renderWerfConfig({ dir, environ: {}, env, commit: null });
}

test("a cached config equals the loaded one; another text or source map is a miss", async () => {
  const dir = tempDir("cfgcache");
  const store = new CacheStore({ dir: tempDir("cfgcache-store") });
  writeFile(dir, "werf.yaml", TEMPLATE);
  const rendered = await render(dir);
  const plain = loadWerfConfig(rendered);
  const before = { ...configCounts };
  const first = loadWerfConfigCached(rendered, store);
  const second = loadWerfConfigCached(rendered, new CacheStore({ dir: store.root.replace(/\/v\d+$/, "") }));
  assert.deepEqual(configCounts, { cache: before.cache + 1, loaded: before.loaded + 1 });
  assert.deepStrictEqual(first, plain);
  // strict: keys holding undefined, positions and value types are the loaded config's
  assert.deepStrictEqual(second, plain);
  assert.equal(JSON.stringify(second), JSON.stringify(plain));

  // the same text from another template layout: positions differ, so the key differs
  writeFile(dir, "werf.yaml", TEMPLATE.replace('{{- define "from" }}stapel2docker/base-busybox:latest{{ end -}}\n', "").replace('{{ include "from" . }}', "stapel2docker/base-busybox:latest"));
  const moved = await render(dir);
  assert.equal(moved.text, rendered.text, "same rendered text");
  const c0 = configCounts.cache;
  assert.deepStrictEqual(loadWerfConfigCached(moved, store), loadWerfConfig(moved));
  assert.equal(configCounts.cache, c0, "a different source map is a miss");

  // another --env changes the text: a miss, and the value is the new one
  writeFile(dir, "werf.yaml", TEMPLATE);
  const other = await render(dir, "two");
  const c1 = configCounts.cache;
  const loaded = loadWerfConfigCached(other, store);
  assert.equal(configCounts.cache, c1);
  assert.deepStrictEqual(loaded, loadWerfConfig(other));
  assert.match(JSON.stringify(loaded), /echo two/);
});

test("a config with errors is never cached: each load reports them", async () => {
  const dir = tempDir("cfgcache-err");
  const store = new CacheStore({ dir: tempDir("cfgcache-store") });
  writeFile(dir, "werf.yaml", "project: x\nconfigVersion: 1\n---\nimage: app\nfrom: 3\nshel: {}\n");
  const rendered = await render(dir);
  for (let i = 0; i < 2; i++) {
    assert.throws(() => loadWerfConfigCached(rendered, store), (e: unknown) => e instanceof UserError && /werf\.yaml:\d+:\d+/.test(e.message));
  }
  assert.equal(fs.existsSync(path.join(store.root, "config")), false, "nothing written");
});

test("a garbled cached config is refused and loaded again", async () => {
  const dir = tempDir("cfgcache-garbled");
  const storeDir = tempDir("cfgcache-store");
  writeFile(dir, "werf.yaml", TEMPLATE);
  const rendered = await render(dir);
  loadWerfConfigCached(rendered, new CacheStore({ dir: storeDir }));
  const folder = path.join(storeDir, "v1", "config");
  for (const n of fs.readdirSync(folder)) {
    const f = path.join(folder, n);
    const buf = fs.readFileSync(f);
    buf[buf.length - 5] ^= 0x21;
    fs.writeFileSync(f, buf);
  }
  const store = new CacheStore({ dir: storeDir });
  const c0 = configCounts.cache;
  assert.deepStrictEqual(loadWerfConfigCached(rendered, store), loadWerfConfig(rendered));
  assert.equal(configCounts.cache, c0);
  assert.equal(store.stats.rejected, 1);
});
