// `--introspect-stage [IMAGE/]STAGE`: which stages of which images to open a shell in (werf's syntax, reference §6).
//   IMAGE/STAGE  one image's (or artifact's) stage; `~` is the nameless image
//   STAGE, */STAGE  that stage of every image that has it
// Stage names are werf's (from, beforeInstall, ..., imageSpec), as `plan` prints them. Checked against the plan:
// an unknown image or stage name is a UserError that lists the valid ones (with a did-you-mean).

import { distance } from "fastest-levenshtein";
import { UserError, type Diagnostic } from "../diagnostics.js";
import type { ImagePlan, Plan, StageName } from "../plan/model.js";
import { STAGE_ORDER } from "../plan/model.js";

/** One parsed `--introspect-stage` value. `image` is "*" for every image, "" for the nameless one. */
export interface StageSelector {
  image: string;
  stage: StageName;
  /** The value as given (for messages). */
  spec: string;
}

/** Stages `build` adds when a stored stage holds an older commit: never in a plan, but valid to name. */
const BUILD_TIME_STAGES: readonly StageName[] = ["gitCache", "gitLatestPatch"];

function closest(word: string, names: readonly string[]): string[] {
  const lower = word.toLowerCase();
  return names.filter((n) => n.toLowerCase() === lower || distance(n.toLowerCase(), lower) <= Math.max(1, Math.floor(word.length / 3)));
}

function suggest(word: string, names: readonly string[], what: string): string {
  const close = closest(word, names);
  return (close.length ? `did you mean ${close.map((c) => JSON.stringify(c)).join(" or ")}? ` : "") + `${what}: ${names.join(", ")}`;
}

/** Parses one `--introspect-stage` value (syntax only: the stage must be one of werf's stage names). */
export function parseStageSelector(spec: string): StageSelector {
  const slash = spec.lastIndexOf("/");
  const rawImage = slash < 0 ? "*" : spec.slice(0, slash);
  const stage = slash < 0 ? spec : spec.slice(slash + 1);
  if (stage === "" || rawImage === "") {
    throw new UserError({
      message: `--introspect-stage ${JSON.stringify(spec)}: expected [IMAGE/]STAGE`,
      hint: "e.g. --introspect-stage app/install, --introspect-stage ~/setup (nameless image), --introspect-stage install (every image)",
    });
  }
  if (!(STAGE_ORDER as readonly string[]).includes(stage)) {
    throw new UserError({
      message: `--introspect-stage ${JSON.stringify(spec)}: ${JSON.stringify(stage)} is not a werf stage name`,
      hint: suggest(stage, STAGE_ORDER, "stage names"),
    });
  }
  return { image: rawImage === "~" ? "" : rawImage, stage: stage as StageName, spec };
}

const label = (name: string) => (name === "" ? "~" : name);

/** The stage names an image can show: those in its plan, plus gitCache/gitLatestPatch for images with git. */
export function stageNamesOf(image: ImagePlan): StageName[] {
  const names = new Set<StageName>(image.stages.map((s) => s.name));
  if (image.kind === "image" && image.stages.some((s) => s.name === "gitArchive")) for (const n of BUILD_TIME_STAGES) names.add(n);
  return STAGE_ORDER.filter((n) => names.has(n));
}

/**
 * Parses every value and checks it against the plan: a named image must be a Stapel image or artifact of the plan
 * and have that stage; a `*` stage must exist in at least one image. Every problem is reported at once.
 */
export function resolveStageSelectors(plan: Plan, specs: readonly string[]): StageSelector[] {
  const out: StageSelector[] = [];
  const problems: Diagnostic[] = [];
  const names = plan.images.map((i) => label(i.name));
  for (const spec of specs) {
    let sel: StageSelector;
    try {
      sel = parseStageSelector(spec);
    } catch (e) {
      if (e instanceof UserError) {
        problems.push(...e.diagnostics);
        continue;
      }
      throw e;
    }
    if (sel.image === "*") {
      const having = plan.images.filter((i) => stageNamesOf(i).includes(sel.stage));
      if (having.length === 0) {
        const all = STAGE_ORDER.filter((n) => plan.images.some((i) => stageNamesOf(i).includes(n)));
        problems.push({
          message: `--introspect-stage ${JSON.stringify(spec)}: no image has a ${sel.stage} stage`,
          hint: `stages the images have: ${all.join(", ")}`,
        });
        continue;
      }
    } else {
      const image = plan.images.find((i) => i.name === sel.image);
      if (!image) {
        const df = plan.dockerfileImages.some((d) => d.image.name === sel.image);
        problems.push({
          message: df
            ? `--introspect-stage ${JSON.stringify(spec)}: ${sel.image} is a Dockerfile image, which has no werf stages`
            : `--introspect-stage ${JSON.stringify(spec)}: no image or artifact ${JSON.stringify(label(sel.image))} in the build`,
          hint: suggest(label(sel.image), names, "images and artifacts"),
        });
        continue;
      }
      const stages = stageNamesOf(image);
      if (!stages.includes(sel.stage)) {
        problems.push({
          message: `--introspect-stage ${JSON.stringify(spec)}: ${image.kind} ${label(image.name)} has no ${sel.stage} stage`,
          hint: suggest(sel.stage, stages, `its stages`),
        });
        continue;
      }
    }
    if (!out.some((o) => o.image === sel.image && o.stage === sel.stage)) out.push(sel);
  }
  if (problems.length) throw new UserError(problems);
  return out;
}

/** Whether the (werf) stage `stage` of image `image` is selected. */
export function isSelected(selectors: readonly StageSelector[], image: string, stage: string): boolean {
  return selectors.some((s) => (s.image === "*" || s.image === image) && s.stage === stage);
}
