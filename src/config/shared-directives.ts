// Directives both Stapel and Dockerfile images have: dependencies, secrets, imageSpec.

import type { DocContext } from "./context.js";
import { secretId, type Dependency, type DependencyImportType, type ImageSpec, type Secret, type StagePosition } from "./model.js";

type Raw = Record<string, unknown>;

/** `before: install` / `after: setup` → {when, stage}; reports werf's errors. */
export function stagePosition(
  ctx: DocContext,
  raw: Raw,
  messages: { both: string; none?: string; invalid: (when: "before" | "after", v: string) => string },
): StagePosition | undefined {
  const before = ctx.str(raw, "before");
  const after = ctx.str(raw, "after");
  if (before !== undefined && after !== undefined) {
    ctx.error(raw, "after", messages.both, "keep either `before:` or `after:`", "key");
    return undefined;
  }
  if (before === undefined && after === undefined) {
    if (messages.none) ctx.error(raw, undefined, messages.none, "add `before: install`, `after: install`, `before: setup` or `after: setup`");
    return undefined;
  }
  const when = before !== undefined ? "before" : "after";
  const stage = (before ?? after)!;
  if (stage !== "install" && stage !== "setup") {
    ctx.error(raw, when, messages.invalid(when, stage), "use install or setup");
    return undefined;
  }
  return { when, stage };
}

export function buildDependencies(ctx: DocContext, image: Raw, kind: "stapel" | "dockerfile"): Dependency[] {
  const out: Dependency[] = [];
  const list = ctx.objects(image, "dependencies");
  list.forEach((raw, i) => {
    const pos = ctx.pos(list, i, "value");
    const name = ctx.str(raw, "image");
    if (name === undefined) ctx.error(list, i, "image name is not specified for dependency", "add `image: NAME`");
    let at: StagePosition | undefined;
    if (kind === "stapel") {
      at = stagePosition(ctx, raw, {
        both: "only one dependency stage can be specified with `before: install|setup` or `after: install|setup`, but not both",
        none: "dependency stage is not specified with `before: install|setup` or `after: install|setup`",
        invalid: (when, v) => `invalid dependency stage \`${when}: ${v}\`: expected install or setup!`,
      });
    } else {
      for (const when of ["before", "after"] as const)
        if (raw[when] != null)
          ctx.error(raw, when, `\`${when}:\` directive is not supported for dockerfile dependencies`, "remove it; Dockerfile images receive dependencies as build args", "key");
    }
    const imports: Dependency["imports"] = [];
    const rawImports = ctx.objects(raw, "imports");
    const seen = new Set<string>();
    rawImports.forEach((imp, j) => {
      const type = ctx.str(imp, "type") as DependencyImportType;
      const targetEnv = ctx.str(imp, "targetEnv");
      const targetBuildArg = ctx.str(imp, "targetBuildArg");
      if (kind === "stapel") {
        if (targetBuildArg !== undefined) ctx.error(imp, "targetBuildArg", "targetBuildArg directive cannot be used for a Stapel image", "use targetEnv", "key");
        if (targetEnv === undefined) ctx.error(rawImports, j, "targetEnv directive cannot be empty for a Stapel image", "add `targetEnv: VARIABLE`");
      } else {
        if (targetEnv !== undefined) ctx.error(imp, "targetEnv", "targetEnv directive cannot be used for a Dockerfile image", "use targetBuildArg", "key");
        if (targetBuildArg === undefined) ctx.error(rawImports, j, "targetBuildArg directive cannot be empty for a Dockerfile image", "add `targetBuildArg: ARG`");
      }
      const target = kind === "stapel" ? targetEnv : targetBuildArg;
      if (target !== undefined) {
        if (seen.has(target))
          ctx.error(
            imp,
            kind === "stapel" ? "targetEnv" : "targetBuildArg",
            `each ${kind === "stapel" ? "targetEnv" : "targetBuildArg"} for dependency import should be unique, but found duplicates for: ${target}`,
            "give each import its own target",
          );
        seen.add(target);
      }
      const entry: Dependency["imports"][number] = { type };
      if (targetEnv !== undefined) entry.targetEnv = targetEnv;
      if (targetBuildArg !== undefined) entry.targetBuildArg = targetBuildArg;
      imports.push(entry);
    });
    const dep: Dependency = { pos, image: name ?? "", imports };
    if (at) dep.at = at;
    out.push(dep);
  });
  return out;
}

const SECRET_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The id stapel2docker's own commit.env secret uses: a user secret cannot take it. */
const RESERVED_SECRET_IDS = new Set(["stapel-commit"]);

