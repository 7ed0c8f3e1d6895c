// `stapel2docker render`: print the rendered werf.yaml, like `werf config render`.
import type { Command } from "commander";
import { formatDiagnostic } from "../diagnostics.js";
import { addConfigOptions, renderOptions, type ConfigOptions } from "./options.js";

export function registerRender(program: Command): void {
  addConfigOptions(
    program
      .command("render")
      .description("print werf.yaml with its Go templates rendered (like `werf config render`)"),
  ).action(async (opts: ConfigOptions) => {
    const { ignoredChangesNotice, renderWerfConfig } = await import("../template/render.js");
    const rendered = await renderWerfConfig(renderOptions(opts));
    const ignored = ignoredChangesNotice(rendered.ignoredChanges);
    if (ignored) process.stderr.write(`warning: ${ignored}\n`);
    for (const w of rendered.warnings) process.stderr.write(`warning: ${formatDiagnostic(w)}\n`);
    process.stdout.write(rendered.text.endsWith("\n") || rendered.text === "" ? rendered.text : rendered.text + "\n");
  });
}
