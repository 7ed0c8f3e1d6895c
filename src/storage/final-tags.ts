// The final tags: manifest copies inside the registry (GET + PUT, nothing pulled), written after the stages exist.
//
// A no-op build writes none of them when it can prove each already points at the stage it would copy (issue #13:
// a no-op build is one registry request, the tag listing). The proof, for a tag `<image>-<digest>`:
//   - the tag is in this build's listing;
//   - this host wrote it from that same stage tag (the final-tags cache below, written after each copy);
//   - the listing holds no other stage tag `<digest>-<ms>` of that digest: every writer of `<image>-<digest>` copies
//     a stage of that digest, so no other writer (on another host) can have moved it since.
// Stage tags are immutable (`<digest>-<unix-millis>`, never re-pushed). `--add-tag` tags (which move from build
// to build and name no digest) are always written. Cache files: `<dir>/<sha256(repo \0 tag)[0:40]>.json`, default
// dir `$XDG_CACHE_HOME/stapel2docker/final-tags` (else `~/.cache/...`); STAPEL2DOCKER_NO_FINAL_TAG_CACHE=1 turns it
// off. A broken or unwritable cache is ignored (the tag is written).

import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseImageRef, type RegistryClient } from "../registry/index.js";
import { copyImage } from "./repos.js";
import type { StoredStage } from "./tags.js";

/** How many final tags are written at once (each is a manifest GET + PUT inside the registry). */
const FINAL_TAG_CONCURRENCY = 8;

export interface FinalTagJob {
  /** Full reference of the stage tag copied (`<repo>:<digest>-<ms>`). */
  src: string;
  /** Full reference of the final tag. */
  tag: string;
  /** Set when the tag is `<image>-<digest>`: the digest it names (the stage's). */
  digest?: string;
}

export function defaultFinalTagCacheDir(env: Record<string, string | undefined> = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), ".cache");
  return path.join(base, "stapel2docker", "final-tags");
}

/** Which stage tag this host last copied to a final tag. */
export class FinalTagCache {
  constructor(readonly dir: string) {}

  private file(tag: string): string {
    return path.join(this.dir, `${createHash("sha256").update(`final\0${tag}`).digest("hex").slice(0, 40)}.json`);
  }

  /** The stage reference `tag` was last written from here, or undefined. */
  async source(tag: string): Promise<string | undefined> {
    try {
      const v = JSON.parse(await readFile(this.file(tag), "utf8")) as { tag?: unknown; src?: unknown };
      return v.tag === tag && typeof v.src === "string" ? v.src : undefined;
    } catch {
      return undefined;
    }
  }

  async set(tag: string, src: string): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
      const f = this.file(tag);
      const tmp = `${f}.${randomBytes(4).toString("hex")}.tmp`;
      await writeFile(tmp, JSON.stringify({ tag, src }) + "\n");
      await rename(tmp, f);
    } catch {
      // a cache only
    }
  }
}

export interface FinalTagState {
  /** The repository's tags as this build listed them (short tags), new stage tags included. */
  listed: ReadonlySet<string>;
  /** digest → its stored stages in that listing. */
  stages: ReadonlyMap<string, readonly StoredStage[]>;
  /** Final tags already written by this process (tag → src), e.g. by the run that built dependency sources. */
  written: Map<string, string>;
  cache?: FinalTagCache;
}

/** True when `job.tag` provably points at `job.src` already (see the file comment). */
export async function alreadyWritten(job: FinalTagJob, state: FinalTagState): Promise<boolean> {
  if (state.written.get(job.tag) === job.src) return true;
  if (job.digest === undefined || !state.cache) return false;
  const short = job.tag.slice(job.tag.lastIndexOf(":") + 1);
  if (!state.listed.has(short)) return false;
  const stored = state.stages.get(job.digest) ?? [];
  const srcTag = job.src.slice(job.src.lastIndexOf(":") + 1);
  if (stored.length !== 1 || stored[0].tag !== srcTag) return false;
  return (await state.cache.source(job.tag)) === job.src;
}

/** Writes each `tag` as a copy of `src` (both full references; another registry: through `docker buildx imagetools`),
 *  a few at a time, except those `alreadyWritten` proves in place; returns how many were written. */
export async function writeFinalTags(client: RegistryClient, jobs: readonly FinalTagJob[], state?: FinalTagState, docker?: string): Promise<number> {
  const todo: FinalTagJob[] = [];
  for (const j of jobs) if (!state || !(await alreadyWritten(j, state))) todo.push(j);
  const done = async (j: FinalTagJob) => {
    state?.written.set(j.tag, j.src);
    await state?.cache?.set(j.tag, j.src);
  };
  // into another registry (--final-repo): one repository's copies one after the other (two `imagetools create` into
  // one repository at once race on its blobs: the registry refused a manifest PUT with 400), each source copied
  // across once, its other tags copied from there inside that registry
  const repoOf = (ref: string) => ref.slice(0, ref.lastIndexOf(":"));
  const across = new Map<string, FinalTagJob[]>();
  const inside: FinalTagJob[] = [];
  for (const j of todo) {
    if (parseImageRef(j.src).registry === parseImageRef(j.tag).registry) inside.push(j);
    else {
      const list = across.get(repoOf(j.tag)) ?? [];
      across.set(repoOf(j.tag), [...list, j]);
    }
  }
  const crossing = Promise.all(
    [...across.values()].map(async (list) => {
      const first = new Map<string, string>();
      for (const j of list) {
        const there = first.get(j.src);
        await copyImage(client, there ?? j.src, j.tag, docker);
        if (there === undefined) first.set(j.src, j.tag);
        await done(j);
      }
    }),
  );
  const local = (async () => {
    for (let i = 0; i < inside.length; i += FINAL_TAG_CONCURRENCY) {
      await Promise.all(
        inside.slice(i, i + FINAL_TAG_CONCURRENCY).map(async (j) => {
          await copyImage(client, j.src, j.tag, docker);
          await done(j);
        }),
      );
    }
  })();
  await Promise.all([crossing, local]);
  return todo.length;
}
