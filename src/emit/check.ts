// Planning errors found before anything is written: every value that lowering or the printer would refuse, each at
// its werf.yaml position, all at once. The planner runs planProblems on every plan (so `plan`, `compile` and
// `build` report the same problems up front) and `validate` runs configProblems on the configuration alone.

import type { Diagnostic } from "../diagnostics.js";
import type { DockerfileImage, Mount as ConfigMount, WerfConfig } from "../config/model.js";
import type { Dockerfile, Instruction, Mount } from "../dockerfile/model.js";
import { dockerfileProblems } from "../dockerfile/print.js";
import type { Plan } from "../plan/model.js";
import { importNeedsFilter } from "../plan/contexts.js";
import { importFilterScript } from "./import-filter.js";
import { isBuildTimeValue } from "./dependencies.js";
import { imageSpecDockerfile } from "./dockerfile-image-spec.js";
import { dockerDirectivesInstructions, imageSpecInstructions, lowerPlan } from "./lower.js";

/** A Dockerfile image's `addHost` entries that are not `host:ip`, and hosts named twice. */
export function addHostProblems(images: readonly DockerfileImage[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const d of images) {
    const seen = new Set<string>();
    for (const e of d.addHost) {
      const m = /^([^:=\s]+)[:=](\S+)$/.exec(e);
      if (!m) {
        out.push({ pos: d.pos, message: `addHost ${JSON.stringify(e)} of image ${JSON.stringify(d.name)} is not host:ip`, hint: "write each entry as docker build's --add-host takes it, e.g. db.local:10.0.0.5" });
      } else if (seen.has(m[1]!)) {
        out.push({ pos: d.pos, message: `addHost of image ${JSON.stringify(d.name)} names ${m[1]} twice`, hint: "bake's extra-hosts holds one address per host" });
      } else seen.add(m[1]!);
    }
  }
  return out;
}

/** Everything compile would refuse in this plan. */
export function planProblems(plan: Plan): Diagnostic[] {
  const problems: Diagnostic[] = [...addHostProblems(plan.dockerfileImages.map((d) => d.image))];
  const model = lowerPlan(plan, { importFilterScript, problems });
  problems.push(...dockerfileProblems(model));
  for (const df of plan.dockerfileImages) {
    const spec = imageSpecDockerfile(df);
    if (spec) problems.push(...dockerfileProblems(spec));
  }
  return dedupe(problems);
}

/** The values of a configuration that no Dockerfile can hold (docker:, imageSpec:, mounts, imports), without
 *  planning (no git, no registry). */
export function configProblems(config: WerfConfig): Diagnostic[] {
  const stages: Dockerfile["stages"] = [];
  const specs = config.meta.build?.imageSpec ? [config.meta.build.imageSpec] : [];
  const add = (instructions: Instruction[]) =>
    stages.push({ name: `check-${stages.length}`, base: { kind: "scratch" }, before: [], instructions });
  for (const s of specs) add(imageSpecInstructions(s));
  for (const d of config.dockerfileImages) if (d.imageSpec) add(imageSpecInstructions(d.imageSpec));
  for (const image of config.images) {
    if (image.docker) add(dockerDirectivesInstructions(image.docker));
    if (image.imageSpec) add(imageSpecInstructions(image.imageSpec));
    if (image.mount.length) add([{ kind: "run", mounts: image.mount.map(mountOf), script: [] }]);
    for (const i of image.import) {
      const vp = i.valuePos ?? {};
      const origin = { pos: i.pos, key: "import", values: [vp.add, vp.to ?? vp.add, vp.owner, vp.group] };
      const chown = i.owner || i.group ? { chown: { user: i.owner || "0", group: i.group || "0" } } : {};
      add([
        { kind: "copy", from: "check", ...chown, sources: [i.add], dest: i.to, ...origin },
        // a filtered import reads `add` through a bind mount of the filtering helper stage
        ...(importNeedsFilter(i) ? [{ kind: "run" as const, mounts: [{ type: "bind" as const, from: "check", source: i.add, target: "/.stapel-src", origin: { pos: vp.add ?? i.pos, key: "import `add`" } }], script: [] }] : []),
      ]);
    }
  }
  return dedupe([...addHostProblems(config.dockerfileImages), ...dockerfileProblems({ header: [], stages })]);
}

function mountOf(m: ConfigMount): Mount {
  const origin = { pos: m.toPos ?? m.pos, key: "mount `to`" };
  return m.type === "tmp_dir" ? { type: "tmpfs", target: m.to, origin } : { type: "cache", id: "check", target: m.to, origin };
}

/** One diagnostic per position and message (a value printed twice is reported once). */
function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.pos ? `${d.pos.file}:${d.pos.line}:${d.pos.col}` : ""} ${d.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * The config-level form of platformProblems (src/emit/platforms.ts), for `validate`: an image built for several
 * platforms (its `platform`, else meta `build.platform`) that takes a dependency's ImageID or ImageDigest. `compile`
 * refuses it (one final target builds every platform, with one value per argument); `build` passes each platform's
 * value, so it is a warning here, not an error. (`--platform` given to compile is not known to validate.)
 */
export function platformDependencyWarnings(config: WerfConfig): Diagnostic[] {
  const out: Diagnostic[] = [];
  const images = [
    ...config.images.map((i) => ({ name: i.name, platform: i.platform, dependencies: i.dependencies })),
    ...config.dockerfileImages.map((d) => ({ name: d.name, platform: d.platform, dependencies: d.dependencies })),
  ];
  for (const image of images) {
    const platforms = image.platform.length ? image.platform : (config.meta.build?.platform ?? []);
    if (platforms.length < 2) continue;
    for (const d of image.dependencies) {
      const values = [...new Set(d.imports.filter((x) => (x.targetEnv || x.targetBuildArg) && isBuildTimeValue(x.type)).map((x) => x.type))];
      if (values.length === 0) continue;
      out.push({
        pos: d.pos,
        message: `image ${image.name || "~"} is built for several platforms (${platforms.join(", ")}) and uses ${values.join(" and ")} of image ${d.image}: compile cannot pass each platform's value (build can)`,
        hint: "build it with `stapel2docker build`, or compile it for one platform (--platform)",
      });
    }
  }
  return out;
}
