// The werf.yaml document schemas (werf v2 plus the v1.1-era keys still found in
// real configs), written once in zod: used to validate each document and to
// produce the JSON Schema for editors. Field lists follow werf's pkg/config/raw_*.go.
// Cross-field rules (absolute paths, from/fromImage conflicts, ...) live in rules.ts.

import { z } from "zod";
import { goFormat } from "./go-format.js";

// A werf.yaml is validated once per process: zod's compiled (`new Function`) object parsers cost more to build than
// they save on a few documents (~20 % of a cold config load measured on the bench project's 10 images).
z.config({ jitless: true });

/** A scalar read into a Go string field: yaml.v2 keeps the scalar's text, so numbers and booleans are fine. */
const goString = (description?: string) => {
  const s = z.union([z.string(), z.number(), z.boolean(), z.null()], {
    error: (iss) => `string expected, got \`${goFormat(iss.input)}\`!`,
  });
  return description ? s.describe(description) : s;
};

/** A Go bool field: yaml.v2 reads null (`key:` with no value) as false. */
const bool = (description: string) =>
  z
    .boolean({ error: (iss) => `boolean expected (true/false), got \`${goFormat(iss.input)}\`!` })
    .nullable()
    .describe(description);

/** werf's InterfaceToStringArray: a string, a list of strings, or nothing. */
export const stringOrList = (description: string) =>
  z
    .union([z.string(), z.array(z.string()), z.null()], {
      error: (iss) => `single string or array of strings expected, got \`${goFormat(iss.input)}\`!`,
    })
    .describe(description);

/** A Go []string field: a list whose items are scalars. */
const stringList = (description: string) =>
  z
    .array(goString(), { error: (iss) => `list of strings expected, got \`${goFormat(iss.input)}\`!` })
    .describe(description);

/** A Go map[string]string field. */
const stringMap = (description: string) =>
  z
    .record(z.string(), goString(), { error: (iss) => `mapping expected, got \`${goFormat(iss.input)}\`!` })
    .describe(description);

const obj = <T extends z.core.$ZodLooseShape>(shape: T, description: string) =>
  z.strictObject(shape, { error: (iss) => (iss.code === "invalid_type" ? `mapping expected, got \`${goFormat(iss.input)}\`!` : undefined) }).describe(description);

const list = <T extends z.ZodType>(item: T, description: string) =>
  z.array(item, { error: (iss) => `list expected, got \`${goFormat(iss.input)}\`!` }).describe(description);

// ---------------------------------------------------------------------------- imageSpec

const healthcheck = obj(
  {
    test: stringList("Healthcheck command, e.g. [CMD-SHELL, curl -f http://localhost/]").optional(),
    interval: z.number().int().describe("Time between checks (seconds)").optional(),
    timeout: z.number().int().describe("Check timeout (seconds)").optional(),
    startPeriod: z.number().int().describe("Initialisation period (seconds)").optional(),
    startperiod: z.number().int().describe("yaml.v2 spelling of startPeriod").optional(),
    retries: z.number().int().describe("Failures before unhealthy").optional(),
  },
  "Image healthcheck",
);

export const imageSpecSchema = obj(
  {
    author: goString("Image author").optional(),
    clearHistory: bool("Drop the image history").optional(),
    config: obj(
      {
        keepEssentialWerfLabels: bool("Keep werf's essential labels").optional(),
        clearWerfLabels: bool("Remove werf's labels").optional(),
        clearCmd: bool("Reset CMD inherited from the base image").optional(),
        clearEntrypoint: bool("Reset ENTRYPOINT inherited from the base image").optional(),
        clearUser: bool("Reset USER").optional(),
        clearWorkingDir: bool("Reset WORKDIR").optional(),
        removeLabels: stringList("Labels to remove (names or /regex/)").optional(),
        removeVolumes: stringList("Volumes to remove").optional(),
        removeEnv: stringList("Environment variables to remove").optional(),
        volumes: stringList("VOLUME").optional(),
        labels: stringMap("LABEL").optional(),
        env: stringMap("ENV").optional(),
        expose: stringList("EXPOSE").optional(),
        user: goString("USER").optional(),
        cmd: stringList("CMD (exec form)").optional(),
        entrypoint: stringList("ENTRYPOINT (exec form)").optional(),
        workingDir: goString("WORKDIR").optional(),
        stopSignal: goString("STOPSIGNAL").optional(),
        healthcheck: healthcheck.optional(),
      },
      "OCI image config",
    ).optional(),
  },
  "Image metadata (OCI image spec) of the resulting image",
);

