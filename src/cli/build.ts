// `stapel2docker build`: reuse stored stages, build the missing ones with one `docker buildx bake`, tag the images.
import { writeFile } from "node:fs/promises";
import { Option, type Command } from "commander";
import { UserError } from "../diagnostics.js";
import { PROGRESS_MODES, reportFormatOf, type ProgressMode } from "../build-options.js";
import { addConfigOptions, renderOptions, type ConfigOptions } from "./options.js";
import { BUILD_ENV } from "./env.js";
import { addBuildReposOptions, buildReposOptions, type BuildReposCliOptions } from "./build-repos.js";
import { addIntrospectOptions, prepareIntrospection, type IntrospectCliOptions } from "../introspect/cli.js";
import { answerFromNoopCache, noopInput } from "./build-noop.js";

interface BuildCliOptions extends ConfigOptions, IntrospectCliOptions, BuildReposCliOptions {
  repo?: string;
  addTag: string[];
  report?: string;
  reportFormat?: string;
  saveBuildReport?: boolean;
  buildReportPath?: string;
  progress?: string;
  quiet?: boolean;
  toolchain?: string;
  ssh: string[];
  sshKey: string[];
  parallel?: number;
  print?: boolean;
  json?: boolean;
}

const list = (v: string, prev: string[]) => [...prev, v];

/** The options of `build` (their environment variables: BUILD_ENV in src/cli/env.ts). */
function addBuildOptions(cmd: Command): Command {
  return cmd
    .option("--repo <REPO>", "REGISTRY/PROJECT: where stages are stored (<digest>-<ms> tags) and images tagged (required)")
    .option("--add-tag <TAG>", "an extra tag <repo>:TAG per final image; {image} is replaced by the image's name (repeatable)", list, [] as string[])
    .option("--report <FILE>", "write werf's build report (as `werf build --save-build-report`): JSON, or an env file when FILE ends in .env")
    .addOption(new Option("--report-format <FORMAT>", "the report's format (default: from FILE's extension)").choices(["json", "envfile"]))
    .option("--save-build-report", "werf's spelling: write the report to --build-report-path (default .werf-build-report.json)")
    .option("--build-report-path <PATH>", "werf's spelling: with --save-build-report, the report's path (.env: env file)")
    .addOption(new Option("--progress <MODE>", "how buildx's progress is shown, as buildx: auto is tty on a terminal, else plain").choices([...PROGRESS_MODES]))
    .option("-q, --quiet", "print nothing but the final image references (stdout) and errors: --progress quiet, no step lines")
    .option("--toolchain <REF>", "toolchain image reference (static bash + busybox under /.stapel)")
    .option("--ssh <default|ID=PATH>", "forward an SSH agent to the user stages: default ($SSH_AUTH_SOCK) or ID=socket/key file (repeatable)", list, [] as string[])
    .option("--ssh-key <PATH>", "load this private key into a temporary ssh-agent forwarded to the user stages (repeatable)", list, [] as string[])
    .option("--parallel <N>", "build at most N images at once (bake runs in waves of N images); default: all in one bake", parseParallel)
    .option("--print", "print the build plan (stages reused from which tag, stages built, git patches, final tags) and exit")
    .option("--json", "with --print: the build plan as JSON");
}

