// Build secrets as buildx sees them: bake `secret` entries (`id=ID,env=NAME`, `id=ID,src=FILE`). A `value:`
// secret is written to a private file (mode 0600) that its entry names; its text is in no other output.

import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { chainImages } from "./dependencies.js";
import { secretValue, type SecretPlan } from "../plan/secrets.js";
import type { ImagePlan, Plan } from "../plan/model.js";

/** The secrets the bake target of `image` must provide: those of every image whose stages it builds. */
export function targetSecrets(plan: Plan, image: ImagePlan): SecretPlan[] {
  const byId = new Map<string, SecretPlan>();
  for (const img of chainImages(plan, image)) for (const s of img.secrets ?? []) if (!byId.has(s.id)) byId.set(s.id, s);
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The bake entries of `secrets`. `valueDir` is where `value:` secrets are written (as the bake file names it);
 * `srcPath` turns a werf.yaml `src` into the path the bake file uses (default: as written, relative to the
 * project directory where bake runs).
 */
export function secretEntries(secrets: readonly SecretPlan[], valueDir: string, srcPath: (src: string) => string = (s) => s): string[] {
  return secrets.map((s) =>
    s.source === "env" ? `id=${s.id},env=${s.env}` : s.source === "src" ? `id=${s.id},src=${srcPath(s.src!)}` : `id=${s.id},src=${valueDir}/${s.id}`,
  );
}

/** Writes the `value:` secrets of the plan into `dir` (mode 0600), one file per id. */
export async function writeSecretValues(plan: Plan, dir: string): Promise<string[]> {
  const written: string[] = [];
  const all = [...plan.images.flatMap((i) => i.secrets ?? []), ...plan.dockerfileImages.flatMap((d) => d.secrets ?? [])];
  for (const s of all) {
    const value = secretValue(s);
    if (s.source !== "value" || value === undefined || written.includes(s.id)) continue;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(path.join(dir, s.id), value, { mode: 0o600 });
    written.push(s.id);
  }
  return written;
}