const globalImageSpecSchema = obj(
  {
    author: goString("Image author").optional(),
    clearHistory: bool("Drop the image history").optional(),
    config: obj(
      {
        keepEssentialWerfLabels: bool("Keep werf's essential labels").optional(),
        clearWerfLabels: bool("Remove werf's labels").optional(),
        removeLabels: stringList("Labels to remove (names or /regex/)").optional(),
        labels: stringMap("LABEL").optional(),
      },
      "OCI image config for all final images",
    ).optional(),
  },
  "Image metadata applied to every final image",
);

// ---------------------------------------------------------------------------- shared parts

const platform = stringList("Target platforms, e.g. [linux/amd64, linux/arm64]");

const secretSchema = obj(
  {
    id: goString("Secret id (mounted at /run/secrets/<id>)").optional(),
    env: goString("Take the secret from this environment variable").optional(),
    src: goString("Take the secret from this file").optional(),
    value: goString("The secret value itself").optional(),
  },
  "Build secret",
);

const dependencyImportSchema = obj(
  {
    type: z
      .enum(["ImageName", "ImageTag", "ImageRepo", "ImageID", "ImageDigest"], {
        error: (iss) =>
          `invalid \`type: ${goFormat(iss.input)}\` for dependency import, expected one of: ImageName, ImageTag, ImageRepo, ImageID, ImageDigest`,
      })
      .describe("What to pass: ImageName, ImageTag, ImageRepo, ImageID or ImageDigest"),
    targetEnv: goString("Environment variable to set (Stapel images)").optional(),
    targetBuildArg: goString("Build argument to set (Dockerfile images)").optional(),
  },
  "A value of the dependency image passed to this image",
);

const dependencySchema = obj(
  {
    image: goString("Name of the image this image depends on"),
    before: goString("install|setup: add the values before this stage (Stapel)").optional(),
    after: goString("install|setup: add the values after this stage (Stapel)").optional(),
    imports: list(dependencyImportSchema, "Values of the dependency to pass").optional(),
  },
  "Dependency on another image of werf.yaml",
);

// ---------------------------------------------------------------------------- Stapel parts

const stageDependenciesSchema = obj(
  {
    install: stringOrList("Globs (relative to add) that rebuild the install stage").optional(),
    beforeSetup: stringOrList("Globs (relative to add) that rebuild the beforeSetup stage").optional(),
    setup: stringOrList("Globs (relative to add) that rebuild the setup stage").optional(),
  },
  "Files whose changes rebuild user stages",
);

const exportBase = {
  add: goString("Absolute source path (default /)").optional(),
  to: goString("Absolute destination path in the image").optional(),
  includePaths: stringOrList("Globs relative to add to copy").optional(),
  excludePaths: stringOrList("Globs relative to add not to copy").optional(),
  owner: goString("Owner (name or uid) of the copied files").optional(),
  group: goString("Group (name or gid) of the copied files").optional(),
};

export const gitSchema = obj(
  {
    ...exportBase,
    as: goString("Name of the mapping").optional(),
    url: goString("Remote repository URL (omit for the project repository)").optional(),
    branch: goString("Remote branch").optional(),
    tag: goString("Remote tag").optional(),
    commit: goString("Remote commit").optional(),
    basicAuth: obj(
      {
        username: goString("User name").optional(),
        password: obj(
          {
            env: goString("From environment variable").optional(),
            src: goString("From file").optional(),
            value: goString("Plain value").optional(),
          },
          "Password source",
        ).optional(),
      },
      "HTTP basic auth for the remote repository",
    ).optional(),
    stageDependencies: stageDependenciesSchema.optional(),
    // werf v1.1: required with `branch` under giterminism-free v1.1
    herebyIAdmitThatBranchMightBreakReproducibility: bool("v1.1: required together with a remote branch").optional(),
  },
  "Files from a git repository added to the image",
);

const shellSchema = obj(
  {
    beforeInstall: stringOrList("Commands of the beforeInstall stage").optional(),
    install: stringOrList("Commands of the install stage").optional(),
    beforeSetup: stringOrList("Commands of the beforeSetup stage").optional(),
    setup: stringOrList("Commands of the setup stage").optional(),
    cacheVersion: goString("Changing it rebuilds all user stages").optional(),
    beforeInstallCacheVersion: goString("Changing it rebuilds beforeInstall").optional(),
    installCacheVersion: goString("Changing it rebuilds install").optional(),
    beforeSetupCacheVersion: goString("Changing it rebuilds beforeSetup").optional(),
    setupCacheVersion: goString("Changing it rebuilds setup").optional(),
  },
  "Shell builder: commands of the user stages",
);

/** A task: one module key plus Ansible task keywords; checked in ansible.ts. */
const ansibleTask = z
  .record(z.string(), z.unknown(), { error: (iss) => `ansible task (a mapping) expected, got \`${goFormat(iss.input)}\`!` })
  .describe("Ansible task: one supported module plus task keywords (name, args, when, ...)");
