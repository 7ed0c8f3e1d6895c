// werf's path rules (pkg/config/common.go): absolute means path.IsAbs; relative
// means not absolute and not escaping the base directory with "..".

import { posix } from "node:path";

export function isAbsolutePath(p: string): boolean {
  return p.startsWith("/");
}

export function isRelativePath(p: string): boolean {
  if (isAbsolutePath(p)) return false;
  const rel = posix.relative("dir", posix.join("dir", p));
  return rel !== ".." && !rel.startsWith("../");
}

/** `to: /app/` → `/app` (werf warns and strips a trailing slash). */
export function stripTrailingSlash(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, "") || "/" : p;
}

/** True when `p` has a `..` component (a path in the image or repository that would climb above its root). */
export function hasDotDot(p: string): boolean {
  return p.split(/[/\\]+/).includes("..");
}

/** An absolute path cleaned as Go's path.Clean does ("/a/../../b" → "/b"): `..` cannot climb above "/". */
export function cleanAbsolute(p: string): string {
  return posix.normalize("/" + p.replace(/\\/g, "/")).replace(/(.)\/+$/, "$1");
}
