// The no-op fast path of `stapel2docker build` (issue #13): when nothing that decides a build's result changed
// since a build on this host, the result is read from a local cache entry and proved against the registry's tag
// listing (one request, through node:http: src/registry/http-fetch.ts); werf.yaml is not rendered, nothing is
// planned, no docker process runs.
//
// The key (sha256 of all of it; an entry is used only for the same key):
//   - the version of stapel2docker and the modification times of its result-deciding modules (a rebuilt tool is
//     another key);
//   - the command's options: project dir, --config, --env, --strict-env, IMAGE args, --repo, --toolchain, --platform, --builder (or BUILDX_BUILDER), and the
//     content of the --giterminism-config file;
//   - `git status --porcelain=v2 --branch --untracked-files=all` of the project's repository: the HEAD commit
//     (werf.yaml, .werf/ and every git mapping are read from it) and every work-tree change (the warnings about
//     uncommitted changes are the entry's, so they must be the same).
// The entry also holds what the key cannot: the environment variables the render read (names and values, from a
// recording `environ`) and the secrets' env names (which must be set); all must match.
// The proof against the registry (the one tag listing): for every stage digest of the result (every stage reused,
// every final image), the listing's stage tags of that digest are exactly those the entry recorded, so the stored
// stages the resolver would choose (src/storage/resolve.ts) are the same; and every final tag `<image>-<digest>` is
// listed with its digest's one stage tag as the source this host copied (src/storage/final-tags.ts).
// Entries are written only after a successful build that built nothing (its result is exactly what the resolver
// makes of the recorded listing; after a build that built, the next run is a full no-op that writes the entry),
// for results that depend on nothing else: not with --dev,
// --add-tag, --ssh/--ssh-key, --introspect-*, remote git mappings, `fromLatest` (the base image's id) or Dockerfile
// images with contextAddFiles (work-tree files), or a render that read what the commit does not hold (--config outside
// the repository, files werf-giterminism.yaml accepts uncommitted). Anything that does not prove out: the full build runs.
// Files: `<dir>/<key>.json`, default dir `$XDG_CACHE_HOME/stapel2docker/noop` (else `~/.cache/...`);
// STAPEL2DOCKER_NO_NOOP_CACHE=1 turns it off. A broken or unwritable cache is ignored.

import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readPrivateFile, writePrivateFile } from "../cache/private-file.js";
import { keyStatus } from "./noop-status.js";
import { RegistryClient } from "../registry/index.js";
import { httpFetch } from "../registry/http-fetch.js";
import { indexStageTags, parseStageTag } from "../storage/tags.js";
import { repoOf } from "../plan/names.js";
import { VERSION } from "../version.js";
import type { Plan } from "../plan/model.js";
import type { BuildReport } from "./report.js";

/** What decides a build's result, as the CLI was asked. */
export interface NoopInput {
  dir: string;
  configFile?: string;
  env?: string;
  strictEnv?: boolean;
  giterminismConfig?: string;
  images: string[];
  repo: string;
  toolchain?: string;
  /** --builder; BUILDX_BUILDER is read from the environment when it is not given. */
  builder?: string;
  /** --platform (parsed: the list as the build takes it). */
  platform?: string[];
}

interface Entry {
  key: string;
  /** Environment variables the render read: name → value (null: unset). */
  environ: Record<string, string | null>;
  /** Env variables of `env` secrets (must be set). */
  secretEnv: string[];
  /** digest → the listing's stage tags of that digest when the entry was written (sorted as indexStageTags). */
  digests: Record<string, string[]>;
  /** Final tags `<repo>:<image>-<digest>` → the stage reference they were copied from. */
  finalTags: Record<string, string>;
  /** Warning lines the build printed (on stderr, without the "warning: " prefix). */
  warnings: string[];
  report: BuildReport;
}

export function defaultNoopCacheDir(env: Record<string, string | undefined> = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), ".cache");
  return path.join(base, "stapel2docker", "noop");
}

