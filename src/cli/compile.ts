// `stapel2docker compile`: plan the stages, then write OUT/Dockerfile, docker-bake.json, build.sh, context/, commit.env.
import path from "node:path";
import type { Command } from "commander";
import { formatDiagnostic } from "../diagnostics.js";
import { addConfigOptions, renderOptions, type ConfigOptions } from "./options.js";

interface CompileCliOptions extends ConfigOptions {
  out?: string;
  repo?: string;
  tag: string[];
  toolchain?: string;
}

export function registerCompile(program: Command): void {
  addConfigOptions(
    program
      .command("compile")
      .description("write one multi-stage Dockerfile, a docker-bake.json and build.sh for werf.yaml's images")
      .argument("[IMAGE...]", "only these images (and the images they need); ~ is the nameless image")
      .option("--out <DIR>", "output folder (default: <dir>/.stapel2docker); replaced only if stapel2docker made it")
      .option("--repo <REPO>", "repository of the final tags (default: the project name)")
      .option("--tag <T>", "an extra tag <repo>:T per final image; {image} is replaced by the image's name (repeatable)",
        (v: string, prev: string[]) => [...prev, v], [] as string[])
      .option("--toolchain <REF>", "toolchain image reference (static bash + busybox under /.stapel)"),
  ).action(async (images: string[], opts: CompileCliOptions) => {
    const [{ planProject }, { emitProject }] = await Promise.all([import("../plan/plan.js"), import("../emit/index.js")]);
    const plan = await planProject({ ...renderOptions(opts), images, toolchain: opts.toolchain });
    for (const w of plan.warnings) process.stderr.write(`warning: ${formatDiagnostic(w)}\n`);
    if (plan.images.length + plan.dockerfileImages.length === 0) {
      process.stdout.write("nothing to compile: no images\n");
      return;
    }
    const out = opts.out !== undefined ? path.resolve(opts.out) : path.join(plan.dir, ".stapel2docker");
    const result = await emitProject(plan, { out, repo: opts.repo, tags: opts.tag });
    const rel = path.relative(process.cwd(), result.out) || ".";
    process.stdout.write(
      `wrote ${rel}: ${result.files.length} files; targets: ${result.targets.join(", ") || "(none)"}\n` +
        `build: ${path.join(rel, "build.sh")}\n`,
    );
  });
}
