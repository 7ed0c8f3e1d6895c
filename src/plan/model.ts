// The build plan: every image of a werf.yaml as its list of werf stages, each with its digest, the
// inputs that made the digest, and what the stage does (its "body"). `plan` prints it, `emit` turns it
// into a multi-stage Dockerfile and a bake file, `build` (later) compares digests with the registry.
// Plain data: JSON-able except `GitSource.repo`.

import type { Diagnostic, SourcePos } from "../diagnostics.js";
import type {
  DockerDirectives,
  DockerfileImage,
  GitMapping,
  ImageSpec,
  ImportDirective,
  Mount,
  ShellCommand,
  AnsibleTask,
  UserStage,
} from "../config/model.js";
import type { SecretPlan } from "./secrets.js";

/** werf's stage names (v2), in conveyor order. */
export type StageName =
  | "from"
  | "beforeInstall"
  | "dependenciesBeforeInstall"
  | "gitArchive"
  | "install"
  | "dependenciesAfterInstall"
  | "beforeSetup"
  | "dependenciesBeforeSetup"
  | "setup"
  | "dependenciesAfterSetup"
  | "gitCache"
  | "gitLatestPatch"
  | "dockerInstructions"
  | "imageSpec";

export const STAGE_ORDER: readonly StageName[] = [
  "from",
  "beforeInstall",
  "dependenciesBeforeInstall",
  "gitArchive",
  "install",
  "dependenciesAfterInstall",
  "beforeSetup",
  "dependenciesBeforeSetup",
  "setup",
  "dependenciesAfterSetup",
  "gitCache",
  "gitLatestPatch",
  "dockerInstructions",
  "imageSpec",
];

export interface Plan {
  /** The digest scheme the digests were made with (docs/digests.md). */
  scheme: string;
  project: string;
  /** werf.yaml as the user knows it (relative to the project dir when inside it). */
  configFile: string;
  /** Absolute project directory (the one holding werf.yaml). Not part of any output file. */
  dir: string;
  /** The render read something that is not in the commit (RenderedConfig.readOutsideCommit). Not in any output file. */
  readOutsideCommit?: true;
  /** HEAD of the project's own repository; undefined when the project is not in a git repository. */
  commit?: CommitInfo;
  /** The toolchain image reference (static bash + busybox under /.stapel). */
  toolchain: string;
  /** Stapel images and artifacts in werf.yaml order, restricted to the requested ones and what they need. */
  images: ImagePlan[];
  dockerfileImages: DockerfileImagePlan[];
  /** Things the user should know that do not stop compiling (located when possible). */
  warnings: Diagnostic[];
}

export interface CommitInfo {
  hash: string;
  /** Unix seconds. */
  timeUnix: number;
  /** Go's time.String() of the commit time, as werf's WERF_COMMIT_TIME_HUMAN. */
  timeHuman: string;
}

export interface ImagePlan {
  /** "" for the nameless image. */
  name: string;
  kind: "image" | "artifact";
  /** Published (gets a final tag); artifacts never are. */
  final: boolean;
  pos: SourcePos;
  /** Lower-case Dockerfile stage-name prefix, unique in the file ("~" → "werf-image"). */
  slug: string;
  /** Conveyor order, empty stages dropped; the first is always `from`. */
  stages: StagePlan[];
  /** The image's last stage: its digest names the image. */
  digest: string;
  platform: string[];
  /** An image of several platforms, planned per platform (src/plan/platforms.ts; set by `plan` and `build`): each
   *  platform's stages and digests, and the image's name over them (its final tags' digest). */
  perPlatform?: { digest: string; platforms: { platform: string; digest: string; stages: { name: StageName; digest: string }[] }[] };
  asLayers: boolean;
  /** Whether `build` may add gitCache/gitLatestPatch (and the plan has dockerInstructions): false for artifacts
   *  and for images with `disableGitAfterPatch: true` (werf then skips those stages and the deprecated `docker:`). */
  gitAfterPatch: boolean;
  /** What the user stages must undo after running as root in `/` (see BaseImageConfig). */
  base: BaseImageConfig;
  /** Build secrets every user-stage RUN mounts at /run/secrets/<id> (ids and sources, never values). */
  secrets?: SecretPlan[];
}

/** The parts of the base image's config that werf restores after running the build as root in `/`. */
export interface BaseImageConfig {
  /** USER of the base image ("" = root). */
  user: string;
  /** WORKDIR of the base image ("" = /). */
  workdir: string;
  /** Where it came from: "daemon" (docker image inspect), "registry", "image" (another werf image), "scratch",
   *  or "assumed" (could not be read: root and / assumed, said in a comment and a warning). */
  source: "daemon" | "registry" | "image" | "scratch" | "assumed";
  /** The base image's config id when known (an input of `fromLatest`). */
  id?: string;
  /** Why the config is "assumed" (no daemon, no such local image...). */
  reason?: string;
}

