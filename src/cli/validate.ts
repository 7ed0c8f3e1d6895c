// `stapel2docker validate`: render and check werf.yaml, report every problem, or summarise each image.
import type { Command } from "commander";
import { formatDiagnostic, UserError } from "../diagnostics.js";
import type { WerfConfig, StapelImage, DockerfileImage } from "../config/index.js";
import { addConfigOptions, renderOptions, type ConfigOptions } from "./options.js";

export function registerValidate(program: Command): void {
  addConfigOptions(
    program
      .command("validate")
      .description("check werf.yaml against werf's schema and rules; print every problem as file:line:col"),
  ).action(async (opts: ConfigOptions) => {
    // loaded when the command runs (start-up loads only the command definitions)
    const [{ ignoredChangesNotice, renderWerfConfig }, { loadWerfConfig, noImagesWarning }, { checkHostPaths, giterminismWarnings }, { ProjectFiles }, { configProblems, platformDependencyWarnings }, { cleanupProblems }] =
      await Promise.all([
        import("../template/render.js"),
        import("../config/index.js"),
        import("../config/giterminism.js"),
        import("../project/files.js"),
        import("../emit/check.js"),
        import("../cleanup/policy.js"),
      ]);
    const rendered = await renderWerfConfig(renderOptions(opts));
    const ignored = ignoredChangesNotice(rendered.ignoredChanges);
    if (ignored) process.stderr.write(`warning: ${ignored}\n`);
    for (const w of rendered.warnings) process.stderr.write(`warning: ${formatDiagnostic(w)}\n`);
    const config = loadWerfConfig(rendered);
    checkHostPaths(config, new ProjectFiles(opts.dir), rendered.giterminism);
    for (const w of giterminismWarnings(config, rendered.giterminism)) process.stderr.write(`warning: ${formatDiagnostic(w)}\n`);
    const none = noImagesWarning(config, rendered.unsetEnv);
    if (none) process.stderr.write(`warning: ${formatDiagnostic(none)}\n`);
    for (const w of platformDependencyWarnings(config)) process.stderr.write(`warning: ${formatDiagnostic(w)}\n`);
    // values no Dockerfile can hold, as compile would report them
    const problems = [...configProblems(config), ...cleanupProblems(config.meta.cleanup, config.meta.pos, config.meta.cleanupPositions)];
    if (problems.length) throw new UserError(problems);
    process.stdout.write(summarise(config));
  });
}

/** One line per image and artifact, in document order, then a total. */
export function summarise(config: WerfConfig): string {
  const lines = config.images.map(describeStapel);
  lines.push(...config.dockerfileImages.map(describeDockerfile));
  const images = config.images.filter((i) => i.kind === "image").length + config.dockerfileImages.length;
  const artifacts = config.images.length - config.images.filter((i) => i.kind === "image").length;
  lines.push(`${config.file}: ok (project ${config.meta.project}: ${plural(images, "image")}, ${plural(artifacts, "artifact")})`);
  return lines.join("\n") + "\n";
}

function describeStapel(image: StapelImage): string {
  const parts: string[] = [];
  if (image.from) parts.push(`from ${image.from}`);
  if (image.fromImage) parts.push(`from image ${image.fromImage}`);
  if (image.fromArtifact) parts.push(`from artifact ${image.fromArtifact}`);
  const builder = image.shell ? ["shell", image.shell] as const : image.ansible ? ["ansible", image.ansible] as const : undefined;
  if (builder) {
    const [kind, stages] = builder;
    const counts = (["beforeInstall", "install", "beforeSetup", "setup"] as const)
      .filter((s) => stages[s].length > 0)
      .map((s) => `${s} ${stages[s].length}`);
    parts.push(`${kind} (${counts.join(", ") || "no instructions"})`);
  }
  if (image.git.length) parts.push(plural(image.git.length, "git mapping"));
  if (image.import.length) parts.push(plural(image.import.length, "import"));
  if (image.mount.length) parts.push(plural(image.mount.length, "mount"));
  if (image.dependencies.length) parts.push(plural(image.dependencies.length, "dependency", "dependencies"));
  const name = image.name === "" ? "~" : image.name;
  return `${image.kind} ${name}: ${parts.join(", ")}  (${image.pos.file}:${image.pos.line})`;
}

function describeDockerfile(image: DockerfileImage): string {
  const target = image.target ? ` target ${image.target}` : "";
  return `image ${image.name}: dockerfile ${image.dockerfile}${target}, context ${image.context ?? "."}  (${image.pos.file}:${image.pos.line})`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
