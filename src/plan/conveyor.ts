// One image's stage conveyor (werf v2 order, reference §1.1): which stages exist, what each does, and
// the inputs its digest is made of (docs/digests.md). Pure: every git and image fact is resolved by
// the planner (plan.ts) beforehand.

import { stageTarget } from "./names.js";
import type {
  DockerDirectives,
  ImageSpec,
  StapelImage,
  UserStage,
  WerfConfig,
  BuilderCacheVersions,
} from "../config/model.js";
import type { DependenciesChecksum } from "../git/checksum.js";
import type {
  BaseImageConfig,
  BaseRef,
  DependencyPlan,
  GitSource,
  ImportPlan,
  MountPlan,
  StageBody,
  StageName,
  StagePlan,
} from "./model.js";
import { DIGEST_SCHEME, stageDigest } from "./digest.js";
import { platformInput } from "./platforms.js";
import { stageLabels } from "./labels.js";
import { mappingParams } from "./git-sources.js";
import { LABELS as STAGE_LABELS } from "./labels.js";

const LAYER_LABEL = STAGE_LABELS.layer;

export type GitStageDeps = "install" | "beforeSetup" | "setup";

export interface ImageGit {
  source: GitSource;
  /** stageDependencies checksums at the source's commit, for the stages that have masks. */
  dependencies: Partial<Record<GitStageDeps, DependenciesChecksum>>;
}

export interface ConveyorInput {
  config: WerfConfig;
  image: StapelImage;
  slug: string;
  base: BaseRef;
  /** What `from`'s digest takes from the base: the reference, the other image's digest, or scratch. */
  baseInput: Record<string, unknown>;
  baseConfig: BaseImageConfig;
  git: ImageGit[];
  imports: (ImportPlan & { stageName: StageName })[];
  dependencies: (DependencyPlan & { stageName: StageName })[];
  mounts: MountPlan[];
  /** A `--dev` build of the work tree. */
  dev?: boolean;
  /** Ids of the image's build secrets (mounted by its user stages; not part of any digest, as in werf). */
  secrets?: string[];
  /** The image's target platforms (--platform, else its `platform`, else meta `build.platform`); [] the builder's. */
  platform?: string[];
}

const DEPENDENCY_STAGE: Record<string, StageName> = {
  "before:install": "dependenciesBeforeInstall",
  "after:install": "dependenciesAfterInstall",
  "before:setup": "dependenciesBeforeSetup",
  "after:setup": "dependenciesAfterSetup",
};

/** The dependencies* stage an import or dependency at this position belongs to. */
export function dependencyStage(at: { when: "before" | "after"; stage: "install" | "setup" }): StageName {
  return DEPENDENCY_STAGE[`${at.when}:${at.stage}`];
}

const STAGE_CACHE_VERSION: Record<UserStage, keyof BuilderCacheVersions> = {
  beforeInstall: "beforeInstallCacheVersion",
  install: "installCacheVersion",
  beforeSetup: "beforeSetupCacheVersion",
  setup: "setupCacheVersion",
};

export { stageTarget } from "./names.js";

