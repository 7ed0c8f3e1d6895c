// One Stapel `image:`/`artifact:` document → StapelImage model(s), with werf's
// per-image rules (pkg/config/raw_*.go, image_base.go, git_*.go, import.go, mount.go).
// Rules that need the other images (names, references, cycles) are in graph.ts.

import { platformList } from "./platform.js";
import { checkAnsibleTask, checkAnsibleStage, ANSIBLE_BLOCK_KEYS } from "./ansible.js";
import type { DocContext } from "./context.js";
import {
  USER_STAGES,
  type AnsibleBuilder,
  type AnsibleTask,
  type DockerDirectives,
  type ValuePositions,
  type GitMapping,
  type ImportDirective,
  type Mount,
  type ShellBuilder,
  type StapelImage,
  type UserStage,
} from "./model.js";
import { cleanAbsolute, hasDotDot, isAbsolutePath, isRelativePath, stripTrailingSlash } from "./paths.js";
import { buildDependencies, buildImageSpec, buildSecrets, stagePosition } from "./shared-directives.js";

/** The network modes a RUN can have (BuildKit's `RUN --network`). */
const NETWORK_MODES = new Set(["default", "none", "host"]);

type Raw = Record<string, unknown>;

const ABSOLUTE_HINT = "paths in the image and in the source start with `/`";
const RELATIVE_HINT = "masks are relative to `add`: drop the leading `/` (and any `..`)";

/** All images of one Stapel document (an `image: [a, b]` list gives several). */
export function buildStapelImages(ctx: DocContext, raw: Raw, kind: "image" | "artifact"): StapelImage[] {
  const names = imageNames(ctx, raw, kind);
  if (names === undefined) return [];
  const base = buildImageBase(ctx, raw, kind);
  return names.map((name) => ({ ...structuredClone(base), name }));
}

function imageNames(ctx: DocContext, raw: Raw, kind: "image" | "artifact"): string[] | undefined {
  if (kind === "artifact") {
    const name = ctx.str(raw, "artifact");
    if (name === undefined) {
      ctx.error(raw, "artifact", "unknown doc type: one of `image: NAME` or `artifact: NAME` non-empty name required!", "give the artifact a name");
      return undefined;
    }
    if ("image" in raw) {
      ctx.error(raw, "image", "unknown doc type: one and only one of `image: NAME` or `artifact: NAME` non-empty name required!", "keep either `image:` or `artifact:`", "key");
      return undefined;
    }
    return [name];
  }
  const v = raw.image;
  if (Array.isArray(v)) {
    if (v.length === 0) {
      ctx.error(raw, "image", "unknown doc type: one of `image: NAME` or `artifact: NAME` non-empty name required!", "give the image a name");
      return undefined;
    }
    return v.map((_, i) => ctx.doc.text(v, i) ?? "");
  }
  return [ctx.doc.text(raw, "image") ?? ""];
}

