// The part of a werf.yaml `git:` entry that this module needs, independent of the config model.

import { posix } from "node:path";
import { PathMatcher, normalizeBasePath } from "./pathMatcher.js";

export interface GitMappingSpec {
  /** Absolute path in the repository ("/" = everything); may name a single file. */
  add: string;
  /** Absolute destination path in the image. */
  to: string;
  includePaths: readonly string[];
  excludePaths: readonly string[];
  /** A user name (→ tar uname) or a numeric id (→ tar uid). */
  owner?: string | number;
  /** A group name (→ tar gname) or a numeric id (→ tar gid). */
  group?: string | number;
}

/** The mapping's include/exclude matcher, based at `add`. Throws UserError for a malformed mask. */
export function mappingMatcher(m: GitMappingSpec, label = "git"): PathMatcher {
  return new PathMatcher({
    basePath: m.add,
    includeGlobs: m.includePaths,
    excludeGlobs: m.excludePaths,
    label: { include: `${label}.includePaths`, exclude: `${label}.excludePaths` },
  });
}

/** `add` as a repository-relative path: "/app/" → "app", "/" → "". Cleaned as an absolute path first, so `..`
 *  never climbs above the repository ("/../x" → "x"; validate refuses such paths before this). */
export function mappingScope(m: GitMappingSpec): string {
  return normalizeBasePath(posix.normalize("/" + m.add));
}

/** `to` without leading/trailing slashes: "/app/" → "app", "/" → "". Cleaned as an absolute path first, so no
 *  archive entry name ever starts with `../` ("/../../etc" → "etc", "/app/../../x" → "x"). */
export function mappingTarget(m: GitMappingSpec): string {
  return normalizeBasePath(posix.normalize("/" + m.to));
}
