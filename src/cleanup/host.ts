// `stapel2docker host cleanup`: this machine's data of one project, and nothing of another's.
//
//   - local images: the daemon's images labelled io.stapel2docker.project=<project> (stage images `buildx bake
//     --push` leaves in the docker driver's store, introspection images);
//   - build_dir caches: the BuildKit cache records (`docker buildx du --verbose`: `cached mount ... with id
//     "/<id>"`) of the cache mount ids the project's plan names (`stapel2docker-<project>-build-dir-...`), pruned
//     by record id (`docker buildx prune --filter id=`);
//   - the remote-git clones the project's git mappings use (re-cloned on the next build);
//   - the stage-labels cache entries of the project's repository;
//   - the toolchain volume of the project's toolchain image (introspection; made again on first use), with
//     --toolchain-volumes only: every project built with that toolchain shares it;
//   - stale locks: lock files of the project's stage digests, unheld and older than an hour;
//   - temporaries: `stapel2docker-build-*` folders of the project's builds, untouched for a day (a killed build).
// --dry-run lists it all and removes nothing.

import { readdir, readFile, rm, stat, unlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { UserError } from "../diagnostics.js";
import { planProject } from "../plan/plan.js";
import type { Plan } from "../plan/model.js";
import { repoOf } from "../plan/names.js";
import { run } from "../process/run.js";
import { defaultLabelCacheDir } from "../storage/label-cache.js";
import { defaultLockDir, lockFile } from "../storage/lock.js";
import { defaultGitCacheDir } from "../git/remote.js";
import type { RenderOptions } from "../template/render.js";
import { formatBytes } from "./plan.js";

export type HostItemKind = "image" | "build-cache" | "remote-git" | "label-cache" | "toolchain-volume" | "lock" | "temporary";

export interface HostItem {
  kind: HostItemKind;
  name: string;
  action: "remove" | "keep";
  reason: string;
  bytes?: number;
  /** Set after a real run: removed, or why not. */
  result?: "removed" | string;
}

export interface HostCleanupResult {
  project: string;
  repo: string;
  dryRun: boolean;
  items: HostItem[];
  totals: { remove: number; keep: number; bytes: number };
}

export interface HostCleanupOptions {
  render: RenderOptions;
  repo?: string;
  dryRun?: boolean;
  docker?: string;
  /** Folders (tests); defaults as the build's. */
  labelCacheDir?: string;
  gitCacheDir?: string;
  lockDir?: string;
  tmpDir?: string;
  nowMs?: number;
  /** Also remove the toolchain's introspection volume (shared by every project built with that toolchain). */
  toolchainVolumes?: boolean;
}

const HOUR = 3600_000;

async function sh(cmd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await run(cmd, args);
  if (r.error) throw new UserError({ message: `cannot run ${cmd}: ${r.error.message}`, hint: `host cleanup needs ${cmd}` });
  return { code: r.code ?? 1, out: r.stdout, err: r.stderr };
}

async function duBytes(p: string): Promise<number> {
  let n = 0;
  const walk = async (q: string) => {
    const s = await stat(q).catch(() => undefined);
    if (!s) return;
    if (s.isDirectory()) for (const e of await readdir(q).catch(() => [] as string[])) await walk(path.join(q, e));
    else n += s.size;
  };
  await walk(p);
  return n;
}

/** The BuildKit cache ids of the project's build_dir mounts. */
function cacheIds(plan: Plan): string[] {
  const ids = new Set<string>();
  for (const i of plan.images) for (const s of i.stages) if (s.body.kind === "user") for (const m of s.body.mounts) if (m.cacheId) ids.add(m.cacheId);
  return [...ids].sort();
}

async function localImages(docker: string, project: string): Promise<HostItem[]> {
  const r = await sh(docker, ["images", "--no-trunc", "--filter", `label=io.stapel2docker.project=${project}`, "--format", "{{.ID}} {{.Repository}}:{{.Tag}} {{.Size}}"]);
  if (r.code !== 0) throw new UserError({ message: `docker images failed: ${r.err.trim().split("\n")[0]}`, hint: "is the docker daemon running?" });
  const items: HostItem[] = [];
  const seen = new Set<string>();
  for (const line of r.out.split("\n").filter(Boolean)) {
    const [id, ref] = line.split(" ");
    const name = ref === "<none>:<none>" ? id : ref;
    if (seen.has(name)) continue;
    seen.add(name);
    items.push({ kind: "image", name, action: "remove", reason: `a local image of project ${project} (label io.stapel2docker.project)` });
  }
  return items;
}

async function labelCacheItems(dir: string, repo: string): Promise<HostItem[]> {
  const items: HostItem[] = [];
  for (const f of (await readdir(dir).catch(() => [] as string[])).filter((x) => x.endsWith(".json")).sort()) {
    const file = path.join(dir, f);
    try {
      const v = JSON.parse(await readFile(file, "utf8")) as { repo?: string; tag?: string };
      if (v.repo !== repo) continue;
      items.push({ kind: "label-cache", name: file, action: "remove", reason: `cached labels of ${repo}:${v.tag}`, bytes: (await stat(file)).size });
    } catch {
      // another writer's half file, or not ours
    }
  }
  return items;
}

async function remoteGitItems(plan: Plan, gitCacheDir: string): Promise<HostItem[]> {
  const dirs = new Set<string>();
  for (const i of plan.images) {
    for (const s of i.stages) {
      if (s.body.kind !== "gitArchive") continue;
      for (const a of s.body.archives) {
        const d = path.resolve(a.source.repoDir);
        if (a.source.repoName !== "own" && d.startsWith(path.resolve(gitCacheDir) + path.sep)) dirs.add(d);
      }
    }
  }
  const items: HostItem[] = [];
  for (const d of [...dirs].sort()) items.push({ kind: "remote-git", name: d, action: "remove", reason: "a clone of a remote git mapping of the project (cloned again on the next build)", bytes: await duBytes(d) });
  return items;
}

async function toolchainVolume(docker: string, toolchain: string, remove: boolean): Promise<HostItem[]> {
  const id = await sh(docker, ["image", "inspect", "--format", "{{.Id}}", toolchain]);
  if (id.code !== 0) return [];
  const name = `stapel2docker-toolchain-${id.out.trim().replace(/^sha256:/, "").slice(0, 16)}`;
  const v = await sh(docker, ["volume", "inspect", name]);
  if (v.code !== 0) return [];
  return [remove
    ? { kind: "toolchain-volume", name, action: "remove", reason: `the introspection volume of the toolchain ${toolchain} (filled again on first use)` }
    : { kind: "toolchain-volume", name, action: "keep", reason: `shared by every project built with the toolchain ${toolchain}: --toolchain-volumes removes it` }];
}

/** Lock files of the project's stages that nobody holds and that are older than an hour. */
async function lockItems(plan: Plan, repo: string, lockDir: string, nowMs: number): Promise<HostItem[]> {
  const digests = new Set<string>();
  for (const i of plan.images) for (const s of i.stages) digests.add(s.digest);
  for (const d of plan.dockerfileImages) digests.add(d.digest);
  const items: HostItem[] = [];
  for (const d of [...digests].sort()) {
    const f = lockFile(lockDir, repo, d);
    const s = await stat(f).catch(() => undefined);
    if (!s) continue;
    if (nowMs - s.mtimeMs < HOUR) {
      items.push({ kind: "lock", name: f, action: "keep", reason: "used within the last hour" });
      continue;
    }
    const free = await sh("flock", ["-n", f, "true"]);
    items.push(free.code === 0
      ? { kind: "lock", name: f, action: "remove", reason: `the lock of stage ${d.slice(0, 12)}, unheld, unused for an hour` }
      : { kind: "lock", name: f, action: "keep", reason: "held by a running build" });
  }
  return items;
}

async function temporaries(project: string, tmpDir: string, nowMs: number): Promise<HostItem[]> {
  const items: HostItem[] = [];
  const mark = `"io.stapel2docker.project"=${JSON.stringify(project)}`;
  for (const e of (await readdir(tmpDir).catch(() => [] as string[])).filter((x) => x.startsWith("stapel2docker-build-")).sort()) {
    const d = path.join(tmpDir, e);
    const df = await readFile(path.join(d, "Dockerfile"), "utf8").catch(() => "");
    if (!df.includes(mark)) continue;
    const s = await stat(d).catch(() => undefined);
    if (!s) continue;
    items.push(nowMs - s.mtimeMs < 24 * HOUR
      ? { kind: "temporary", name: d, action: "keep", reason: "a build folder of the last day (a build may be running)" }
      : { kind: "temporary", name: d, action: "remove", reason: "the folder of a build that did not finish (killed)", bytes: await duBytes(d) });
  }
  return items;
}

/** The BuildKit cache records of the cache mounts `ids` (`docker buildx du --verbose` names each mount's id). */
async function cacheRecords(docker: string, ids: string[]): Promise<HostItem[]> {
  if (ids.length === 0) return [];
  const r = await sh(docker, ["buildx", "du", "--verbose"]);
  if (r.code !== 0) throw new UserError({ message: `docker buildx du failed: ${r.err.trim().split("\n")[0]}`, hint: "host cleanup reads BuildKit's cache records with docker buildx du" });
  const want = new Set(ids);
  const items: HostItem[] = [];
  for (const block of r.out.split(/\n(?=ID:\s)/)) {
    const id = /^ID:\s+(\S+)/m.exec(block)?.[1];
    const mount = /with id "\/?([^"]+)"/.exec(block)?.[1];
    if (!id || !mount || !want.has(mount) || !/exec\.cachemount/.test(block)) continue;
    const size = /^Size:\s+([0-9.]+)\s*([kKMGT]?i?B)/m.exec(block);
    const mult: Record<string, number> = { B: 1, kB: 1e3, KB: 1e3, KiB: 1024, MB: 1e6, MiB: 1 << 20, GB: 1e9, GiB: 1 << 30, TB: 1e12 };
    items.push({ kind: "build-cache", name: id, action: "remove", reason: `the build_dir cache ${mount} of the project`, ...(size ? { bytes: Math.round(Number(size[1]) * (mult[size[2]] ?? 1)) } : {}) });
  }
  return items.sort((a, b) => (a.name < b.name ? -1 : 1));
}