const ansibleTasks = (stage: string) => list(ansibleTask, `Ansible tasks of the ${stage} stage`).nullable().optional();

const ansibleSchema = obj(
  {
    beforeInstall: ansibleTasks("beforeInstall"),
    install: ansibleTasks("install"),
    beforeSetup: ansibleTasks("beforeSetup"),
    setup: ansibleTasks("setup"),
    cacheVersion: goString("Changing it rebuilds all user stages").optional(),
    beforeInstallCacheVersion: goString("Changing it rebuilds beforeInstall").optional(),
    installCacheVersion: goString("Changing it rebuilds install").optional(),
    beforeSetupCacheVersion: goString("Changing it rebuilds beforeSetup").optional(),
    setupCacheVersion: goString("Changing it rebuilds setup").optional(),
  },
  "Ansible builder (deprecated): tasks of the user stages",
);

const mountSchema = obj(
  {
    to: goString("Absolute mount point in the build container").optional(),
    from: goString("tmp_dir (new per build) or build_dir (kept between builds)").optional(),
    fromPath: goString("Host path to mount").optional(),
  },
  "Directory mounted while building (not kept in the image)",
);

const importSchema = obj(
  {
    image: goString("Source image name (or external image with tag/digest)").optional(),
    from: goString("Source image (alias of image)").optional(),
    artifact: goString("Source artifact name (deprecated)").optional(),
    stage: goString("Source stage: beforeInstall, install, beforeSetup or setup").optional(),
    before: goString("install|setup: import before this stage").optional(),
    after: goString("install|setup: import after this stage").optional(),
    ...exportBase,
  },
  "Files copied from another image",
);

const dockerSchema = obj(
  {
    VOLUME: stringOrList("VOLUME").optional(),
    EXPOSE: stringOrList("EXPOSE").optional(),
    ENV: stringMap("ENV").optional(),
    LABEL: stringMap("LABEL").optional(),
    CMD: stringOrList("CMD: a string (shell form) or a list (exec form)").optional(),
    ENTRYPOINT: stringOrList("ENTRYPOINT: a string (shell form) or a list (exec form)").optional(),
    WORKDIR: goString("WORKDIR").optional(),
    USER: goString("USER").optional(),
    HEALTHCHECK: goString("HEALTHCHECK").optional(),
    STOPSIGNAL: goString("STOPSIGNAL (werf v1.0)").optional(),
    ONBUILD: stringOrList("ONBUILD instructions (werf v1.0)").optional(),
    exactValues: bool("Use values exactly as written").optional(),
  },
  "Dockerfile-like image settings (deprecated in werf v2: use imageSpec)",
);

const imageName = z
  .union([z.string(), z.array(z.string()), z.null()], {
    error: (iss) => `invalid image name \`${goFormat(iss.input)}\`!`,
  })
  .describe("Image name, a list of names (one image each), or ~ for the nameless image (deprecated)");

const stapelShape = {
  final: bool("Publish the image (default true)").optional(),
  cacheVersion: goString("Changing it rebuilds the image").optional(),
  from: goString("Base image: an external reference or another image of werf.yaml").optional(),
  fromLatest: bool("Always use the newest base image digest").optional(),
  fromCacheVersion: goString("Changing it rebuilds from the base image").optional(),
  fromImage: goString("Base image: another image of werf.yaml").optional(),
  fromArtifact: goString("Base image: an artifact of werf.yaml (deprecated)").optional(),
  disableGitAfterPatch: bool("Skip the gitCache/gitLatestPatch stages").optional(),
  git: list(gitSchema, "Git mappings").nullable().optional(),
  shell: shellSchema.nullable().optional(),
  ansible: ansibleSchema.nullable().optional(),
  mount: list(mountSchema, "Build-time mounts").nullable().optional(),
  docker: dockerSchema.nullable().optional(),
  import: list(importSchema, "Imports from other images").nullable().optional(),
  dependencies: list(dependencySchema, "Dependencies on other images").nullable().optional(),
  platform: platform.optional(),
  network: goString("Network mode of the build (e.g. host, none)").optional(),
  secrets: list(secretSchema, "Build secrets").nullable().optional(),
  imageSpec: imageSpecSchema.optional(),
  // werf v1.1 keys still found in real configs
  fromImageArtifact: goString("v1.1 spelling of fromArtifact").optional(),
  asLayers: bool("v1.0/v1.1: one image per instruction (ignored)").optional(),
  herebyIAdmitThatFromLatestMightBreakReproducibility: bool("v1.1: required together with fromLatest").optional(),
};

