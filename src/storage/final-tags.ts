// The final tags: manifest copies inside the registry (GET + PUT, nothing pulled), written after the stages exist.

import type { RegistryClient } from "../registry/index.js";
import { copyImage } from "./repos.js";

/** How many final tags are written at once (each is a manifest GET + PUT inside the registry). */
const FINAL_TAG_CONCURRENCY = 8;

/** Writes each `tag` as a copy of `src` (both full references; another registry: through `docker buildx imagetools`);
 *  independent, so a few at a time. */
export async function writeFinalTags(client: RegistryClient, jobs: readonly { src: string; tag: string }[], docker?: string): Promise<void> {
  for (let i = 0; i < jobs.length; i += FINAL_TAG_CONCURRENCY) {
    await Promise.all(jobs.slice(i, i + FINAL_TAG_CONCURRENCY).map((j) => copyImage(client, j.src, j.tag, docker)));
  }
}
