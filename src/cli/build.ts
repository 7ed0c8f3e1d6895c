// `stapel2docker build`: reuse stored stages, build the missing ones with one `docker buildx bake`, tag the images.
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { UserError } from "../diagnostics.js";
import { addConfigOptions, renderOptions, type ConfigOptions } from "./options.js";
import { addBuildReposOptions, buildReposOptions, type BuildReposCliOptions } from "./build-repos.js";
import { addIntrospectOptions, prepareIntrospection, type IntrospectCliOptions } from "../introspect/cli.js";
import { answerFromNoopCache, noopInput } from "./build-noop.js";

interface BuildCliOptions extends ConfigOptions, IntrospectCliOptions, BuildReposCliOptions {
  repo: string;
  addTag: string[];
  report?: string;
  toolchain?: string;
  ssh: string[];
  sshKey: string[];
  parallel?: number;
  print?: boolean;
  json?: boolean;
}

export function registerBuild(program: Command): void {
  addConfigOptions(addIntrospectOptions(addBuildReposOptions(
    program
      .command("build")
      .description("build werf.yaml's images with docker buildx, reusing the stages stored in --repo")
      .argument("[IMAGE...]", "only these images (and the images they need); ~ is the nameless image")
      .requiredOption("--repo <REPO>", "REGISTRY/PROJECT: where stages are stored (<digest>-<ms> tags) and images tagged")
      .option("--add-tag <TAG>", "an extra tag <repo>:TAG per final image; {image} is replaced by the image's name (repeatable)",
        (v: string, prev: string[]) => [...prev, v], [] as string[])
      .option("--report <FILE>", "write the per-stage report (digest, tag, built/reused, seconds) as JSON")
      .option("--toolchain <REF>", "toolchain image reference (static bash + busybox under /.stapel)")
      .option("--ssh <default|ID=PATH>", "forward an SSH agent to the user stages: default ($SSH_AUTH_SOCK) or ID=socket/key file (repeatable)",
        (v: string, prev: string[]) => [...prev, v], [] as string[])
      .option("--ssh-key <PATH>", "load this private key into a temporary ssh-agent forwarded to the user stages (repeatable)",
        (v: string, prev: string[]) => [...prev, v], [] as string[])
      .option("--parallel <N>", "build at most N images at once (bake runs in waves of N images); default: all in one bake", parseParallel)
      .option("--print", "print the build plan (stages reused from which tag, stages built, git patches, final tags) and exit")
      .option("--json", "with --print: the build plan as JSON"))),
  ).action(async (images: string[], opts: BuildCliOptions) => {
    const t0 = performance.now();
    const where = await buildReposOptions(opts);
    const warnings: string[] = [];
    const log = (l: string) => {
      if (l.startsWith("warning: ")) warnings.push(l.slice("warning: ".length));
      process.stderr.write(`${l}\n`);
    };
    // the no-op fast path (src/builder/noop-cache.ts): nothing changed since a build on this host → one tag listing
    // (main.ts tried it already, before loading the commands, for the arguments it knows)
    const fast = noopEligible(opts);
    if (fast && (await answerFromNoopCache(opts, images, log, t0))) return;
    const noop = fast ? await import("../builder/noop-cache.js") : undefined;
    const noopKey = noop ? await noop.noopKey(noopInput(opts, images)) : undefined;
    const noopCache = noop && noopKey ? new noop.NoopCache() : undefined;
    const { buildProject, formatBuildPlan, formatReport, planBuild } = await import("../builder/index.js");
    if (opts.print) {
      const p = await planBuild({ ...renderOptions(opts), images, repo: opts.repo, addTags: opts.addTag, toolchain: opts.toolchain, ...where });
      process.stdout.write(opts.json ? JSON.stringify(p, null, 2) + "\n" : formatBuildPlan(p));
      return;
    }
    if (opts.json) throw new UserError({ message: "--json is an option of --print", hint: "use build --print --json, or --report FILE for the report of a build" });
    // the environment variables the render reads are recorded for the no-op cache's entry
    const env = noop ? noop.recordingEnviron(process.env) : undefined;
    const render = { ...renderOptions(opts), ...(env ? { environ: env.environ } : {}) };
    const { plan, hooks } = await prepareIntrospection(opts, { ...render, images, toolchain: opts.toolchain, ...where }, log);
    const report = await buildProject({
      plan,
      hooks,
      ...render,
      images,
      repo: opts.repo,
      addTags: opts.addTag,
      toolchain: opts.toolchain,
      ssh: opts.ssh,
      sshKeys: opts.sshKey,
      parallel: opts.parallel,
      ...where,
      log,
      onFinished: noopCache && noopKey && env
        ? (info) => noopCache.record(noopKey, noopInput(opts, images), { ...info, environRead: env.read, env: process.env, warnings })
        : undefined,
    });
    process.stdout.write(formatReport(report));
    if (opts.report) await writeFile(opts.report, JSON.stringify(report, null, 2) + "\n");
  });
}

/** Whether the no-op cache may answer (or record) this build: see src/builder/noop-cache.ts. */
function noopEligible(opts: BuildCliOptions): boolean {
  return !opts.print && !opts.json && !opts.dev && opts.addTag.length === 0 && opts.ssh.length === 0 && opts.sshKey.length === 0 &&
    (opts.introspectStage ?? []).length === 0 && !opts.introspectError && !opts.introspectBeforeError && !process.env.STAPEL2DOCKER_NO_NOOP_CACHE &&
    // where and how the build runs is not part of the no-op cache's key: those builds always run in full
    opts.builder === undefined && !process.env.BUILDX_BUILDER && opts.cacheRepo.length === 0 && opts.secondaryRepo.length === 0 &&
    opts.finalRepo === undefined && !opts.platform?.length;
}

function parseParallel(v: string): number {
  if (!/^[0-9]+$/.test(v) || Number(v) < 1) {
    throw new UserError({ message: `--parallel ${JSON.stringify(v)}: expected a whole number >= 1`, hint: "e.g. --parallel 2; leave it out to build everything in one bake" });
  }
  return Number(v);
}
