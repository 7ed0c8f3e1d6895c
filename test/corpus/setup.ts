// How a corpus folder is rendered as its own CI would render it: the `--env` its config needs, and the files
// that its repository's CI or CLI generates before werf runs (../shared/corpus/NOTES.tsv says which). Each
// generated file has the real format of the tool that makes it, never an invented shape.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { renderString } from "../../src/template/template.js";
import type { GoValue } from "../../src/template/value.js";

export interface CorpusSetup {
  /** The `--env` value (`.Env`): Deckhouse platform configs `fail` without an edition. */
  env?: string;
  /** Files to add before rendering: path relative to the project → content made from the folder. */
  generated?: Record<string, (dir: string) => string>;
}

/**
 * Deckhouse's `base_images.yml`, as its CI writes it (the committed copy in
 * aleksandr-podmoskovniy__echoserver shows the format): `REGISTRY_PATH`, then one `name: "sha256:..."` per
 * base image. The names are the ones the folder's templates look up (`index $.Images "builder/alpine"`, or
 * every name an `index $.Images (...)` action can choose);
 * each digest is the sha256 of the name, so the file is the same on every run.
 */
function deckhouseBaseImages(dir: string): string {
  const names = new Set<string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ya?ml|tmpl)$/.test(e.name)) {
        // `index $.Images "builder/golang"`, also with the name chosen in the action (`(... | ternary "a" "b")`)
        for (const m of fs.readFileSync(p, "utf8").matchAll(/index\s+\$?\.Images\s+([^}]*)/g)) {
          for (const q of m[1].matchAll(/"([^"]+)"/g)) names.add(q[1]);
        }
      }
    }
  };
  walk(dir);
  const lines = ["## REGISTRY_PATH is a special key which is concatenated with other base images", "REGISTRY_PATH: registry.deckhouse.io/base_images"];
  for (const name of [...names].sort()) {
    const digest = cryptoSha256(name);
    lines.push(`${name}: "sha256:${digest}"`);
  }
  return lines.join("\n") + "\n";
}

function cryptoSha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

/**
 * `package.yaml` as the Deckhouse CLI's `d8 package` scaffold writes it: its `package.yaml.tmpl` executed
 * with plain Go text/template (no sprig, as the CLI does; our engine follows Go) and the package type and name.
 */
function deckhousePackageYaml(dir: string): string {
  const data = new Map<string, GoValue>([["PackageType", "Module"], ["PackageName", "echo"]]);
  return renderString(fs.readFileSync(path.join(dir, "package.yaml.tmpl"), "utf8"), new Map(), data);
}

const SETUPS: Record<string, CorpusSetup> = {
  "deckhouse__deckhouse-test-2": { env: "CE" },
  "deckhouse__dmt__internal-werf-testdata": { env: "EE" },
  "dmitrpopkov__deckhouse": { env: "CE" },
  "hackit-coder__deckhouse": { env: "CE" },
  "gridgentoo__deckhouse": { env: "CE" },
  "pasha121__deckhouse": { env: "CE" },
  "deckhouse__csi-nfs": { generated: { "base_images.yml": deckhouseBaseImages } },
  "deckhouse__deckhouse-cli__packagecmd-templates-module": { generated: { "package.yaml": deckhousePackageYaml } },
};

export function corpusSetup(folder: string): CorpusSetup {
  return SETUPS[folder] ?? {};
}

/** Writes the folder's generated files into `dir` (a copy of the folder). */
export function addGeneratedFiles(setup: CorpusSetup, dir: string): void {
  for (const [rel, make] of Object.entries(setup.generated ?? {})) {
    const abs = path.join(dir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, make(dir));
  }
}
