// The repositories of a build besides the primary one, as werf has them (reference: werf's --cache-repo,
// --secondary-repo, --final-repo):
//   cache repos      read and written: a stage the primary repo lacks is taken from the first cache repo that has
//                    it; every stage the build uses (reused or built) is copied into each cache repo that lacks it.
//   secondary repos  read only: a stage the primary and cache repos lack is taken from them.
//   final repo       where the final tags go (`<image>-<digest>` and --add-tag), instead of the primary repo.
// A stage taken from another repo is copied into the primary repo under the same `<digest>-<ms>` tag before the
// stages are resolved, so the rest of the build (resolver, Dockerfile, final tags) only ever reads the primary repo.
// Copies are registry-side in one registry (manifest GET + PUT, blobs mounted: nothing is pulled through this
// machine); between registries `docker buildx imagetools create` copies them.

import { UserError } from "../diagnostics.js";
import { run } from "../process/run.js";
import { parseImageRef, parseRepository, type RegistryClient } from "../registry/index.js";
import { indexStageTags } from "./tags.js";

export interface OtherRepos {
  /** --cache-repo (in order): read first, and filled with every stage the build uses. */
  cache: readonly string[];
  /** --secondary-repo (in order): read only. */
  secondary: readonly string[];
}

/** "registry/path" (normalized), checked: a repository, no tag, no digest. */
export function normalizeRepo(repo: string, flag: string): string {
  try {
    const r = parseRepository(repo);
    return `${r.registry}/${r.repository}`;
  } catch (e) {
    throw new UserError({
      message: `${flag} ${JSON.stringify(repo)}: ${e instanceof Error ? e.message : String(e)}`,
      hint: `give ${flag} as REGISTRY/PATH, e.g. registry.example.com/team/project-cache`,
    });
  }
}

/** Copies the image `src` to `dst` (both full references; `dst` with a tag). */
export async function copyImage(client: RegistryClient, src: string, dst: string, docker = "docker"): Promise<void> {
  if (parseImageRef(src).registry === parseImageRef(dst).registry) {
    await client.copyTag(src, dst);
    return;
  }
  const r = await run(docker, ["buildx", "imagetools", "create", "--tag", dst, src]);
  if (r.error || r.code !== 0) {
    throw new UserError({
      message: `cannot copy ${src} to ${dst}: ${r.error?.message ?? (r.stderr.trim().split("\n").pop() || `exit code ${r.code}`)}`,
      hint: "docker buildx imagetools copies between registries: log in to both (docker login)",
    });
  }
}

/**
 * The stage tags of `digests` that `primaryTags` lacks, found in the cache repos (first) or the secondary repos:
 * every stored tag of such a digest, from the first repo that has the digest (tag → that repo). Nothing is copied
 * (`build --print` shows them so).
 */
export async function findInOtherRepos(opts: {
  client: RegistryClient;
  primaryTags: readonly string[];
  digests: ReadonlySet<string>;
  repos: OtherRepos;
}): Promise<Map<string, string>> {
  const have = indexStageTags(opts.primaryTags);
  let wanted = [...opts.digests].filter((d) => !have.has(d));
  const found = new Map<string, string>();
  for (const repo of [...opts.repos.cache, ...opts.repos.secondary]) {
    if (wanted.length === 0) break;
    const index = indexStageTags(await opts.client.listTags(repo));
    for (const d of wanted) for (const s of index.get(d) ?? []) found.set(s.tag, repo);
    wanted = wanted.filter((d) => !index.has(d));
  }
  return found;
}

/**
 * The stage tags of `digests` that `primaryTags` lacks, found in the cache repos (first) or the secondary repos,
 * copied into `primary` (every stored tag of such a digest, from the first repo that has the digest). Returns the
 * tags added to the primary repo.
 */
export async function takeFromOtherRepos(opts: {
  client: RegistryClient;
  primary: string;
  primaryTags: readonly string[];
  digests: ReadonlySet<string>;
  repos: OtherRepos;
  docker?: string;
  log?: (line: string) => void;
}): Promise<string[]> {
  const found = await findInOtherRepos(opts);
  const perRepo = new Map<string, number>();
  for (const [tag, repo] of found) {
    await copyImage(opts.client, `${repo}:${tag}`, `${opts.primary}:${tag}`, opts.docker);
    perRepo.set(repo, (perRepo.get(repo) ?? 0) + 1);
  }
  for (const [repo, n] of perRepo) opts.log?.(`took ${n} stage tag(s) from ${repo} into ${opts.primary}`);
  return [...found.keys()];
}

/** Copies each of `tags` (stage tags of the primary repo) into every cache repo that lacks it. */
export async function fillCacheRepos(opts: {
  client: RegistryClient;
  primary: string;
  tags: readonly string[];
  cache: readonly string[];
  docker?: string;
}): Promise<number> {
  let copied = 0;
  for (const repo of opts.cache) {
    const there = new Set(await opts.client.listTags(repo));
    for (const tag of new Set(opts.tags)) {
      if (there.has(tag)) continue;
      await copyImage(opts.client, `${opts.primary}:${tag}`, `${repo}:${tag}`, opts.docker);
      copied++;
    }
  }
  return copied;
}