function buildImageBase(ctx: DocContext, raw: Raw, kind: "image" | "artifact"): StapelImage {
  const key = kind === "artifact" ? "artifact" : "image";
  const isArtifact = kind === "artifact";
  const img: StapelImage = {
    kind,
    name: "",
    pos: ctx.pos(raw, key),
    final: isArtifact ? false : (ctx.bool(raw, "final") ?? true),
    fromLatest: ctx.bool(raw, "fromLatest") ?? false,
    disableGitAfterPatch: ctx.bool(raw, "disableGitAfterPatch") ?? false,
    asLayers: ctx.bool(raw, "asLayers") ?? false,
    git: buildGit(ctx, raw),
    mount: buildMounts(ctx, raw),
    import: buildImports(ctx, raw),
    dependencies: [],
    platform: platformList(ctx, raw, "platform"),
    secrets: buildSecrets(ctx, raw),
  };
  const set = <K extends keyof StapelImage>(k: K, v: StapelImage[K] | undefined) => {
    if (v !== undefined) img[k] = v;
  };
  set("from", ctx.str(raw, "from"));
  set("fromImage", ctx.str(raw, "fromImage"));
  set("fromArtifact", ctx.str(raw, "fromArtifact") ?? ctx.str(raw, "fromImageArtifact"));
  set("fromCacheVersion", ctx.str(raw, "fromCacheVersion"));
  set("cacheVersion", ctx.str(raw, "cacheVersion"));
  set("network", ctx.str(raw, "network"));
  if (img.network !== undefined && !NETWORK_MODES.has(img.network)) {
    ctx.error(raw, "network", `network ${JSON.stringify(img.network)} is not supported`, "use default, none or host (the network modes of RUN instructions)");
  }
  set("shell", buildShell(ctx, raw));
  set("ansible", buildAnsible(ctx, raw));
  set("docker", buildDocker(ctx, raw));
  set("imageSpec", buildImageSpec(ctx, raw));

  if (ctx.str(raw, "fromArtifact") !== undefined && ctx.str(raw, "fromImageArtifact") !== undefined)
    ctx.error(raw, "fromImageArtifact", "conflict between `from`, `fromImage` and `fromArtifact` directives!", "fromImageArtifact is the v1.1 spelling of fromArtifact; keep one", "key");

  const bases = (["from", "fromImage", "fromArtifact"] as const).filter((k) => img[k] !== undefined);
  const baseKey = (["from", "fromImage", "fromArtifact", "fromImageArtifact"] as const).find((k) => ctx.str(raw, k) !== undefined);
  if (baseKey) img.basePos = ctx.pos(raw, baseKey, "value");
  if (bases.length === 0)
    ctx.error(raw, key, "`from: DOCKER_IMAGE`, `fromImage: IMAGE_NAME`, `fromArtifact: IMAGE_ARTIFACT_NAME` required!", "add `from: IMAGE[:TAG]` (an external image or another image of werf.yaml)", "key");
  else if (bases.length > 1)
    ctx.error(raw, bases[1] === "fromArtifact" && raw.fromArtifact === undefined ? "fromImageArtifact" : bases[1]!, "conflict between `from`, `fromImage` and `fromArtifact` directives!", "keep only one base image directive", "key");

  if (raw.shell != null && raw.ansible != null)
    ctx.error(raw, "ansible", "can not use shell and ansible builders at the same time!", "keep either `shell:` or `ansible:`", "key");
  if (raw.docker != null && raw.imageSpec != null)
    ctx.error(raw, "docker", "`docker` directive is deprecated and can't be used along with `imageSpec`!", "move the docker settings into imageSpec.config", "key");

  if (isArtifact) {
    if (raw.docker != null) ctx.error(raw, "docker", "`docker` section is not supported for artifact!", "remove it, or make this an `image:` with `final: false`", "key");
    if (raw.final !== undefined) ctx.error(raw, "final", "`final` directive is not supported for artifact!", "artifacts are never final; remove it", "key");
    if (raw.disableGitAfterPatch === true)
      ctx.error(raw, "disableGitAfterPatch", "`disableGitAfterPatch` directive is not supported for artifact!", "artifacts never have git patch stages; remove it", "key");
    if (ctx.objects(raw, "dependencies").length > 0)
      ctx.error(
        raw,
        "dependencies",
        `dependencies directive is specified for ${JSON.stringify(ctx.str(raw, "artifact") ?? "")} artifact, but dependencies are not supported for artifacts!`,
        "make this an `image:` with `final: false` to use dependencies",
        "key",
      );
  } else {
    img.dependencies = buildDependencies(ctx, raw, "stapel");
  }
  return img;
}

// ---------------------------------------------------------------------------- git