/** Builds the image's stages, empty ones dropped, each chained to the previous one's digest. */
export function buildConveyor(input: ConveyorInput): StagePlan[] {
  const { image, config } = input;
  const stages: StagePlan[] = [];
  const add = (name: StageName, inputs: Record<string, unknown>, body: StageBody, pos = image.pos, commits?: GitSource[]) => {
    const parent = stages.length ? stages[stages.length - 1].digest : undefined;
    const digest = stageDigest(name, inputs, parent);
    const labels = stageLabels(digest, DIGEST_SCHEME, config.meta.project, image.name, name, commits);
    stages.push({ name, target: stageTarget(input.slug, name), digest, parent, inputs, pos, labels, body });
    return stages[stages.length - 1];
  };

  // from
  add(
    "from",
    {
      base: input.baseInput,
      cacheVersion: image.cacheVersion ?? config.meta.build?.cacheVersion,
      fromCacheVersion: image.fromCacheVersion,
      fromLatest: image.fromLatest ? { imageId: input.baseConfig.id ?? null } : undefined,
      mounts: input.mounts.length ? input.mounts.map((m) => ({ type: m.mount.type, to: m.mount.to, fromPath: m.mount.fromPath })) : undefined,
      platform: platformInput(input.platform ?? image.platform),
      dev: input.dev ? true : undefined,
    },
    { kind: "from", base: input.base },
    image.basePos ?? image.pos,
  );

  const sources = input.git.map((g) => g.source);
  const userStage = (stage: UserStage) => {
    const builder = image.shell ? ("shell" as const) : image.ansible ? ("ansible" as const) : undefined;
    if (!builder) return;
    const b = (image.shell ?? image.ansible)!;
    const steps = builder === "shell" ? image.shell![stage] : image.ansible![stage];
    const stageVersion = b[STAGE_CACHE_VERSION[stage]];
    if (steps.length === 0 && stageVersion === undefined && b.cacheVersion === undefined) return;
    const withGit = stage !== "beforeInstall" && sources.length > 0;
    const deps =
      stage === "beforeInstall"
        ? []
        : input.git
            .filter((g) => g.dependencies[stage as GitStageDeps])
            .map((g) => ({ mapping: g.source.id, checksum: g.dependencies[stage as GitStageDeps]!.checksum }));
    const commands = image.shell ? image.shell[stage] : [];
    const tasks = image.ansible ? image.ansible[stage] : [];
    const stepsInput = (c: typeof commands, t: typeof tasks) =>
      builder === "shell" ? { commands: c.map((x) => x.command) } : { tasks: t.map((x) => x.config) };
    const common = {
      stageCacheVersion: stageVersion,
      builderCacheVersion: b.cacheVersion,
      asLayers: image.asLayers || undefined,
      stageDependencies: deps.length ? deps : undefined,
    };
    const body = (c: typeof commands, t: typeof tasks) => ({
      kind: "user" as const,
      stage,
      builder,
      commands: c,
      tasks: t,
      asLayers: image.asLayers,
      mounts: input.mounts,
      ...(input.secrets?.length ? { secrets: input.secrets } : {}),
      ...(image.network === "none" || image.network === "host" ? { network: image.network as "none" | "host" } : {}),
      git: withGit ? sources : [],
    });
    const stagePos = b.stagePos[stage] ?? b.pos;
    const count = steps.length;
    let planned: StagePlan;
    if (image.asLayers && count > 1) {
      // asLayers: one stage per command (or task), each with its own digest chained to the previous layer's,
      // so a change of the 5th command reuses the first four; the last layer keeps the stage's target, so
      // imports and the next stage see the whole stage (docs/digests.md "asLayers").
      for (let i = 0; i < count; i++) {
        const c = commands.slice(i, i + 1);
        const t = tasks.slice(i, i + 1);
        planned = add(
          stage,
          { builder, ...stepsInput(c, t), ...common, layer: { index: i + 1, count } },
          body(c, t),
          (builder === "shell" ? c[0]?.pos : t[0]?.pos) ?? stagePos,
          withGit ? sources : undefined,
        );
        planned.layer = { index: i + 1, count };
        planned.labels[LAYER_LABEL] = `${i + 1}/${count}`;
        if (i + 1 < count) planned.target = `${planned.target}-layer-${i + 1}`;
      }
    } else {
      planned = add(stage, { builder, ...stepsInput(commands, tasks), ...common }, body(commands, tasks), stagePos, withGit ? sources : undefined);
    }
    planned = planned!;
    if (stage !== "beforeInstall") {
      const matches = input.git.flatMap((g) =>
        (g.dependencies[stage as GitStageDeps]?.masks ?? []).map((m) => ({
          mapping: g.source.id,
          add: g.source.mapping.add,
          mask: m.mask,
          paths: m.paths,
        })),
      );
      if (matches.length) planned.gitMatches = matches;
    }
  };

  const dependencies = (name: StageName) => {
    const imports = input.imports.filter((i) => i.stageName === name);
    const deps = input.dependencies.filter((d) => d.stageName === name);
    if (imports.length === 0 && deps.length === 0) return;
    add(
      name,
      {
        imports: imports.map((i) => ({
          source: i.source.kind === "image" ? { digest: i.source.digest } : { ref: i.source.ref },
          stage: i.directive.stage,
          add: i.directive.add,
          to: i.directive.to,
          includePaths: i.directive.includePaths,
          excludePaths: i.directive.excludePaths,
          owner: i.directive.owner,
          group: i.directive.group,
        })),
        dependencies: deps.length
          ? deps.map((d) => ({ digest: d.digest, imports: d.imports.map((x) => ({ type: x.type, targetEnv: x.targetEnv, targetBuildArg: x.targetBuildArg })) }))
          : undefined,
      },
      {
        kind: "dependencies",
        imports: imports.map(({ stageName: _s, ...i }) => i),
        dependencies: deps.map(({ stageName: _s, ...d }) => d),
      },
      (imports[0] ?? deps[0]).directive?.pos ?? deps[0]?.pos ?? image.pos,
    );
  };

  userStage("beforeInstall");
  dependencies("dependenciesBeforeInstall");
  if (sources.length > 0) {
    add(
      "gitArchive",
      { mappings: input.git.map((g) => mappingParams(g.source.mapping, g.source.repoName)).sort(byJson) },
      {
        kind: "gitArchive",
        archives: sources.map((s) => ({ source: s, file: `git/${archiveName(s)}.tar` })),
      },
      image.git[0].pos,
      sources,
    );
  }
  userStage("install");
  dependencies("dependenciesAfterInstall");
  userStage("beforeSetup");
  dependencies("dependenciesBeforeSetup");
  userStage("setup");
  dependencies("dependenciesAfterSetup");

  if (image.kind === "image" && !image.disableGitAfterPatch) {
    // gitCache and gitLatestPatch are empty when every stage holds HEAD (a fresh build); `build` adds them
    // when a stored stage holds an older commit.
    const docker = image.docker;
    if (docker && hasDockerInstructions(docker)) {
      add("dockerInstructions", dockerInputs(docker), { kind: "dockerInstructions", docker }, docker.pos);
    }
  }
  if (image.kind === "image") {
    const spec = mergeImageSpec(image.final ? config.meta.build?.imageSpec : undefined, image.imageSpec);
    if (spec) {
      // positions are not inputs: moving a value in werf.yaml changes no digest
      const { pos: _pos, at: _at, ...inputs } = spec;
      add("imageSpec", inputs, { kind: "imageSpec", spec }, spec.pos);
    }
  }
  return stages;
}

