// When a final tag is written again (src/storage/final-tags.ts): only what the listing and this host's final-tags
// cache prove in place is skipped; everything else is written (the registry client here only counts copies).
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import path from "node:path";
import { FinalTagCache, alreadyWritten, writeFinalTags, type FinalTagJob, type FinalTagState } from "../../src/storage/final-tags.js";
import { indexStageTags } from "../../src/storage/tags.js";
import type { RegistryClient } from "../../src/registry/index.js";
import { tempDir } from "../git/gitFixture.js";

const REPO = "127.0.0.1:5000/p/app";
const D = "a".repeat(56);
const S1 = `${D}-1700000000000`;
const S2 = `${D}-1700000000500`;
const job: FinalTagJob = { src: `${REPO}:${S1}`, tag: `${REPO}:app-${D}`, digest: D };

function state(listed: string[], cache: FinalTagCache | undefined): FinalTagState {
  return { listed: new Set(listed), stages: indexStageTags(listed), written: new Map(), cache };
}

test("a final tag is skipped only when listed, copied by this host from the same stage, and that stage is the digest's only one", async (t) => {
  const dir = tempDir("final-tags");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cache = new FinalTagCache(path.join(dir, "cache"));
  const listed = [S1, `app-${D}`];
  assert.equal(await alreadyWritten(job, state(listed, cache)), false, "never written from here");
  await cache.set(job.tag, job.src);
  assert.equal(await alreadyWritten(job, state(listed, cache)), true);
  assert.equal(await alreadyWritten(job, state([S1], cache)), false, "the tag is gone from the registry");
  assert.equal(await alreadyWritten(job, state([...listed, S2], cache)), false, "another stage of the digest: another host may have copied it");
  assert.equal(await alreadyWritten({ ...job, src: `${REPO}:${S2}` }, state([S2, `app-${D}`], cache)), false, "this host copied another stage");
  assert.equal(await alreadyWritten({ src: job.src, tag: `${REPO}:latest` }, state([...listed, "latest"], cache)), false, "--add-tag tags are always written");
  assert.equal(await alreadyWritten(job, state(listed, undefined)), false, "no cache, no proof");
});

test("writeFinalTags copies what is not proved, records it, and skips it the next time", async (t) => {
  const dir = tempDir("final-tags");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const copies: string[] = [];
  const client = { copyTag: async (src: string, tag: string) => (copies.push(`${src} -> ${tag}`), "sha256:x") } as unknown as RegistryClient;
  const cache = new FinalTagCache(path.join(dir, "cache"));
  const extra: FinalTagJob = { src: job.src, tag: `${REPO}:latest` };
  const listed = [S1, `app-${D}`, "latest"];
  assert.equal(await writeFinalTags(client, [job, extra], state(listed, cache)), 2);
  assert.equal(await writeFinalTags(client, [job, extra], state(listed, cache)), 1, "only the --add-tag tag again");
  assert.deepEqual(copies.slice(2), [`${job.src} -> ${extra.tag}`]);
  // within one process (the dependency-sources run, then the main run) a tag just written is not written again
  const s = state([S1], undefined);
  assert.equal(await writeFinalTags(client, [job], s), 1);
  assert.equal(await writeFinalTags(client, [job], s), 0);
  assert.equal(await writeFinalTags(client, [job]), 1, "without a state everything is written");
});