function buildGit(ctx: DocContext, image: Raw): GitMapping[] {
  const list = ctx.objects(image, "git");
  return list.map((raw, i) => {
    const url = ctx.str(raw, "url");
    const g: GitMapping = {
      pos: ctx.pos(list, i, "value"),
      local: url === undefined,
      add: ctx.str(raw, "add") ?? "/",
      to: stripTrailingSlash(ctx.str(raw, "to") ?? ""),
      includePaths: ctx.list(raw, "includePaths"),
      excludePaths: ctx.list(raw, "excludePaths"),
      stageDependencies: { install: [], beforeSetup: [], setup: [] },
    };
    for (const k of ["url", "branch", "tag", "commit", "as", "owner", "group"] as const) {
      const v = ctx.str(raw, k);
      if (v !== undefined) g[k] = v;
    }
    const auth = ctx.object(raw, "basicAuth");
    if (auth) {
      g.basicAuth = {};
      const u = ctx.str(auth, "username");
      if (u !== undefined) g.basicAuth.username = u;
      const p = ctx.object(auth, "password");
      if (p) {
        g.basicAuth.password = {};
        for (const k of ["env", "src", "value"] as const) {
          const v = ctx.str(p, k);
          if (v !== undefined) g.basicAuth.password[k] = v;
        }
      }
    }
    const refs = (["branch", "tag", "commit"] as const).filter((k) => g[k] !== undefined);
    if (g.local && refs.length > 0)
      ctx.error(raw, refs[0]!, "specify `branch: BRANCH`, `tag: TAG` and `commit: COMMIT` only for remote git!", "the project's own repository is used at the current commit; remove it or add `url:`", "key");
    else if (refs.length > 1)
      ctx.error(raw, refs[1]!, "specify only `branch: BRANCH`, `tag: TAG` or `commit: COMMIT` for remote git!", "keep one of branch, tag, commit", "key");
    if (url !== undefined) {
      const why = remoteUrlProblem(url);
      if (why) ctx.error(raw, "url", `git url ${JSON.stringify(url)} ${why}`, REMOTE_URL_HINT);
    }
    for (const k of ["branch", "tag"] as const) {
      const v = g[k];
      if (v !== undefined && !g.local && !isRefName(v))
        ctx.error(raw, k, `\`${k}: ${JSON.stringify(v)}\` is not a valid git ${k} name`, "write the name as `git check-ref-format` accepts it (no `:`, `*`, `?`, `[`, `^`, `~`, `..`, blanks, a leading `-`)");
    }
    if (g.commit !== undefined && !g.local && !/^[0-9a-fA-F]{4,64}$/.test(g.commit))
      ctx.error(raw, "commit", `\`commit: ${JSON.stringify(g.commit)}\` is not a commit id`, "write the commit's hexadecimal id (the full 40 characters); use `branch:` or `tag:` for a name");
    checkExportPaths(ctx, raw, g.add, ctx.str(raw, "to") ?? "");
    // archive entries are written under `to` and read from below `add`: neither may climb out with `..`
    for (const k of ["add", "to"] as const) {
      const v = ctx.str(raw, k);
      if (v !== undefined && isAbsolutePath(v) && hasDotDot(v))
        ctx.error(raw, k, `\`${k}: ${v}\` must not contain \`..\` for git!`, `write the path without \`..\`, e.g. ${JSON.stringify(cleanAbsolute(v))}`);
    }
    const sd = ctx.object(raw, "stageDependencies");
    if (sd) {
      for (const stage of ["install", "beforeSetup", "setup"] as const) {
        g.stageDependencies[stage] = ctx.list(sd, stage);
        if (g.stageDependencies[stage].some((p) => !isRelativePath(p)))
          ctx.error(sd, stage, `\`${stage}: [PATH, ...]|PATH\` should be relative paths!`, RELATIVE_HINT);
      }
    }
    return g;
  });
}

const REMOTE_URL_HINT =
  "use an https://, ssh://, git:// or scp-like (user@host:path) URL; to build from a local mirror, the operator redirects the URL with git's url.<base>.insteadOf (docs/remote-git.md)";

/**
 * Why a remote git mapping's URL is refused, or undefined. werf.yaml is written by whoever pushes a branch, and git
 * reads local paths and `file://` URLs from the build machine (another project's checkout, the remote-git cache of a
 * private repository) and runs commands for `ext::` and other `helper::` transports: only network transports are
 * accepted. A mirror on disk is the operator's to give, through `url.<base>.insteadOf` in git's environment.
 */
