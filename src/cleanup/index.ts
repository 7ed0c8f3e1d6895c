// `stapel2docker cleanup` and `purge`: read the repository (tags, manifests, build records) and the git history,
// make the plan (src/cleanup/plan.ts, pure), and delete the manifests it names through the distribution API.
// docs/cleanup.md.

import { UserError } from "../diagnostics.js";
import { loadWerfConfig } from "../config/index.js";
import { repoOf } from "../plan/names.js";
import { parseStageTag } from "../plan/names.js";
import { LABELS } from "../plan/labels.js";
import { RegistryClient, isIndexMediaType, type Manifest } from "../registry/index.js";
import { LabelCache, defaultLabelCacheDir } from "../storage/label-cache.js";
import { renderWerfConfig, type RenderOptions } from "../template/render.js";
import { readHistory, readReferences } from "./git.js";
import { makeCleanupPlan, type CleanupPlan, type ManifestFacts } from "./plan.js";
import { parseCleanupConfig, type CleanupConfig } from "./policy.js";
import { isRecordTag, parseRecord, type StoredRecord } from "./records.js";

export { makeCleanupPlan, formatCleanupPlan, formatBytes, type CleanupPlan, type TagDecision } from "./plan.js";

export interface CleanupOptions {
  render: RenderOptions;
  /** REGISTRY/PROJECT (default: the project name). */
  repo?: string;
  dryRun?: boolean;
  client?: RegistryClient;
  /** The time (tests); default Date.now(). */
  nowMs?: number;
  /** Stage-labels cache folder; null: none. */
  labelCacheDir?: string | null;
  log?: (line: string) => void;
}

export interface CleanupResult {
  plan: CleanupPlan;
  /** Manifests deleted (digests), and those already gone. */
  deleted: string[];
  gone: string[];
  /** Manifests left because a tag written since the listing points at them. */
  spared: string[];
  dryRun: boolean;
  /** cleanup.disable in werf.yaml: nothing was done. */
  disabled?: boolean;
  /** HTTP requests sent to the registry. */
  registryRequests: number;
}

const CONCURRENCY = 8;

async function pool<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

/** werf.yaml's project and cleanup settings. */
export async function loadCleanupConfig(render: RenderOptions): Promise<{ project: string; config: CleanupConfig }> {
  const rendered = await renderWerfConfig(render);
  const werf = loadWerfConfig(rendered);
  return { project: werf.meta.project, config: parseCleanupConfig(werf.meta.cleanup, werf.meta.pos, werf.meta.cleanupPositions) };
}

