// The golden compile cases in fixtures/compile: each has werf.yaml and make-repo.sh (which makes its repository).
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fixturesDir } from "../support/paths.js";

export const casesDir = path.join(fixturesDir, "compile");

export function compileCases(): string[] {
  return readdirSync(casesDir)
    .filter((n) => existsSync(path.join(casesDir, n, "make-repo.sh")))
    .sort();
}

/** Makes the case's repository in a fresh temp dir; returns the repository path. */
export function makeCaseRepo(name: string, parent: string): string {
  const repo = path.join(parent, "repo");
  execFileSync("bash", [path.join(casesDir, name, "make-repo.sh"), repo], { stdio: ["ignore", "ignore", "pipe"] });
  return repo;
}