export function remoteUrlProblem(url: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(url)) return "holds a blank or control character";
  if (url.startsWith("-")) return "starts with `-`";
  // git's transport helpers: `<scheme>::<address>` (ext:: runs a command)
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(url)) return "names a git transport helper (`<helper>::`), which may run commands on the build machine";
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (["https", "http", "ssh", "git", "git+ssh", "ssh+git"].includes(scheme)) return /^[^:]+:\/\/[^/]/.test(url) ? undefined : "names no host";
    return scheme === "file" ? "is a path on the build machine" : `uses the transport \`${scheme}://\`, which stapel2docker does not fetch from`;
  }
  // scp-like `[user@]host:path` (git: a colon before the first slash); everything else is a local path
  if (/^(?:[^@/:]+@)?(?:\[[^\]/]+\]|[^/:@]+):(?!:)/.test(url)) return undefined;
  return "is a path on the build machine";
}

/** git check-ref-format's rules for a branch or tag name (a refspec part: no `:`, no glob). */
function isRefName(name: string): boolean {
  if (name === "" || name === "@" || name.startsWith("-") || name.startsWith("/") || name.endsWith("/") || name.endsWith(".")) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f~^:?*[\\]|\.\.|@\{|\/\/|\.lock(\/|$)|(^|\/)\./.test(name)) return false;
  return true;
}

/** add/to/includePaths/excludePaths rules shared by git and import. */
function checkExportPaths(ctx: DocContext, raw: Raw, add: string, to: string): void {
  const addOk = isAbsolutePath(add);
  if (!addOk) ctx.error(raw, "add", "`add: PATH` absolute path required for import!", ABSOLUTE_HINT, raw.add === undefined ? "key" : "value");
  if (!isAbsolutePath(to) && (raw.to !== undefined || addOk)) ctx.error(raw, "to", "`to: PATH` absolute path required for import!", ABSOLUTE_HINT, raw.to === undefined ? "key" : "value");
  for (const k of ["includePaths", "excludePaths"] as const)
    if (ctx.list(raw, k).some((p) => !isRelativePath(p))) ctx.error(raw, k, `\`${k}: [PATH, ...]|PATH\` should be relative paths!`, RELATIVE_HINT);
}

// ---------------------------------------------------------------------------- shell / ansible

function buildShell(ctx: DocContext, image: Raw): ShellBuilder | undefined {
  const raw = ctx.object(image, "shell");
  if (!raw) return undefined;
  const shell: ShellBuilder = { pos: ctx.pos(image, "shell"), beforeInstall: [], install: [], beforeSetup: [], setup: [], stagePos: {} };
  for (const stage of USER_STAGES) {
    const v = raw[stage];
    if (v === undefined) continue;
    shell.stagePos[stage] = ctx.pos(raw, stage);
    if (Array.isArray(v)) shell[stage] = v.map((_, i) => ({ command: ctx.doc.text(v, i) ?? "", pos: ctx.pos(v, i, "value") }));
    else if (v !== null) shell[stage] = [{ command: ctx.doc.text(raw, stage) ?? "", pos: ctx.pos(raw, stage, "value") }];
  }
  copyCacheVersions(ctx, raw, shell);
  return shell;
}

function copyCacheVersions(ctx: DocContext, raw: Raw, into: ShellBuilder | AnsibleBuilder): void {
  for (const k of ["cacheVersion", ...USER_STAGES.map((s) => `${s}CacheVersion`)] as const) {
    const v = ctx.str(raw, k);
    if (v !== undefined) (into as unknown as Record<string, string>)[k] = v;
  }
}

function buildAnsible(ctx: DocContext, image: Raw): AnsibleBuilder | undefined {
  const raw = ctx.object(image, "ansible");
  if (!raw) return undefined;
  const asLayers = ctx.bool(image, "asLayers") ?? false;
  const ansible: AnsibleBuilder = { pos: ctx.pos(image, "ansible"), beforeInstall: [], install: [], beforeSetup: [], setup: [], stagePos: {} };
  for (const stage of USER_STAGES) {
    if (raw[stage] === undefined) continue;
    ansible.stagePos[stage] = ctx.pos(raw, stage);
    const tasks = ctx.objects(raw, stage);
    const before = ctx.diagnostics.length;
    ansible[stage] = tasks.map((task, i) => buildAnsibleTask(ctx, tasks, i, task));
    if (ctx.diagnostics.length === before) checkAnsibleStage(ctx, tasks, asLayers);
  }
  copyCacheVersions(ctx, raw, ansible);
  return ansible;
}

