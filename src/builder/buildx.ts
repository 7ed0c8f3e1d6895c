// Running docker buildx for a build: the bake process (output passed on and kept, signals forwarded, a failure as
// a UserError with buildx's last lines), the per-target context folders and the --parallel waves.

import { UserError } from "../diagnostics.js";
import type { BakeFile } from "../bake/model.js";
import { bakeKeysNeeded } from "../bake/write.js";
import { run } from "../process/run.js";
import { builderHint } from "./builders.js";
import type { DockerfileState } from "../storage/plan.js";
import type { ImageChain } from "../storage/resolve.js";

export type BuildOutput = "inherit" | "ignore" | ((chunk: Buffer) => void);

/** `cp -al`: the folder's files as hard links (instant, no copy). */
export async function hardLinkCopy(src: string, dst: string): Promise<void> {
  const r = await run("cp", ["-al", src, dst]);
  if (r.code !== 0) throw new Error(`cp -al ${src} ${dst}: ${r.error?.message ?? r.stderr.trim()}`);
}

/** How many times a bake that failed on a transient registry error is run (BuildKit's resolver does not retry a
 *  5xx on a pull's HEAD/GET, as `docker push` does): the stages it finished are pushed, a rerun builds the rest. */
const BAKE_ATTEMPTS = 3;

/** A failure of the registry, not of the build: a 5xx or a broken connection, and no command failed. */
export function transientRegistryFailure(output: string): boolean {
  if (/did not complete successfully/.test(output)) return false;
  return /unexpected status from (HEAD|GET|POST|PUT|PATCH) request to [^\n]*: 5\d\d|received unexpected HTTP status: 5\d\d|: 50[234] (Bad Gateway|Service Unavailable|Gateway Timeout)|connection reset by peer/.test(output);
}

/** buildx 0.13 crashes (a nil progress writer in `driver.Boot`) when a builder of a non-docker driver does not answer
 *  its status check while a failing bake is being cancelled: its output is the panic, not the build's error. */
export function buildxBootPanic(output: string): boolean {
  return /^panic: /m.test(output) && /github\.com\/docker\/buildx\/driver\.Boot\(/.test(output);
}

/** Runs buildx (again, after a transient registry failure or buildx's crash in driver.Boot); a failure's hint shows its last output lines
 *  (`lastOutput()` when given: what tells why a rawjson stream failed, see src/builder/progress.ts; else the raw
 *  text). */
export async function runBuildx(
  cmd: string,
  args: string[],
  cwd: string,
  output: BuildOutput,
  log?: (line: string) => void,
  lastOutput?: () => string,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    let tail = "";
    const r = await run(cmd, args, {
      cwd,
      keep: 4000,
      forwardSignals: true,
      onOutput: (b) => {
        tail = (tail + b.toString("utf8")).slice(-4000);
        if (typeof output === "function") output(b);
        else if (output === "inherit") process.stderr.write(b);
      },
    });
    if (r.error) throw new UserError({ message: `cannot run ${cmd}: ${r.error.message}`, hint: "install Docker with the buildx plugin (see docs/stack.md)" });
    if (r.code === 0) return;
    if (lastOutput) tail = lastOutput().slice(-4000);
    const panicked = buildxBootPanic(tail);
    if (!r.signal && attempt < BAKE_ATTEMPTS && (transientRegistryFailure(tail) || panicked)) {
      const why = panicked ? "buildx crashed starting the builder (driver.Boot), which hides the build's own error" : `the registry failed during the bake (${tail.trimEnd().split("\n").pop()?.slice(0, 200)})`;
      (log ?? ((l: string) => process.stderr.write(`${l}\n`)))(`${why}; running it again (${attempt + 1}/${BAKE_ATTEMPTS})`);
      await new Promise((res) => setTimeout(res, 500 * attempt));
      continue;
    }
    const setting = builderHint(tail);
    const last = tail ? `its last output:\n${tail.trimEnd().split("\n").slice(lastOutput ? -40 : -15).join("\n")}` : "see buildx's output above";
    throw new UserError({
      message: `docker buildx bake failed (${r.signal ? `signal ${r.signal}` : `exit code ${r.code}`}); no tag was written for the stages it did not finish`,
      hint: setting ? `${setting}\n${last}` : last,
    });
  }
}

