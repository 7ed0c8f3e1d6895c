// Paths the tests share: the repository root and the read-only ../shared material.
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (tests run from dist/test/..., sources live in test/...). */
export const repoRoot = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (path.basename(dir) !== "test") dir = path.dirname(dir);
  const parent = path.dirname(dir);
  return path.basename(parent) === "dist" ? path.dirname(parent) : parent;
})();

/** ../shared beside the repository (read-only). */
export const sharedDir = path.resolve(repoRoot, "../shared");

export const fixturesDir = path.join(repoRoot, "fixtures");