export const stapelImageSchema = obj(
  { image: imageName, ...stapelShape },
  "Stapel image",
);

export const artifactSchema = obj(
  { artifact: goString("Artifact name (artifacts are deprecated: use an image with final: false)"), ...stapelShape },
  "Stapel artifact (deprecated)",
);

export const dockerfileImageSchema = obj(
  {
    image: imageName,
    dockerfile: goString("Dockerfile path, relative to context"),
    context: goString("Build context directory, relative to the project").optional(),
    contextAddFiles: stringOrList("Untracked files added to the context").optional(),
    contextAddFile: stringOrList("Old spelling of contextAddFiles").optional(),
    target: goString("Dockerfile stage to build").optional(),
    args: z.record(z.string(), z.unknown()).describe("Build arguments").optional(),
    addHost: stringOrList("Extra /etc/hosts entries (host:ip)").optional(),
    network: goString("Network mode of RUN instructions").optional(),
    ssh: goString("SSH agent socket or keys (default|<id>[=<socket>|<key>])").optional(),
    dependencies: list(dependencySchema, "Dependencies on other images").nullable().optional(),
    staged: bool("Store each instruction as a stage").optional(),
    platform: platform.optional(),
    secrets: list(secretSchema, "Build secrets").nullable().optional(),
    imageSpec: imageSpecSchema.optional(),
    final: bool("Publish the image (default true)").optional(),
    cacheVersion: goString("Changing it rebuilds the image").optional(),
  },
  "Image built from a Dockerfile",
);

export const metaSchema = obj(
  {
    configVersion: z
      .number({ error: (iss) => `'configVersion: 1' field required, got \`${goFormat(iss.input)}\`!` })
      .describe("Must be 1"),
    project: goString("Project name: lowercase letters, digits and '-', at most 50 chars").optional(),
    build: obj(
      {
        cacheVersion: goString("Changing it rebuilds all images").optional(),
        platform: platform.optional(),
        staged: bool("Dockerfile images: store each instruction as a stage").optional(),
        imageSpec: globalImageSpecSchema.optional(),
      },
      "Build settings for all images",
    ).optional(),
    deploy: obj(
      {
        helmChartConfig: obj({ appVersion: goString("Chart appVersion").optional() }, "Helm chart settings").optional(),
        helmChartDir: goString("Helm chart directory").optional(),
        helmRelease: goString("Helm release name template").optional(),
        helmReleaseSlug: bool("Slugify the release name").optional(),
        namespace: goString("Kubernetes namespace template").optional(),
        namespaceSlug: bool("Slugify the namespace").optional(),
      },
      "Deployment settings",
    ).optional(),
    cleanup: obj(
      {
        disable: bool("Disable cleanup").optional(),
        disableKubernetesBasedPolicy: bool("Do not keep images used in Kubernetes").optional(),
        disableGitHistoryBasedPolicy: bool("Do not keep images by git history").optional(),
        disableBuiltWithinLastNHoursPolicy: bool("Do not keep recently built images").optional(),
        keepImagesBuiltWithinLastNHours: z.number().int().nonnegative().describe("Keep images built within N hours").optional(),
        keepPolicies: list(
          obj(
            {
              references: obj(
                {
                  tag: goString("Tag name or /regex/").optional(),
                  branch: goString("Branch name or /regex/").optional(),
                  limit: obj(
                    {
                      last: z.number().int().describe("Keep this many").optional(),
                      in: goString("Within this duration, e.g. 168h").optional(),
                      operator: goString("And|Or").optional(),
                    },
                    "Reference limits",
                  ).optional(),
                },
                "Git references to keep images for",
              ).optional(),
              imagesPerReference: obj(
                {
                  last: z.number().int().describe("Keep this many").optional(),
                  in: goString("Within this duration").optional(),
                  operator: goString("And|Or").optional(),
                },
                "Images kept per reference",
              ).optional(),
            },
            "Keep policy",
          ),
          "Keep policies",
        ).optional(),
      },
      "Cleanup policies",
    ).optional(),
    gitWorktree: obj(
      {
        forceShallowClone: bool("Allow working with a shallow clone").optional(),
        allowUnshallow: bool("Allow unshallowing the clone").optional(),
        allowFetchOriginBranchesAndTags: bool("Allow fetching origin branches and tags").optional(),
      },
      "Git worktree settings",
    ).optional(),
  },
  "Meta section: project name and global settings",
);

export type DocumentKind = "meta" | "image" | "artifact" | "dockerfile";

export const documentSchemas: Record<DocumentKind, z.ZodType> = {
  meta: metaSchema,
  image: stapelImageSchema,
  artifact: artifactSchema,
  dockerfile: dockerfileImageSchema,
};