export function registerBuild(program: Command): void {
  addConfigOptions(
    addIntrospectOptions(
      addBuildReposOptions(
        addBuildOptions(
          program
            .command("build")
            .description("build werf.yaml's images with docker buildx, reusing the stages stored in --repo")
            .argument("[IMAGE...]", "only these images (and the images they need); ~ is the nameless image"),
        ),
      ),
    ),
    BUILD_ENV,
  ).action(async (images: string[], opts: BuildCliOptions) => {
    if (!opts.repo) {
      throw new UserError({ message: "build needs --repo REGISTRY/PROJECT", hint: "pass --repo, or set STAPEL2DOCKER_REPO (or werf's WERF_REPO)" });
    }
    const repo = opts.repo;
    const t0 = performance.now();
    const progress = progressMode(opts);
    const quiet = opts.quiet === true;
    const where = await buildReposOptions(opts);
    const warnings: string[] = [];
    const log = (l: string) => {
      if (l.startsWith("warning: ")) warnings.push(l.slice("warning: ".length));
      if (!quiet) process.stderr.write(`${l}\n`);
    };
    // the no-op fast path (src/builder/noop-cache.ts): nothing changed since a build on this host → one tag listing
    // (main.ts tried it already, before loading the commands, for the arguments it knows)
    const fast = noopEligible(opts);
    if (fast && (await answerFromNoopCache({ ...opts, repo }, images, log, t0))) return;
    const noop = fast ? await import("../builder/noop-cache.js") : undefined;
    const noopKey = noop ? await noop.noopKey(noopInput({ ...opts, repo }, images)) : undefined;
    const noopCache = noop && noopKey ? new noop.NoopCache() : undefined;
    const { buildProject, formatBuildPlan, formatReport, planBuild } = await import("../builder/index.js");
    if (opts.print) {
      const p = await planBuild({ ...renderOptions(opts), images, repo, addTags: opts.addTag, toolchain: opts.toolchain, ...where });
      process.stdout.write(opts.json ? JSON.stringify(p, null, 2) + "\n" : formatBuildPlan(p));
      return;
    }
    if (opts.json) throw new UserError({ message: "--json is an option of --print", hint: "use build --print --json, or --report FILE for the report of a build" });
    const reportFile = reportPath(opts);
    const format = reportFile ? reportFormatOf(reportFile, opts.reportFormat) : undefined;
    // the environment variables the render reads are recorded for the no-op cache's entry
    const env = noop ? noop.recordingEnviron(process.env) : undefined;
    const render = { ...renderOptions(opts), ...(env ? { environ: env.environ } : {}) };
    const tPlan = performance.now();
    const { plan, hooks } = await prepareIntrospection(opts, { ...render, images, toolchain: opts.toolchain, ...where }, log);
    const stages = plan.images.reduce((n, i) => n + i.stages.length, 0) + plan.dockerfileImages.length;
    log(`stapel2docker: planned ${plan.images.length + plan.dockerfileImages.length} image(s), ${stages} stage(s) in ${secs(tPlan)}`);
    const { RegistryClient } = await import("../registry/index.js");
    const client = new RegistryClient();
    const report = await buildProject({
      plan,
      hooks,
      ...render,
      images,
      repo,
      addTags: opts.addTag,
      toolchain: opts.toolchain,
      ssh: opts.ssh,
      sshKeys: opts.sshKey,
      parallel: opts.parallel,
      progress,
      client,
      ...where,
      log,
      onFinished: noopCache && noopKey && env
        ? (info) => noopCache.record(noopKey, noopInput({ ...opts, repo }, images), { ...info, environRead: env.read, env: process.env, warnings })
        : undefined,
    });
    if (quiet) process.stdout.write([...new Set(report.images.flatMap((i) => i.tags))].map((t) => `${t}\n`).join(""));
    else process.stdout.write(formatReport(report));
    if (reportFile) {
      const t1 = performance.now();
      const { formatWerfReportEnv, formatWerfReportJson, werfReport } = await import("../builder/werf-report.js");
      const w = await werfReport(report, client);
      await writeFile(reportFile, format === "envfile" ? formatWerfReportEnv(w) : formatWerfReportJson(w));
      log(`stapel2docker: wrote the build report ${reportFile} (${format}) in ${secs(t1)}`);
    }
  });
}

/** Where the report goes: --report (or STAPEL2DOCKER_REPORT), else werf's --save-build-report [--build-report-path]
 *  (WERF_SAVE_BUILD_REPORT, WERF_BUILD_REPORT_PATH), whose default path is werf's. */
export function reportPath(opts: { report?: string; saveBuildReport?: boolean; buildReportPath?: string }): string | undefined {
  if (opts.report) return opts.report;
  return opts.saveBuildReport ? opts.buildReportPath || ".werf-build-report.json" : undefined;
}

function secs(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(3)} s`;
}

function progressMode(opts: BuildCliOptions): ProgressMode {
  if (opts.quiet) return "quiet";
  const p = opts.progress ?? "auto";
  if (!(PROGRESS_MODES as readonly string[]).includes(p)) {
    // from the environment (the flag's choices are checked by commander)
    throw new UserError({ message: `progress mode ${JSON.stringify(p)} is not one of ${PROGRESS_MODES.join(", ")}`, hint: "set STAPEL2DOCKER_PROGRESS (or BUILDKIT_PROGRESS) to one of them" });
  }
  return p as ProgressMode;
}

/** Whether the no-op cache may answer (or record) this build: see src/builder/noop-cache.ts. */
function noopEligible(opts: BuildCliOptions): boolean {
  return !opts.print && !opts.json && !opts.dev && opts.addTag.length === 0 && opts.ssh.length === 0 && opts.sshKey.length === 0 &&
    (opts.introspectStage ?? []).length === 0 && !opts.introspectError && !opts.introspectBeforeError && !process.env.STAPEL2DOCKER_NO_NOOP_CACHE &&
    // where the stages come from and go to besides --repo is not part of the no-op cache's key: those builds run in full
    opts.cacheRepo.length === 0 && opts.secondaryRepo.length === 0 &&
    opts.finalRepo === undefined &&
    // werf's report needs the images' digests from the registry; --quiet prints no table
    reportPath(opts) === undefined && !opts.quiet;
}

function parseParallel(v: string): number {
  if (!/^[0-9]+$/.test(v) || Number(v) < 1) {
    throw new UserError({ message: `--parallel ${JSON.stringify(v)}: expected a whole number >= 1`, hint: "e.g. --parallel 2; leave it out to build everything in one bake" });
  }
  return Number(v);
}