/** werf merges werf.yaml's global `build.imageSpec` (final images only) with the image's own: the image's
 *  scalars win, lists are joined (global first, no repeats), maps merged (the image's keys win). */
export function mergeImageSpec(global: ImageSpec | undefined, own: ImageSpec | undefined): ImageSpec | undefined {
  if (!global) return own;
  if (!own) return global;
  const g = global.config;
  const o = own.config;
  const list = (a: string[] | undefined, b: string[] | undefined) => [...new Set([...(a ?? []), ...(b ?? [])])];
  return {
    pos: own.pos,
    // the image's own values keep their positions; global ones are located in the global block
    at: { ...global.at, ...own.at },
    author: own.author ?? global.author,
    clearHistory: own.clearHistory || global.clearHistory,
    config:
      g || o
        ? {
            ...g,
            ...stripUndefined(o ?? {}),
            removeLabels: list(g?.removeLabels, o?.removeLabels),
            removeVolumes: list(g?.removeVolumes, o?.removeVolumes),
            removeEnv: list(g?.removeEnv, o?.removeEnv),
            volumes: list(g?.volumes, o?.volumes),
            expose: list(g?.expose, o?.expose),
            labels: { ...g?.labels, ...o?.labels },
            env: { ...g?.env, ...o?.env },
          }
        : undefined,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function byJson(a: unknown, b: unknown): number {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `own-<id>` or `<remote name with / → _>-<id>`, safe as a file name. No commit in it: the Dockerfile text
 *  stays the same from commit to commit (only the commit labels change). */
export function archiveName(s: GitSource): string {
  return `${s.repoName.replace(/[^A-Za-z0-9._-]+/g, "_")}-${s.id}`;
}

export function hasDockerInstructions(d: DockerDirectives): boolean {
  return (
    d.volume.length > 0 ||
    d.expose.length > 0 ||
    Object.keys(d.env).length > 0 ||
    Object.keys(d.label).length > 0 ||
    d.cmd !== undefined ||
    d.entrypoint !== undefined ||
    d.workdir !== undefined ||
    d.user !== undefined ||
    d.healthcheck !== undefined ||
    d.stopSignal !== undefined ||
    d.onBuild.length > 0
  );
}

function sortedPairs(m: Record<string, string>): [string, string][] {
  return Object.keys(m)
    .sort()
    .map((k) => [k, m[k]]);
}

function dockerInputs(d: DockerDirectives): Record<string, unknown> {
  return {
    exactValues: d.exactValues || undefined,
    volume: d.volume.length ? d.volume : undefined,
    expose: d.expose.length ? d.expose : undefined,
    env: Object.keys(d.env).length ? sortedPairs(d.env) : undefined,
    label: Object.keys(d.label).length ? sortedPairs(d.label) : undefined,
    cmd: d.cmd,
    entrypoint: d.entrypoint,
    workdir: d.workdir,
    user: d.user,
    healthcheck: d.healthcheck,
    stopSignal: d.stopSignal,
    onBuild: d.onBuild.length ? d.onBuild : undefined,
  };
}
