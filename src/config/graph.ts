// Rules across images (pkg/config/werf.go): unique names, the nameless image,
// references to other images (`image %q not found!`), `from` naming another image
// (recorded as fromImage) and `fromImage` naming none (an external reference), as werf v2.47+ does, and
// dependency cycles.

import { formatPos, type Diagnostic, type SourcePos } from "../diagnostics.js";
import type { DockerfileImage, StapelImage } from "./model.js";

interface Named {
  name: string;
  pos: SourcePos;
}

export function checkImageGraph(images: StapelImage[], dockerfileImages: DockerfileImage[], knownNames: ReadonlySet<string>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const err = (pos: SourcePos, message: string, hint?: string) => out.push(hint ? { pos, message, hint } : { pos, message });
  const all: Named[] = [...images, ...dockerfileImages].sort(byPos);
  const names = new Set<string>([...knownNames, ...all.map((i) => i.name)]);

  const first = new Map<string, Named>();
  for (const img of all) {
    const prev = first.get(img.name);
    if (prev) err(img.pos, "conflict between images names!", `${JSON.stringify(img.name)} is already defined at ${formatPos(prev.pos)}; rename one of them`);
    else first.set(img.name, img);
  }
  const nameless = all.find((i) => i.name === "");
  if (nameless && all.length > 1)
    err(nameless.pos, "conflict between images names: a nameless image cannot be specified in the config with multiple images!", "give the image a name: `image: NAME`");

  const notFound = (pos: SourcePos, name: string) =>
    err(pos, `image ${JSON.stringify(name)} not found!`, didYouMean(name, names));

  for (const img of images) {
    if (img.from !== undefined && names.has(img.from) && hasNoTag(img.from)) {
      img.fromImage = img.from;
      delete img.from;
    } else if (img.fromImage !== undefined && img.fromImage !== img.name && !names.has(img.fromImage)) {
      // werf v2.47+ treats `from` and `fromImage` alike: a name that is not an image of werf.yaml is an
      // external reference (pkg/config/werf.go updateDependencies, SetFromExternal).
      img.from = img.fromImage;
      delete img.fromImage;
    }
    for (const ref of [img.fromImage, img.fromArtifact]) {
      if (ref === undefined) continue;
      if (ref === img.name)
        err(img.pos, "conflict between `from`, `fromImage` or `fromArtifact` and image name: image cannot reference itself!", "base the image on another image or an external reference");
      else if (!names.has(ref)) notFound(img.basePos ?? img.pos, ref);
    }
    for (const imp of img.import) if (!imp.external && imp.source !== "" && !names.has(imp.source)) notFound(imp.pos, imp.source);
    for (const dep of img.dependencies) if (dep.image !== "" && !names.has(dep.image)) notFound(dep.pos, dep.image);
  }
  for (const img of dockerfileImages) for (const dep of img.dependencies) if (dep.image !== "" && !names.has(dep.image)) notFound(dep.pos, dep.image);

  out.push(...findCycles(images, dockerfileImages));
  return out;
}

function hasNoTag(ref: string): boolean {
  return !ref.includes("@") && !/:[^/]*$/.test(ref);
}

function byPos(a: Named, b: Named): number {
  return a.pos.file === b.pos.file ? a.pos.line - b.pos.line || a.pos.col - b.pos.col : a.pos.file < b.pos.file ? -1 : 1;
}

function didYouMean(_name: string, names: ReadonlySet<string>): string {
  const list = [...names].filter((n) => n !== "");
  if (list.length === 0) return "no images are defined in werf.yaml";
  return `images defined: ${list.map((n) => JSON.stringify(n)).join(", ")}`;
}

/** Edges image → images it needs; every cycle reported once: "infinite loop detected: a -> b -> a". */
function findCycles(images: StapelImage[], dockerfileImages: DockerfileImage[]): Diagnostic[] {
  const edges = new Map<string, string[]>();
  const posOf = new Map<string, SourcePos>();
  for (const img of images) {
    const targets = [img.fromImage, img.fromArtifact, ...img.import.filter((i) => !i.external).map((i) => i.source), ...img.dependencies.map((d) => d.image)];
    edges.set(img.name, [...(edges.get(img.name) ?? []), ...targets.filter((t): t is string => !!t && t !== img.name)]);
    if (!posOf.has(img.name)) posOf.set(img.name, img.pos);
  }
  for (const img of dockerfileImages) {
    edges.set(img.name, [...(edges.get(img.name) ?? []), ...img.dependencies.map((d) => d.image).filter((t) => t && t !== img.name)]);
    if (!posOf.has(img.name)) posOf.set(img.name, img.pos);
  }
  const out: Diagnostic[] = [];
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (n: string): void => {
    if (state.get(n) === "done") return;
    if (state.get(n) === "visiting") {
      const cycle = [...stack.slice(stack.indexOf(n)), n];
      out.push({
        pos: posOf.get(cycle[0]!)!,
        message: `infinite loop detected: ${cycle.join(" -> ")}`,
        hint: "images may not depend on each other in a circle (fromImage, fromArtifact, import, dependencies)",
      });
      return;
    }
    if (!edges.has(n)) return;
    state.set(n, "visiting");
    stack.push(n);
    for (const m of edges.get(n)!) visit(m);
    stack.pop();
    state.set(n, "done");
  };
  for (const n of edges.keys()) visit(n);
  return out;
}
