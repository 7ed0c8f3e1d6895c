// `stapel2docker schema`: the JSON Schema of werf.yaml documents, for yaml-language-server and other editors.
import type { Command } from "commander";

export function registerSchema(program: Command): void {
  program
    .command("schema")
    .description("print the JSON Schema of werf.yaml (use with yaml-language-server: `# yaml-language-server: $schema=FILE`)")
    .action(async () => {
      const { werfConfigJsonSchema } = await import("../config/index.js");
      process.stdout.write(JSON.stringify(werfConfigJsonSchema(), null, 2) + "\n");
    });
}