export interface StagePlan {
  name: StageName;
  /** The Dockerfile build stage name: `<slug>--<stage>`, lower case. */
  target: string;
  digest: string;
  /** The digest of the previous stage of the chain (undefined for `from`, whose base is an input). */
  parent?: string;
  /** Every input of the digest, exactly as hashed (docs/digests.md), for `plan`. */
  inputs: Record<string, unknown>;
  /** Where the stage comes from in werf.yaml (its key, or the image's). */
  pos: SourcePos;
  /** For `plan`: which git files each stageDependencies mask matched (user stages with masks). */
  gitMatches?: GitMaskMatch[];
  /** Labels the stage ends with (digest, image, stage, git commits held). */
  labels: Record<string, string>;
  body: StageBody;
  /** The bake named contexts the stage reads (name → source), made by src/plan/contexts.ts. */
  contexts?: Record<string, string>;
  /** asLayers: this stage is layer `index` (1-based) of the `count` layers a werf user stage was split into, one
   *  per command; the last layer keeps the stage's own target (docs/digests.md "asLayers"). */
  layer?: { index: number; count: number };
}

export interface GitMaskMatch {
  /** The GitSource id. */
  mapping: string;
  add: string;
  mask: string;
  /** Matched paths relative to `add`, sorted. */
  paths: string[];
}

export type StageBody =
  | FromBody
  | UserBody
  | DependenciesBody
  | GitArchiveBody
  | GitPatchBody
  | DockerInstructionsBody
  | ImageSpecBody;

export type BaseRef =
  | { kind: "external"; ref: string }
  /** Another image of this werf.yaml (`fromImage`, `fromArtifact`, or `from` naming one): its last stage. */
  | { kind: "image"; image: string; target: string; digest: string }
  | { kind: "scratch" };

export interface FromBody {
  kind: "from";
  base: BaseRef;
}

export interface MountPlan {
  mount: Mount;
  /** build_dir: the BuildKit cache id (stable across builds of this project and image). */
  cacheId?: string;
  /** custom_dir: the bake named context that holds `fromPath`. */
  contextName?: string;
  /** custom_dir: `fromPath` relative to the project dir (POSIX), or absolute when outside it. */
  contextPath?: string;
}

export interface UserBody {
  kind: "user";
  stage: UserStage;
  builder: "shell" | "ansible";
  /** Shell commands (builder "shell"). */
  commands: ShellCommand[];
  /** Ansible tasks (builder "ansible"; compiled by the ansible issue). */
  tasks: AnsibleTask[];
  /** One RUN per command (asLayers). */
  asLayers: boolean;
  mounts: MountPlan[];
  /** Ids of the build secrets the RUNs mount (at /run/secrets/<id>). */
  secrets?: string[];
  /** The image's `network` (werf's network mode of the RUNs), when not the default. */
  network?: "none" | "host";
  /** Git files this stage's image holds (and, in `build`, brings up to HEAD with a patch before the commands). */
  git: GitSource[];
}

export interface GitSource {
  /** Short id of the mapping's parameters (werf's paramshash, 16 hex). Label key part. */
  id: string;
  mapping: GitMapping;
  /** "own" for the project's repository, else werf's name of the remote (`getRepositoryID`, e.g. `werf/werf`). */
  repoName: string;
  /** Absolute path of the git worktree or bare repository to read from. Not part of any output. */
  repoDir: string;
  /** The commit whose files the stage holds. */
  commit: string;
}

export interface GitArchivePlan {
  source: GitSource;
  /** Path of the tar inside the context directory (POSIX), e.g. `git/own-1a2b3c4d5e6f7a8b.tar`. */
  file: string;
}

export interface GitArchiveBody {
  kind: "gitArchive";
  archives: GitArchivePlan[];
}

export interface GitPatchPlan {
  source: GitSource;
  /** The commit the previous stage holds. */
  fromCommit: string;
  /** Names, in the patch context, of the tar of written entries and of the NUL-separated removal list. */
  tar: string;
  removals: string;
}

/** Git files brought from the commit a stored stage holds up to HEAD (`build` only, docs/git-patches.md): the
 *  gitCache/gitLatestPatch stages, or the helper applied right before a rebuilt install/beforeSetup/setup. */
