// Paths the tests share: the repository root and the read-only ../shared material.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (tests run from dist/test/..., sources live in test/...). */
export const repoRoot = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (path.basename(dir) !== "test") dir = path.dirname(dir);
  const parent = path.dirname(dir);
  return path.basename(parent) === "dist" ? path.dirname(parent) : parent;
})();

/** ../shared beside the repository (read-only); STAPEL2DOCKER_SHARED_DIR points elsewhere (the skip test uses an
 *  empty folder). */
export const sharedDir = process.env.STAPEL2DOCKER_SHARED_DIR ? path.resolve(process.env.STAPEL2DOCKER_SHARED_DIR) : path.resolve(repoRoot, "../shared");

/** The one line a test that needs `sub` of the shared material skips with when it is absent, else undefined. */
export function sharedMissing(sub: string): string | undefined {
  const where = path.join(sharedDir, sub);
  return fs.existsSync(where) ? undefined : `skipped: ${where} not found (the shared material sits beside the project's own checkout)`;
}

export const fixturesDir = path.join(repoRoot, "fixtures");
