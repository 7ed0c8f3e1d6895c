// Stage tags in the repository: `<digest>-<unix-millis>` (werf's RepoStage_ImageFormatWithCreationTs, reference §2.4).
// The registry's tag list is read once per build and indexed by digest here.

import { parseStageTag } from "../plan/names.js";

export interface StoredStage {
  /** The tag, e.g. `<56 hex>-1700000000000`. */
  tag: string;
  /** Creation time in Unix milliseconds (the tag's suffix). */
  ms: number;
}

export { parseStageTag, stageTag } from "../plan/names.js";

/** digest → its stored stages, oldest first (ties broken by tag, so the order is the same everywhere). */
export function indexStageTags(tags: Iterable<string>): Map<string, StoredStage[]> {
  const index = new Map<string, StoredStage[]>();
  for (const tag of tags) {
    const p = parseStageTag(tag);
    if (!p) continue;
    let list = index.get(p.digest);
    if (!list) index.set(p.digest, (list = []));
    list.push({ tag, ms: p.ms });
  }
  for (const list of index.values()) list.sort((a, b) => a.ms - b.ms || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  return index;
}

let lastMs = 0;
/** The creation time of a build's new stage tags: now, but never the same millisecond twice in one process (two
 *  builds of one process pushing the same `<digest>-<ms>` at once make the registry's tag link race). */
export function newStageMs(): number {
  lastMs = Math.max(Date.now(), lastMs + 1);
  return lastMs;
}