export async function hostCleanup(opts: HostCleanupOptions): Promise<HostCleanupResult> {
  const docker = opts.docker ?? "docker";
  const nowMs = opts.nowMs ?? Date.now();
  const plan = await planProject({ ...opts.render, gitCacheDir: opts.gitCacheDir });
  const repo = repoOf(plan.project, opts.repo);
  const gitCacheDir = path.resolve(plan.dir, opts.gitCacheDir ?? defaultGitCacheDir());
  const ids = cacheIds(plan);
  const items: HostItem[] = [
    ...(await localImages(docker, plan.project)),
    ...(await cacheRecords(docker, ids)),
    ...(await remoteGitItems(plan, gitCacheDir)),
    ...(await labelCacheItems(opts.labelCacheDir ?? defaultLabelCacheDir(), repo)),
    ...(await toolchainVolume(docker, plan.toolchain, !!opts.toolchainVolumes)),
    ...(await lockItems(plan, repo, opts.lockDir ?? defaultLockDir(), nowMs)),
    ...(await temporaries(plan.project, opts.tmpDir ?? os.tmpdir(), nowMs)),
  ];
  if (!opts.dryRun) {
    for (const it of items.filter((x) => x.action === "remove")) {
      switch (it.kind) {
        case "image": {
          const r = await sh(docker, ["rmi", it.name]);
          it.result = r.code === 0 || /No such image/.test(r.err) ? "removed" : `not removed: ${r.err.trim().split("\n")[0]}`;
          break;
        }
        case "toolchain-volume": {
          const r = await sh(docker, ["volume", "rm", it.name]);
          it.result = r.code === 0 ? "removed" : `not removed: ${r.err.trim().split("\n")[0]}`;
          break;
        }
        case "build-cache": {
          const r = await sh(docker, ["buildx", "prune", "--force", "--filter", `id=${it.name}`]);
          it.result = r.code === 0 ? "removed" : `not removed: ${r.err.trim().split("\n")[0]}`;
          break;
        }
        case "lock": {
          // unlinked while held, so no build takes it in between
          const r = await sh("flock", ["-n", it.name, "rm", "-f", it.name]);
          it.result = r.code === 0 ? "removed" : "not removed: taken meanwhile";
          break;
        }
        case "label-cache":
          await unlink(it.name).catch(() => {});
          it.result = "removed";
          break;
        default:
          await rm(it.name, { recursive: true, force: true });
          it.result = "removed";
      }
    }
  }
  const remove = items.filter((x) => x.action === "remove");
  return {
    project: plan.project,
    repo,
    dryRun: !!opts.dryRun,
    items,
    totals: { remove: remove.length, keep: items.length - remove.length, bytes: remove.reduce((n, x) => n + (x.bytes ?? 0), 0) },
  };
}

export function formatHostPlan(r: HostCleanupResult): string {
  const lines = [`project ${r.project} on this host (repository ${r.repo})`];
  for (const it of r.items) {
    const verb = it.action === "keep" ? "keep   " : r.dryRun ? "remove?" : "remove ";
    lines.push(`${verb} ${it.kind} ${it.name}: ${it.reason}${it.result && it.result !== "removed" ? ` (${it.result})` : ""}`);
  }
  lines.push(`${r.dryRun ? "dry run: would remove" : "removed"} ${r.totals.remove} item(s) (${formatBytes(r.totals.bytes)} of files and build caches; local image sizes not counted); kept ${r.totals.keep}`);
  return lines.join("\n") + "\n";
}
