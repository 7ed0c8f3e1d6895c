// The one Dockerfile printer: the model (model.ts) → text and a line map (line → build stage and werf.yaml
// position). Every value goes through the escaping function for its place (escape.ts); a value with no Dockerfile
// spelling is a UserError at the value's werf.yaml position. No line longer than BuildKit reads is written.

import { UserError, type Diagnostic, type SourcePos } from "../diagnostics.js";
import * as esc from "./escape.js";
import type { Dockerfile, Healthcheck, Instruction, LineInfo, Mount, Origin, PrintedDockerfile, Stage, WordPart } from "./model.js";

const RULE = "#".repeat(100);
/** Where a RUN whose script is a context file mounts it. */
const SCRIPT_MOUNT = "/.stapel-script";
const RUN_CONT = " \\\n    ";
const LABEL_CONT = " \\\n      ";

class Printer {
  readonly out: string[] = [];
  readonly lines: LineInfo[] = [];
  /** Collect mode: problems are gathered here (and the file printed with placeholders) instead of thrown. */
  constructor(readonly problems?: Diagnostic[]) {}

  fail(d: Diagnostic): void {
    if (!this.problems) throw new UserError(d);
    this.problems.push(d);
  }

  /** Runs an escaping function; its EscapeError becomes a UserError at the value's position (value `index` of the
   *  instruction), else the instruction's. */
  q(origin: Origin | undefined, what: string, f: () => string, index?: number): string {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof esc.EscapeError)) throw e;
      const pos = (index !== undefined ? origin?.values?.[index] : undefined) ?? origin?.pos;
      this.fail({ pos, message: `${what}: ${e.message}`, hint: "change the value in werf.yaml" });
      return "";
    }
  }

  /** Appends `text` (possibly several lines), each line described by `info`. */
  emit(text: string, info: LineInfo, origin?: Origin): void {
    for (const l of text.split("\n")) {
      if (Buffer.byteLength(l, "utf8") > esc.MAX_LINE_BYTES) {
        this.fail({
          // a RUN of several commands has no one position: its first command's, or its stage's
          pos: origin?.pos ?? info.pos ?? info.commands?.[0] ?? this.stagePos,
          message: `a Dockerfile line would be ${Buffer.byteLength(l, "utf8")} bytes long; BuildKit reads lines of at most ${esc.MAX_LINE_BYTES} bytes`,
          hint: "shorten the value (a long script can be split into several commands, or moved into a file)",
        });
        continue;
      }
      this.out.push(l);
      this.lines.push(info);
    }
  }

  print(df: Dockerfile): PrintedDockerfile {
    for (const h of df.header) this.emit(`# ${esc.comment(h)}`, {});
    for (const s of df.stages) this.stage(s);
    return { text: this.out.join("\n") + "\n", lines: this.lines };
  }

  /** The position of the stage being printed (for messages about lines that have none of their own). */
  private stagePos?: SourcePos;

  stage(s: Stage): void {
    this.stagePos = s.pos;
    for (const t of s.before) {
      if (t.kind === "blank") this.emit("", {});
      else if (t.kind === "rule") this.emit(RULE, {});
      else this.emit(`# ${esc.comment(t.text)}`, {});
    }
    const name = this.q(s, "build stage", () => esc.stageName(s.name));
    const b = s.base;
    const base =
      b.kind === "stage" || b.kind === "context"
        ? this.q(s, "build stage", () => esc.stageName(b.name, b.kind === "stage" ? "build stage name" : "named context"))
        : b.kind === "image"
          ? this.q(s, s.key ?? "image", () => esc.imageRef(b.ref))
          : b.kind === "platform"
            ? `${this.q(s, "build stage", () => esc.stageName(b.prefix))}--\${TARGETOS}-\${TARGETARCH}\${TARGETVARIANT:+-\${TARGETVARIANT}}`
            : "scratch";
    const info: LineInfo = { stage: s.name, kind: "from", ...(s.pos ? { pos: s.pos } : {}) };
    this.emit(`FROM ${base} AS ${name}`, info);
    for (const i of s.instructions) {
      const li: LineInfo = { stage: s.name, kind: i.kind, ...(i.pos ? { pos: i.pos } : {}) };
      if (i.kind === "run" && i.commands) li.commands = i.commands;
      this.emit(this.instruction(i), li, i);
    }
  }

  instruction(i: Instruction): string {
    const key = i.key ?? i.kind.toUpperCase();
    switch (i.kind) {
      case "comment":
        return `# ${esc.comment(i.text)}`;
      case "run": {
        if (i.scriptFile !== undefined) {
          // the script is a file of the build context, run by the interpreter of its shebang (exec form: no shell
          // needed in the image)
          const argv = i.script[0]!.replace(/^#!/, "").trim().split(/\s+/);
          const parts = [
            ...i.mounts.map((m) => this.mount(m, i)),
            `--mount=type=bind,source=${this.q(i, "script file", () => esc.mountValue(i.scriptFile!, "script file"))},target=${SCRIPT_MOUNT}`,
            ...(i.ssh ?? []).map((id) => `--mount=type=ssh,id=${this.q(i, "ssh agent id", () => esc.mountValue(id, "ssh id"))}`),
            ...(i.network ? [`--network=${i.network}`] : []),
            this.q(i, "RUN", () => esc.execForm([...argv, SCRIPT_MOUNT])),
          ];
          return `RUN ${parts.join(RUN_CONT)}`;
        }
        const body = i.script.join("\n");
        const term = esc.heredocTerminator(body);
        const parts = [
          ...i.mounts.map((m) => this.mount(m, i)),
          ...(i.ssh ?? []).map((id) => `--mount=type=ssh,id=${this.q(i, "ssh agent id", () => esc.mountValue(id, "ssh id"))}`),
          ...(i.network ? [`--network=${i.network}`] : []),
          `<<'${term}'`,
        ];
        return `RUN ${parts.join(RUN_CONT)}\n${body}\n${term}`;
      }
      case "copy": {
        // values: the sources, the destination, then the owner and group
        const n = i.sources.length;
        const from = i.from !== undefined ? ` --from=${this.q(i, key, () => esc.flag(i.from!, "--from"))}` : "";
        const chown = i.chown
          ? ` --chown=${this.q(i, `${key} owner`, () => esc.flag(i.chown!.user, "owner"), n + 1)}:${this.q(i, `${key} group`, () => esc.flag(i.chown!.group, "group"), n + 2)}`
          : "";
        [...i.sources, i.dest].forEach((v, k) => this.q(i, key, () => esc.substitutedJson([v]), k));
        return `COPY${from}${chown} ${this.q(i, key, () => esc.substitutedJson([...i.sources, i.dest]))}`;
      }
      case "add":
        return `ADD ${this.q(i, key, () => esc.substitutedJson([...i.sources, i.dest]))}`;
      case "env":
        return `ENV ${this.q(i, key, () => esc.envName(i.name), 0)}=${this.wordParts(i.value, i, `${key} ${i.name}`)}`;
      case "arg":
        return `ARG ${this.q(i, key, () => esc.envName(i.name, "build argument name"))}${i.default !== undefined ? `=${this.q(i, `${key} ${i.name}`, () => esc.word(i.default!))}` : ""}`;
      case "label":
        return `LABEL ${i.pairs
          .map((p, n) => `${this.q(i, key, () => esc.labelKey(p.key), n)}=${this.q(i, `${key} ${p.key}`, () => esc.word(p.value), n)}`)
          .join(LABEL_CONT)}`;
      case "user":
        return `USER ${this.q(i, key, () => esc.restWord(i.user, "USER"), 0)}`;
      case "workdir":
        return `WORKDIR ${this.q(i, key, () => esc.restWord(i.path, "WORKDIR"), 0)}`;
      case "stopsignal":
        return `STOPSIGNAL ${this.q(i, key, () => esc.restWord(i.signal, "STOPSIGNAL"), 0)}`;
      case "expose":
        return `EXPOSE ${i.ports.map((p, n) => this.q(i, key, () => esc.port(p), n)).join(" ")}`;
      case "volume":
        i.paths.forEach((p, n) => this.q(i, key, () => esc.substitutedJson([p], "volume"), n));
        return `VOLUME ${this.q(i, key, () => esc.substitutedJson(i.paths, "volume"))}`;
      case "cmd":
        return `CMD ${this.command(i.command, i, key)}`;
      case "entrypoint":
        return `ENTRYPOINT ${this.command(i.command, i, key)}`;
      case "healthcheck":
        return `HEALTHCHECK ${this.healthcheck(i, key)}`;
      case "onbuild":
        return `ONBUILD ${this.q(i, key, () => esc.onbuild(i.instruction, "ONBUILD"), 0)}`;
      case "shell":
        return `SHELL ${this.q(i, key, () => esc.execForm(i.argv, "SHELL", ", "))}`;
    }
  }

  wordParts(parts: WordPart[], origin: Origin, what: string): string {
    const inner = parts
      .map((p) => (typeof p === "string" ? this.q(origin, what, () => esc.wordPart(p), 0) : `\${${this.q(origin, what, () => esc.envName(p.arg, "build argument name"))}}`))
      .join("");
    return `"${inner}"`;
  }

  mount(m: Mount, run: Origin): string {
    const o = m.origin ?? run;
    const v = (value: string, what: string) => this.q(o, o.key ?? what, () => esc.mountValue(value, what));
    switch (m.type) {
      case "bind":
        return `--mount=type=bind${m.from !== undefined ? `,from=${v(m.from, "mount from")}` : ""}${m.source !== undefined ? `,source=${v(m.source, "mount source")}` : ""},target=${v(m.target, "mount target")}${m.rw ? ",rw" : ""}`;
      case "cache":
        return `--mount=type=cache,id=${v(m.id, "cache id")},target=${v(m.target, "mount target")}`;
      case "tmpfs":
        return `--mount=type=tmpfs,target=${v(m.target, "mount target")}`;
      case "secret":
        return `--mount=type=secret,id=${v(m.id, "secret id")}`;
    }
  }

  healthcheck(h: Healthcheck, key: string): string {
    if (h.check === "none") return "NONE";
    if (h.check === "raw") return this.q(h, key, () => esc.rawRest(h.text, "HEALTHCHECK"), 0);
    const flags = [
      h.interval !== undefined ? `--interval=${h.interval}s` : "",
      h.timeout !== undefined ? `--timeout=${h.timeout}s` : "",
      h.startPeriod !== undefined ? `--start-period=${h.startPeriod}s` : "",
      h.retries !== undefined ? `--retries=${h.retries}` : "",
    ].filter(Boolean);
    return [...flags, "CMD", this.command(h.command, h, key)].join(" ");
  }

  /** A list → exec form; a string → shell form when a line holds it verbatim, else exec form with /bin/sh -c. */
  command(v: string | string[], origin: Origin, key: string): string {
    if (Array.isArray(v)) {
      v.forEach((x, n) => this.q(origin, key, () => esc.execForm([x]), n));
      return this.q(origin, key, () => esc.execForm(v));
    }
    let verbatim: string | undefined;
    this.q(origin, key, () => (verbatim = esc.shellForm(v)) ?? "", 0);
    return verbatim ?? this.q(origin, key, () => esc.execForm(["/bin/sh", "-c", v]), 0);
  }
}

/** Prints a Dockerfile model: the text and what each of its lines is. */
export function printDockerfile(df: Dockerfile): PrintedDockerfile {
  return new Printer().print(df);
}

/** Every value of the model that has no Dockerfile spelling, each at its werf.yaml position (nothing thrown). */
export function dockerfileProblems(df: Dockerfile): Diagnostic[] {
  const problems: Diagnostic[] = [];
  new Printer(problems).print(df);
  return problems;
}
