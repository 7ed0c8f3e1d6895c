// The persistent cache store (src/cache/store.ts): entries proven by their key, corruption, eviction, two processes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CacheStore, cacheFromEnv, defaultCacheDir } from "../../src/cache/store.js";
import { tempDir } from "../git/gitFixture.js";

test("an entry is read back only under its own key, kind and tool version", () => {
  const dir = tempDir("cache-store");
  try {
    const store = new CacheStore({ dir: path.join(dir, "c") });
    store.put("listing", "tree-a", "payload A");
    assert.equal(store.get("listing", "tree-a")?.toString(), "payload A");
    for (const d of ["c", "c/v1", "c/v1/listing"]) assert.equal(fs.statSync(path.join(dir, d)).mode & 0o777, 0o700, `${d} is private`);
    assert.equal(fs.statSync(store.file("listing", "tree-a")).mode & 0o777, 0o600);
    assert.equal(store.get("listing", "tree-b"), undefined);
    assert.equal(store.get("deps", "tree-a"), undefined);
    assert.equal(new CacheStore({ dir: path.join(dir, "c"), version: "9.9.9" }).get("listing", "tree-a"), undefined, "another tool version");
    // an entry copied under another key's file name is refused (the header names the key)
    fs.copyFileSync(store.file("listing", "tree-a"), store.file("listing", "tree-c"));
    assert.equal(store.get("listing", "tree-c"), undefined);
    assert.equal(store.stats.rejected, 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a truncated or garbled entry is ignored, removed and written again", () => {
  const dir = tempDir("cache-corrupt");
  try {
    const store = new CacheStore({ dir });
    const payload = Buffer.from("x".repeat(5000));
    store.put("deps", "k", payload);
    const file = store.file("deps", "k");
    const whole = fs.readFileSync(file);
    fs.writeFileSync(file, whole.subarray(0, whole.length - 10)); // truncated
    assert.equal(store.get("deps", "k"), undefined);
    assert.equal(fs.existsSync(file), false, "removed");
    store.put("deps", "k", payload);
    const garbled = fs.readFileSync(file);
    garbled[garbled.length - 100] ^= 0xff; // one byte of the payload
    fs.writeFileSync(file, garbled);
    assert.equal(store.get("deps", "k"), undefined);
    fs.writeFileSync(file, "not a cache entry at all");
    assert.equal(store.get("deps", "k"), undefined);
    store.put("deps", "k", payload);
    assert.deepEqual(store.get("deps", "k"), payload, "rewritten and read again");
    assert.equal(store.stats.rejected, 3);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("eviction removes the least recently used entries once the cache is over its bound", () => {
  const dir = tempDir("cache-evict");
  try {
    const store = new CacheStore({ dir, maxBytes: 10_000 });
    const old = Date.now() / 1000 - 1000;
    for (let i = 0; i < 8; i++) {
      store.put("deps", `k${i}`, Buffer.alloc(2000, i));
      fs.utimesSync(store.file("deps", `k${i}`), old + i, old + i); // k0 oldest … k7 newest
    }
    // a companion file goes with its entry
    fs.writeFileSync(`${store.file("deps", "k1")}.tar`, "companion");
    fs.utimesSync(`${store.file("deps", "k1")}.tar`, old, old);
    assert.ok(store.get("deps", "k0"), "k0 used now: the most recent");
    store.evict();
    const left = Array.from({ length: 8 }, (_, i) => i).filter((i) => fs.existsSync(store.file("deps", `k${i}`)));
    let total = 0;
    for (const kind of fs.readdirSync(store.root)) for (const f of fs.readdirSync(path.join(store.root, kind))) total += fs.statSync(path.join(store.root, kind, f)).size;
    assert.ok(total <= 8000, `down to 80 % of the bound: ${total}`);
    assert.ok(left.includes(0) && left.includes(7), `kept the recently used: ${left}`);
    assert.ok(!left.includes(1) && !left.includes(2), `removed the oldest: ${left}`);
    assert.equal(fs.existsSync(`${store.file("deps", "k1")}.tar`), false, "the companion went with its entry");
    assert.ok(store.stats.evicted >= 3);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the size bound is checked from the last scan's total plus what was written, with a scan when that passes it", () => {
  const dir = tempDir("cache-usage");
  try {
    const first = new CacheStore({ dir, maxBytes: 100_000 });
    first.put("deps", "a", Buffer.alloc(10_000, 1));
    first.evict();
    assert.equal(first.stats.scans, 1, "no total yet: a scan");
    const second = new CacheStore({ dir, maxBytes: 100_000 });
    second.put("deps", "b", Buffer.alloc(10_000, 2));
    second.evict();
    assert.equal(second.stats.scans, 0, "under the bound: the total is carried on");
    const third = new CacheStore({ dir, maxBytes: 100_000 });
    for (let i = 0; i < 9; i++) third.put("deps", `c${i}`, Buffer.alloc(10_000, 3));
    third.evict();
    assert.equal(third.stats.scans, 1, "over the bound: a scan");
    assert.ok(third.stats.evicted > 0);
    let total = 0;
    for (const kind of fs.readdirSync(store(dir))) for (const f of fs.readdirSync(path.join(store(dir), kind))) total += fs.statSync(path.join(store(dir), kind, f)).size;
    assert.ok(total <= 80_000 + 200, `down to 80 %: ${total}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function store(dir: string): string {
  return new CacheStore({ dir }).root;
}

test("the environment chooses the folder or turns the cache off", () => {
  assert.equal(defaultCacheDir({ STAPEL2DOCKER_CACHE: "off" }), undefined);
  assert.equal(cacheFromEnv({ STAPEL2DOCKER_CACHE: "0" }), undefined);
  assert.equal(defaultCacheDir({ STAPEL2DOCKER_CACHE_DIR: "/x/y" }), "/x/y");
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: "/xdg" }), "/xdg/stapel2docker/cache");
  assert.equal(cacheFromEnv({ STAPEL2DOCKER_CACHE_DIR: "/x/y", STAPEL2DOCKER_CACHE_MAX_MB: "5" })?.maxBytes, 5 * 1048576);
});

test("two processes writing and reading the same keys never see a partial entry", async () => {
  const dir = tempDir("cache-race");
  const here = path.dirname(fileURLToPath(import.meta.url));
  const storeModule = path.resolve(here, "../../src/cache/store.js");
  // each writer stores, 300 times, a payload of its own size made of one repeated byte; readers check every hit
  const script = `
    import { CacheStore } from ${JSON.stringify(storeModule)};
    const [dir, id] = process.argv.slice(1);
    const store = new CacheStore({ dir });
    let hits = 0;
    for (let i = 0; i < 300; i++) {
      const key = "k" + (i % 5);
      store.put("deps", key, Buffer.alloc(50000 + Number(id) * 7919, Number(id)));
      const got = store.get("deps", key);
      if (!got) continue;
      const size = got.length, byte = got[0];
      if (size !== 50000 + byte * 7919 || got.some((b) => b !== byte)) { console.log("BAD " + size + " " + byte); process.exit(1); }
      hits++;
    }
    console.log("ok " + hits + " rejected " + store.stats.rejected);
  `;
  const run = (id: number) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ["--input-type=module", "-e", script, dir, String(id)], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (b: Buffer) => (out += b.toString()));
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`writer ${id}: ${out}`))));
    });
  try {
    const results = await Promise.all([run(1), run(2)]);
    for (const r of results) assert.match(r, /^ok \d+ rejected 0$/, r);
    const leftovers = fs.readdirSync(path.join(dir, "v1", "deps")).filter((n) => n.includes(".tmp-"));
    assert.deepEqual(leftovers, [], "no temp file left");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("putSoon: seen by this process at once, on disk for others after flush, the last of two puts kept", async () => {
  const dir = tempDir("cache-soon");
  try {
    const store = new CacheStore({ dir });
    store.putSoon("deps", "k", [Buffer.from("first "), Buffer.from("payload")]);
    store.putSoon("deps", "k", [Buffer.from("second "), Buffer.from("payload")]);
    store.putSoon("matches", "m", "witness");
    assert.equal(store.has("deps", "k"), true);
    assert.deepEqual(store.get("deps", "k"), Buffer.from("second payload"));
    assert.deepEqual(store.get("matches", "m"), Buffer.from("witness"));
    await store.flush();
    const other = new CacheStore({ dir });
    assert.deepEqual(other.get("deps", "k"), Buffer.from("second payload"), "the last put is the one on disk");
    assert.deepEqual(other.get("matches", "m"), Buffer.from("witness"));
    assert.equal(fs.readdirSync(path.join(store.root, "deps")).length, 1, "no temp file left");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("put after a putSoon of the same entry lands after it (the newer payload is the one on disk)", async () => {
  const dir = tempDir("cache-soon-put");
  try {
    const store = new CacheStore({ dir });
    store.putSoon("pointer", "p", Buffer.alloc(4 << 20, 1)); // big: its background write takes a while
    store.put("pointer", "p", "newer");
    assert.deepEqual(store.get("pointer", "p"), Buffer.from("newer"));
    await store.flush();
    assert.deepEqual(new CacheStore({ dir }).get("pointer", "p"), Buffer.from("newer"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("putSoon on a cache that cannot be written turns it off for the process, without failing", async () => {
  if (process.getuid?.() === 0) {
    // root writes into read-only folders: a path under a file cannot be made by anyone
    const dir = tempDir("cache-soon-ro");
    try {
      fs.writeFileSync(path.join(dir, "file"), "not a folder");
      const store = new CacheStore({ dir: path.join(dir, "file") });
      store.putSoon("deps", "k", "payload");
      await store.flush();
      assert.equal(store.get("deps", "k"), undefined, "off");
      store.putSoon("deps", "k2", "payload");
      assert.equal(store.has("deps", "k2"), false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    return;
  }
  const dir = tempDir("cache-soon-ro");
  try {
    const store = new CacheStore({ dir });
    fs.mkdirSync(store.root, { recursive: true });
    fs.chmodSync(store.root, 0o500);
    store.putSoon("deps", "k", "payload");
    await store.flush();
    assert.equal(store.get("deps", "k"), undefined, "off");
  } finally {
    fs.chmodSync(path.join(dir, "v1"), 0o700);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a hit's mtime (its place in the LRU order) is set even when the process exits at once", async () => {
  const dir = tempDir("cache-touch");
  const here = path.dirname(fileURLToPath(import.meta.url));
  const storeModule = path.resolve(here, "../../src/cache/store.js");
  try {
    const store = new CacheStore({ dir });
    store.put("deps", "k", "payload");
    const file = store.file("deps", "k");
    const old = Date.now() / 1000 - 10_000;
    fs.utimesSync(file, old, old);
    // libuv's threads kept busy: the background utimes waits behind that work, and still runs before the exit
    const script = `
      import { CacheStore } from ${JSON.stringify(storeModule)};
      import { pbkdf2 } from "node:crypto";
      for (let i = 0; i < 4; i++) pbkdf2("x", "y", 200000, 32, "sha256", () => {});
      const got = new CacheStore({ dir: process.argv[1] }).get("deps", "k");
      process.exit(got && got.toString() === "payload" ? 0 : 3);
    `;
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, ["--input-type=module", "-e", script, dir], { stdio: "inherit" });
      child.on("error", reject);
      child.on("close", resolve);
    });
    assert.equal(code, 0);
    assert.ok(fs.statSync(file).mtimeMs > Date.now() - 60_000, "used now");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
