// `stapel2docker compile`: plan the stages, then write OUT/Dockerfile, docker-bake.json, build.sh, context/, commit.env.
import path from "node:path";
import type { Command } from "commander";
import { UserError, formatDiagnostic } from "../diagnostics.js";
import type { Plan } from "../plan/model.js";
import { parsePlatforms } from "./platforms.js";
import { addConfigOptions, renderOptions, type ConfigOptions } from "./options.js";

interface CompileCliOptions extends ConfigOptions {
  out?: string;
  repo?: string;
  tag: string[];
  toolchain?: string;
  platform?: string[];
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
      .option("--toolchain <REF>", "toolchain image reference (static bash + busybox under /.stapel); default: this machine's, pinned by digest in --repo, or without --repo the local image `toolchain --import` makes")
      .option("--platform <LIST>", "target platforms of every image, e.g. linux/amd64,linux/arm64 (over werf.yaml's)", parsePlatforms),
  ).action(async (images: string[], opts: CompileCliOptions) => {
    const [{ planProject }, { emitProject }, { planForCompile }] = await Promise.all([import("../plan/plan.js"), import("../emit/index.js"), import("../emit/platforms.js")]);
    const planOpts = { ...renderOptions(opts), images, toolchain: opts.toolchain, ...(opts.platform ? { platform: opts.platform } : {}) };
    // images of several platforms: planned per platform, as build builds them (src/emit/platforms.ts)
    const { plan, platforms: planned } = await planForCompile(planOpts, planProject);
    for (const w of plan.warnings) process.stderr.write(`warning: ${formatDiagnostic(w)}\n`);
    const localToolchain = await pinToolchain(plan, opts, planned.map((g) => g.variants.map((v) => v.plan)).flat());
    if (plan.images.length + plan.dockerfileImages.length === 0) {
      process.stdout.write("nothing to compile: no images\n");
      return;
    }
    const out = opts.out !== undefined ? path.resolve(opts.out) : path.join(plan.dir, ".stapel2docker");
    const result = await emitProject(plan, { out, repo: opts.repo, tags: opts.tag, ...(planned.length ? { platforms: planned } : {}), ...(localToolchain ? { localToolchain } : {}) });
    const rel = path.relative(process.cwd(), result.out) || ".";
    process.stdout.write(
      `wrote ${rel}: ${result.files.length} files; targets: ${result.targets.join(", ") || "(none)"}\n` +
        `build: ${path.join(rel, "build.sh")}\n`,
    );
  });
}

/** Without --toolchain: with --repo, this machine's toolchain image, by digest, in that repository (push it there once
 *  with `stapel2docker toolchain --push REPO`; `build` does it itself); without --repo (final tags that name local
 *  images: a build on this machine), the local image DEFAULT_TOOLCHAIN that `stapel2docker toolchain --import` makes,
 *  and build.sh checks it is there (returned: the local reference). A tag given is kept, with a warning: a builder
 *  elsewhere pulls whatever it names then. */
async function pinToolchain(plan: Plan, opts: CompileCliOptions, others: Plan[] = []): Promise<string | undefined> {
  const [{ isPinned, makeToolchainImage, toolchainTop }, { repoOf }, { listStageContexts }, { DEFAULT_TOOLCHAIN }] = await Promise.all([
    import("../toolchain/image.js"),
    import("../plan/names.js"),
    import("../plan/contexts.js"),
    import("../plan/model.js"),
  ]);
  if (opts.toolchain !== undefined) {
    if (!isPinned(opts.toolchain)) {
      process.stderr.write(`warning: --toolchain ${opts.toolchain} is not pinned by digest; give REF@sha256:... (stapel2docker toolchain --push REPO prints it)\n`);
    }
    return undefined;
  }
  if (opts.repo === undefined) {
    // (the plans' default: every stage context names it already)
    for (const p of [plan, ...others]) {
      p.toolchain = DEFAULT_TOOLCHAIN;
      listStageContexts(p);
    }
    process.stderr.write(
      `toolchain: ${DEFAULT_TOOLCHAIN}, a local image (make it once: stapel2docker toolchain --import): without --repo, build.sh builds on this machine's docker only; ` +
        "to build with another builder or push, compile with --repo REGISTRY/PATH (the toolchain is pinned by digest there) or --toolchain REF@sha256:...\n",
    );
    return DEFAULT_TOOLCHAIN;
  }
  const repo = repoOf(plan.project, opts.repo);
  let digest: string;
  try {
    digest = toolchainTop([await makeToolchainImage()]).digest;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    throw new UserError({
      message: `${e.diagnostics[0].message}: compile pins the toolchain image by the digest of this machine's static bash and busybox`,
      hint: "give the toolchain's reference instead: --toolchain REGISTRY/PATH@sha256:... (printed by `stapel2docker toolchain --push REGISTRY/PATH` on a Debian machine, or by a build), or install bash-static and busybox-static",
    });
  }
  plan.toolchain = `${repo}@${digest}`;
  listStageContexts(plan);
  for (const p of others) {
    p.toolchain = plan.toolchain;
    listStageContexts(p);
  }
  process.stderr.write(`toolchain: ${plan.toolchain} (push it once before build.sh: stapel2docker toolchain --push ${repo})\n`);
  return undefined;
}
