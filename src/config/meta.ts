// The meta document (`configVersion: 1`, `project: NAME`, ...), pkg/config/raw_meta*.go.

import { platformList } from "./platform.js";
import type { DocContext } from "./context.js";
import type { MetaBuild, SourcePos, WerfMeta } from "./model.js";
import { buildImageSpec } from "./shared-directives.js";

type Raw = Record<string, unknown>;

const PROJECT_NAME = /^(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;
const PROJECT_NAME_MAX = 50;

/** The proposal werf prints when the meta document is missing. */
export function missingMetaMessage(defaultProject: string): string {
  return (
    "meta config section (part of YAML stream separated by three hyphens, https://yaml.org/spec/1.2/spec.html#id2800132) is not defined: add following example config section with required fields, e.g:\n\n" +
    "```\n" +
    "configVersion: 1\n" +
    `project: ${defaultProject}\n` +
    "---\n" +
    "```"
  );
}

/** werf's default project name: the project directory's name, slugified. */
export function defaultProjectName(dirName: string): string {
  const slug = dirName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, PROJECT_NAME_MAX)
    .replace(/-+$/, "");
  return slug || "project";
}

export function buildMeta(ctx: DocContext, raw: Raw): WerfMeta {
  const pos = ctx.pos(raw, "configVersion");
  if (raw.configVersion !== 1) ctx.error(raw, "configVersion", "'configVersion: 1' field required!", "set `configVersion: 1`");
  const project = ctx.str(raw, "project") ?? "";
  if (project === "") {
    ctx.error(raw, raw.project === undefined ? "configVersion" : "project", "'project' field cannot be empty!", "add `project: NAME` (lowercase letters, digits and '-')", "key");
  } else if (!PROJECT_NAME.test(project) || project.length > PROJECT_NAME_MAX) {
    ctx.error(
      raw,
      "project",
      `bad project name ${JSON.stringify(project)} specified in config: project name should comply with regex "${PROJECT_NAME.source}" and be maximum ${PROJECT_NAME_MAX} chars`,
      `for example \`project: ${defaultProjectName(project)}\``,
    );
  }
  const meta: WerfMeta = { pos, project, configVersion: 1 };
  const b = ctx.object(raw, "build");
  if (b) {
    const build: MetaBuild = { platform: platformList(ctx, b, "platform"), staged: ctx.bool(b, "staged") ?? false };
    const cv = ctx.str(b, "cacheVersion");
    if (cv !== undefined) build.cacheVersion = cv;
    const spec = buildImageSpec(ctx, b);
    if (spec) build.imageSpec = spec;
    meta.build = build;
  }
  const deploy = ctx.object(raw, "deploy");
  if (deploy) meta.deploy = structuredClone(deploy);
  const cleanup = ctx.object(raw, "cleanup");
  if (cleanup) {
    meta.cleanup = structuredClone(cleanup);
    // where each value of `cleanup:` is, for the messages of cleanup's policies (src/cleanup/policy.ts)
    const at: Record<string, SourcePos> = {};
    const walk = (v: unknown, path: string) => {
      if (Array.isArray(v)) v.forEach((x, i) => ((at[`${path}[${i}]`] = ctx.pos(v, i, "value")), walk(x, `${path}[${i}]`)));
      else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) (at[`${path}.${k}`] = ctx.pos(v, k, "value")), walk(x, `${path}.${k}`);
    };
    walk(cleanup, "cleanup");
    meta.cleanupPositions = at;
  }
  const gw = ctx.object(raw, "gitWorktree");
  if (gw) {
    meta.gitWorktree = {};
    for (const k of ["forceShallowClone", "allowUnshallow", "allowFetchOriginBranchesAndTags"] as const) {
      const v = ctx.bool(gw, k);
      if (v !== undefined) meta.gitWorktree[k] = v;
    }
  }
  return meta;
}
