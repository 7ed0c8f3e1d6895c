// BuildxProgress: buildx's rawjson stream (a real capture: fixtures/buildx/rawjson-failure.txt, a bake of target b
// whose stage a sleeps 1 s and whose stage b fails with exit code 3) → per-stage seconds, buildx's plain format,
// and the failure summary that src/builder/bake-failure.ts reads.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { BuildxProgress, stageOfVertex, terminalSafe } from "../../src/builder/progress.js";
import { parseBakeFailure } from "../../src/builder/bake-failure.js";
import { resolveProgress } from "../../src/builder/display.js";
import { repoRoot } from "../support/paths.js";

const CAPTURE = readFileSync(path.join(repoRoot, "fixtures/buildx/rawjson-failure.txt"), "utf8");

test("stageOfVertex: the Dockerfile stage of `[target stage i/n]` and `[stage i/n]` names; none for internal steps", () => {
  assert.equal(stageOfVertex("[b a 2/2] RUN sleep 1"), "a");
  assert.equal(stageOfVertex("[app--install 1/2] FROM 127.0.0.1:5000/x:y"), "app--install");
  assert.equal(stageOfVertex("[internal] load build definition from Dockerfile"), undefined);
  assert.equal(stageOfVertex("[b] exporting to image"), undefined);
});

test("BuildxProgress: stage seconds from the vertices' start and completion, fed in awkward chunks", () => {
  const p = new BuildxProgress();
  for (let i = 0; i < CAPTURE.length; i += 13) p.feed(Buffer.from(CAPTURE.slice(i, i + 13)));
  p.end();
  // a: `RUN echo hi && sleep 1` (its FROM is cached); b: the failing RUN
  assert.ok(p.of("a") >= 1 && p.of("a") < 1.5, `a took ${p.of("a")} s`);
  assert.ok(p.of("b") > 0 && p.of("b") < 1, `b took ${p.of("b")} s`);
  assert.deepEqual([...p.all().keys()].sort(), ["a", "b"]);
});

test("BuildxProgress: buildx's plain format, with the failed step's summary and the text buildx wrote outside the JSON", () => {
  let plain = "";
  let outside = "";
  const p = new BuildxProgress({ plain: (s) => (plain += s), text: (s) => (outside += s) });
  p.feed(CAPTURE);
  p.end();
  assert.equal(plain, p.plainText());
  // BuildKit resolves the FROM, then reports it again as cached: the last word is CACHED
  assert.match(plain, /^#\d+ \[a 1\/2\] FROM docker\.io\/stapel2docker\/base-busybox:latest\n(#\d+ DONE 0\.0s\n)?#\d+ CACHED$/m);
  assert.match(plain, /^#(\d+) \[a 2\/2\] RUN echo hi && sleep 1\n#\1 0\.\d{3} hi\n#\1 DONE 1\.\ds$/m);
  assert.match(plain, /^#\d+ ERROR: process "\/bin\/sh -c echo out; exit 3" did not complete successfully: exit code: 3$/m);
  assert.match(plain, /^------\n > \[b 1\/1\] RUN echo out; exit 3:\n0\.\d{3} out\n------$/m);
  assert.doesNotMatch(plain, /"vertexes"/);
  assert.match(outside, /^Dockerfile:4\n/);
  assert.match(outside, /^ERROR: failed to solve: .*exit code: 3$/m);
  assert.doesNotMatch(outside, /^#/m);
  // what a failed bake's error shows: the failed step's summary, then buildx's own lines
  assert.match(p.failureText(), /^------\n > \[b 1\/1\] RUN echo out; exit 3:\n0\.\d{3} out\n------\nDockerfile:4\n[^]*^ERROR: failed to solve: .*exit code: 3$/m);
  // what the failure report reads from it
  const f = parseBakeFailure(plain + outside, { text: "", lines: [] });
  assert.equal(f.exitCode, 3);
  assert.deepEqual(f.output, ["out"]);
});

test("resolveProgress: auto is tty on a terminal, plain elsewhere; the other modes stay", () => {
  assert.equal(resolveProgress("auto", { isTTY: true }), "tty");
  assert.equal(resolveProgress(undefined, { isTTY: false }), "plain");
  for (const m of ["tty", "plain", "rawjson", "quiet"] as const) assert.equal(resolveProgress(m, { isTTY: false }), m);
});

test("what a RUN prints reaches the log with its control sequences shown, not obeyed (colours and line ends kept)", () => {
  let plain = "";
  const p = new BuildxProgress({ plain: (s) => (plain += s) });
  const printed = [
    "\x1b]0;owned\x07title", // a terminal title (OSC), ended by BEL
    "\x1b[2J\x1b[Hcleared", // erase the screen, cursor home
    "10%\r50%\r100%", // a progress bar: what a terminal ends up showing
    "\x1b[31mred\x1b[0m", // colours stay
    "nul\0del\x7fcsi\x9b",
    "\x1b]52;c;Y2xpcA==\x07clipboard",
  ].join("\n");
  const at = "2026-01-01T00:00:00Z";
  const obj = {
    vertexes: [{ digest: "sha256:v", name: "[a 1/1] RUN print\x1b[8m", started: at }],
    logs: [{ vertex: "sha256:v", stream: 1, data: Buffer.from(printed + "\n").toString("base64"), timestamp: at }],
  };
  p.feed(Buffer.from(JSON.stringify(obj, null, 2) + "\n"));
  p.end();
  const lines = plain.split("\n").filter((l) => l.startsWith("#1 "));
  assert.deepEqual(lines, [
    "#1 [a 1/1] RUN print\x1b[8m",
    "#1 0.000 \\x1b]0;owned\\x07title",
    "#1 0.000 \\x1b[2J\\x1b[Hcleared",
    "#1 0.000 100%",
    "#1 0.000 \x1b[31mred\x1b[0m",
    "#1 0.000 nul\\x00del\\x7fcsi\\x9b",
    "#1 0.000 \\x1b]52;c;Y2xpcA==\\x07clipboard",
  ]);
  assert.doesNotMatch(plain, /\x1b\]|\x07|\r|\x00|\x9b/);
  assert.equal(terminalSafe(terminalSafe("\x1b]0;t\x07")), terminalSafe("\x1b]0;t\x07"), "idempotent");
});
