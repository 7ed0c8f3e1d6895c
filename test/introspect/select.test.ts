// --introspect-stage syntax and its checks against a real plan; asLayers per-command layers and their digests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { planProject } from "../../src/plan/plan.js";
import type { Plan, PlanOptions } from "../../src/plan/model.js";
import { UserError } from "../../src/diagnostics.js";
import { isSelected, parseStageSelector, resolveStageSelectors } from "../../src/introspect/select.js";
import { tempDir } from "../git/gitFixture.js";

const assumed: PlanOptions["baseImages"] = { resolve: async () => ({ user: "", workdir: "", source: "assumed" }) };

async function planOf(yaml: string): Promise<Plan> {
  const dir = tempDir("introspect");
  try {
    writeFileSync(path.join(dir, "werf.yaml"), yaml);
    return await planProject({ dir, baseImages: assumed });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const CONFIG = `project: p
configVersion: 1
---
artifact: tools
from: stapel2docker/base-busybox:latest
shell:
  install: [echo tools]
  setup: [echo setup]
---
image: app
from: stapel2docker/base-busybox:latest
shell:
  beforeInstall: [echo bi]
`;

function userError(f: () => unknown): UserError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected a UserError");
}

test("parse: IMAGE/STAGE, ~/STAGE, bare STAGE and */STAGE", () => {
  assert.deepEqual(parseStageSelector("app/install"), { image: "app", stage: "install", spec: "app/install" });
  assert.deepEqual(parseStageSelector("~/setup"), { image: "", stage: "setup", spec: "~/setup" });
  assert.deepEqual(parseStageSelector("install"), { image: "*", stage: "install", spec: "install" });
  assert.deepEqual(parseStageSelector("*/beforeInstall"), { image: "*", stage: "beforeInstall", spec: "*/beforeInstall" });
  // image names may hold slashes: the stage is after the last one
  assert.deepEqual(parseStageSelector("group/app/from"), { image: "group/app", stage: "from", spec: "group/app/from" });
});

test("parse: empty parts and unknown stage names are UserErrors with the list of stage names", () => {
  for (const bad of ["", "app/", "/install"]) assert.match(userError(() => parseStageSelector(bad)).message, /expected \[IMAGE\/\]STAGE/);
  const e = userError(() => parseStageSelector("app/instal"));
  assert.match(e.message, /"instal" is not a werf stage name/);
  assert.match(e.message, /did you mean "install"\?/);
  assert.match(e.message, /stage names: from, beforeInstall, dependenciesBeforeInstall, gitArchive, install/);
});

test("resolve against the plan: valid selections, duplicates dropped, matching", async () => {
  const plan = await planOf(CONFIG);
  const sel = resolveStageSelectors(plan, ["tools/setup", "install", "*/install", "app/from"]);
  assert.deepEqual(sel.map((s) => `${s.image}|${s.stage}`), ["tools|setup", "*|install", "app|from"]);
  assert.equal(isSelected(sel, "tools", "install"), true, "bare install selects every image's install");
  assert.equal(isSelected(sel, "tools", "setup"), true);
  assert.equal(isSelected(sel, "app", "setup"), false);
  assert.equal(isSelected(sel, "app", "from"), true);
  assert.equal(isSelected(sel, "tools", "from"), false);
});

test("resolve: ~ is the nameless image", async () => {
  const plan = await planOf(`project: p\nconfigVersion: 1\n---\nimage: ~\nfrom: stapel2docker/base-busybox:latest\nshell:\n  install: [echo nameless]\n`);
  const sel = resolveStageSelectors(plan, ["~/install"]);
  assert.deepEqual(sel.map((s) => [s.image, s.stage]), [["", "install"]]);
  assert.equal(isSelected(sel, "", "install"), true);
  const e = userError(() => resolveStageSelectors(plan, ["app/install"]));
  assert.match(e.diagnostics[0].hint!, /images and artifacts: ~$/);
});

test("resolve: unknown image, missing stage, nobody's stage — all reported at once with the valid names", async () => {
  const plan = await planOf(CONFIG);
  const e = userError(() => resolveStageSelectors(plan, ["ap/install", "app/setup", "*/beforeSetup", "tools/nope"]));
  assert.equal(e.diagnostics.length, 4);
  const [unknown, missing, nobody, bad] = e.diagnostics;
  assert.match(unknown.message, /no image or artifact "ap" in the build/);
  assert.match(unknown.hint!, /did you mean "app"\? images and artifacts: tools, app/);
  assert.match(missing.message, /image app has no setup stage/);
  assert.match(missing.hint!, /its stages: from, beforeInstall$/);
  assert.match(nobody.message, /no image has a beforeSetup stage/);
  assert.match(nobody.hint!, /stages the images have: from, beforeInstall, install, setup/);
  assert.match(bad.message, /"nope" is not a werf stage name/);
});

const LAYERS = (cmds: string[], asLayers = true) => `project: p
configVersion: 1
---
image: app
from: stapel2docker/base-busybox:latest
asLayers: ${asLayers}
shell:
  install:
${cmds.map((c) => `  - ${c}`).join("\n")}
  setup: [echo setup]
`;

test("asLayers: one stage per command, chained digests; editing command 5 of 6 keeps layers 1-4", async () => {
  const cmds = ["echo 1", "echo 2", "echo 3", "echo 4", "echo 5", "echo 6"];
  const a = (await planOf(LAYERS(cmds))).images[0];
  const install = a.stages.filter((s) => s.name === "install");
  assert.equal(install.length, 6);
  assert.deepEqual(install.map((s) => s.layer), cmds.map((_, i) => ({ index: i + 1, count: 6 })));
  assert.deepEqual(install.map((s) => s.target), [1, 2, 3, 4, 5].map((i) => `app--install-layer-${i}`).concat(["app--install"]));
  assert.deepEqual(install.map((s) => (s.body.kind === "user" ? s.body.commands.map((c) => c.command) : [])), cmds.map((c) => [c]));
  assert.deepEqual(install.map((s) => s.labels["io.stapel2docker.layer"]), cmds.map((_, i) => `${i + 1}/6`));
  assert.equal(new Set(a.stages.map((s) => s.target)).size, a.stages.length, "targets are unique");
  for (let i = 1; i < a.stages.length; i++) assert.equal(a.stages[i].parent, a.stages[i - 1].digest);
  assert.equal(install[0].pos.line, 9, "a layer points at its command");

  const edited = [...cmds];
  edited[4] = "echo five";
  const b = (await planOf(LAYERS(edited))).images[0];
  const same = a.stages.map((s, i) => s.digest === b.stages[i].digest);
  // from, install 1-4 kept; install 5, 6 and setup change
  assert.deepEqual(same, [true, true, true, true, true, false, false, false]);
});

test("asLayers: without it, or with one command, the stage is one stage as before", async () => {
  const off = (await planOf(LAYERS(["echo 1", "echo 2"], false))).images[0];
  assert.deepEqual(off.stages.map((s) => s.target), ["app--from", "app--install", "app--setup"]);
  assert.equal(off.stages[1].layer, undefined);
  const one = (await planOf(LAYERS(["echo 1"]))).images[0];
  assert.deepEqual(one.stages.map((s) => s.target), ["app--from", "app--install", "app--setup"]);
  assert.equal(one.stages[1].layer, undefined);
});