export function buildSecrets(ctx: DocContext, image: Raw): Secret[] {
  const out: Secret[] = [];
  const list = ctx.objects(image, "secrets");
  const ids = new Set<string>();
  list.forEach((raw, i) => {
    const s: Secret = { pos: ctx.pos(list, i, "value") };
    for (const k of ["id", "env", "src", "value"] as const) {
      const v = ctx.str(raw, k);
      if (v !== undefined) s[k] = v;
    }
    const kinds = [s.env, s.src, s.value].filter((v) => v !== undefined).length;
    if (kinds > 1)
      ctx.error(list, i, "secrets validation error: secret type could be ONLY `env`, `src` or `value`", "keep one of env, src, value");
    else if (kinds === 0) ctx.error(list, i, "secret should be defined as `env`, `src` or `value`", "add `env: VAR`, `src: FILE` or `value: TEXT`");
    if (s.value !== undefined && s.id === undefined)
      ctx.error(list, i, "secrets validation error: type value should be used with id parameter", "add `id: NAME` (the secret is mounted at /run/secrets/NAME)");
    const id = secretId(s);
    // what reaches BuildKit must come back unchanged: a file name under /run/secrets, an env name, a path
    // without the separators of buildx's comma-separated secret fields
    if (id !== undefined && !SECRET_ID.test(id)) ctx.error(list, i, `secret id ${JSON.stringify(id)} is not a valid secret id`, "use letters, digits, '_', '.' and '-' (it is a file name under /run/secrets)");
    else if (id !== undefined && RESERVED_SECRET_IDS.has(id)) ctx.error(list, i, `secret id ${JSON.stringify(id)} is used by stapel2docker itself`, "give the secret another `id:`");
    if (s.env !== undefined && !ENV_NAME.test(s.env)) ctx.error(list, i, `secret env ${JSON.stringify(s.env)} is not an environment variable name`, "letters, digits and '_', not starting with a digit");
    if (s.src !== undefined && /[,"'\r\n\0]/.test(s.src)) ctx.error(list, i, `secret src ${JSON.stringify(s.src)} holds a comma, quote or line break`, "rename the file: buildx reads secret sources as comma-separated fields");
    if (id !== undefined) {
      if (ids.has(id)) ctx.error(list, i, `duplicated secret "${id}"`, "give each secret its own `id:`");
      ids.add(id);
    }
    out.push(s);
  });
  return out;
}

export function buildImageSpec(ctx: DocContext, owner: Raw): ImageSpec | undefined {
  const raw = ctx.object(owner, "imageSpec");
  if (!raw) return undefined;
  const spec: ImageSpec = { pos: ctx.pos(owner, "imageSpec"), at: {}, clearHistory: ctx.bool(raw, "clearHistory") ?? false };
  const author = ctx.str(raw, "author");
  if (author !== undefined) spec.author = author;
  const c = ctx.object(raw, "config");
  if (c) {
    for (const k of Object.keys(c)) ctx.valuePositions(c, k, spec.at);
    const hc = ctx.object(c, "healthcheck");
    if (hc) for (const k of Object.keys(hc)) ctx.valuePositions(hc, k, spec.at, "healthcheck.");
    const config: NonNullable<ImageSpec["config"]> = {
      removeLabels: ctx.list(c, "removeLabels"),
      removeVolumes: ctx.list(c, "removeVolumes"),
      removeEnv: ctx.list(c, "removeEnv"),
      volumes: ctx.list(c, "volumes"),
      labels: ctx.map(c, "labels"),
      env: ctx.map(c, "env"),
      expose: ctx.list(c, "expose"),
    };
    for (const k of ["keepEssentialWerfLabels", "clearWerfLabels", "clearCmd", "clearEntrypoint", "clearUser", "clearWorkingDir"] as const) {
      const b = ctx.bool(c, k);
      if (b !== undefined) config[k] = b;
    }
    for (const k of ["user", "workingDir", "stopSignal"] as const) {
      const v = ctx.str(c, k);
      if (v !== undefined) config[k] = v;
    }
    if (c.cmd != null) config.cmd = ctx.list(c, "cmd");
    if (c.entrypoint != null) config.entrypoint = ctx.list(c, "entrypoint");
    const h = ctx.object(c, "healthcheck");
    if (h) {
      const hc: NonNullable<NonNullable<ImageSpec["config"]>["healthcheck"]> = { test: ctx.list(h, "test") };
      for (const k of ["interval", "timeout", "retries"] as const) if (typeof h[k] === "number") hc[k] = h[k] as number;
      const sp = h.startPeriod ?? h.startperiod;
      if (typeof sp === "number") hc.startPeriod = sp;
      config.healthcheck = hc;
    }
    spec.config = config;
  }
  return spec;
}