function buildAnsibleTask(ctx: DocContext, list: object, index: number, task: Raw): AnsibleTask {
  checkTaskTree(ctx, list, index, task);
  const check = checkAnsibleTask(task);
  return { module: check.ok ? check.module : "", config: structuredClone(task), pos: ctx.pos(list, index, "value") };
}

function checkTaskTree(ctx: DocContext, list: object, index: number, task: Raw): void {
  const check = checkAnsibleTask(task);
  if (!check.ok) {
    if (check.key !== undefined) ctx.error(task, check.key, check.message, check.hint, "key");
    else ctx.error(list, index, check.message, check.hint);
  }
  for (const k of ANSIBLE_BLOCK_KEYS) {
    const children = task[k];
    if (children == null) continue;
    if (!Array.isArray(children)) {
      ctx.error(task, k, `\`${k}\` must be a list of tasks`, "indent the tasks under it as a list");
      continue;
    }
    children.forEach((child, i) => {
      if (child && typeof child === "object" && !Array.isArray(child)) checkTaskTree(ctx, children, i, child as Raw);
      else ctx.error(children, i, "invalid ansible task!", "a task is a mapping: `- name: ...` plus one module");
    });
  }
}

// ---------------------------------------------------------------------------- mount / import / docker

function buildMounts(ctx: DocContext, image: Raw): Mount[] {
  const list = ctx.objects(image, "mount");
  const seen = new Map<string, number>();
  return list.map((raw, i) => {
    const from = ctx.str(raw, "from");
    const fromPath = ctx.str(raw, "fromPath");
    const to = ctx.str(raw, "to") ?? "";
    const type = (from ?? "custom_dir") as Mount["type"];
    if (from !== undefined && fromPath !== undefined)
      ctx.error(list, i, `cannot use \`from: ${from}\` and \`fromPath: ${fromPath}\` at the same time for mount!`, "keep `from: tmp_dir|build_dir` or `fromPath: HOST_PATH`");
    else if (!isAbsolutePath(to)) ctx.error(raw, "to", "`to: PATH` absolute path required for mount!", ABSOLUTE_HINT, raw.to === undefined ? "key" : "value");
    else if (type === "custom_dir" && fromPath === undefined)
      ctx.error(list, i, "`fromPath: PATH` absolute or relative path required for mount!", "add `from: tmp_dir`, `from: build_dir` or `fromPath: HOST_PATH`");
    else if (type !== "custom_dir" && type !== "tmp_dir" && type !== "build_dir")
      ctx.error(raw, "from", `invalid \`from: ${from}\` for mount: expected \`tmp_dir\` or \`build_dir\`!`, "use tmp_dir (fresh per build) or build_dir (kept between builds)");
    if (to !== "") {
      if (seen.has(to)) ctx.error(raw, "to", "conflict between mounts!", `\`to: ${to}\` is already mounted by mount #${seen.get(to)! + 1}`);
      seen.set(to, i);
    }
    const m: Mount = { pos: ctx.pos(list, i, "value"), to, type: fromPath !== undefined && from === undefined ? "custom_dir" : type };
    if (raw.to !== undefined) m.toPos = ctx.pos(raw, "to", "value");
    if (fromPath !== undefined) m.fromPath = fromPath;
    return m;
  });
}

/** werf's hasTagOrDigest: an image reference with `:tag` (after the last `/`) or `@digest`. */
export function hasTagOrDigest(ref: string): boolean {
  return ref.includes("@") || /:[^/]*$/.test(ref);
}