/** An environment that records the names read through it (the render's `env` reads `environ`). */
export function recordingEnviron(env: NodeJS.ProcessEnv): { environ: Record<string, string | undefined>; read: Set<string> } {
  const read = new Set<string>();
  const environ = new Proxy(env, {
    get(target, name) {
      if (typeof name === "string") read.add(name);
      return Reflect.get(target, name);
    },
    has(target, name) {
      if (typeof name === "string") read.add(name);
      return Reflect.has(target, name);
    },
    ownKeys(target) {
      // a listing of every variable: then every variable counts as read
      for (const k of Reflect.ownKeys(target)) if (typeof k === "string") read.add(k);
      return Reflect.ownKeys(target);
    },
  }) as Record<string, string | undefined>;
  return { environ, read };
}

let toolStamp: string | undefined;
/** VERSION, and the modification times of the modules that decide a build's result (tsc rewrites every module it
 *  compiles; a published package carries its version): a rebuilt stapel2docker is another key. */
function stamp(): string {
  if (toolStamp === undefined) {
    const times = ["./noop-cache.js", "./index.js", "../plan/digest.js", "../plan/conveyor.js", "../storage/resolve.js"].map((m) => {
      try {
        return statSync(fileURLToPath(new URL(m, import.meta.url))).mtimeMs;
      } catch {
        return 0;
      }
    });
    toolStamp = `${VERSION} ${times.join(" ")}`;
  }
  return toolStamp;
}

/** The entry's key, or undefined when the project is not in a git repository (or git fails). Taken before a
 *  build reads anything, and used both to look up and to write its entry. */
export function noopKey(input: NoopInput): Promise<string | undefined> {
  // once per process: the fast path and the full command (on a miss) share it
  const memo = JSON.stringify(input);
  let p = keys.get(memo);
  if (!p) keys.set(memo, (p = computeKey(input)));
  return p;
}
const keys = new Map<string, Promise<string | undefined>>();