const versions = new Map<string, Promise<[number, number, number] | undefined>>();

/** `docker buildx version` as [major, minor, patch] ("github.com/docker/buildx 0.13.1+ds1 …", "… v0.25.0 …"), once
 *  per process; undefined when it cannot be read. */
export function buildxVersion(docker: string): Promise<[number, number, number] | undefined> {
  let v = versions.get(docker);
  if (!v) {
    v = run(docker, ["buildx", "version"]).then((r) => {
      const m = /\bv?(\d+)\.(\d+)\.(\d+)/.exec(r.stdout.toString());
      return r.code === 0 && m ? ([Number(m[1]), Number(m[2]), Number(m[3])] as [number, number, number]) : undefined;
    });
    versions.set(docker, v);
  }
  return v;
}

/**
 * Refuses to bake when the bake file uses a key this buildx does not read (it would build without it, silently:
 * a Dockerfile image's `network` needs buildx 0.18, its `addHost` (extra-hosts) 0.25).
 */
export async function requireBakeKeys(docker: string, bake: BakeFile, images: (target: string) => string): Promise<void> {
  const needed = bakeKeysNeeded(bake);
  if (!needed.length) return;
  const have = await buildxVersion(docker);
  const problems = needed.filter((n) => !have || have[0] < n.version[0] || (have[0] === n.version[0] && have[1] < n.version[1]));
  if (!problems.length) return;
  throw new UserError(
    problems.map((n) => ({
      message: `${n.key === "network" ? "network" : "addHost"} of ${n.targets.map((t) => `image ${JSON.stringify(images(t))}`).join(", ")} needs buildx ${n.version.join(".")} or newer (bake's \`${n.key}\`); ${have ? `this machine has buildx ${have.join(".")}` : "the buildx version could not be read"}, which would build without it`,
      hint: `upgrade the docker buildx plugin, or remove ${n.key === "network" ? "`network:`" : "`addHost:`"} from the image`,
    })),
  );
}

/** The bake targets grouped by image, at most `n` images per wave, an image after the images it builds on or
 *  imports from (when they are built too). Within a wave BuildKit runs the images' chains side by side; a stage a
 *  later wave needs again is taken from BuildKit's cache (same instructions, same inputs). */
export function bakeWaves(chains: ImageChain[], dockerfiles: DockerfileState[], targets: Map<string, string>, n: number): string[][] {
  const groups = new Map<string, string[]>();
  const deps = new Map<string, Set<string>>();
  for (const c of chains) {
    const ts = c.stages.filter((s) => !s.stored && targets.has(s.stage.digest)).map((s) => targets.get(s.stage.digest)!);
    if (!ts.length) continue;
    groups.set(c.image.name, [...new Set(ts)]);
    const d = new Set<string>();
    for (const s of c.stages) {
      const b = s.stage.body;
      if (b.kind === "from" && b.base.kind === "image") d.add(b.base.image);
      if (b.kind === "dependencies") for (const i of b.imports) if (i.source.kind === "image") d.add(i.source.image);
    }
    deps.set(c.image.name, d);
  }
  for (const d of dockerfiles) {
    const t = targets.get(d.plan.digest);
    if (t && !d.stored) {
      groups.set(d.plan.image.name, [t]);
      deps.set(d.plan.image.name, new Set());
    }
  }
  // topological order, plan order among equals
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name) || !groups.has(name)) return;
    seen.add(name);
    for (const d of deps.get(name) ?? []) visit(d);
    order.push(name);
  };
  for (const name of groups.keys()) visit(name);
  const waves: string[][] = [];
  let wave: string[] = [];
  const inWave = new Set<string>();
  for (const name of order) {
    // at most n images per wave, and an image never in the same wave as an image it needs
    if (inWave.size === n || [...(deps.get(name) ?? [])].some((d) => inWave.has(d))) {
      waves.push(wave);
      wave = [];
      inWave.clear();
    }
    wave.push(...groups.get(name)!);
    inWave.add(name);
  }
  if (wave.length) waves.push(wave);
  return waves.map((w) => [...new Set(w)].sort());
}

/** The build stages that run the user's commands (not the git patch RUNs). */
