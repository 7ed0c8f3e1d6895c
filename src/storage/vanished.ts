// A stored stage chosen for reuse can disappear between the tag listing and its use (a `cleanup` deleting it
// meanwhile): buildx then fails to pull it, or the final tag copy finds no manifest. When a step fails, the stored
// stages it relied on are checked; if one is gone the failure is a StageVanished, and `build` starts over (the new
// listing no longer has the stage, so it is built).

import type { RegistryClient } from "../registry/index.js";
import type { DockerfileState } from "./plan.js";
import type { ImageChain } from "./resolve.js";

export class StageVanished extends Error {
  constructor(readonly tags: string[], override readonly cause: unknown) {
    super(`stored stage(s) ${tags.join(", ")} disappeared`);
  }
}

/** Runs `step`; when it fails and a stored stage of the chains is gone from the repository, throws StageVanished. */
export async function vanishedStages<T>(client: RegistryClient, repo: string, chains: ImageChain[], dockerfiles: DockerfileState[], step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    const stored = new Set<string>();
    for (const c of chains) for (const s of c.stages) if (s.stored) stored.add(s.stored.tag);
    for (const d of dockerfiles) if (d.stored) stored.add(d.stored.tag);
    if (stored.size === 0) throw e;
    let gone: string[];
    try {
      const now = new Set(await client.listTags(repo));
      gone = [...stored].filter((t) => !now.has(t)).sort();
    } catch {
      throw e;
    }
    if (gone.length) throw new StageVanished(gone, e);
    throw e;
  }
}
