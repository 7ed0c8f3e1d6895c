// Reading buildx's plain output of a failed bake: the failed build stage, the exit code, the step's output; and the
// terminal check of the introspection flags.
import { test } from "node:test";
import assert from "node:assert/strict";
import { UserError } from "../../src/diagnostics.js";
import { buildEnvArgs, checkTerminal, parseBakeFailure } from "../../src/introspect/index.js";
import type { Plan } from "../../src/plan/model.js";
import { printDockerfile } from "../../src/dockerfile/print.js";

const POS = { file: "werf.yaml", line: 12, col: 7 };
const DOCKERFILE = printDockerfile({
  header: ["header"],
  stages: [
    { name: "app--from", base: { kind: "image", ref: "127.0.0.1:5000/p:abc-1" }, before: [], instructions: [] },
    {
      name: "app--install",
      base: { kind: "stage", name: "app--from" },
      before: [{ kind: "blank" }],
      instructions: [{ kind: "run", mounts: [{ type: "bind", from: "stapel-toolchain", source: "/.stapel", target: "/.stapel" }], script: ["#!/.stapel/bin/bash -e", "false"], pos: POS, commands: [POS] }],
    },
    { name: "app--setup", base: { kind: "stage", name: "app--install" }, before: [], instructions: [{ kind: "run", mounts: [], script: ["true"] }] },
  ],
});
const line = (prefix: string, from = 0) => DOCKERFILE.text.split("\n").findIndex((l, i) => i >= from && l.startsWith(prefix)) + 1;
const INSTALL_RUN = line("RUN ");
const SETUP_RUN = line("RUN ", INSTALL_RUN);

const OUTPUT = `#8 [app--install app--install 1/1] RUN --mount=type=bind,from=stapel-toolchain,source=/.stapel,target=/.stapel
#8 0.498 about to fail
#8 ERROR: process "/bin/sh -c /dev/pipes/STAPEL_EOF" did not complete successfully: exit code: 3
------
 > [app--install app--install 1/1] RUN --mount=type=bind,from=stapel-toolchain,source=/.stapel,target=/.stapel     <<'STAPEL_EOF' (#!/.stapel/bin/bash -e...):
0.498 about to fail
0.499 second line
------
Dockerfile:${INSTALL_RUN}
--------------------
   4 |     FROM app--from AS app--install
   5 | >>> RUN --mount=type=bind,from=stapel-toolchain,source=/.stapel,target=/.stapel \\
--------------------
ERROR: failed to solve: process "/bin/sh -c /dev/pipes/STAPEL_EOF" did not complete successfully: exit code: 3
`;

test("parseBakeFailure: stage and werf.yaml position from the line map, exit code, output without timestamps", () => {
  assert.deepEqual(parseBakeFailure(OUTPUT, DOCKERFILE), { stage: "app--install", pos: POS, commands: [POS], exitCode: 3, output: ["about to fail", "second line"] });
  // another Dockerfile name (the split re-run's)
  const split = OUTPUT.replace(`Dockerfile:${INSTALL_RUN}`, `Dockerfile.introspect:${SETUP_RUN}`);
  assert.equal(parseBakeFailure(split, DOCKERFILE, "Dockerfile.introspect").stage, "app--setup");
  // Dockerfile.introspect:N is not a line of this Dockerfile: the summary's `[target stage k/n]` names the stage
  assert.deepEqual(parseBakeFailure(split, DOCKERFILE).stage, "app--install");
  // without any Dockerfile line (several targets failing at once), the stage's only RUN is the instruction
  assert.deepEqual(parseBakeFailure(OUTPUT.replace(`Dockerfile:${INSTALL_RUN}\n`, ""), DOCKERFILE).pos, POS);
  // output that names no instruction
  assert.deepEqual(parseBakeFailure("ERROR: failed to dial\n", DOCKERFILE), { exitCode: undefined, output: [] });
});

test("checkTerminal: flags without a terminal fail at once; with one, or without flags, pass", () => {
  assert.throws(() => checkTerminal({ selectors: [{}], afterError: false, beforeError: false, isTTY: false }), (e: unknown) =>
    e instanceof UserError && /--introspect-stage needs an interactive terminal/.test(e.message));
  assert.throws(() => checkTerminal({ selectors: [], afterError: true, beforeError: true, isTTY: false }), (e: unknown) =>
    e instanceof UserError && /--introspect-error, --introspect-before-error need an interactive terminal/.test(e.message));
  checkTerminal({ selectors: [{}], afterError: true, beforeError: false, isTTY: true });
  checkTerminal({ selectors: [], afterError: false, beforeError: false, isTTY: false });
});

test("buildEnvArgs: root, /, the toolchain volume, LANG, the commit, the SSH agent", () => {
  const plan = { commit: { hash: "c0ffee", timeUnix: 7, timeHuman: "2024-01-02 03:04:05 +0000 UTC" } } as unknown as Plan;
  assert.deepEqual(buildEnvArgs(plan, "vol", "/tmp/agent.sock"), [
    "-u", "0:0", "-w", "/", "-v", "vol:/.stapel:ro", "-e", "LANG=C.UTF-8", "-e", "LC_ALL=C.UTF-8",
    "-e", "WERF_COMMIT_HASH=c0ffee", "-e", "WERF_COMMIT_TIME_HUMAN=2024-01-02 03:04:05 +0000 UTC", "-e", "WERF_COMMIT_TIME_UNIX=7",
    "-v", "/tmp/agent.sock:/run/buildkit/ssh_agent.0", "-e", "SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0",
  ]);
  assert.deepEqual(buildEnvArgs({} as Plan, "v").slice(-4), ["-e", "LANG=C.UTF-8", "-e", "LC_ALL=C.UTF-8"]);
});
