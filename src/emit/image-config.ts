// Image config settings (`docker:` directives and `imageSpec:`) lowered to instructions by one function
// (imageConfig), in one fixed order, each value carrying its own werf.yaml position.

import type { SourcePos } from "../diagnostics.js";
import type { Instruction } from "../dockerfile/model.js";
import type { DockerInstructionsBody, ImageSpecBody } from "../plan/model.js";

export function dockerInstructions(body: DockerInstructionsBody): Instruction[] {
  const d = body.docker;
  return imageConfig({
    pos: d.pos,
    at: d.at,
    keys: (k) => `docker.${DOCKER_KEYS[k]}`,
    volumes: d.volume,
    // werf applies each docker.EXPOSE item as an `EXPOSE <item>` change, so "80 8080" is two ports
    ...splitPorts(d.expose),
    env: d.env,
    labels: d.label,
    entrypoint: d.entrypoint,
    clearEntrypoint: false,
    cmd: d.cmd,
    clearCmd: false,
    resetCmd: "explained",
    workdir: d.workdir,
    user: d.user,
    ...(d.healthcheck !== undefined ? { healthcheck: { check: "raw", text: d.healthcheck } } : {}),
    stopSignal: d.stopSignal,
    onbuild: d.onBuild,
  });
}

/** werf's imageSpec: the config settings a Dockerfile can express. Removals, author and history are not
 *  expressible (a Dockerfile cannot unset a label, an env variable or a volume): named in a comment. */
export function imageSpecBodyInstructions(body: ImageSpecBody): Instruction[] {
  const spec = body.spec;
  const c = spec.config;
  const skipped = [
    spec.author !== undefined ? "author" : "",
    spec.clearHistory ? "clearHistory" : "",
    c?.removeLabels.length ? "removeLabels" : "",
    c?.removeEnv.length ? "removeEnv" : "",
    c?.removeVolumes.length ? "removeVolumes" : "",
    c?.clearWerfLabels ? "clearWerfLabels" : "",
  ].filter(Boolean);
  const note: Instruction[] = skipped.length ? [{ kind: "comment", text: `not expressible in a Dockerfile, left out: ${skipped.join(", ")}` }] : [];
  if (!c) return note;
  const h = c.healthcheck;
  const [test, ...rest] = h?.test ?? [];
  return [
    ...note,
    ...imageConfig({
      pos: spec.pos,
      at: spec.at,
      exposeIndexes: c.expose.map((e, i) => (e === "" ? -1 : i)).filter((i) => i >= 0),
      healthcheckValues: test === "CMD-SHELL" ? [spec.at["healthcheck.test[1]"]] : test === "CMD" ? rest.map((_, i) => spec.at[`healthcheck.test[${i + 1}]`]) : (h?.test ?? []).map((_, i) => spec.at[`healthcheck.test[${i}]`]),
      keys: (k) => `imageSpec.config.${SPEC_KEYS[k]}`,
      volumes: c.volumes,
      expose: c.expose.filter((e) => e !== ""), // werf's own fixtures write `expose: [""]`: no port
      env: c.env,
      labels: c.labels,
      entrypoint: c.entrypoint,
      clearEntrypoint: c.clearEntrypoint === true,
      cmd: c.cmd,
      clearCmd: c.clearCmd === true,
      resetCmd: "silent",
      workdir: c.workingDir ?? (c.clearWorkingDir ? "/" : undefined),
      user: c.user ?? (c.clearUser ? "0" : undefined),
      ...(h
        ? {
            healthcheck:
              test === "NONE"
                ? { check: "none" as const }
                : {
                    check: "cmd" as const,
                    ...(h.interval !== undefined ? { interval: h.interval } : {}),
                    ...(h.timeout !== undefined ? { timeout: h.timeout } : {}),
                    ...(h.startPeriod !== undefined ? { startPeriod: h.startPeriod } : {}),
                    ...(h.retries !== undefined ? { retries: h.retries } : {}),
                    command: test === "CMD-SHELL" ? rest.join(" ") : test === "CMD" ? rest : h.test,
                  },
          }
        : {}),
      stopSignal: c.stopSignal,
      onbuild: [],
    }),
  ];
}

type ConfigField = "volumes" | "expose" | "env" | "labels" | "entrypoint" | "cmd" | "workdir" | "user" | "healthcheck" | "stopSignal" | "onbuild";
const DOCKER_KEYS: Record<ConfigField, string> = {
  volumes: "VOLUME", expose: "EXPOSE", env: "ENV", labels: "LABEL", entrypoint: "ENTRYPOINT", cmd: "CMD", workdir: "WORKDIR",
  user: "USER", healthcheck: "HEALTHCHECK", stopSignal: "STOPSIGNAL", onbuild: "ONBUILD",
};
const SPEC_KEYS: Record<ConfigField, string> = {
  volumes: "volumes", expose: "expose", env: "env", labels: "labels", entrypoint: "entrypoint", cmd: "cmd", workdir: "workingDir",
  user: "user", healthcheck: "healthcheck", stopSignal: "stopSignal", onbuild: "onBuild",
};
type HealthcheckSpec = { check: "none" } | { check: "raw"; text: string } | { check: "cmd"; interval?: number; timeout?: number; startPeriod?: number; retries?: number; command: string | string[] };

