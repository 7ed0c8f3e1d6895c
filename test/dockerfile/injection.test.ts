// Hostile values in every place of the printer: each is either written so that BuildKit's parser reads the same
// instructions back and the value unchanged (checked with a port of the parser's line logic, test/dockerfile/
// buildkit-lines.ts, and of its word lexer below), or refused with a UserError at the value's werf.yaml position.
// test/dockerfile/engine.test.ts builds such values on the real engine and reads them back.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { UserError } from "../../src/diagnostics.js";
import type { Dockerfile, Instruction, Mount } from "../../src/dockerfile/model.js";
import { printDockerfile } from "../../src/dockerfile/print.js";
import { parseLines, type ParsedInstruction } from "./buildkit-lines.js";

const POS = { file: "werf.yaml", line: 7, col: 3 };
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** BuildKit's shell lexer on one word (ProcessWord, default escape, quotes removed); throws on a substitution. */
function lexWord(w: string): string {
  let out = "";
  let i = 0;
  const dollar = (j: number) => {
    if (/^[A-Za-z0-9_{@*#?$!-]/.test(w.slice(j + 1, j + 2))) throw new Error(`unescaped substitution in ${JSON.stringify(w)}`);
  };
  while (i < w.length) {
    const c = w[i];
    if (c === "'") {
      const j = w.indexOf("'", i + 1);
      if (j < 0) throw new Error("unterminated single quote");
      out += w.slice(i + 1, j);
      i = j + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= w.length) throw new Error("unterminated double quote");
        const d = w[i];
        if (d === '"') {
          i++;
          break;
        }
        if (d === "$") dollar(i);
        if (d === "\\" && i + 1 < w.length && '"$\\'.includes(w[i + 1])) {
          out += w[i + 1];
          i += 2;
          continue;
        }
        out += d;
        i++;
      }
    } else if (c === "\\") {
      if (i + 1 >= w.length) break;
      out += w[i + 1];
      i += 2;
    } else {
      if (c === "$") dollar(i);
      out += c;
      i++;
    }
  }
  return out;
}

/** BuildKit's strings.TrimSpace and the rest of an instruction after its name. */
function rest(p: ParsedInstruction): string {
  return p.line.replace(GO_SPACE, "").replace(/^\S+[\t\v\f\r ]+/, "").replace(GO_SPACE, "");
}

/** KEY=VALUE of one ENV/LABEL pair, as parseNameVal splits it: at the first '=', inside quotes or not. */
function keyValue(text: string): [string, string] {
  const i = text.indexOf("=");
  if (i < 0) throw new Error(`no '=' in ${text}`);
  return [text.slice(0, i), text.slice(i + 1)];
}

const HOSTILE = [
  "plain",
  "a\nRUN evil",
  "a\rRUN evil",
  "a\r\nRUN evil",
  "x \\",
  "x\\",
  "x \\\t",
  "\\",
  "RUN <<X",
  "<<EOF",
  "# comment",
  "a\u0085b",
  "\u0085lead",
  "trail\u0085",
  "a\u00a0b",
  "\u00a0",
  "a\u2028RUN evil",
  "a\u2029b",
  "\u3000",
  'a"b',
  "a'b",
  "$HOME",
  "${x:-y}",
  "--flag",
  "-x",
  "a,b",
  "a=b",
  "é",
  "日本",
  "\0",
  "\ud800",
  " lead",
  "trail ",
  "\t",
  "",
  "STAPEL_EOF",
  "]",
  '["json"]',
  "x".repeat(70_000),
];

interface Place {
  name: string;
  make: (v: string) => Instruction;
  /** The value BuildKit reads back from the parsed instruction. */
  read: (p: ParsedInstruction) => string;
  kind: string;
}

const jsonRead = (p: ParsedInstruction, idx: number) => lexWord((JSON.parse(rest(p).replace(/^(--\S+\s+)*/, "")) as string[])[idx]);
const mountTarget = (type: "bind" | "cache" | "tmpfs", v: string): Mount =>
  type === "bind" ? { type, from: "ctx", target: v, origin: { pos: POS } } : type === "cache" ? { type, id: "c", target: v, origin: { pos: POS } } : { type, target: v, origin: { pos: POS } };
const flagValue = (p: ParsedInstruction, flag: string) => {
  const m = new RegExp(`${flag}=([^ ]*)`).exec(p.line);
  if (!m) throw new Error(`no ${flag} in ${p.line}`);
  return m[1];
};

const PLACES: Place[] = [
  { name: "ENV value", kind: "env", make: (v) => ({ kind: "env", name: "X", value: [v], pos: POS }), read: (p) => lexWord(keyValue(rest(p))[1]) },
  { name: "ENV name", kind: "env", make: (v) => ({ kind: "env", name: v, value: ["1"], pos: POS }), read: (p) => keyValue(rest(p))[0] },
  { name: "ARG default", kind: "arg", make: (v) => ({ kind: "arg", name: "A", default: v, pos: POS }), read: (p) => lexWord(keyValue(rest(p))[1]) },
  { name: "LABEL value", kind: "label", make: (v) => ({ kind: "label", pairs: [{ key: "k", value: v }], pos: POS }), read: (p) => lexWord(keyValue(rest(p))[1]) },
  { name: "LABEL key", kind: "label", make: (v) => ({ kind: "label", pairs: [{ key: v, value: "1" }], pos: POS }), read: (p) => lexWord(keyValue(rest(p))[0]) },
  { name: "USER", kind: "user", make: (v) => ({ kind: "user", user: v, pos: POS }), read: (p) => lexWord(rest(p)) },
  { name: "WORKDIR", kind: "workdir", make: (v) => ({ kind: "workdir", path: v, pos: POS }), read: (p) => lexWord(rest(p)) },
  { name: "STOPSIGNAL", kind: "stopsignal", make: (v) => ({ kind: "stopsignal", signal: v, pos: POS }), read: (p) => lexWord(rest(p)) },
  { name: "EXPOSE", kind: "expose", make: (v) => ({ kind: "expose", ports: [v], pos: POS }), read: (p) => lexWord(rest(p).split(/[\t\v\f\r ]+/)[0]) },
  { name: "VOLUME", kind: "volume", make: (v) => ({ kind: "volume", paths: [v], pos: POS }), read: (p) => jsonRead(p, 0) },
  { name: "COPY source", kind: "copy", make: (v) => ({ kind: "copy", from: "s", sources: [v], dest: "/d", pos: POS }), read: (p) => jsonRead(p, 0) },
  { name: "COPY dest", kind: "copy", make: (v) => ({ kind: "copy", from: "s", sources: ["/s"], dest: v, pos: POS }), read: (p) => jsonRead(p, 1) },
  { name: "COPY --from", kind: "copy", make: (v) => ({ kind: "copy", from: v, sources: ["/s"], dest: "/d", pos: POS }), read: (p) => lexWord(flagValue(p, "--from")) },
  { name: "COPY --chown", kind: "copy", make: (v) => ({ kind: "copy", chown: { user: v, group: "0" }, sources: ["/s"], dest: "/d", pos: POS }), read: (p) => flagValue(p, "--chown").replace(/:0$/, "") },
  { name: "ADD path", kind: "add", make: (v) => ({ kind: "add", sources: [v], dest: "/", pos: POS }), read: (p) => jsonRead(p, 0) },
  { name: "CMD shell form", kind: "cmd", make: (v) => ({ kind: "cmd", command: v, pos: POS }), read: (p) => (rest(p).startsWith("[") ? (JSON.parse(rest(p)) as string[])[2] : rest(p)) },
  { name: "CMD exec form", kind: "cmd", make: (v) => ({ kind: "cmd", command: [v, "x"], pos: POS }), read: (p) => (JSON.parse(rest(p)) as string[])[0] },
  { name: "ENTRYPOINT", kind: "entrypoint", make: (v) => ({ kind: "entrypoint", command: [v], pos: POS }), read: (p) => (JSON.parse(rest(p)) as string[])[0] },
  { name: "HEALTHCHECK cmd", kind: "healthcheck", make: (v) => ({ kind: "healthcheck", check: "cmd", interval: 5, command: v, pos: POS }), read: (p) => {
    const r = rest(p).replace(/^--interval=5s CMD /, "");
    return r.startsWith("[") ? (JSON.parse(r) as string[])[2] : r;
  } },
  { name: "SHELL", kind: "shell", make: (v) => ({ kind: "shell", argv: [v], pos: POS }), read: (p) => (JSON.parse(rest(p)) as string[])[0] },
  { name: "RUN bind target", kind: "run", make: (v) => ({ kind: "run", mounts: [mountTarget("bind", v)], script: ["true"], pos: POS }), read: (p) => flagValue(p, "target").split(",")[0] },
  { name: "RUN cache target", kind: "run", make: (v) => ({ kind: "run", mounts: [mountTarget("cache", v)], script: ["true"], pos: POS }), read: (p) => flagValue(p, "target").split(",")[0] },
  { name: "RUN tmpfs target", kind: "run", make: (v) => ({ kind: "run", mounts: [mountTarget("tmpfs", v)], script: ["true"], pos: POS }), read: (p) => flagValue(p, "target").split(",")[0] },
  { name: "RUN bind source (import path)", kind: "run", make: (v) => ({ kind: "run", mounts: [{ type: "bind", from: "img", source: v, target: "/src", origin: { pos: POS } }], script: ["true"], pos: POS }), read: (p) => flagValue(p, "source").split(",")[0] },
  { name: "RUN script line", kind: "run", make: (v) => ({ kind: "run", mounts: [], script: ["echo start", v, "STAPEL_EOF_1"], pos: POS }), read: (p) => p.heredocs[0].content.replace(/^echo start\n/, "").replace(/\nSTAPEL_EOF_1\n$/, "") },
  { name: "comment", kind: "comment", make: (v) => ({ kind: "comment", text: v, pos: POS }), read: () => "" },
];

function dockerfile(i: Instruction): Dockerfile {
  return {
    header: ["hostile values"],
    stages: [
      { name: "s", base: { kind: "scratch" }, before: [], instructions: [i, { kind: "label", pairs: [{ key: "marker", value: "1" }] }] },
      { name: "t", base: { kind: "stage", name: "s" }, before: [{ kind: "comment", text: "next" }], instructions: [{ kind: "label", pairs: [{ key: "marker", value: "2" }] }] },
    ],
  };
}

describe("hostile values in every place", () => {
  for (const place of PLACES) {
    test(place.name, () => {
      const accepted: string[] = [];
      for (const v of HOSTILE) {
        let text: string;
        try {
          text = printDockerfile(dockerfile(place.make(v))).text;
        } catch (e) {
          assert.ok(e instanceof UserError, `${place.name} ${JSON.stringify(v.slice(0, 40))}: ${String(e)}`);
          assert.match(e.message, /^werf\.yaml:7:3: /, `${place.name}: the error names the value's position`);
          continue;
        }
        accepted.push(v);
        for (const l of text.split("\n")) assert.ok(Buffer.byteLength(l) <= 65535, "no line over BuildKit's limit");
        const parsed = parseLines(text);
        const names = parsed.map((p) => p.name);
        const expected = place.kind === "comment" ? ["from", "label", "from", "label"] : ["from", place.kind, "label", "from", "label"];
        assert.deepEqual(names, expected, `${place.name} ${JSON.stringify(v)}: the instructions are unchanged\n${text}`);
        assert.match(parsed[parsed.length - 1].line, /^LABEL "marker"="2"$/);
        if (place.kind !== "comment") assert.equal(place.read(parsed[1]), v, `${place.name} ${JSON.stringify(v)} reads back unchanged\n${text}`);
      }
      assert.ok(accepted.includes("plain"), `${place.name} accepts a plain value`);
    });
  }

  test("values that must be kept, not refused: blanks, quotes, $, non-ASCII blanks in words and quoted rest", () => {
    for (const v of ["a\u2028RUN evil", " lead", "trail\u0085", 'a"b', "a'b", "$HOME", "x \\", "# comment", "--flag"]) {
      for (const make of [
        (x: string): Instruction => ({ kind: "env", name: "X", value: [x], pos: POS }),
        (x: string): Instruction => ({ kind: "label", pairs: [{ key: "k", value: x }], pos: POS }),
        (x: string): Instruction => ({ kind: "workdir", path: x, pos: POS }),
        (x: string): Instruction => ({ kind: "user", user: x, pos: POS }),
        (x: string): Instruction => ({ kind: "copy", from: "s", sources: ["/s"], dest: x, pos: POS }),
        (x: string): Instruction => ({ kind: "cmd", command: x, pos: POS }),
      ]) {
        assert.doesNotThrow(() => printDockerfile(dockerfile(make(v))), JSON.stringify(v));
      }
    }
  });

  test("image references and build stage names: accepted ones read back from FROM, the rest refused at the stage", () => {
    for (const v of [...HOSTILE, "alpine:3.20", "127.0.0.1:5000/p/app@sha256:" + "a".repeat(64), "app--install"]) {
      for (const where of ["image", "name"] as const) {
        const df: Dockerfile = {
          header: [],
          stages: [
            where === "image"
              ? { name: "s", base: { kind: "image", ref: v }, before: [], instructions: [], pos: POS }
              : { name: v, base: { kind: "scratch" }, before: [], instructions: [], pos: POS },
            { name: "t", base: { kind: "stage", name: "s" }, before: [], instructions: [{ kind: "label", pairs: [{ key: "marker", value: "2" }] }] },
          ],
        };
        let text: string;
        try {
          text = printDockerfile(df).text;
        } catch (e) {
          assert.ok(e instanceof UserError && /^werf\.yaml:7:3: /.test(e.message), `${where} ${JSON.stringify(v.slice(0, 40))}: ${String(e)}`);
          continue;
        }
        const parsed = parseLines(text);
        assert.deepEqual(parsed.map((p) => p.name), ["from", "from", "label"], `${where} ${JSON.stringify(v)}`);
        // FROM splits at ASCII blanks: image, AS, name
        assert.deepEqual(rest(parsed[0]).split(/[\t\v\f\r ]+/), where === "image" ? [v, "AS", "s"] : ["scratch", "AS", v]);
      }
    }
  });

  test("ONBUILD: a heredoc would swallow the next lines, so it is refused; a plain instruction is kept", () => {
    for (const v of ["RUN <<X", "RUN echo a << b", "run <<-'EOF' cat", "COPY <<EOF /x", "ADD <<EOF /y", "ONBUILD RUN x", "RUN x \\", "RUN a\nRUN evil", "--flag RUN x", ""]) {
      assert.throws(() => printDockerfile(dockerfile({ kind: "onbuild", instruction: v, pos: POS })), (e: unknown) =>
        e instanceof UserError && /^werf\.yaml:7:3: docker\.ONBUILD|^werf\.yaml:7:3: ONBUILD/.test(e.message), JSON.stringify(v));
    }
    const ok = printDockerfile(dockerfile({ kind: "onbuild", instruction: "RUN echo hi", pos: POS })).text;
    assert.deepEqual(parseLines(ok).map((p) => p.name), ["from", "onbuild", "label", "from", "label"]);
  });

  test("a script line over 65535 bytes is refused at the RUN's position; 65535 bytes is written", () => {
    const long = "x".repeat(65535);
    const ok = printDockerfile(dockerfile({ kind: "run", mounts: [], script: [long], pos: POS })).text;
    assert.ok(ok.includes(`\n${long}\n`));
    assert.throws(() => printDockerfile(dockerfile({ kind: "run", mounts: [], script: [`${long}x`], pos: POS })), (e: unknown) =>
      e instanceof UserError && /^werf\.yaml:7:3: a Dockerfile line would be 65536 bytes long/.test(e.message));
    // multi-byte characters count as their UTF-8 bytes
    assert.throws(() => printDockerfile(dockerfile({ kind: "env", name: "X", value: ["é".repeat(33000)], pos: POS })), UserError);
  });

  test("the line map: every line of an instruction names its stage and werf.yaml position", () => {
    const printed = printDockerfile(dockerfile({ kind: "run", mounts: [mountTarget("tmpfs", "/tmp")], script: ["a", "b"], pos: POS, commands: [POS] }));
    const lines = printed.text.split("\n");
    const run = lines.findIndex((l) => l.startsWith("RUN "));
    for (let i = run; i < run + 5; i++) assert.deepEqual(printed.lines[i], { stage: "s", kind: "run", pos: POS, commands: [POS] }, lines[i]);
    assert.deepEqual(printed.lines[0], {}, "the header is no instruction");
    assert.equal(printed.lines.length, lines.length - 1, "one entry per line (the text ends with a newline)");
  });
});
