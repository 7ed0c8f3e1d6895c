// One `image:` + `dockerfile:` document → DockerfileImage model(s)
// (pkg/config/raw_image_from_dockerfile.go, image_from_dockerfile.go).

import { platformList } from "./platform.js";
import type { DocContext } from "./context.js";
import type { DockerfileImage } from "./model.js";
import { isRelativePath } from "./paths.js";
import { buildDependencies, buildImageSpec, buildSecrets } from "./shared-directives.js";

type Raw = Record<string, unknown>;

export function buildDockerfileImages(ctx: DocContext, raw: Raw, metaStaged: () => boolean): DockerfileImage[] {
  const v = raw.image;
  const names = Array.isArray(v) ? v.map((_, i) => ctx.doc.text(v, i) ?? "") : [ctx.doc.text(raw, "image") ?? ""];
  const dockerfile = ctx.str(raw, "dockerfile") ?? "";
  const context = ctx.str(raw, "context");
  if (context !== undefined && !isRelativePath(context))
    ctx.error(raw, "context", "`context: PATH` should be relative to project directory!", "use a path inside the project, without a leading `/`");
  if (dockerfile === "" || !isRelativePath(dockerfile))
    ctx.error(raw, "dockerfile", "`dockerfile: PATH` required and should be relative to context!", "use a path relative to `context:`");
  if (raw.contextAddFile != null && raw.contextAddFiles != null)
    ctx.error(
      raw,
      "contextAddFile",
      "only one out of contextAddFiles and contextAddFile directives can be used at a time, but both specified in werf.yaml. Move everything out of the contextAddFile: [] directive into the contextAddFiles: [] directive",
      "keep contextAddFiles",
      "key",
    );
  const contextAddFiles = [...ctx.list(raw, "contextAddFiles"), ...ctx.list(raw, "contextAddFile")];
  if (contextAddFiles.some((p) => !isRelativePath(p)))
    ctx.error(raw, raw.contextAddFiles != null ? "contextAddFiles" : "contextAddFile", "`contextAddFiles: [PATH, ...]|PATH` each path should be relative to context!", "drop the leading `/`");
  const args: Record<string, string> = {};
  const rawArgs = ctx.object(raw, "args");
  if (rawArgs) for (const k of Object.keys(rawArgs)) args[k] = ctx.doc.text(rawArgs, k) ?? "";
  const dependencies = buildDependencies(ctx, raw, "dockerfile");
  for (const dep of dependencies)
    for (const imp of dep.imports)
      if (imp.targetBuildArg !== undefined && imp.targetBuildArg in args)
        ctx.error(
          raw,
          "args",
          `dockerfile \`args:\` build arg ${JSON.stringify(imp.targetBuildArg)} already defined in dependency import \`targetBuildArg:\` directive. This is not allowed, avoid duplicated build args!`,
          "remove it from `args:`",
          "key",
        );
  const base: Omit<DockerfileImage, "name"> = {
    pos: ctx.pos(raw, "image"),
    dockerfile,
    contextAddFiles,
    args,
    addHost: ctx.list(raw, "addHost"),
    staged: ctx.bool(raw, "staged") ?? metaStaged(),
    platform: platformList(ctx, raw, "platform"),
    dependencies,
    secrets: buildSecrets(ctx, raw),
    final: ctx.bool(raw, "final") ?? true,
  };
  if (context !== undefined) base.context = context;
  for (const k of ["target", "network", "ssh", "cacheVersion"] as const) {
    const s = ctx.str(raw, k);
    if (s !== undefined) base[k] = s;
  }
  const spec = buildImageSpec(ctx, raw);
  if (spec) base.imageSpec = spec;
  return names.map((name) => ({ ...structuredClone(base), name }));
}