/** What the repository holds: every tag, its manifest's digest and sizes, the records. */
async function readRepository(client: RegistryClient, repo: string, labelCache?: LabelCache): Promise<{
  tags: string[];
  digests: Map<string, string>;
  manifests: Map<string, ManifestFacts>;
  records: StoredRecord[];
}> {
  const tags = await client.listTags(repo);
  const digests = new Map<string, string>();
  const manifests = new Map<string, ManifestFacts>();
  const records: StoredRecord[] = [];
  const children = new Map<string, Promise<Manifest | undefined>>();
  const child = (digest: string) => {
    let p = children.get(digest);
    if (!p) children.set(digest, (p = client.getManifest(`${repo}@${digest}`).catch(() => undefined)));
    return p;
  };
  const blobsOf = (m: Manifest): Record<string, number> => {
    const b: Record<string, number> = {};
    const add = (d: { digest?: unknown; size?: unknown } | undefined) => {
      if (d && typeof d.digest === "string" && typeof d.size === "number") b[d.digest] = d.size;
    };
    add(m.json?.config);
    for (const l of Array.isArray(m.json?.layers) ? m.json.layers : []) add(l);
    return b;
  };
  await pool(tags, CONCURRENCY, async (tag) => {
    // stage tags and records never change: their facts are cached host-locally like stage labels
    const immutable = parseStageTag(tag) !== undefined || isRecordTag(tag);
    const cacheKey = `manifest:${tag}`;
    const cached = immutable ? await labelCache?.get(repo, cacheKey) : undefined;
    if (cached?.digest && cached.facts) {
      digests.set(tag, cached.digest);
      manifests.set(cached.digest, JSON.parse(cached.facts) as ManifestFacts);
      if (cached.annotations) {
        const r = parseRecord(tag, JSON.parse(cached.annotations) as Record<string, string>);
        if (r) records.push(r);
      }
      return;
    }
    let m: Manifest;
    try {
      m = await client.getManifest(`${repo}:${tag}`);
    } catch (e) {
      if (e instanceof UserError && /not found/.test(e.message)) return; // deleted meanwhile
      throw e;
    }
    digests.set(tag, m.digest);
    let blobs = blobsOf(m);
    if (isIndexMediaType(m.mediaType)) {
      blobs = {};
      for (const c of Array.isArray(m.json?.manifests) ? m.json.manifests : []) {
        if (typeof c?.digest !== "string") continue;
        const cm = await child(c.digest);
        if (cm) blobs = { ...blobs, ...blobsOf(cm), [c.digest]: cm.body.length };
      }
    }
    const facts: ManifestFacts = { size: m.body.length, blobs };
    manifests.set(m.digest, facts);
    const annotations = (m.json?.annotations ?? undefined) as Record<string, string> | undefined;
    if (isRecordTag(tag)) {
      const r = parseRecord(tag, annotations);
      if (r) records.push(r);
    }
    if (immutable) {
      await labelCache?.set(repo, cacheKey, {
        digest: m.digest,
        facts: JSON.stringify(facts),
        ...(annotations && isRecordTag(tag) ? { annotations: JSON.stringify(annotations) } : {}),
      });
    }
  });
  records.sort((a, b) => (a.tag < b.tag ? -1 : 1));
  return { tags, digests, manifests, records };
}

/** The project each stage tag's image config names (io.stapel2docker.project); read through the labels cache. */
async function stageProjects(client: RegistryClient, repo: string, tags: string[], labelCache?: LabelCache): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  await pool(tags, CONCURRENCY, async (tag) => {
    let labels = await labelCache?.get(repo, tag);
    if (!labels) {
      try {
        const c = await client.getImageConfig(`${repo}:${tag}`);
        labels = { ...((c.config as { config?: { Labels?: Record<string, string> } })?.config?.Labels ?? {}) };
        await labelCache?.set(repo, tag, labels);
      } catch (e) {
        if (e instanceof UserError && /not found/.test(e.message)) return;
        throw e;
      }
    }
    out.set(tag, labels[LABELS.project]);
  });
  return out;
}

/** The config of `purge`: nothing is kept by git history or by time. */
export function purgeConfig(): CleanupConfig {
  return { disabled: false, keepPolicies: [], defaults: false, gitHistory: false, kubernetesKeys: [] };
}