export interface GitPatchBody {
  kind: "gitPatch";
  stage: StageName;
  patches: GitPatchPlan[];
  /** The bake named context holding the patch files; set by the build when it writes them. */
  context?: { name: string; path: string };
}

export interface ImportPlan {
  directive: ImportDirective;
  /** The source: an image of this werf.yaml (its stage target and digest) or an external reference. */
  source: { kind: "image"; image: string; target: string; digest: string } | { kind: "external"; ref: string };
}

export interface DependencyPlan {
  image: string;
  /** Its last stage (Dockerfile image) or bake target (Dockerfile image). */
  digest: string;
  imports: { type: string; targetEnv?: string; targetBuildArg?: string }[];
  pos: SourcePos;
}

export interface DependenciesBody {
  kind: "dependencies";
  imports: ImportPlan[];
  dependencies: DependencyPlan[];
}

export interface DockerInstructionsBody {
  kind: "dockerInstructions";
  docker: DockerDirectives;
}

/** werf's imageSpec (v2.24+): the image's own merged with werf.yaml's global `build.imageSpec`. */
export interface ImageSpecBody {
  kind: "imageSpec";
  spec: ImageSpec;
}

export interface DockerfileImagePlan {
  image: DockerfileImage;
  /** Bake target name (lower-case, unique). */
  target: string;
  /** `context` relative to the project dir (POSIX), default ".". */
  context: string;
  /** `dockerfile` as werf reads it: relative to `context` (POSIX), as bake's `dockerfile` is. */
  dockerfile: string;
  /** A digest of the inputs werf.yaml gives (not of the Dockerfile's own content). */
  digest: string;
  /** Target platforms (--platform, else its `platform`, else meta `build.platform`); [] the builder's. */
  platform: string[];
  /** Several platforms: each platform's digest and the image's name over them (src/plan/platforms.ts). */
  perPlatform?: { digest: string; platforms: { platform: string; digest: string }[] };
  /** Build secrets passed to the bake target (ids and sources; `image.secrets` holds no value either). */
  secrets?: SecretPlan[];
  /** Context-relative paths copied from the work tree over the commit's files (contextAddFiles, and the
   *  Dockerfile and .dockerignore files werf-giterminism.yaml's config.dockerfile lists accept). */
  worktreeFiles: string[];
  /** The imageSpec applied over the Dockerfile's result (the image's own merged with the global one for final
   *  images): the bake target `target` is then a small stage FROM `buildTarget`, the Dockerfile build itself. */
  imageSpec?: ImageSpec;
  buildTarget?: string;
}

/** Reads an external base image's config (USER, WORKDIR, id). Implementations: src/docker/image-config.ts. */
export interface BaseImageResolver {
  resolve(ref: string): Promise<BaseImageConfig>;
}

/** Options of the planner (src/plan/plan.ts `planProject`). */
export interface PlanOptions {
  /** The project directory (holds werf.yaml). */
  dir: string;
  configFile?: string;
  env?: string;
  strictEnv?: boolean;
  environ?: Record<string, string | undefined>;
  /** werf's --giterminism-config (default: the project's werf-giterminism.yaml). */
  giterminismConfig?: string;
  /** Only these images (and what they need); default all. */
  images?: string[];
  /** Toolchain image reference; default DEFAULT_TOOLCHAIN. */
  toolchain?: string;
  /** `--platform`: the target platforms of every image (werf's --platform), over werf.yaml's `platform` and meta
   *  `build.platform`; part of the from stage's digest. */
  platform?: string[];
  /** Set by `build` (src/builder/index.ts buildPlatforms): `platform` applies to every image even when empty (the
   *  images a build of one platform, or of none, is built on are built for that platform, as in werf's image tree). */
  forcePlatform?: boolean;
  /** Where remote git mappings are cloned; default `$XDG_CACHE_HOME/stapel2docker/git` (src/git/remote.ts). */
  gitCacheDir?: string;
  /** The persistent cache of listings and checksums (docs/cache.md): a store, false for none; default the
   *  environment's (STAPEL2DOCKER_CACHE_DIR, STAPEL2DOCKER_CACHE=off). */
  cache?: import("../cache/store.js").CacheStore | false;
  /** How external base images' configs are read; default: the docker daemon, else "assumed". */
  baseImages?: BaseImageResolver;
  /** Build the work tree as it is (werf's `--dev`): everything is read from a commit made of it, and every
   *  stage digest is marked so that it never equals a committed build's. */
  dev?: boolean;
}

export const DEFAULT_TOOLCHAIN = "stapel2docker/toolchain:latest";
