// sprig's path functions: Go's path (slash-separated) and path/filepath (same on Linux).
import { posix } from "node:path";
import { type FuncMap, goFunc } from "../value.js";
import { argString } from "./args.js";

/** path.Clean: Go returns "." for the empty path; Node's normalize keeps a trailing slash, Go drops it. */
export function clean(p: string): string {
  if (p === "") return ".";
  let c = posix.normalize(p);
  if (c.length > 1 && c.endsWith("/")) c = c.slice(0, -1);
  return c;
}

function base(p: string): string {
  if (p === "") return ".";
  const trimmed = p.replace(/\/+$/, "");
  if (trimmed === "") return "/";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

function dir(p: string): string {
  const i = p.lastIndexOf("/");
  return clean(p.slice(0, i + 1));
}

function ext(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== "/"; i--) if (p[i] === ".") return p.slice(i);
  return "";
}

export function registerPaths(fm: FuncMap): void {
  const s1 = (names: string[], f: (s: string) => string | boolean) => {
    const fn = goFunc(1, 1, (a) => f(argString(a)));
    for (const n of names) fm.set(n, fn);
  };
  s1(["base", "osBase"], base);
  s1(["dir", "osDir"], dir);
  s1(["clean", "osClean"], clean);
  s1(["ext", "osExt"], ext);
  s1(["isAbs", "osIsAbs"], (p) => p.startsWith("/"));
}