function buildImports(ctx: DocContext, image: Raw): ImportDirective[] {
  const list = ctx.objects(image, "import");
  const out: ImportDirective[] = [];
  list.forEach((raw, i) => {
    const imageName = ctx.str(raw, "image");
    const fromName = ctx.str(raw, "from");
    const artifactName = ctx.str(raw, "artifact");
    if (imageName !== undefined && fromName !== undefined)
      ctx.error(raw, "from", "specify only `image: NAME` or `from: NAME` for import!", "`from` is an alias of `image`; keep one", "key");
    const imgSource = imageName ?? fromName;
    if (imgSource !== undefined && artifactName !== undefined)
      ctx.error(raw, "artifact", "specify only one artifact name using `artifact: NAME` or image name using `image: NAME` for import!", "keep one source", "key");
    else if (imgSource === undefined && artifactName === undefined)
      ctx.error(list, i, "artifact name `artifact: NAME` or image name `image: NAME` required for import!", "add `image: NAME` naming the image to copy from");
    const at = stagePosition(ctx, raw, {
      both: "specify only one artifact stage using `before: install|setup` or `after: install|setup` for import!",
      none: "artifact stage is not specified with `before: install|setup` or `after: install|setup` for import!",
      invalid: (when, v) => `invalid artifact stage \`${when}: ${v}\` for import: expected install or setup!`,
    });
    const stage = ctx.str(raw, "stage");
    if (stage !== undefined && !(USER_STAGES as readonly string[]).includes(stage))
      ctx.error(raw, "stage", `invalid stage \`stage: ${stage}\` for import: expected beforeInstall, install, beforeSetup or setup`, "name one of the source image's user stages");
    const add = ctx.str(raw, "add") ?? "";
    const to = ctx.str(raw, "to") ?? add;
    checkExportPaths(ctx, raw, add, to);
    const includePaths = ctx.list(raw, "includePaths");
    if (add === "/" && includePaths.length === 0)
      ctx.error(raw, "add", "`add: '/'` requires not empty includePaths to interpret copy sources unambiguously", "list what to copy in `includePaths:`, or use a narrower `add:`");
    const source = imgSource ?? artifactName ?? "";
    const d: ImportDirective = {
      pos: ctx.pos(list, i, "value"),
      source,
      artifact: imgSource === undefined && artifactName !== undefined,
      external: imgSource !== undefined && hasTagOrDigest(imgSource),
      add,
      to: stripTrailingSlash(to),
      at: at ?? { when: "before", stage: "install" },
      includePaths,
      excludePaths: ctx.list(raw, "excludePaths"),
    };
    if (stage !== undefined) d.stage = stage as UserStage;
    const valuePos: ValuePositions = {};
    for (const k of Object.keys(raw)) ctx.valuePositions(raw, k, valuePos);
    d.valuePos = valuePos;
    for (const k of ["owner", "group"] as const) {
      const v = ctx.str(raw, k);
      if (v !== undefined) d[k] = v;
    }
    out.push(d);
  });
  return out;
}

function buildDocker(ctx: DocContext, image: Raw): DockerDirectives | undefined {
  const raw = ctx.object(image, "docker");
  if (!raw) return undefined;
  const at: DockerDirectives["at"] = {};
  for (const k of Object.keys(raw)) ctx.valuePositions(raw, k, at);
  const d: DockerDirectives = {
    pos: ctx.pos(image, "docker"),
    at,
    volume: ctx.list(raw, "VOLUME"),
    expose: ctx.list(raw, "EXPOSE"),
    env: ctx.map(raw, "ENV"),
    label: ctx.map(raw, "LABEL"),
    onBuild: ctx.list(raw, "ONBUILD"),
    exactValues: ctx.bool(raw, "exactValues") ?? false,
  };
  for (const [k, f] of [["CMD", "cmd"], ["ENTRYPOINT", "entrypoint"]] as const) {
    const v = raw[k];
    if (Array.isArray(v)) d[f] = ctx.list(raw, k);
    else if (v != null) d[f] = ctx.doc.text(raw, k) ?? "";
  }
  for (const [k, f] of [["WORKDIR", "workdir"], ["USER", "user"], ["HEALTHCHECK", "healthcheck"], ["STOPSIGNAL", "stopSignal"]] as const) {
    const v = ctx.str(raw, k);
    if (v !== undefined) d[f] = v;
  }
  return d;
}
