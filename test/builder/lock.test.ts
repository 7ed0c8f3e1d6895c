// Host-local stage locks (flock held by a child process) and stage tag parsing: no engine needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { acquireLock, acquireLocks, indexStageTags, lockFile, parseStageTag, releaseLocks } from "../../src/builder/index.js";
import { repoRoot } from "../support/paths.js";
import { tempDir } from "../git/gitFixture.js";

const D1 = "a".repeat(56);
const D2 = "b".repeat(56);

test("stage tags: <56 hex>-<ms> only, indexed oldest first", () => {
  assert.deepEqual(parseStageTag(`${D1}-1700000000123`), { digest: D1, ms: 1700000000123 });
  assert.equal(parseStageTag(`app-${D1}`), undefined);
  assert.equal(parseStageTag(`${D1}-1700000000123-rejected`), undefined);
  assert.equal(parseStageTag(D1), undefined);
  const idx = indexStageTags([`${D1}-30`, `${D2}-5`, `${D1}-10`, "latest", `${D1}-20`]);
  assert.deepEqual(idx.get(D1)!.map((s) => s.ms), [10, 20, 30]);
  assert.deepEqual(idx.get(D2)!.map((s) => s.tag), [`${D2}-5`]);
  assert.equal(idx.size, 2);
});

test("a second taker waits until the holder releases", async (t) => {
  const dir = tempDir("locks");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = lockFile(dir, "127.0.0.1:5000/p/app", D1);
  assert.equal(file, lockFile(dir, "127.0.0.1:5000/p/app", D1), "same key, same file");
  assert.notEqual(file, lockFile(dir, "127.0.0.1:5000/p/other", D1));
  const first = await acquireLock(file);
  let waited = false;
  let got = false;
  const second = acquireLock(file, () => (waited = true)).then((l) => ((got = true), l));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(got, false, "still waiting while the first holds it");
  assert.equal(waited, true, "told that it waits");
  await first.release();
  const l2 = await second;
  assert.equal(got, true);
  await l2.release();
});

test("a holder killed with SIGKILL releases its locks (kernel flock)", async (t) => {
  const dir = tempDir("locks");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = [lockFile(dir, "r", D2), lockFile(dir, "r", D1)];
  const mod = path.join(repoRoot, "dist/src/storage/lock.js");
  const holder = spawn(process.execPath, [
    "--input-type=module",
    "-e",
    `const m = await import(${JSON.stringify(mod)}); await m.acquireLocks(${JSON.stringify(files)}); console.log("held"); setInterval(() => {}, 1000);`,
  ], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve) => holder.stdout!.on("data", (b: Buffer) => b.toString().includes("held") && resolve()));
  let got = false;
  const mine = acquireLocks(files).then((l) => ((got = true), l));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(got, false, "blocked while the holder lives");
  holder.kill("SIGKILL");
  const locks = await mine;
  assert.equal(locks.length, 2);
  await releaseLocks(locks);
});