/** The image config settings of `docker:` and `imageSpec:`, as one list of changes. */
interface ConfigChanges {
  pos: SourcePos;
  /** Each value's position (DockerDirectives.at / ImageSpec.at). */
  at: Record<string, SourcePos>;
  /** The werf.yaml indexes of `expose` (imageSpec drops empty ports). */
  exposeIndexes?: number[];
  /** The positions of a healthcheck command's values. */
  healthcheckValues?: (SourcePos | undefined)[];
  /** The werf.yaml key of each setting, for messages. */
  keys: (k: ConfigField) => string;
  volumes: string[];
  expose: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  entrypoint?: string | string[];
  clearEntrypoint: boolean;
  cmd?: string | string[];
  clearCmd: boolean;
  /** An ENTRYPOINT without CMD resets CMD (as werf does); "explained" says so in a comment. */
  resetCmd: "explained" | "silent";
  workdir?: string;
  user?: string;
  healthcheck?: HealthcheckSpec;
  stopSignal?: string;
  onbuild: string[];
}

/** The instructions of image config changes, in one fixed order. */
/** Ports of docker.EXPOSE items, each split at ASCII blanks as EXPOSE splits its arguments; the index of the
 *  werf.yaml item each port came from, for its position. */
function splitPorts(items: readonly string[]): { expose: string[]; exposeIndexes: number[] } {
  const expose: string[] = [];
  const exposeIndexes: number[] = [];
  items.forEach((item, i) => {
    for (const p of item.split(/[ \t]+/).filter(Boolean)) {
      expose.push(p);
      exposeIndexes.push(i);
    }
  });
  return { expose, exposeIndexes };
}

function imageConfig(c: ConfigChanges): Instruction[] {
  // each value's own werf.yaml position (`KEY`, `KEY[i]`, `KEY.NAME`), else the block's
  const name = (k: ConfigField) => c.keys(k).replace(/^.*\./, "");
  const scalar = (k: ConfigField) => ({ pos: c.at[name(k)] ?? c.pos, key: c.keys(k), values: [c.at[name(k)]] });
  const items = (k: ConfigField, indexes: number[]) => ({ pos: c.pos, key: c.keys(k), values: indexes.map((i) => c.at[`${name(k)}[${i}]`] ?? c.at[name(k)]) });
  const entry = (k: ConfigField, n: string) => ({ pos: c.at[`${name(k)}.${n}`] ?? c.pos, key: c.keys(k), values: [c.at[`${name(k)}.${n}`]] });
  const command = (k: ConfigField, v: string | string[]) => (Array.isArray(v) ? items(k, v.map((_, i) => i)) : scalar(k));
  const at = (k: ConfigField) => ({ pos: c.pos, key: c.keys(k) });
  const out: Instruction[] = [];
  if (c.volumes.length) out.push({ kind: "volume", paths: [...c.volumes], ...items("volumes", c.volumes.map((_, i) => i)) });
  if (c.expose.length) out.push({ kind: "expose", ports: [...c.expose], ...items("expose", c.exposeIndexes ?? c.expose.map((_, i) => i)) });
  for (const k of Object.keys(c.env).sort()) out.push({ kind: "env", name: k, value: [c.env[k]], ...entry("env", k) });
  for (const k of Object.keys(c.labels).sort()) out.push({ kind: "label", pairs: [{ key: k, value: c.labels[k] }], ...entry("labels", k) });
  if (c.entrypoint !== undefined) out.push({ kind: "entrypoint", command: c.entrypoint, ...command("entrypoint", c.entrypoint) });
  else if (c.clearEntrypoint) out.push({ kind: "entrypoint", command: [] });
  if (c.cmd !== undefined) out.push({ kind: "cmd", command: c.cmd, ...command("cmd", c.cmd) });
  else if (c.entrypoint !== undefined) {
    if (c.resetCmd === "explained") out.push({ kind: "comment", text: "werf resets CMD when ENTRYPOINT is given without CMD" });
    out.push({ kind: "cmd", command: [] });
  } else if (c.clearCmd) out.push({ kind: "cmd", command: [] });
  if (c.workdir !== undefined) out.push({ kind: "workdir", path: c.workdir, ...scalar("workdir") });
  if (c.user !== undefined) out.push({ kind: "user", user: c.user, ...scalar("user") });
  if (c.stopSignal !== undefined) out.push({ kind: "stopsignal", signal: c.stopSignal, ...scalar("stopSignal") });
  if (c.healthcheck) {
    const h = c.healthcheck;
    const where = h.check === "raw" ? scalar("healthcheck") : { ...at("healthcheck"), values: c.healthcheckValues ?? [] };
    out.push({ kind: "healthcheck", ...h, ...where });
  }
  c.onbuild.forEach((o, i) => out.push({ kind: "onbuild", instruction: o, ...items("onbuild", [i]) }));
  return out;
}

/** The instructions of an image's `docker:` directives (also for checks before planning). */
export function dockerDirectivesInstructions(d: DockerInstructionsBody["docker"]): Instruction[] {
  return dockerInstructions({ kind: "dockerInstructions", docker: d });
}

/** The instructions of an `imageSpec:` (also for checks before planning). */
export function imageSpecInstructions(spec: ImageSpecBody["spec"]): Instruction[] {
  return imageSpecBodyInstructions({ kind: "imageSpec", spec });
}
