// --parallel N: the bake runs in waves of at most N images, an image after the images it builds on.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { buildProject, bakeWaves, type ImageChain } from "../../src/builder/index.js";
import { tempDir } from "../git/gitFixture.js";
import { dockerRecorder, makeProject, stackUp, uniqueRepo } from "./support.js";

before(async () => {
  await stackUp();
});

const lockDir = tempDir("build-locks");
process.on("exit", () => rmSync(lockDir, { recursive: true, force: true }));

function chain(name: string, targets: string[], base?: string): ImageChain {
  return {
    image: { name } as ImageChain["image"],
    digest: targets[targets.length - 1],
    stages: targets.map((t, i) => ({
      stage: {
        name: i === 0 ? "from" : "setup",
        target: t,
        digest: t,
        inputs: {},
        pos: { file: "werf.yaml", line: 1, col: 1 },
        labels: {},
        body: i === 0 && base ? { kind: "from", base: { kind: "image", image: base, target: "x", digest: "x" } } : { kind: "from", base: { kind: "scratch" } },
      },
      held: {},
      patches: [],
      seconds: 0,
    })) as ImageChain["stages"],
  };
}

test("bakeWaves: at most n images per wave, dependencies in an earlier wave, stored stages left out", () => {
  const chains = [chain("child", ["c1", "c2"], "base"), chain("a", ["a1"]), chain("base", ["b1", "b2"]), chain("z", ["z1"])];
  chains[1].stages[0].stored = { tag: "a1-1", ms: 1 };
  const targets = new Map(["c1", "c2", "a1", "b1", "b2", "z1"].map((t) => [t, `t-${t}`]));
  assert.deepEqual(bakeWaves(chains, [], targets, 2), [["t-b1", "t-b2"], ["t-c1", "t-c2", "t-z1"]]);
  assert.deepEqual(bakeWaves(chains, [], targets, 1), [["t-b1", "t-b2"], ["t-c1", "t-c2"], ["t-z1"]]);
  assert.deepEqual(bakeWaves(chains, [], targets, 5), [["t-b1", "t-b2"], ["t-c1", "t-c2", "t-z1"]], "child never in its base's wave");
});

function project(nonce: string): string {
  return `project: partest
configVersion: 1
` + ["one", "two", "three"].map((n) => `---
image: ${n}
from: stapel2docker/base-busybox:latest
shell:
  setup:
  - sleep 2 && echo ${n}-${nonce} > /who.txt
`).join("");
}

test("--parallel 2 on three independent images: two bakes, the waves one after the other", async (t) => {
  const p = makeProject(project(randomBytes(6).toString("hex")));
  const rec = dockerRecorder();
  t.after(() => (p.cleanup(), rec.cleanup()));
  const logs: string[] = [];
  const r = await buildProject({ dir: p.dir, repo: uniqueRepo("par"), environ: {}, lockDir, buildOutput: "ignore", log: (l) => logs.push(l), docker: rec.docker, parallel: 2 });
  const bakes = rec.calls().filter((c) => c.startsWith("buildx bake"));
  assert.equal(bakes.length, 2, bakes.join("\n"));
  // the three images share their from stage (same base and project): one target, built with the first image
  assert.match(bakes[0], / one--from one--setup two--setup$/);
  assert.match(bakes[1], / three--setup$/);
  assert.equal(r.built, 4);
  for (const i of r.images) assert.ok(i.stages[1].seconds >= 2, `${i.image} setup ${i.stages[1].seconds} s`);
  assert.ok(r.seconds >= 4, `two waves of a 2 s sleep take at least 4 s (took ${r.seconds})`);
  assert.ok(logs.some((l) => l.startsWith("bake wave 2/2 (--parallel 2)")));
});
