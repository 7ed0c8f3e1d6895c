#!/usr/bin/env node
// Entry point of the `stapel2docker` binary. `--version` is answered here, before anything is loaded; every other
// command loads the command definitions (src/cli/program.ts), and each command loads its own modules when it runs.
import { VERSION } from "../version.js";

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  process.stdout.write(`${VERSION}\n`);
} else if (args[0] === "build") {
  // a no-op build answered by the no-op cache needs neither commander nor the other commands (src/cli/build-noop.ts)
  import("./build-noop.js")
    .then(({ fastBuild }) => fastBuild(args.slice(1)))
    .then(
      (done) => (done ? exit(0) : runProgram()),
      (err) => {
        process.stderr.write(`stapel2docker: ${err instanceof Error ? err.message : String(err)}\n`);
        exit(1);
      },
    );
} else {
  runProgram();
}

function runProgram(): void {
  import("./program.js").then(({ main }) => main(process.argv)).then(
    (code) => exit(code),
    (err) => {
      process.stderr.write(`stapel2docker: internal error: ${String(err)}\n`);
      exit(2);
    },
  );
}

/** Exits once stdout and stderr are flushed: the command has finished, and nothing left behind (an idle
 *  keep-alive connection to a registry, a timer) holds the process. */
function exit(code: number): void {
  process.exitCode = code;
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}
