// The typed, validated, normalised werf.yaml that every later step consumes.
// Plain data (JSON-able apart from nothing): string-or-list fields are always
// string[], defaults are filled in, v1.1 spellings are mapped to v2 ones, and
// every element a later step may point at carries the `pos` it came from.

import type { SourcePos } from "../diagnostics.js";

export type { SourcePos };

/** The four user stages, in build order. */
export type UserStage = "beforeInstall" | "install" | "beforeSetup" | "setup";
export const USER_STAGES: readonly UserStage[] = ["beforeInstall", "install", "beforeSetup", "setup"];

export interface WerfConfig {
  /** The werf.yaml path as the user knows it. */
  file: string;
  meta: WerfMeta;
  /** Stapel images and artifacts, in document order (an `image: [a, b]` document gives two entries). */
  images: StapelImage[];
  dockerfileImages: DockerfileImage[];
}

export interface WerfMeta {
  pos: SourcePos;
  project: string;
  /** Always 1. */
  configVersion: number;
  build?: MetaBuild;
  /** `deploy:` as written (werf's helm settings; not used for building). */
  deploy?: Record<string, unknown>;
  /** `cleanup:` as written (werf's cleanup policies; not used for building). */
  cleanup?: Record<string, unknown>;
  /** The position of each value of `cleanup:` (`cleanup.keepPolicies[0].references.branch`...). */
  cleanupPositions?: Record<string, SourcePos>;
  gitWorktree?: { forceShallowClone?: boolean; allowUnshallow?: boolean; allowFetchOriginBranchesAndTags?: boolean };
}

export interface MetaBuild {
  /** Mixed into every stage digest (werf v2.30+). */
  cacheVersion?: string;
  /** Default target platforms of all images. */
  platform: string[];
  staged: boolean;
  /** Global imageSpec merged into final images. */
  imageSpec?: ImageSpec;
}

/** Where a dependency or import is applied: before/after the install or setup stage. */
export interface StagePosition {
  when: "before" | "after";
  stage: "install" | "setup";
}

export interface StapelImage {
  kind: "image" | "artifact";
  /** "" for the deprecated nameless image (`image: ~`). */
  name: string;
  /** The `image:` / `artifact:` key. */
  pos: SourcePos;
  /** Whether the image is published (artifacts: always false). */
  final: boolean;
  /** External base image reference (a name of another image in the file is moved to fromImage). */
  from?: string;
  /** Base is another image of this werf.yaml (also set when `from` names one, as werf v2.47+ does). */
  fromImage?: string;
  /** Base is an artifact (`fromArtifact`, v1.1 `fromImageArtifact`). */
  fromArtifact?: string;
  fromLatest: boolean;
  /** Position of the base image's value (from/fromImage/fromArtifact), when one is written. */
  basePos?: SourcePos;
  fromCacheVersion?: string;
  cacheVersion?: string;
  disableGitAfterPatch: boolean;
  /** v1.0/v1.1 `asLayers` (accepted, has no effect on the model). */
  asLayers: boolean;
  git: GitMapping[];
  shell?: ShellBuilder;
  ansible?: AnsibleBuilder;
  mount: Mount[];
  import: ImportDirective[];
  dependencies: Dependency[];
  /** Deprecated `docker:` directives (werf drops them with disableGitAfterPatch, see reference §1.1). */
  docker?: DockerDirectives;
  imageSpec?: ImageSpec;
  platform: string[];
  network?: string;
  secrets: Secret[];
}

export interface GitMapping {
  pos: SourcePos;
  /** true for the project's own repository (no `url`). */
  local: boolean;
  url?: string;
  branch?: string;
  tag?: string;
  commit?: string;
  basicAuth?: { username?: string; password?: { env?: string; src?: string; value?: string } };
  /** Absolute path in the repository, default "/". */
  add: string;
  /** Absolute path in the image. */
  to: string;
  as?: string;
  /** Globs relative to `add`. */
  includePaths: string[];
  excludePaths: string[];
  owner?: string;
  group?: string;
  /** Globs relative to `add`; a change of a matching file rebuilds that stage. */
  stageDependencies: { install: string[]; beforeSetup: string[]; setup: string[] };
}

export interface ShellCommand {
  command: string;
  pos: SourcePos;
}

/** The cacheVersion family of a builder: changing one rebuilds all user stages or one stage. */
export interface BuilderCacheVersions {
  cacheVersion?: string;
  beforeInstallCacheVersion?: string;
  installCacheVersion?: string;
  beforeSetupCacheVersion?: string;
  setupCacheVersion?: string;
}

export interface ShellBuilder extends BuilderCacheVersions {
  pos: SourcePos;
  beforeInstall: ShellCommand[];
  install: ShellCommand[];
  beforeSetup: ShellCommand[];
  setup: ShellCommand[];
  /** Position of each stage's key (`install:`), for stages that are written. */
  stagePos: Partial<Record<UserStage, SourcePos>>;
}

