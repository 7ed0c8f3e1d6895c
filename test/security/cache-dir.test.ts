// A CI may keep the persistent cache in the project directory (GitLab's `cache:` only takes paths there), where a
// branch can commit whatever it likes: entries with valid headers, links in place of the store's folders. The store
// reads only entries it wrote (regular files of this user, 0600; tars 0444), never through a link, and its size
// bound never counts or removes anything a link leads to.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { CacheStore } from "../../src/cache/store.js";
import { tempDir } from "../git/gitFixture.js";

test("an entry with a valid header but checked out by git (0644) or reached through a link is not read", () => {
  const dir = tempDir("sec-cache-forged");
  const store = new CacheStore({ dir });
  store.put("render", "tree-a", "made by stapel2docker");
  const file = store.file("render", "tree-a");
  const bytes = fs.readFileSync(file);
  assert.equal(store.get("render", "tree-a")?.toString(), "made by stapel2docker");
  // the same bytes as a branch commits them: a file of mode 0644 (or 0755)
  for (const mode of [0o644, 0o755, 0o666]) {
    fs.rmSync(file, { force: true }); // (the refused one is removed by the read)
    fs.writeFileSync(file, bytes, { mode });
    fs.chmodSync(file, mode);
    assert.equal(new CacheStore({ dir }).get("render", "tree-a"), undefined, `mode ${mode.toString(8)}`);
  }
  // a link to a file that holds an entry is not followed (and is removed)
  const elsewhere = path.join(tempDir("sec-cache-forged-src"), "entry");
  fs.writeFileSync(elsewhere, bytes, { mode: 0o600 });
  fs.rmSync(file, { force: true });
  fs.symlinkSync(elsewhere, file);
  assert.equal(new CacheStore({ dir }).get("render", "tree-a"), undefined);
  assert.ok(fs.existsSync(elsewhere), "the link's target is left alone");
});

test("a committed link in place of a kind's folder is never read, written through or evicted into", () => {
  const dir = tempDir("sec-cache-link");
  const host = tempDir("sec-cache-host"); // stands for /usr/lib, ~/.ssh...
  for (let i = 0; i < 8; i++) fs.writeFileSync(path.join(host, `precious-${i}`), "x".repeat(4096));
  const first = new CacheStore({ dir });
  first.put("listing", "t", "entry");
  const root = path.dirname(path.dirname(first.file("listing", "t")));
  fs.symlinkSync(host, path.join(root, "archive"));
  // an entry the branch planted in the linked folder, named as the store would name it
  const planted = new CacheStore({ dir: tempDir("sec-cache-plant") });
  planted.put("archive", "k", "attacker's index");
  fs.copyFileSync(planted.file("archive", "k"), path.join(host, path.basename(planted.file("archive", "k"))));
  // a bound far below what the linked folder holds: the eviction must not touch it
  const store = new CacheStore({ dir, maxBytes: 1024 });
  assert.equal(store.get("archive", "k"), undefined, "not read through the link");
  store.put("archive", "other", "y".repeat(2048));
  assert.ok(!fs.existsSync(path.join(host, path.basename(store.file("archive", "other")))), "not written through the link");
  store.put("deps", "big", "z".repeat(4096)); // over the bound: evicts
  store.evict();
  for (let i = 0; i < 8; i++) assert.ok(fs.existsSync(path.join(host, `precious-${i}`)), `precious-${i} survives the size bound`);
  assert.ok(store.stats.evicted >= 1, "the store's own entries are evicted");
});

test("a link in place of the cache's own version folder turns the cache off", () => {
  const dir = tempDir("sec-cache-root");
  const host = tempDir("sec-cache-root-host");
  fs.writeFileSync(path.join(host, "keep"), "k");
  fs.symlinkSync(host, path.join(dir, "v1"));
  const store = new CacheStore({ dir, maxBytes: 1 });
  store.put("listing", "t", "entry");
  assert.equal(store.get("listing", "t"), undefined);
  store.evict();
  assert.deepEqual(fs.readdirSync(host), ["keep"]);
});

test("the stage-label cache takes no file a branch committed under its names (a stage's labels say which commit it holds)", async () => {
  const { LabelCache } = await import("../../src/storage/label-cache.js");
  const dir = tempDir("sec-label-cache");
  const cache = new LabelCache(dir);
  await cache.set("reg/p", "abc-1", { "werf.io/git-commit": "real" });
  const [name] = fs.readdirSync(dir);
  const file = path.join(dir, name!);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(await cache.get("reg/p", "abc-1"), { "werf.io/git-commit": "real" });
  // the same name, checked out by git: forged labels
  fs.rmSync(file);
  fs.writeFileSync(file, JSON.stringify({ repo: "reg/p", tag: "abc-1", labels: { "werf.io/git-commit": "forged" } }), { mode: 0o644 });
  assert.equal(await cache.get("reg/p", "abc-1"), undefined);
  fs.rmSync(file);
  const elsewhere = path.join(tempDir("sec-label-src"), "x.json");
  fs.writeFileSync(elsewhere, JSON.stringify({ repo: "reg/p", tag: "abc-1", labels: { x: "via link" } }), { mode: 0o600 });
  fs.symlinkSync(elsewhere, file);
  assert.equal(await cache.get("reg/p", "abc-1"), undefined);
});
