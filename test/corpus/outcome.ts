// What stapel2docker makes of one corpus folder: rendered and validated, or the first located error.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { UserError, formatDiagnostic } from "../../src/diagnostics.js";
import { renderWerfConfig } from "../../src/template/render.js";
import { loadWerfConfig } from "../../src/config/index.js";
import { sharedDir, fixturesDir } from "../support/paths.js";
import { addGeneratedFiles, corpusSetup } from "./setup.js";
import { checkHostPaths } from "../../src/config/giterminism.js";
import { ProjectFiles } from "../../src/project/files.js";

export const corpusDir = path.join(sharedDir, "corpus");
export const outcomesFile = path.join(fixturesDir, "corpus-outcomes.tsv");

export interface Outcome {
  folder: string;
  status: "ok" | "error";
  /** For ok: "N images, M artifacts"; for error: the first line of the first diagnostic. */
  detail: string;
}

export function corpusFolders(): string[] {
  if (!fs.existsSync(corpusDir)) return [];
  return fs
    .readdirSync(corpusDir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** Why the corpus tests cannot run here (a clone elsewhere has no ../shared), or undefined. */
export function corpusMissing(): string | undefined {
  return fs.existsSync(corpusDir) ? undefined : `skipped: ${corpusDir} not found (the shared corpus sits beside the project's own checkout)`;
}

/**
 * Render (environment variables unset; `--env` and generated files as the folder's own CI has them, see
 * setup.ts) and validate one folder. Internal errors are rethrown.
 */
export async function corpusOutcome(folder: string): Promise<Outcome> {
  const setup = corpusSetup(folder);
  let dir = path.join(corpusDir, folder);
  let tmp: string | undefined;
  if (setup.generated) {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "s2d-corpus-render-"));
    fs.cpSync(dir, tmp, { recursive: true });
    addGeneratedFiles(setup, tmp);
    dir = tmp;
  }
  try {
    const rendered = await renderWerfConfig({ dir, environ: {}, env: setup.env });
    const config = loadWerfConfig(rendered);
    checkHostPaths(config, new ProjectFiles(dir), rendered.giterminism);
    const images = config.images.filter((i) => i.kind === "image").length + config.dockerfileImages.length;
    const artifacts = config.images.filter((i) => i.kind === "artifact").length;
    return { folder, status: "ok", detail: `${images} images, ${artifacts} artifacts` };
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    const first = formatDiagnostic(err.diagnostics[0]).split("\n")[0];
    return { folder, status: "error", detail: first.replace(/\t/g, " ") };
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function formatOutcomes(outcomes: Outcome[]): string {
  const rows = outcomes.map((o) => `${o.folder}\t${o.status}\t${o.detail}`);
  return ["folder\toutcome\tdetail", ...rows].join("\n") + "\n";
}

export function readOutcomes(): Map<string, Outcome> {
  const map = new Map<string, Outcome>();
  if (!fs.existsSync(outcomesFile)) return map;
  const lines = fs.readFileSync(outcomesFile, "utf8").split("\n").slice(1).filter(Boolean);
  for (const line of lines) {
    const [folder, status, ...rest] = line.split("\t");
    map.set(folder, { folder, status: status as Outcome["status"], detail: rest.join("\t") });
  }
  return map;
}
