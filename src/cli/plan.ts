// `stapel2docker plan`: every image's stages with their digests and the inputs that made them.
// Nothing is built and no registry is asked: the digests are known from werf.yaml and git alone.
import type { Command } from "commander";
import { formatDiagnostic, formatPos, redactUrl } from "../diagnostics.js";
import type { Plan, StagePlan } from "../plan/model.js";
import { addConfigOptions, renderOptions, type ConfigOptions } from "./options.js";
import { parsePlatforms } from "./platforms.js";
import { dependencyArg, isBuildTimeValue, knownValue, targetOf } from "../emit/dependencies.js";

interface PlanCliOptions extends ConfigOptions {
  json?: boolean;
  toolchain?: string;
  platform?: string[];
}

export function registerPlan(program: Command): void {
  addConfigOptions(
    program
      .command("plan")
      .description("print each image's stages, their digests and the inputs of each digest (nothing is built)")
      .argument("[IMAGE...]", "only these images (and the images they need); ~ is the nameless image")
      .option("--json", "print the plan as JSON")
      .option("--toolchain <REF>", "toolchain image reference (static bash + busybox under /.stapel)")
      .option("--platform <LIST>", "target platforms of every image, e.g. linux/amd64,linux/arm64 (over werf.yaml's)", parsePlatforms),
  ).action(async (images: string[], opts: PlanCliOptions) => {
    const { planProject } = await import("../plan/plan.js");
    const planOpts = { ...renderOptions(opts), images, toolchain: opts.toolchain, ...(opts.platform ? { platform: opts.platform } : {}) };
    const plan = await planProject(planOpts);
    // an image of several platforms: its stages' digests per platform (src/plan/platforms.ts)
    const { attachPerPlatform, planPerPlatform, replanOthers } = await import("../plan/platforms.js");
    const planned = await planPerPlatform(planOpts, plan, planProject);
    attachPerPlatform(plan, planned);
    await replanOthers(planOpts, plan, planned, planProject);
    for (const w of plan.warnings) process.stderr.write(`warning: ${formatDiagnostic(w)}\n`);
    process.stdout.write(opts.json ? planJson(plan) : planText(plan));
  });
}

/** The plan as JSON, without machine-specific paths (the same in every clone). */
export function planJson(plan: Plan): string {
  return (
    JSON.stringify(
      plan,
      // a remote mapping's URL is shown without the credentials it may carry
      (key, value) => (key === "dir" || key === "repoDir" ? undefined : key === "url" && typeof value === "string" ? redactUrl(value) : value),
      2,
    ) + "\n"
  );
}

/** The plan for people: one block per image, one line per stage, its inputs indented below. */
export function planText(plan: Plan): string {
  const out: string[] = [];
  out.push(`project ${plan.project} (${plan.configFile}${plan.commit ? `, commit ${plan.commit.hash}` : ", no git repository"})`);
  out.push(`digest scheme ${plan.scheme}`);
  for (const img of plan.images) {
    out.push("");
    const name = img.name === "" ? "~" : img.name;
    out.push(`${img.kind} ${name} (${formatPos(img.pos)}) → ${img.stages[img.stages.length - 1].target} ${img.digest}`);
    if (img.platform.length === 1) out.push(`  platform ${img.platform[0]}`);
    for (const stage of img.stages) out.push(...stageLines(stage), ...dependencyLines(plan, stage));
    if (img.perPlatform) {
      // what `build` builds and stores, and compile's files build: each platform's stages, under their own digests
      // (the digests above are over the platform list: no file or tag uses them)
      out.push(`  platforms ${img.platform.join(", ")}: the image (an index over them) ${img.perPlatform.digest}; build and compile's files use each platform's own stages:`);
      for (const p of img.perPlatform.platforms) {
        out.push(`    ${p.platform} ${p.digest}`);
        for (const s of p.stages) out.push(`      ${s.name.padEnd(26)} ${s.digest}`);
      }
    }
  }
  for (const df of plan.dockerfileImages) {
    out.push("");
    out.push(`image ${df.image.name} (${formatPos(df.image.pos)}) → Dockerfile ${df.dockerfile} in ${df.context} ${df.digest}`);
    for (const d of df.image.dependencies) {
      const dep = plan.images.find((i) => i.name === d.image)?.digest ?? plan.dockerfileImages.find((x) => x.image.name === d.image)?.digest;
      out.push(`      dependency ${d.image} ${dep ?? "?"}: ${d.imports.map((i) => `${i.type} → build argument ${i.targetBuildArg ?? "?"}`).join(", ")}`);
    }
    if (df.worktreeFiles.length) out.push(`      from the work tree (in the digest): ${df.worktreeFiles.join(", ")}`);
    if (df.imageSpec) out.push(`      imageSpec (${formatPos(df.imageSpec.pos)}): a stage over the Dockerfile's build, bake target ${df.buildTarget}`);
    if (df.platform.length === 1) out.push(`  platform ${df.platform[0]}`);
    if (df.perPlatform) {
      out.push(`  platforms ${df.platform.join(", ")}: the image (an index over them) ${df.perPlatform.digest}; compile's digest above is over the list, build stores each platform's own:`);
      for (const p of df.perPlatform.platforms) out.push(`    ${p.platform} ${p.digest}`);
    }
  }
  return out.join("\n") + "\n";
}

/** Where each dependency value of a dependencies* stage comes from. */
function dependencyLines(plan: Plan, stage: StagePlan): string[] {
  if (stage.body.kind !== "dependencies") return [];
  const lines: string[] = [];
  for (const dep of stage.body.dependencies) {
    const target = targetOf(plan, dep.image) ?? dep.image;
    for (const imp of dep.imports) {
      if (!imp.targetEnv) continue;
      const from = isBuildTimeValue(imp.type)
        ? `${imp.type === "ImageID" ? "config digest" : "manifest digest"} of image ${dep.image} once built (build argument ${dependencyArg(target, imp.type)})`
        : knownValue(imp.type as "ImageName" | "ImageTag" | "ImageRepo", "<repo>", target, dep.digest);
      lines.push(`      env ${imp.targetEnv} ← ${imp.type}: ${from}`);
    }
  }
  return lines;
}

function stageLines(stage: StagePlan): string[] {
  const lines = [`  ${stage.name.padEnd(26)} ${stage.digest}  ${formatPos(stage.pos)}`];
  for (const [key, value] of Object.entries(stage.inputs)) {
    if (value === undefined) continue;
    if (key === "commands" && Array.isArray(value)) {
      for (const c of value as string[]) {
        const [first, ...rest] = c.split("\n");
        lines.push(`      $ ${first}${rest.length ? ` … (+${rest.length} lines)` : ""}`);
      }
      continue;
    }
    lines.push(`      ${key}: ${JSON.stringify(value)}`);
  }
  for (const m of stage.gitMatches ?? []) {
    const shown = m.paths.slice(0, 5).join(", ");
    const more = m.paths.length > 5 ? `, … (${m.paths.length} files)` : "";
    lines.push(`      git ${m.add} mask ${JSON.stringify(m.mask)}: ${m.paths.length ? shown + more : "no file"}`);
  }
  for (const [k, v] of Object.entries(stage.labels)) {
    if (k.includes(".git.")) lines.push(`      holds ${k.split(".")[3]} at commit ${v}`);
  }
  return lines;
}
