#!/usr/bin/env node
// Entry point of the `stapel2docker` binary.
import { main } from "./program.js";

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`stapel2docker: internal error: ${String(err)}\n`);
    process.exitCode = 2;
  },
);
