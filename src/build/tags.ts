// Stage tags in the repository: `<digest>-<unix-millis>` (werf's RepoStage_ImageFormatWithCreationTs, reference §2.4).
// The registry's tag list is read once per build and indexed by digest here.

export interface StoredStage {
  /** The tag, e.g. `<56 hex>-1700000000000`. */
  tag: string;
  /** Creation time in Unix milliseconds (the tag's suffix). */
  ms: number;
}

const STAGE_TAG = /^([0-9a-f]{56})-([0-9]{1,16})$/;

/** Parses a stage tag; undefined for any other tag (final tags, `-rejected`, foreign tags). */
export function parseStageTag(tag: string): { digest: string; ms: number } | undefined {
  const m = STAGE_TAG.exec(tag);
  if (!m) return undefined;
  return { digest: m[1], ms: Number(m[2]) };
}

/** The stage tag of a digest created at `ms`. */
export function stageTag(digest: string, ms: number): string {
  return `${digest}-${ms}`;
}

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
