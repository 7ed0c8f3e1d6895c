// Hostile values printed by the one printer, built by the real BuildKit (docker buildx build) and read back with
// docker inspect and docker run: every value the printer accepts comes back byte for byte, and the instructions
// after each value are still instructions (the last stage's label is there).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Dockerfile } from "../../src/dockerfile/model.js";
import { printDockerfile } from "../../src/dockerfile/print.js";
import { tempDir } from "../git/gitFixture.js";
import { run, stackUp } from "../builder/support.js";

const BASE = "stapel2docker/base-busybox:latest";
const POS = { file: "werf.yaml", line: 3, col: 5 };
const ENV_VALUE = `a "q" 'sq' $HOME \\x\\ é 日本 # c\u2028RUN evil\u0085 `;
const LABEL_KEY = "my key\u00a0é";
const LABEL_VALUE = "ends with a backslash \\";
const WORKDIR = `/w d/$x 'q" é\u0085`;
const USER = `--user\u00a0x `;
const VOLUME = `/v 'q" $x é`;
const SRC = `/src d/f 'q" $x é`;
const DEST = `/dst d/é 'q" $x\u00a0`;
const CMD = `echo "a b" \u0085x`;
const ENTRYPOINT = ["/bin/echo", "a\nb", "\u2028", "$HOME", "--x"];
const ONBUILD = "RUN echo hi # x\u2028y";
const SCRIPT_LINE = `printf '%s\\n' 'STAPEL_EOF' "$((1+1))" > /script.out`;

function model(): Dockerfile {
  return {
    header: ["hostile values, read back by test/dockerfile/engine.test.ts"],
    stages: [
      {
        name: "s",
        base: { kind: "image", ref: BASE },
        before: [],
        instructions: [
          { kind: "run", mounts: [{ type: "tmpfs", target: "/t" }], script: ["set -e", `mkdir -p '/src d'`, `printf hi > "/src d/f 'q\\" \\$x é"`, SCRIPT_LINE], pos: POS },
        ],
      },
      {
        name: "t",
        base: { kind: "stage", name: "s" },
        before: [{ kind: "comment", text: "hostile\nRUN false" }],
        instructions: [
          // a shell heredoc with the printer's own terminator: the RUN's heredoc gets another one
          { kind: "run", mounts: [], script: [": <<'STAPEL_EOF'", "RUN false", "STAPEL_EOF", "echo after > /heredoc.out"], pos: POS },
          { kind: "env", name: "X", value: [ENV_VALUE], pos: POS },
          { kind: "label", pairs: [{ key: LABEL_KEY, value: LABEL_VALUE }], pos: POS },
          { kind: "copy", from: "s", sources: [SRC], dest: DEST, pos: POS },
          { kind: "volume", paths: [VOLUME], pos: POS },
          { kind: "workdir", path: WORKDIR, pos: POS },
          { kind: "entrypoint", command: ENTRYPOINT, pos: POS },
          { kind: "cmd", command: CMD, pos: POS },
          { kind: "onbuild", instruction: ONBUILD, pos: POS },
          { kind: "user", user: USER, pos: POS },
          { kind: "label", pairs: [{ key: "last", value: "still an instruction" }], pos: POS },
        ],
      },
    ],
  };
}

const dir = tempDir("dockerfile-engine");
const tag = `s2d-hostile:${randomBytes(4).toString("hex")}`;

before(async () => {
  await stackUp();
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await run("docker", ["rmi", "-f", tag]).catch(() => {});
});

test("hostile values built by BuildKit read back unchanged", async () => {
  const printed = printDockerfile(model());
  mkdirSync(path.join(dir, "ctx"), { recursive: true });
  writeFileSync(path.join(dir, "Dockerfile"), printed.text);
  await run("docker", ["buildx", "build", "--progress=plain", "--load", "-t", tag, "-f", path.join(dir, "Dockerfile"), path.join(dir, "ctx")], { timeoutMs: 600_000 });
  const cfg = JSON.parse(await run("docker", ["inspect", "--format", "{{json .Config}}", tag])) as {
    Env: string[];
    Labels: Record<string, string>;
    WorkingDir: string;
    User: string;
    Volumes: Record<string, unknown>;
    Cmd: string[];
    Entrypoint: string[];
    OnBuild: string[];
  };
  assert.ok(cfg.Env.includes(`X=${ENV_VALUE}`), JSON.stringify(cfg.Env));
  assert.equal(cfg.Labels[LABEL_KEY], LABEL_VALUE);
  assert.equal(cfg.Labels.last, "still an instruction");
  assert.equal(cfg.WorkingDir, WORKDIR);
  assert.equal(cfg.User, USER);
  assert.deepEqual(Object.keys(cfg.Volumes), [VOLUME]);
  assert.deepEqual(cfg.Entrypoint, ENTRYPOINT);
  assert.deepEqual(cfg.Cmd, ["/bin/sh", "-c", CMD]);
  assert.deepEqual(cfg.OnBuild, [ONBUILD]);
  const sh = (script: string, ...args: string[]) => run("docker", ["run", "--rm", "--user", "0", "-w", "/", "--entrypoint", "/bin/sh", tag, "-c", script, "sh", ...args]);
  assert.equal(await sh('cat "$1"', DEST), "hi");
  assert.equal(await sh("cat /script.out"), "STAPEL_EOF\n2\n");
  assert.equal(await sh("cat /heredoc.out"), "after\n");
});
