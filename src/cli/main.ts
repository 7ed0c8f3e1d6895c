#!/usr/bin/env node
// Entry point of the `stapel2docker` binary. `--version` is answered here, before anything is loaded; every other
// command loads the command definitions (src/cli/program.ts), and each command loads its own modules when it runs.
import { VERSION } from "../version.js";

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  process.stdout.write(`${VERSION}\n`);
} else {
  import("./program.js").then(({ main }) => main(process.argv)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`stapel2docker: internal error: ${String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
