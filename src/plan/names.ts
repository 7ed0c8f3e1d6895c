// Every name stapel2docker gives: Dockerfile build stages, helper stages, bake named contexts, stage tags and final
// tags in the repository. One module, so a name is made the same way by compile, build and introspection.

import { UserError } from "../diagnostics.js";
import type { StageName } from "./model.js";

// ---- Dockerfile build stages

/**
 * Dockerfile stage-name prefixes for images. BuildKit accepts stage names matching [a-z][a-z0-9._-]* (it
 * lower-cases them), so image names are lower-cased, other characters become "-", a leading non-letter gets an
 * "i-" prefix, and the nameless image is "werf-image". Distinct images that would collide get "-2", "-3"... in
 * werf.yaml order.
 */
export function slugOf(name: string): string {
  if (name === "") return "werf-image";
  let s = name.toLowerCase().replace(/[^a-z0-9._-]+/g, "-");
  if (!/^[a-z]/.test(s)) s = `i-${s}`;
  return s;
}

export class Slugs {
  private readonly used = new Set<string>();

  take(name: string): string {
    const base = slugOf(name);
    let s = base;
    for (let n = 2; this.used.has(s); n++) s = `${base}-${n}`;
    this.used.add(s);
    return s;
  }
}

/** The Dockerfile build stage of a werf stage: `<slug>--<stage>`. */
export function stageTarget(slug: string, stage: StageName | string): string {
  return `${slug}--${stage.toLowerCase()}`;
}

/** The build's helper stage applying a git patch right before a rebuilt user stage. */
export function patchHelperTarget(target: string): string {
  return `${target}--git-patch`;
}

/** The helper stage that filters import `n` of a dependencies stage (includePaths/excludePaths). */
export function importHelperTarget(target: string, n: number): string {
  return `${target}--import-${n}`;
}

/** Introspection's re-run of a user stage, split per command: the stage holding command `k` (1-based). */
export function splitTarget(target: string, k: number): string {
  return `${target}--introspect-${k}`;
}

// ---- bake named contexts

/** The named context holding the toolchain image. */
export const TOOLCHAIN_CONTEXT = "stapel-toolchain";
/** The named context holding the build's git patch files. */
export const PATCH_CONTEXT = "stapel-patches";

/** The named context that stands for a Dockerfile image of werf.yaml. */
export function dockerfileImageContext(target: string): string {
  return `dockerfile-image--${target}`;
}

// ---- repository tags

/** Stage tags: `<digest>-<unix-millis>` (werf's RepoStage_ImageFormatWithCreationTs, reference §2.4). */
const STAGE_TAG = /^([0-9a-f]{56})-([0-9]{1,16})$/;

/** The stage tag of a digest created at `ms`. */
export function stageTag(digest: string, ms: number): string {
  return `${digest}-${ms}`;
}

/** Parses a stage tag; undefined for any other tag (final tags, `-rejected`, foreign tags). */
export function parseStageTag(tag: string): { digest: string; ms: number } | undefined {
  const m = STAGE_TAG.exec(tag);
  if (!m) return undefined;
  return { digest: m[1], ms: Number(m[2]) };
}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const REPO = new RegExp(`^(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?${COMPONENT}(?:/${COMPONENT})*$`);

/** The repository of the tags: `--repo`, else the project name (when it is a valid repository). */
export function repoOf(project: string, repo: string | undefined): string {
  const r = repo ?? project;
  if (!REPO.test(r)) {
    throw new UserError({
      message: `${JSON.stringify(r)} is not a valid image repository for the tags`,
      hint: repo ? "pass --repo like registry.example.com:5000/team/app (lower case)" : "pass --repo, the project name cannot be used as a repository",
    });
  }
  return r;
}

/** The final tags of an image: `<repo>:<slug>-<digest>`, then each `--tag`/`--add-tag` with `{image}` replaced. */
export function finalTags(repo: string, slug: string, digest: string, tags: readonly string[]): string[] {
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
