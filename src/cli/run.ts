// `stapel2docker run IMAGE [-- COMMAND ARGS...]`: build what the image needs (as `build IMAGE`), then `docker run` it,
// as `werf run` does (the local loop). The build's output goes to stderr; the container's to stdout/stderr; the exit
// code is the container's.
import { Option, type Command } from "commander";
import { spawn } from "node:child_process";
import { UserError } from "../diagnostics.js";
import { PROGRESS_MODES, type ProgressMode } from "../build-options.js";
import { addConfigOptions, renderOptions, type ConfigOptions } from "./options.js";
import { BUILD_ENV, type EnvBinding } from "./env.js";
import { addIntrospectOptions, prepareIntrospection, type IntrospectCliOptions } from "../introspect/cli.js";

interface RunCliOptions extends ConfigOptions, IntrospectCliOptions {
  repo?: string;
  toolchain?: string;
  builder?: string;
  ssh: string[];
  sshKey: string[];
  progress?: ProgressMode;
  quiet?: boolean;
  dockerOptions?: string;
}

const list = (v: string, prev: string[]) => [...prev, v];

/** run's variables: build's for the options they share, and werf's WERF_DOCKER_OPTIONS. */
const RUN_ENV: EnvBinding[] = [
  ...BUILD_ENV.filter((b) => ["repo", "toolchain", "builder", "ssh", "sshKey", "progress", "quiet"].includes(b.key)),
  { key: "dockerOptions", flag: "--docker-options", kind: "string", names: ["STAPEL2DOCKER_DOCKER_OPTIONS", "WERF_DOCKER_OPTIONS"] },
];

export function registerRun(program: Command): void {
  addConfigOptions(
    addIntrospectOptions(
      program
        .command("run")
        .description("build IMAGE (reusing the stages stored in --repo) and run it with docker run, as `werf run`")
        .argument("<IMAGE>", "the image to run (~ is the nameless image)")
        .argument("[COMMAND...]", "the command and its arguments, after --; default: the image's own")
        .option("--repo <REPO>", "REGISTRY/PROJECT: where stages are stored and images tagged (required)")
        .option("--docker-options <OPTIONS>", "options for docker run, blank-separated (default: --rm, and -it on a terminal)")
        .option("--toolchain <REF>", "toolchain image reference (static bash + busybox under /.stapel)")
        .option("--builder <NAME>", "the buildx builder to build with (as build --builder); the image runs on the local daemon")
        .option("--ssh <default|ID=PATH>", "forward an SSH agent to the user stages (repeatable)", list, [] as string[])
        .option("--ssh-key <PATH>", "load this private key into a temporary ssh-agent for the build (repeatable)", list, [] as string[])
        .addOption(new Option("--progress <MODE>", "how buildx's progress is shown").choices([...PROGRESS_MODES]))
        .option("-q, --quiet", "no build output: only the container's"),
    ),
    RUN_ENV,
  ).action(async (image: string, command: string[], opts: RunCliOptions) => {
    if (!opts.repo) throw new UserError({ message: "run needs --repo REGISTRY/PROJECT", hint: "pass --repo, or set STAPEL2DOCKER_REPO (or werf's WERF_REPO)" });
    const quiet = opts.quiet === true;
    const log = quiet ? () => {} : (l: string) => process.stderr.write(`${l}\n`);
    const { buildProject, formatReport } = await import("../builder/index.js");
    const { plan, hooks } = await prepareIntrospection(opts, { ...renderOptions(opts), images: [image], toolchain: opts.toolchain }, log);
    const report = await buildProject({
      plan,
      hooks,
      ...renderOptions(opts),
      images: [image],
      repo: opts.repo,
      toolchain: opts.toolchain,
      builder: opts.builder,
      ssh: opts.ssh,
      sshKeys: opts.sshKey,
      progress: quiet ? "quiet" : opts.progress,
      log,
    });
    if (!quiet) process.stderr.write(formatReport(report));
    const built = report.images.find((i) => i.image === image);
    if (!built) throw new UserError({ message: `image ${JSON.stringify(image)} is not in werf.yaml`, hint: "name an image of werf.yaml (~ for the nameless one)" });
    // a final image by its final tag; an artifact or `final: false` image by its last stage's tag
    const ref = built.tags[0] ?? built.stages[built.stages.length - 1].tag;
    const dockerOptions = opts.dockerOptions !== undefined ? opts.dockerOptions.split(/\s+/).filter(Boolean) : ["--rm", ...(process.stdin.isTTY && process.stdout.isTTY ? ["-it"] : [])];
    const args = ["run", ...dockerOptions, ref, ...command];
    log(`stapel2docker: docker ${args.join(" ")}`);
    const code = await new Promise<number>((resolve) => {
      const child = spawn("docker", args, { stdio: "inherit" });
      const forward = (s: NodeJS.Signals) => child.kill(s);
      process.on("SIGINT", forward);
      process.on("SIGTERM", forward);
      child.on("error", (e) => {
        process.stderr.write(`stapel2docker: cannot run docker: ${e.message}\n`);
        resolve(127);
      });
      child.on("close", (c, sig) => {
        process.off("SIGINT", forward);
        process.off("SIGTERM", forward);
        resolve(c ?? (sig ? 128 + 15 : 1));
      });
    });
    // the container's exit code is the command's
    if (code !== 0) process.exit(code);
  });
}
