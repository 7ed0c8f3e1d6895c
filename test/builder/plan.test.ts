// The build plan as data, from resolved chains made by hand: reused stages with their tags, built ones with their
// patches, the digests to build in order, final tags for final images only, and the text `build --print` shows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatBuildPlan, makeBuildPlan } from "../../src/storage/plan.js";
import type { ImageChain } from "../../src/storage/resolve.js";
import { gitSource, image, mapping, stage, userBody, cmd } from "../emit/planFixture.js";

const REPO = "127.0.0.1:5000/p";

test("makeBuildPlan: reuse with tags, build with patches, final tags, the digests to build", () => {
  const from = stage("app", "app", "from", { kind: "from", base: { kind: "external", ref: "x" } }, 1);
  const install = stage("app", "app", "install", userBody("install", [cmd("make", 3)]), 2);
  const setup = stage("app", "app", "setup", userBody("setup", [cmd("make install", 5)]), 4);
  const app = image("app", "image", [from, install, setup]);
  const tool = image("tool", "artifact", [stage("tool", "tool", "from", { kind: "from", base: { kind: "external", ref: "y" } }, 8)]);
  const src = gitSource("1111111111111111", mapping("/src", "/app"), "/r", "c2".padEnd(40, "0"));
  const changes = { write: [], remove: [], size: 42, empty: false } as unknown as ImageChain["stages"][number]["patches"][number]["changes"];
  const chains: ImageChain[] = [
    { image: tool, digest: tool.digest, stages: [{ stage: tool.stages[0], stored: { tag: `${tool.stages[0].digest}-1`, ms: 1 }, held: {}, patches: [], seconds: 0 }] },
    {
      image: app,
      digest: setup.digest,
      stages: [
        { stage: from, stored: { tag: `${from.digest}-5`, ms: 5 }, held: {}, patches: [], seconds: 0 },
        { stage: install, held: {}, patches: [{ source: src, from: "c1".padEnd(40, "0"), changes }], seconds: 0 },
        { stage: setup, held: {}, patches: [], seconds: 0 },
      ],
    },
  ];
  const p = makeBuildPlan(REPO, chains, [], ["latest"]);
  assert.deepEqual(p.build, [install.digest, setup.digest]);
  assert.deepEqual(p.images.map((i) => [i.image, i.kind, i.finalTags]), [
    ["tool", "artifact", []],
    ["app", "image", [`${REPO}:app-${setup.digest}`, `${REPO}:latest`]],
  ]);
  const stages = p.images[1].stages;
  assert.deepEqual(stages.map((s) => [s.stage, s.action, s.tag]), [
    ["from", "reuse", `${REPO}:${from.digest}-5`],
    ["install", "build", undefined],
    ["setup", "build", undefined],
  ]);
  assert.deepEqual(stages[1].patches, [{ mapping: src.id, add: "/src", to: "/app", fromCommit: "c1".padEnd(40, "0"), toCommit: "c2".padEnd(40, "0"), size: 42 }]);
  assert.deepEqual(JSON.parse(JSON.stringify(p)), p, "plain data");
  const text = formatBuildPlan(p);
  assert.match(text, /^repository 127\.0\.0\.1:5000\/p: 2 stage\(s\) to build\n/);
  assert.match(text, /\n {2}install +build \S+\n {4}git patch \/src → \/app: c10000000000\.\.c20000000000 \(42 bytes\)\n/);
  assert.match(text, /\n {2}tag 127\.0\.0\.1:5000\/p:latest\n/);
});
