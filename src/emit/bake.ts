// The bake file: one target per final image (its last stage), Dockerfile images as their own targets,
// named contexts (toolchain, custom_dir mounts, Dockerfile images), the commit secret and the tags.
//
// buildx 0.13 resolves a local bake file's `context`, named-context paths and secret `src` against the
// WORKING DIRECTORY (not the bake file's folder), and `dockerfile` against the target's `context`
// (checked on the engine: test/emit/engine.test.ts). So every path here is relative to the project
// directory, and build.sh changes there first.

import path from "node:path";
import { UserError } from "../diagnostics.js";
import type { ImagePlan, Plan } from "../stages/model.js";
import { COMMIT_SECRET, REPO_ARG, TOOLCHAIN_CONTEXT, dockerfileImageContext } from "./dockerfile.js";
import { dependencySources, dockerfileDependencyArgs, stapelBuildTimeArgs } from "./dependencies.js";
import { secretEntries, targetSecrets } from "./secrets.js";

export interface EmitOptions {
  out: string;
  repo?: string;
  tags?: string[];
}

export interface BakeTarget {
  context: string;
  dockerfile: string;
  target?: string;
  contexts?: Record<string, string>;
  args?: Record<string, string>;
  secret?: string[];
  /** SSH agents forwarded to the build (`ID=PATH[,PATH]`). */
  ssh?: string[];
  tags: string[];
  platforms?: string[];
}

export interface BakeFile {
  group: { default: { targets: string[] } };
  target: Record<string, BakeTarget>;
}

/** OUT relative to the project directory, POSIX ("." never: OUT is a folder of its own). */
export function outRelative(plan: Plan, out: string): string {
  const rel = path.relative(plan.dir, path.resolve(plan.dir, out)).split(path.sep).join("/");
  return rel === "" ? "." : rel;
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const REPO = new RegExp(`^(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?${COMPONENT}(?:/${COMPONENT})*$`);

export function repoOf(plan: Plan, opts: Pick<EmitOptions, "repo">): string {
  const repo = opts.repo ?? plan.project;
  const ok = REPO.test(repo);
  if (!ok) {
    throw new UserError({
      message: `${JSON.stringify(repo)} is not a valid image repository for the tags`,
      hint: opts.repo ? "pass --repo like registry.example.com:5000/team/app (lower case)" : "pass --repo, the project name cannot be used as a repository",
    });
  }
  return repo;
}

/** The tags of one final image: `<repo>:<slug>-<digest>`, then each `--tag` with `{image}` replaced. */
export function imageTags(repo: string, slug: string, digest: string, tags: readonly string[]): string[] {
  const all = [`${slug}-${digest}`, ...tags.map((t) => t.split("{image}").join(slug))];
  for (const t of all) {
    if (!TAG.test(t)) {
      throw new UserError({
        message: `tag ${JSON.stringify(t)} is not a valid image tag`,
        hint: "a tag has at most 128 characters: letters, digits, '_', '.', '-', not starting with '.' or '-'",
      });
    }
  }
  return [...new Set(all)].map((t) => `${repo}:${t}`);
}

/** Named contexts the stages of `image` and of every image it builds on or imports from use. */
export function imageContexts(plan: Plan, image: ImagePlan): Record<string, string> {
  const ctx: Record<string, string> = {};
  const seen = new Set<string>();
  const visit = (img: ImagePlan) => {
    if (seen.has(img.name)) return;
    seen.add(img.name);
    const other = (name: string) => {
      const stapel = plan.images.find((x) => x.name === name);
      if (stapel) return visit(stapel);
      const df = plan.dockerfileImages.find((x) => x.image.name === name);
      if (df) ctx[dockerfileImageContext(df.target)] = `target:${df.target}`;
    };
    for (const s of img.stages) {
      const b = s.body;
      if (b.kind === "from" && b.base.kind === "image") other(b.base.image);
      if (b.kind === "user" || b.kind === "gitArchive" || b.kind === "gitPatch") ctx[TOOLCHAIN_CONTEXT] = `docker-image://${plan.toolchain}`;
      if (b.kind === "user") {
        for (const m of b.mounts) if (m.contextName && m.contextPath !== undefined) ctx[m.contextName] = m.contextPath;
      }
      if (b.kind === "gitPatch" && b.context && b.patches.length) ctx[b.context.name] = b.context.path;
      if (b.kind === "dependencies") {
        for (const i of b.imports) {
          if (i.source.kind === "image") other(i.source.image);
          if (i.directive.includePaths.length || i.directive.excludePaths.length || /[*?[\\]/.test(i.directive.add)) {
            ctx[TOOLCHAIN_CONTEXT] = `docker-image://${plan.toolchain}`;
          }
        }
      }
    }
  };
  visit(image);
  return Object.fromEntries(Object.keys(ctx).sort().map((k) => [k, ctx[k]]));
}

function secretField(entries: string[]): { secret?: string[] } {
  return entries.length ? { secret: entries } : {};
}

export function renderBake(plan: Plan, opts: EmitOptions): BakeFile {
  const repo = repoOf(plan, opts);
  const tags = opts.tags ?? [];
  const out = outRelative(plan, opts.out);
  const target: Record<string, BakeTarget> = {};
  const defaults: string[] = [];
  const sources = dependencySources(plan);
  for (const image of plan.images) {
    if ((!image.final || image.kind !== "image") && !sources.has(image.name)) continue;
    const last = image.stages[image.stages.length - 1];
    const contexts = imageContexts(plan, image);
    // build-time dependency values are set by build.sh once their images are built
    const later = Object.fromEntries(stapelBuildTimeArgs(plan, image).map((a) => [a.arg, ""]));
    target[image.slug] = {
      context: `${out}/context`,
      dockerfile: "../Dockerfile",
      target: last.target,
      ...(Object.keys(contexts).length ? { contexts } : {}),
      args: { [REPO_ARG]: repo, ...later },
      ...secretField([...(plan.commit ? [`id=${COMMIT_SECRET},src=${out}/commit.env`] : []), ...secretEntries(targetSecrets(plan, image), `${out}/secrets`)]),
      tags: imageTags(repo, image.slug, image.digest, tags),
      ...(image.platform.length ? { platforms: [...image.platform] } : {}),
    };
    defaults.push(image.slug);
  }
  for (const df of plan.dockerfileImages) {
    if (target[df.target]) throw new Error(`bake target ${df.target} is used twice`);
    const context = df.context || ".";
    const dockerfile = path.posix.relative(context, df.dockerfile) || df.dockerfile;
    const all = { ...df.image.args, ...dockerfileDependencyArgs(plan, df, repo).args };
    const tagged = df.image.final || sources.has(df.image.name);
    target[df.target] = {
      context,
      dockerfile,
      ...(df.image.target ? { target: df.image.target } : {}),
      ...(Object.keys(all).length ? { args: Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]])) } : {}),
      ...secretField(secretEntries(df.secrets ?? [], `${out}/secrets`)),
      tags: tagged ? imageTags(repo, df.target, df.digest, tags) : [],
      ...(df.image.platform.length ? { platforms: [...df.image.platform] } : {}),
    };
    if (tagged) defaults.push(df.target);
  }
  return { group: { default: { targets: defaults } }, target };
}
