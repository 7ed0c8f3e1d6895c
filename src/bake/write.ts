// The one bake file writer: compile's docker-bake.json, the build's and introspection's all go through here.
// Deterministic: targets, contexts and args sorted by name, every target's keys in one order.

import { writeFile } from "node:fs/promises";
import type { Dockerfile } from "../dockerfile/model.js";
import { normalPlatform } from "../platform-name.js";
import { bakeVariable, type BakeFile, type BakeTarget } from "./model.js";

/** The build stage (and bake target) of build stage `name` for one platform: `<name>--<os>-<arch>[-<variant>]`, the
 *  platform as BuildKit normalizes it (its TARGETOS/TARGETARCH/TARGETVARIANT pick the stage): linux/arm is
 *  linux/arm/v7, linux/arm64/v8 is linux/arm64, linux/amd64/v1 is linux/amd64. */
export function platformStageName(name: string, platform: string): string {
  return `${name}--${normalPlatform(platform).split("/").join("-")}`;
}

function sorted(r: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!r || Object.keys(r).length === 0) return undefined;
  return Object.fromEntries(Object.keys(r).sort().map((k) => [k, r[k]]));
}

/**
 * A named context's value as buildx reads it back as the same local folder. buildx takes a value it can parse as a
 * git reference for a git source before it looks at the disk: `git@host:repo.git` is cloned (with the build's
 * forwarded ssh agent), `github.com/x/y` or `dir/x.git` are refused as "invalid context specifier". A relative
 * folder (a `mount: fromPath` of werf.yaml, written by whoever pushes a branch) is therefore written as `./PATH`,
 * which buildx only reads as a local folder; references this tool writes (`docker-image://`, `target:`) and absolute
 * paths are left as they are.
 */
export function localContextValue(v: string): string {
  if (v.includes("://") || v.startsWith("target:") || v.startsWith("/") || v.startsWith("./") || v.startsWith("../") || v === "." || v === "..") return v;
  return `./${v}`;
}

/** A target with its keys in the file's order, empty optional lists and maps left out. */
export function bakeTarget(t: BakeTarget): BakeTarget {
  const contexts = sorted(t.contexts && Object.fromEntries(Object.entries(t.contexts).map(([k, v]) => [k, localContextValue(v)])));
  const args = sorted(t.args);
  return {
    context: t.context,
    dockerfile: t.dockerfile,
    ...(t.target !== undefined ? { target: t.target } : {}),
    ...(contexts ? { contexts } : {}),
    ...(args ? { args } : {}),
    ...(t.secret?.length ? { secret: [...t.secret] } : {}),
    ...(t.ssh?.length ? { ssh: [...t.ssh] } : {}),
    ...(t.network !== undefined ? { network: t.network } : {}),
    ...(t["extra-hosts"] && Object.keys(t["extra-hosts"]).length ? { "extra-hosts": sorted(t["extra-hosts"]) } : {}),
    tags: [...t.tags],
    ...(t.platforms?.length ? { platforms: [...t.platforms] } : {}),
    ...(t.output?.length ? { output: [...t.output] } : {}),
  };
}

/** A bake file of these targets in their order (callers give a deterministic one); the default group is
 *  `defaults`, else every target. */
export function bakeFile(targets: Record<string, BakeTarget>, defaults?: string[], variables?: Record<string, string>): BakeFile {
  const names = Object.keys(targets);
  const declared = Object.keys(variables ?? {});
  return {
    ...(variables && declared.length ? { variable: Object.fromEntries(declared.sort().map((k) => [k, { default: escapeTemplate(variables[k]) }])) } : {}),
    group: { default: { targets: defaults ? [...defaults] : names } },
    target: Object.fromEntries(names.map((n) => [n, literal(bakeTarget(targets[n]), declared)])),
  };
}

/**
 * bake reads a JSON file as HCL: every string of a target, and every key of its maps (args, contexts, extra-hosts),
 * is a template where `${...}` is evaluated (variables, functions) and `%{...}` is a directive. Values come from
 * werf.yaml (a Dockerfile image's args, target, context, network, hosts...), so each is written escaped (`$${`,
 * `%%{`: bake reads them back as the literal text); only the references made by bakeVariable() to a declared
 * variable become `${NAME}`.
 */
function literal<T>(value: T, variables: readonly string[]): T {
  if (typeof value === "string") return restoreVariables(escapeTemplate(value), variables) as T;
  if (Array.isArray(value)) return value.map((v) => literal(v, variables)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [restoreVariables(escapeTemplate(k), variables), literal(v, variables)])) as T;
  }
  return value;
}

function escapeTemplate(s: string): string {
  return s.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}

function restoreVariables(s: string, variables: readonly string[]): string {
  let out = s;
  for (const name of variables) out = out.split(bakeVariable(name)).join(`\${${name}}`);
  return out;
}

/** The oldest buildx whose bake reads a key the targets use (older ones silently ignore it), with the images that
 *  use it; buildx 0.13 reads neither `network` (0.18) nor `extra-hosts` (0.25). */
export function bakeKeysNeeded(file: BakeFile): { key: string; version: [number, number]; targets: string[] }[] {
  const out: { key: string; version: [number, number]; targets: string[] }[] = [];
  const targets = Object.entries(file.target);
  const net = targets.filter(([, t]) => t.network !== undefined).map(([n]) => n);
  const hosts = targets.filter(([, t]) => t["extra-hosts"] !== undefined).map(([n]) => n);
  if (net.length) out.push({ key: "network", version: [0, 18], targets: net });
  if (hosts.length) out.push({ key: "extra-hosts", version: [0, 25], targets: hosts });
  return out;
}

export function bakeJson(file: BakeFile): string {
  return JSON.stringify(file, null, 2) + "\n";
}

export async function writeBakeFile(path: string, file: BakeFile): Promise<void> {
  await writeFile(path, bakeJson(file));
}

/** The named contexts a build of Dockerfile stage `target` reads: those listed by every stage it reaches through
 *  FROM, COPY --from and RUN --mount from=. */
export function targetContexts(df: Dockerfile, target: string): Record<string, string> {
  const byName = new Map(df.stages.map((s) => [s.name, s]));
  const out: Record<string, string> = {};
  const seen = new Set<string>();
  const visit = (name: string) => {
    const s = byName.get(name);
    if (!s || seen.has(name)) return;
    seen.add(name);
    Object.assign(out, s.contexts ?? {});
    if (s.base.kind === "stage") visit(s.base.name);
    // a stage of each platform picked by the platform being built: each one's contexts
    if (s.base.kind === "platform") for (const p of s.base.platforms) visit(platformStageName(s.base.prefix, p));
    for (const i of s.instructions) {
      if (i.kind === "copy" && i.from !== undefined) visit(i.from);
      if (i.kind === "run") for (const m of i.mounts) if (m.type === "bind" && m.from !== undefined) visit(m.from);
    }
  };
  visit(target);
  return sorted(out) ?? {};
}