async function computeKey(input: NoopInput): Promise<string | undefined> {
  const dir = path.resolve(input.dir);
  const status = await keyStatus(dir);
  // a no-op build runs no builder, but a build on another builder is keyed apart all the same (its first no-op is
  // proved in full)
  const builder = input.builder || process.env.BUILDX_BUILDER || undefined;
  if (status.code !== 0 || !/^# branch\.oid [0-9a-f]{40,64}\0/m.test(status.stdout)) return undefined;
  let giterminism: string | null = null;
  if (input.giterminismConfig !== undefined) {
    try {
      giterminism = createHash("sha256").update(await readFile(path.resolve(dir, input.giterminismConfig))).digest("hex");
    } catch {
      return undefined;
    }
  }
  const parts = {
    tool: stamp(),
    dir,
    configFile: input.configFile ?? null,
    env: input.env ?? null,
    strictEnv: Boolean(input.strictEnv),
    giterminismConfig: input.giterminismConfig ?? null,
    giterminism,
    images: input.images,
    repo: input.repo,
    toolchain: input.toolchain ?? null,
    // (left out when not given: the keys of builds without them stay as they were)
    ...(input.platform?.length ? { platform: input.platform } : {}),
    ...(builder ? { builder } : {}),
    status: createHash("sha256").update(status.stdout).digest("hex"),
  };
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

const attempts = new Map<string, Promise<BuildReport | undefined>>();

export class NoopCache {
  constructor(readonly dir: string = defaultNoopCacheDir()) {}

  private file(key: string): string {
    return path.join(this.dir, `${key.slice(0, 40)}.json`);
  }

  /**
   * The report of a no-op build proved by an entry and one tag listing, or undefined (then build as usual).
   * `warn` gets the entry's warnings (printed by the build that wrote it).
   */
  tryNoop(key: string, env: NodeJS.ProcessEnv, warn: (line: string) => void, client = new RegistryClient({ fetch: httpFetch }), t0 = performance.now()): Promise<BuildReport | undefined> {
    // once per process and key: a miss (say, the listing disagreed) is not tried again by the full command
    const memo = `${this.dir}\0${key}`;
    let p = attempts.get(memo);
    if (!p) {
      p = this.attempt(key, env, warn, client, t0).catch(() => undefined);
      attempts.set(memo, p);
    }
    return p;
  }

  private async attempt(key: string, env: NodeJS.ProcessEnv, warn: (line: string) => void, client: RegistryClient, t0: number): Promise<BuildReport | undefined> {
    let entry: Entry;
    try {
      const buf = await readPrivateFile(this.file(key));
      if (!buf) return undefined;
      entry = JSON.parse(buf.toString("utf8")) as Entry;
    } catch {
      return undefined;
    }
    if (entry.key !== key) return undefined;
    for (const [name, value] of Object.entries(entry.environ)) if ((env[name] ?? null) !== value) return undefined;
    if (entry.secretEnv.some((n) => env[n] === undefined)) return undefined;
    const requests0 = client.requestCount;
    const listed = new Set(await client.listTags(entry.report.repo));
    const index = indexStageTags(listed);
    for (const [digest, tags] of Object.entries(entry.digests)) {
      const now = (index.get(digest) ?? []).map((s) => s.tag);
      if (now.length !== tags.length || now.some((t, i) => t !== tags[i])) return undefined;
    }
    const repo = entry.report.repo;
    for (const [tag, src] of Object.entries(entry.finalTags)) {
      if (!listed.has(tag.slice(tag.lastIndexOf(":") + 1))) return undefined;
      if (src.includes(",")) {
        // an image of several platforms: its final tag is an index over the platforms' last stages, each the one
        // stage tag of its digest
        for (const ref of src.split(",")) {
          const stage = ref.startsWith(`${repo}:`) ? parseStageTag(ref.slice(repo.length + 1)) : undefined;
          const stored = stage ? entry.digests[stage.digest] : undefined;
          if (!stored || stored.length !== 1 || `${repo}:${stored[0]}` !== ref) return undefined;
        }
        continue;
      }
      const digest = /-([0-9a-f]{56,64})$/.exec(tag)?.[1];
      const stored = digest ? entry.digests[digest] : undefined;
      if (!stored || stored.length !== 1 || `${repo}:${stored[0]}` !== src) return undefined;
    }
    for (const w of entry.warnings) warn(w);
    const report = entry.report;
    return {
      ...report,
      images: report.images.map((i) => ({ ...i, stages: i.stages.map((s) => ({ ...s, seconds: 0 })) })),
      built: 0,
      bake: false,
      registryRequests: client.requestCount - requests0,
      seconds: Math.round(performance.now() - t0) / 1000,
    };
  }

  /** Writes the entry of a successful build whose result depends only on what the key and the entry hold. */
  async record(
    key: string,
    input: NoopInput,
    build: { plan: Plan; listed: ReadonlySet<string>; report: BuildReport; finalTags: ReadonlyArray<{ src: string; tag: string; digest?: string }>; environRead: ReadonlySet<string>; env: NodeJS.ProcessEnv; warnings: string[] },
  ): Promise<void> {
    try {
      const { plan, report } = build;
      // only a full build that built nothing: its result is then exactly what resolving the recorded listing gives
      if (report.built !== 0 || report.bake) return;
      if (!eligible(plan) || build.finalTags.some((j) => j.digest === undefined)) return;
      if (repoOf(plan.project, input.repo) !== report.repo) return;
      const index = indexStageTags(build.listed);
      const digests: Record<string, string[]> = {};
      for (const i of report.images) {
        for (const s of i.stages) digests[s.digest] = (index.get(s.digest) ?? []).map((x) => x.tag);
        digests[i.digest] = (index.get(i.digest) ?? []).map((x) => x.tag);
      }
      const entry: Entry = {
        key,
        environ: Object.fromEntries([...build.environRead].sort().map((n) => [n, build.env[n] ?? null])),
        secretEnv: [...new Set([...plan.images.flatMap((i) => i.secrets ?? []), ...plan.dockerfileImages.flatMap((d) => d.secrets ?? [])].filter((s) => s.source === "env").map((s) => s.env!))],
        digests,
        finalTags: Object.fromEntries(build.finalTags.map((j) => [j.tag, j.src])),
        warnings: build.warnings,
        report,
      };
      await writePrivateFile(this.file(key), JSON.stringify(entry) + "\n");
    } catch {
      // a cache only
    }
  }
}

/** Whether a plan's build result depends only on the commit, the options, the environment it read and the listing. */
export function eligible(plan: Plan): boolean {
  // the key proves the commit and the work tree's state as git status shows it, nothing else the render read
  if (plan.readOutsideCommit) return false;
  for (const img of plan.images) {
    for (const s of img.stages) {
      if (s.inputs.fromLatest !== undefined) return false;
      if (s.body.kind === "gitArchive" && s.body.archives.some((a) => a.source.repoName !== "own")) return false;
    }
  }
  return !plan.dockerfileImages.some((d) => d.image.contextAddFiles.length > 0);
}