/** cleanup (or purge, with purgeConfig()): plan, then delete unless dryRun. */
export async function runCleanup(opts: CleanupOptions & { purge?: boolean }): Promise<CleanupResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const loaded = await loadCleanupConfig(opts.render);
  const config = opts.purge ? purgeConfig() : loaded.config;
  const repo = repoOf(loaded.project, opts.repo);
  const client = opts.client ?? new RegistryClient();
  const labelCache = opts.labelCacheDir === null || process.env.STAPEL2DOCKER_NO_LABEL_CACHE ? undefined : new LabelCache(opts.labelCacheDir ?? defaultLabelCacheDir());
  const nowMs = opts.nowMs ?? Date.now();
  if (config.kubernetesKeys.length) log(`note: cleanup.${config.kubernetesKeys.join(", cleanup.")}: the Kubernetes-based policy does not apply (stapel2docker does not read clusters)`);
  if (!opts.purge && config.disabled) {
    log("cleanup.disable is true in werf.yaml: nothing is deleted");
    const empty = makeCleanupPlan({ repo, project: loaded.project, nowMs, config, tags: [], records: [], refs: [], commits: new Map(), digests: new Map(), manifests: new Map() });
    return { plan: empty, deleted: [], gone: [], spared: [], dryRun: true, disabled: true, registryRequests: 0 };
  }
  const state = await readRepository(client, repo, labelCache);
  const refs = config.gitHistory && !opts.purge ? await readReferences(opts.render.dir) : [];
  const commits = refs.length ? await readHistory(opts.render.dir, refs) : new Map();
  const input = { repo, project: loaded.project, nowMs, config, tags: state.tags, records: state.records, refs, commits, digests: state.digests, manifests: state.manifests };
  let plan = makeCleanupPlan(input);
  // stage tags about to go: are they this project's? (a repository shared by projects keeps the others' stages)
  const doomed = plan.tags.filter((t) => t.action === "delete" && t.kind === "stage").map((t) => t.tag);
  if (doomed.length) plan = makeCleanupPlan({ ...input, stageProjects: await stageProjects(client, repo, doomed, labelCache) });
  // no record at all: the images were built by a stapel2docker that wrote none, and nothing says what to keep
  const unrecorded = !opts.purge && config.gitHistory && !state.records.some((r) => r.project === loaded.project) && plan.delete.length > 0;
  if (unrecorded) {
    const what = "the repository has no build record of this project: every image was built without records (an older stapel2docker) or none was recorded";
    if (!opts.dryRun) {
      throw new UserError({
        message: `cleanup of ${repo}: ${what}, so the keep policies cannot tell what to keep; nothing was deleted`,
        hint: "build the commits you want to keep once (each build records its commit), then run cleanup again; `purge --yes` deletes everything",
      });
    }
    log(`warning: ${what}; a real cleanup refuses to run`);
  }
  if (opts.dryRun || plan.delete.length === 0) return { plan, deleted: [], gone: [], spared: [], dryRun: !!opts.dryRun, registryRequests: client.requestCount };

  // a build may have written tags since the listing: a manifest a new tag points at is not deleted
  const spared = new Set<string>();
  const now = await client.listTags(repo);
  const listed = new Set(state.tags);
  const doomedDigests = new Set(plan.delete.map((d) => d.digest));
  await pool(now.filter((t) => !listed.has(t)), CONCURRENCY, async (t) => {
    const h = await client.headManifest(`${repo}:${t}`).catch(() => undefined);
    if (h && doomedDigests.has(h.digest)) spared.add(h.digest);
    if (isRecordTag(t)) {
      const m = await client.getManifest(`${repo}:${t}`).catch(() => undefined);
      const r = m ? parseRecord(t, m.json?.annotations) : undefined;
      for (const s of r?.stages ?? []) {
        const d = state.digests.get(s);
        if (d && doomedDigests.has(d)) spared.add(d);
      }
    }
  });
  for (const d of spared) log(`keeping ${d}: a tag written since the listing points at it`);
  const todo = plan.delete.filter((d) => !spared.has(d.digest));
  // records first (an interrupted cleanup leaves no record naming a deleted stage), then final tags, then stages
  const rank = (tags: string[]) => (tags.some(isRecordTag) ? 0 : tags.some((t) => parseStageTag(t)) ? 2 : 1);
  todo.sort((a, b) => rank(a.tags) - rank(b.tags));
  const deleted: string[] = [];
  const gone: string[] = [];
  for (const r of [0, 1, 2]) {
    await pool(todo.filter((d) => rank(d.tags) === r), 4, async (d) => {
      const ok = await client.deleteManifest(`${repo}@${d.digest}`);
      (ok ? deleted : gone).push(d.digest);
      log(`deleted ${d.tags.join(", ")} (${d.digest.slice(0, 19)})${ok ? "" : ": already gone"}`);
    });
  }
  return { plan, deleted: deleted.sort(), gone: gone.sort(), spared: [...spared].sort(), dryRun: false, registryRequests: client.requestCount };
}
