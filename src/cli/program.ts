// stapel2docker command line: one file per command; this file wires them and owns exit codes. Each command file
// defines its options statically and imports what its action needs when the action runs (start-up: docs/bench.md).
//   0 success, 1 the user's input is wrong (located diagnostics), 2 a bug in stapel2docker.
import { Command, CommanderError } from "commander";
import { UserError } from "../diagnostics.js";
import { registerRender } from "./render.js";
import { registerValidate } from "./validate.js";
import { registerSchema } from "./schema.js";
import { registerToolchain } from "./toolchain.js";
import { registerPlan } from "./plan.js";
import { registerCompile } from "./compile.js";
import { registerBuild } from "./build.js";
import { registerRun } from "./run.js";
import { registerCleanup } from "./cleanup.js";
import { VERSION } from "../version.js";

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("stapel2docker")
    .description("Compile werf Stapel werf.yaml files into multi-stage Dockerfiles built with docker buildx.")
    .version(VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerRender(program);
  registerValidate(program);
  registerSchema(program);
  registerToolchain(program);
  registerPlan(program);
  registerCompile(program);
  registerBuild(program);
  registerRun(program);
  registerCleanup(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    return reportFailure(err);
  }
}

/** Print a failure for the user and return the exit code. */
export function reportFailure(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander already printed the message (or the help/version text).
    return err.exitCode === 0 ? 0 : 1;
  }
  if (err instanceof UserError) {
    process.stderr.write(err.message + "\n");
    const n = err.diagnostics.length;
    if (n > 1) process.stderr.write(`${n} problems found.\n`);
    return 1;
  }
  const detail = err instanceof Error ? err.stack ?? err.message : String(err);
  process.stderr.write(
    "stapel2docker: internal error: " + (err instanceof Error ? err.message : String(err)) + "\n" +
      "This is a bug in stapel2docker, not in your werf.yaml. Please report it with the command you ran\n" +
      "and this detail (set STAPEL2DOCKER_DEBUG=1 to see it in full):\n" +
      (process.env.STAPEL2DOCKER_DEBUG ? detail : detail.split("\n").slice(0, 3).join("\n")) + "\n",
  );
  return 2;
}
