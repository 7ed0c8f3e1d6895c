// What `compile` makes of one corpus folder against a synthesized git repository (synth-repo.ts): a
// Dockerfile and bake file that agree (ok), or the first line of the error, by kind. Recorded in
// fixtures/corpus-compile.tsv (regenerate with `npm run corpus:update`).
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { formatDiagnostic } from "../../src/diagnostics.js";
import type { WerfConfig } from "../../src/config/index.js";
import { fixturesDir } from "../support/paths.js";
import { corpusDir } from "./outcome.js";
import { synthesizeRepo, unmetMappings } from "./synth-repo.js";
import { corpusSetup } from "./setup.js";
import type { ChildResult } from "./compile-child.js";

export const compileTableFile = path.join(fixturesDir, "corpus-compile.tsv");

/** ok, or error:<kind>: render, validate (the front end), ansible, git, plan, emit (UserErrors of compile),
 *  check (the written files disagree: a bug), internal (not a UserError: a bug). */
export type CompileKind = "render" | "validate" | ChildResult["kind"];

export interface CompileOutcome {
  folder: string;
  /** "ok" or "error:<kind>". */
  outcome: string;
  /** The rendered config has an ansible stage (for folders that do not render: `ansible:` appears in the sources). */
  ansible: boolean;
  detail: string;
  /** internal errors: the stack, for the report (not in the table). */
  stack?: string;
  /** Masks of the config that the synthesized repository fails to match (a synthesizer bug; not in the table). */
  unmet?: string[];
}

/** Kinds that are bugs of stapel2docker: the test fails on them whatever the table says. */
export const BUG_KINDS = new Set(["internal", "check"]);

export function outcomeKind(o: Pick<CompileOutcome, "outcome">): string {
  return o.outcome === "ok" ? "ok" : o.outcome.slice("error:".length);
}

function grepAnsible(dir: string): boolean {
  const files = [path.join(dir, "werf.yaml"), path.join(dir, "werf.yml")];
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(path.join(dir, ".werf"));
  return files.some((f) => fs.existsSync(f) && /^\s*ansible:/m.test(fs.readFileSync(f, "utf8")));
}

function hasAnsible(config: WerfConfig): boolean {
  return config.images.some((i) => i.ansible !== undefined);
}

const childScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "compile-child.js");

function runChild(args: { dir: string; gitCacheDir: string; out: string; env?: string }, env: Record<string, string>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childScript, JSON.stringify(args)], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) => {
      const text = Buffer.concat(out).toString("utf8").trim().split("\n").pop() ?? "";
      try {
        if (code === 0 && text) return resolve(JSON.parse(text) as ChildResult);
      } catch {
        // fall through
      }
      resolve({ kind: "internal", detail: `the compile process exited with ${code}`, stack: Buffer.concat(err).toString("utf8") });
    });
  });
}

/** Synthesizes the folder's repository, compiles it in a child process, checks the output, cleans up. */
export async function compileFolder(folder: string): Promise<CompileOutcome> {
  const source = path.join(corpusDir, folder);
  const setup = corpusSetup(folder);
  const synth = await synthesizeRepo(source, { setup });
  try {
    if (synth.failure) {
      return {
        folder,
        outcome: `error:${synth.failure.stage}`,
        ansible: grepAnsible(source),
        detail: formatDiagnostic(synth.failure.error.diagnostics[0]).split("\n")[0].replace(/\t/g, " "),
      };
    }
    const unmet = await unmetMappings(synth);
    const args = { dir: synth.dir, gitCacheDir: synth.gitCacheDir, out: path.join(synth.root, "out"), env: setup.env };
    let r = await runChild(args, synth.env);
    // A child that died before printing a result (not an error it caught: those are printed) is tried once
    // more: in a shared checkout, dist/ may be half rewritten by a concurrent `tsc` while it loads.
    if (r.kind === "internal" && r.detail.startsWith("the compile process exited")) {
      fs.rmSync(args.out, { recursive: true, force: true });
      r = await runChild(args, synth.env);
    }
    // Messages may name the temp dir: make the table independent of it.
    const detail = r.detail.split(synth.root).join("$TMP").replace(/\t/g, " ");
    return {
      folder,
      outcome: r.kind === "ok" ? "ok" : `error:${r.kind}`,
      ansible: hasAnsible(synth.config!),
      detail,
      stack: r.stack?.split(synth.root).join("$TMP"),
      unmet,
    };
  } finally {
    synth.cleanup();
  }
}

/** Compiles every folder, `concurrency` at a time (2: the machine has 2 cores), in folder order. */
export async function compileFolders(folders: string[], concurrency = 2): Promise<CompileOutcome[]> {
  const results: CompileOutcome[] = new Array(folders.length);
  let next = 0;
  const worker = async () => {
    while (next < folders.length) {
      const i = next++;
      results[i] = await compileFolder(folders[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, folders.length) }, worker));
  return results;
}

export function formatCompileTable(outcomes: CompileOutcome[]): string {
  const rows = [...outcomes]
    .sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0))
    .map((o) => `${o.folder}\t${o.outcome}\t${o.ansible ? "yes" : "no"}\t${o.detail}`);
  return ["folder\toutcome\tansible\tdetail", ...rows].join("\n") + "\n";
}

export function readCompileTable(file = compileTableFile): Map<string, CompileOutcome> {
  const map = new Map<string, CompileOutcome>();
  if (!fs.existsSync(file)) return map;
  for (const line of fs.readFileSync(file, "utf8").split("\n").slice(1).filter(Boolean)) {
    const [folder, outcome, ansible, ...rest] = line.split("\t");
    map.set(folder, { folder, outcome, ansible: ansible === "yes", detail: rest.join("\t") });
  }
  return map;
}

export interface CompileRate {
  ok: number;
  /** Folders whose config has no ansible stage. */
  withoutAnsible: number;
  rate: number;
  /** Folders without ansible whose config renders and validates (the front end's failures left out). */
  frontEndOk: number;
  /** ok / frontEndOk: what compile itself achieves. */
  compileRate: number;
  byKind: Record<string, number>;
}

export function compileRate(outcomes: Iterable<CompileOutcome>): CompileRate {
  let ok = 0;
  let withoutAnsible = 0;
  let frontEndOk = 0;
  const byKind: Record<string, number> = {};
  for (const o of outcomes) {
    const kind = outcomeKind(o);
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    if (!o.ansible) {
      withoutAnsible++;
      if (kind !== "render" && kind !== "validate") frontEndOk++;
      if (kind === "ok") ok++;
    }
  }
  return {
    ok,
    withoutAnsible,
    rate: withoutAnsible === 0 ? 0 : ok / withoutAnsible,
    frontEndOk,
    compileRate: frontEndOk === 0 ? 0 : ok / frontEndOk,
    byKind,
  };
}
