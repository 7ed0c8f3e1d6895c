// Which images a command works on (IMAGE... arguments) and in which order to plan them: every image
// after the images it is built from, imports from, or depends on.

import { distance } from "fastest-levenshtein";
import { UserError } from "../diagnostics.js";
import type { StapelImage, WerfConfig } from "../config/model.js";

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

/** Selected Stapel images, each after the Stapel images it needs (werf.yaml order otherwise). */
export function imageOrder(config: WerfConfig, selected: ReadonlySet<string>): StapelImage[] {
  const byName = new Map(config.images.map((i) => [i.name, i]));
  const out: StapelImage[] = [];
  const done = new Set<string>();
  const visit = (img: StapelImage) => {
    if (done.has(img.name)) return;
    done.add(img.name); // the config layer already rejected cycles
    for (const n of needs(img)) {
      const dep = byName.get(n);
      if (dep && selected.has(n)) visit(dep);
    }
    out.push(img);
  };
  for (const img of config.images) if (selected.has(img.name)) visit(img);
  return out;
}
