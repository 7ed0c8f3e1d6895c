// Which images a command works on (IMAGE... arguments) and in which order to plan them: every image
// after the images it is built from, imports from, or depends on.

import { distance } from "fastest-levenshtein";
import { UserError } from "../diagnostics.js";
import type { DockerfileImage, StapelImage, WerfConfig } from "../config/model.js";

/** The names an image needs planned first. */
function needs(image: StapelImage): string[] {
  const out: string[] = [];
  if (image.fromImage !== undefined) out.push(image.fromImage);
  if (image.fromArtifact !== undefined) out.push(image.fromArtifact);
  for (const i of image.import) if (!i.external) out.push(i.source);
  for (const d of image.dependencies) out.push(d.image);
  return out;
}

/** The requested images (all when none are named) and everything they need. Unknown names → UserError. */
export function selectImages(config: WerfConfig, names: readonly string[] | undefined): Set<string> {
  const stapel = new Map(config.images.map((i) => [i.name, i]));
  const dockerfile = new Map(config.dockerfileImages.map((i) => [i.name, i]));
  const all = [...stapel.keys(), ...dockerfile.keys()];
  const wanted = names && names.length ? names.map((n) => (n === "~" ? "" : n)) : all;
  const unknown = wanted.filter((n) => !stapel.has(n) && !dockerfile.has(n));
  if (unknown.length) {
    const shown = all.map((n) => (n === "" ? "~" : n));
    throw new UserError(
      unknown.map((n) => {
        const close = shown.filter((s) => distance(s, n) <= Math.max(1, Math.floor(n.length / 3)));
        return {
          message: `image ${JSON.stringify(n)} is not defined in ${config.file}`,
          hint: `${close.length ? `did you mean ${close.join(" or ")}? ` : ""}images: ${shown.join(", ") || "(none)"}`,
        };
      }),
    );
  }
  const selected = new Set<string>();
  const visit = (n: string) => {
    if (selected.has(n)) return;
    selected.add(n);
    const img = stapel.get(n);
    if (img) needs(img).forEach(visit);
    const df = dockerfile.get(n);
    if (df) df.dependencies.forEach((d) => visit(d.image));
  };
  wanted.forEach(visit);
  return selected;
}

/** Every selected image, Stapel and Dockerfile, each after every image it needs (its base, its import sources,
 *  its dependencies: a Dockerfile image's digest holds its dependencies' digests too); werf.yaml order otherwise,
 *  Dockerfile images first among equals (as they were planned before). */
export function planningOrder(
  config: WerfConfig,
  selected: ReadonlySet<string>,
): ({ kind: "stapel"; image: StapelImage } | { kind: "dockerfile"; image: DockerfileImage })[] {
  const stapel = new Map(config.images.map((i) => [i.name, i]));
  const dockerfile = new Map(config.dockerfileImages.map((i) => [i.name, i]));
  const out: ({ kind: "stapel"; image: StapelImage } | { kind: "dockerfile"; image: DockerfileImage })[] = [];
  const done = new Set<string>();
  const visit = (name: string) => {
    if (done.has(name) || !selected.has(name)) return;
    done.add(name); // the config layer already rejected cycles
    const s = stapel.get(name);
    const d = s ? undefined : dockerfile.get(name);
    for (const n of s ? needs(s) : (d?.dependencies.map((x) => x.image) ?? [])) visit(n);
    if (s) out.push({ kind: "stapel", image: s });
    else if (d) out.push({ kind: "dockerfile", image: d });
  };
  for (const d of config.dockerfileImages) visit(d.name);
  for (const img of config.images) visit(img.name);
  return out;
}