export interface AnsibleTask {
  /** The module key (`shell`, `apt`, ...), or "block" for block/rescue/always tasks. */
  module: string;
  /** The task as written, as plain JSON-able data (YAML 1.1 values resolved). */
  config: Record<string, unknown>;
  pos: SourcePos;
}

export interface AnsibleBuilder extends BuilderCacheVersions {
  pos: SourcePos;
  beforeInstall: AnsibleTask[];
  install: AnsibleTask[];
  beforeSetup: AnsibleTask[];
  setup: AnsibleTask[];
  stagePos: Partial<Record<UserStage, SourcePos>>;
}

export interface Mount {
  pos: SourcePos;
  /** Absolute path in the build container. */
  to: string;
  /** Where `to`'s value is (errors about the path point there). */
  toPos?: SourcePos;
  /** tmp_dir: fresh per build; build_dir: kept between builds; custom_dir: a host path (`fromPath`). */
  type: "tmp_dir" | "build_dir" | "custom_dir";
  fromPath?: string;
}

export interface ImportDirective {
  pos: SourcePos;
  /** Name of the source image/artifact in this werf.yaml, or an external image reference. */
  source: string;
  /** The source was given as `artifact:`. */
  artifact: boolean;
  /** The source is an external image (an `image:`/`from:` with a tag or digest). */
  external: boolean;
  /** Stage of the source image to copy from (default: its last stage). */
  stage?: UserStage;
  add: string;
  /** Defaults to `add`. */
  to: string;
  at: StagePosition;
  includePaths: string[];
  excludePaths: string[];
  owner?: string;
  group?: string;
  /** Where each value is (`add`, `to`, `owner`, `group`, `includePaths[i]`...): errors about a value point there. */
  valuePos?: ValuePositions;
}

export type DependencyImportType = "ImageName" | "ImageTag" | "ImageRepo" | "ImageID" | "ImageDigest";

export interface Dependency {
  pos: SourcePos;
  image: string;
  /** Stapel images only. */
  at?: StagePosition;
  imports: { type: DependencyImportType; targetEnv?: string; targetBuildArg?: string }[];
}

/** Where each value of a settings block is: `KEY` (a scalar), `KEY[i]` (a list item), `KEY.NAME` (a map value). */
export type ValuePositions = Record<string, SourcePos>;

export interface DockerDirectives {
  pos: SourcePos;
  /** The position of each value (ValuePositions keys use werf's spelling: `ENV.NAME`, `VOLUME[0]`, `WORKDIR`). */
  at: ValuePositions;
  volume: string[];
  expose: string[];
  env: Record<string, string>;
  label: Record<string, string>;
  /** A list stays a list (exec form); a string is the shell form. */
  cmd?: string | string[];
  entrypoint?: string | string[];
  workdir?: string;
  user?: string;
  healthcheck?: string;
  /** werf v1.0: STOPSIGNAL. */
  stopSignal?: string;
  /** werf v1.0: ONBUILD instructions, each a Dockerfile instruction. */
  onBuild: string[];
  /** Keep values as written (no shell-escaping by werf). */
  exactValues: boolean;
}

export interface ImageSpec {
  pos: SourcePos;
  /** The position of each value of `config` (`env.NAME`, `volumes[0]`, `workingDir`, `healthcheck.test[0]`...). */
  at: ValuePositions;
  author?: string;
  clearHistory: boolean;
  config?: {
    keepEssentialWerfLabels?: boolean;
    clearWerfLabels?: boolean;
    clearCmd?: boolean;
    clearEntrypoint?: boolean;
    clearUser?: boolean;
    clearWorkingDir?: boolean;
    /** Label names or `/regex/`. */
    removeLabels: string[];
    removeVolumes: string[];
    removeEnv: string[];
    volumes: string[];
    labels: Record<string, string>;
    env: Record<string, string>;
    expose: string[];
    user?: string;
    cmd?: string[];
    entrypoint?: string[];
    workingDir?: string;
    stopSignal?: string;
    healthcheck?: { test: string[]; interval?: number; timeout?: number; startPeriod?: number; retries?: number };
  };
}

export interface Secret {
  pos: SourcePos;
  id?: string;
  env?: string;
  src?: string;
  value?: string;
}

/** werf's secret id: `id`, else the env name, else the file's base name. */
export function secretId(s: Pick<Secret, "id" | "env" | "src">): string | undefined {
  return s.id ?? s.env ?? (s.src !== undefined ? s.src.split("/").filter(Boolean).pop() : undefined);
}

export interface DockerfileImage {
  name: string;
  pos: SourcePos;
  dockerfile: string;
  context?: string;
  /** `contextAddFiles` (or the old `contextAddFile`), normalised to a list. */
  contextAddFiles: string[];
  target?: string;
  args: Record<string, string>;
  addHost: string[];
  network?: string;
  ssh?: string;
  staged: boolean;
  platform: string[];
  dependencies: Dependency[];
  secrets: Secret[];
  imageSpec?: ImageSpec;
  final: boolean;
  cacheVersion?: string;
}
