// Digest sensitivity: changing one input changes exactly the stages that depend on it (the stage
// holding it, every later stage of that image, and the images built on or importing from it), and
// nothing else. A file that no mask selects changes no digest; nor does a new commit by itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, chmodSync } from "node:fs";
import path from "node:path";
import { planProject } from "../../src/plan/plan.js";
import { planText } from "../../src/cli/plan.js";
import type { Plan, PlanOptions } from "../../src/plan/model.js";
import { commitAll, git, tempDir, writeFile } from "../git/gitFixture.js";

const assumed: PlanOptions["baseImages"] = { resolve: async () => ({ user: "", workdir: "", source: "assumed" }) };

const CONFIG = `project: demo
configVersion: 1
build:
  cacheVersion: "{{ env "BUILD_CV" "1" }}"
---
artifact: builder
from: stapel2docker/base-busybox:latest
shell:
  install:
  - {{ env "ARTIFACT_CMD" "echo built > /out" }}
---
image: app
from: stapel2docker/base-busybox:latest
fromCacheVersion: "{{ env "FROM_CV" "a" }}"
{{- if env "MOUNT" }}
mount:
- from: tmp_dir
  to: /var/cache/x
{{- end }}
git:
- add: /src
  to: {{ env "GIT_TO" "/app" }}
  excludePaths: [{{ env "EXCLUDE" "\\"*.tmp\\"" }}]
  stageDependencies:
    install: ["package.json"]
    setup: ["lib/**"]
shell:
  {{- with env "SHELL_CV" }}
  cacheVersion: {{ . }}
  {{- end }}
  installCacheVersion: "{{ env "INSTALL_CV" "1" }}"
  beforeInstall:
  - {{ env "BI_CMD" "echo before-install" }}
  install:
  - echo install
  beforeSetup:
  - echo before-setup
  setup:
  - echo setup
import:
- artifact: builder
  add: /out
  to: {{ env "IMPORT_TO" "/opt/out" }}
  after: install
docker:
  ENV:
    MODE: {{ env "DOCKER_MODE" "prod" }}
  CMD: ["/bin/sh"]
---
image: child
fromImage: app
shell:
  setup:
  - echo child
`;

interface Fixture {
  dir: string;
  plan(env?: Record<string, string>): Promise<Map<string, string>>;
}

async function fixture(t: { after(fn: () => void): void }): Promise<Fixture> {
  const dir = tempDir("digests");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", CONFIG);
  // every input below is varied through env, so the fixture lets werf.yaml read any variable
  writeFile(dir, "werf-giterminism.yaml", "giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowEnvVariables: [/.*/]\n");
  writeFile(dir, "src/package.json", "{}\n");
  writeFile(dir, "src/lib/util.js", "exports.x = 1;\n");
  writeFile(dir, "src/README.txt", "readme\n");
  writeFile(dir, "src/scratch.tmp", "tmp\n");
  commitAll(dir, "initial");
  return {
    dir,
    async plan(env = {}) {
      const plan = await planProject({ dir, baseImages: assumed, environ: { ...env } });
      return digests(plan);
    },
  };
}

function digests(plan: Plan): Map<string, string> {
  const m = new Map<string, string>();
  for (const img of plan.images) for (const s of img.stages) m.set(`${img.name}/${s.name}`, s.digest);
  return m;
}

/** Keys whose digest differs, or that exist on one side only. */
function changed(a: Map<string, string>, b: Map<string, string>): string[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
}

/** `image`'s stages from `stage` on (in `base`'s order). */
function fromStage(base: Map<string, string>, image: string, stage: string): string[] {
  const keys = [...base.keys()].filter((k) => k.startsWith(`${image}/`));
  const i = keys.indexOf(`${image}/${stage}`);
  assert.ok(i >= 0, `${image}/${stage} exists`);
  return keys.slice(i);
}

function all(base: Map<string, string>, image: string): string[] {
  return [...base.keys()].filter((k) => k.startsWith(`${image}/`));
}

test("the conveyor has the expected stages", async (t) => {
  const f = await fixture(t);
  const base = await f.plan();
  assert.deepEqual(
    [...base.keys()],
    [
      "builder/from",
      "builder/install",
      "app/from",
      "app/beforeInstall",
      "app/gitArchive",
      "app/install",
      "app/dependenciesAfterInstall",
      "app/beforeSetup",
      "app/setup",
      "app/dockerInstructions",
      "child/from",
      "child/setup",
    ],
  );
  assert.equal(new Set(base.values()).size, base.size, "every digest is distinct");
  for (const d of base.values()) assert.match(d, /^[0-9a-f]{56}$/);
});

test("planning twice gives the same digests", async (t) => {
  const f = await fixture(t);
  assert.deepEqual(changed(await f.plan(), await f.plan()), []);
});

const cases: { name: string; env: Record<string, string>; expect: (b: Map<string, string>) => string[] }[] = [
  { name: "build.cacheVersion", env: { BUILD_CV: "2" }, expect: (b) => [...all(b, "builder"), ...all(b, "app"), ...all(b, "child")] },
  { name: "fromCacheVersion", env: { FROM_CV: "b" }, expect: (b) => [...all(b, "app"), ...all(b, "child")] },
  { name: "a mount", env: { MOUNT: "1" }, expect: (b) => [...all(b, "app"), ...all(b, "child")] },
  { name: "a beforeInstall command", env: { BI_CMD: "echo changed" }, expect: (b) => [...fromStage(b, "app", "beforeInstall"), ...all(b, "child")] },
  { name: "shell.cacheVersion", env: { SHELL_CV: "x" }, expect: (b) => [...fromStage(b, "app", "beforeInstall"), ...all(b, "child")] },
  { name: "installCacheVersion", env: { INSTALL_CV: "2" }, expect: (b) => [...fromStage(b, "app", "install"), ...all(b, "child")] },
  { name: "git mapping `to`", env: { GIT_TO: "/srv" }, expect: (b) => [...fromStage(b, "app", "gitArchive"), ...all(b, "child")] },
  { name: "git excludePaths", env: { EXCLUDE: '"*.bak"' }, expect: (b) => [...fromStage(b, "app", "gitArchive"), ...all(b, "child")] },
  { name: "import `to`", env: { IMPORT_TO: "/opt/other" }, expect: (b) => [...fromStage(b, "app", "dependenciesAfterInstall"), ...all(b, "child")] },
  { name: "the imported artifact's commands", env: { ARTIFACT_CMD: "echo other > /out" }, expect: (b) => ["builder/install", ...fromStage(b, "app", "dependenciesAfterInstall"), ...all(b, "child")] },
  { name: "a docker ENV value", env: { DOCKER_MODE: "dev" }, expect: (b) => ["app/dockerInstructions", ...all(b, "child")] },
];

for (const c of cases) {
  test(`changing ${c.name} changes exactly the stages that depend on it`, async (t) => {
    const f = await fixture(t);
    const base = await f.plan();
    assert.deepEqual(changed(base, await f.plan(c.env)), [...new Set(c.expect(base))].sort());
  });
}

test("git: a masked file's content, a masked file's mode, an unmasked file, a new commit", async (t) => {
  const f = await fixture(t);
  const base = await f.plan();

  commitAll(f.dir, "an empty commit");
  assert.deepEqual(changed(base, await f.plan()), [], "a new commit alone (WERF_COMMIT_*) changes no digest");

  writeFile(f.dir, "src/README.txt", "edited\n");
  writeFile(f.dir, "docs/outside.md", "not mapped\n");
  commitAll(f.dir, "unmasked edits");
  assert.deepEqual(changed(base, await f.plan()), [], "files no mask selects change no digest");

  writeFile(f.dir, "src/lib/util.js", "exports.x = 2;\n");
  commitAll(f.dir, "setup dependency");
  const afterLib = await f.plan();
  assert.deepEqual(changed(base, afterLib), [...fromStage(base, "app", "setup"), ...all(base, "child")].sort());

  chmodSync(path.join(f.dir, "src/package.json"), 0o755);
  commitAll(f.dir, "install dependency mode");
  assert.deepEqual(
    changed(afterLib, await f.plan()),
    [...fromStage(base, "app", "install"), ...all(base, "child")].sort(),
    "a mode change of a masked file rebuilds its stage",
  );
});

test("the digest comes from the commit, not the worktree", async (t) => {
  const f = await fixture(t);
  const base = await f.plan();
  writeFile(f.dir, "src/package.json", '{"uncommitted": true}\n');
  assert.deepEqual(changed(base, await f.plan()), []);
});

// A Dockerfile image's digest holds its dependencies' digests (werf: the dependent stage's digest depends on the
// dependency's), whether the dependency is a Stapel image or another Dockerfile image; an unrelated change moves
// nothing.
test("a Dockerfile image's digest follows its dependencies' digests, and only theirs", async (t) => {
  const dir = tempDir("df-deps");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", `project: demo
configVersion: 1
---
image: web
dockerfile: Dockerfile
context: web
dependencies:
- image: base
  imports:
  - type: ImageName
    targetBuildArg: BASE_IMAGE
- image: tool
  imports:
  - type: ImageDigest
    targetBuildArg: TOOL_DIGEST
---
image: tool
dockerfile: Dockerfile
context: {{ env "TOOL_CONTEXT" "tool" }}
---
image: base
from: stapel2docker/base-busybox:latest
shell:
  install:
  - {{ env "BASE_CMD" "echo base" }}
---
image: other
from: stapel2docker/base-busybox:latest
shell:
  install:
  - {{ env "OTHER_CMD" "echo other" }}
`);
  writeFile(dir, "werf-giterminism.yaml", "giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowEnvVariables: [/.*/]\n");
  writeFile(dir, "web/Dockerfile", "ARG BASE_IMAGE\nFROM $BASE_IMAGE\n");
  writeFile(dir, "tool/Dockerfile", "FROM scratch\n");
  writeFile(dir, "tool2/Dockerfile", "FROM scratch\nLABEL x=y\n");
  commitAll(dir, "init");
  const digests = async (env: Record<string, string> = {}) => {
    const p = await planProject({ dir, environ: env, baseImages: assumed });
    return new Map<string, string>([...p.images.map((i) => [i.name, i.digest] as [string, string]), ...p.dockerfileImages.map((d) => [d.image.name, d.digest] as [string, string])]);
  };
  const before = await digests();
  const changed = (after: Map<string, string>) => [...before.keys()].filter((k) => before.get(k) !== after.get(k)).sort();
  assert.deepEqual(changed(await digests()), [], "planning twice gives the same digests");
  assert.deepEqual(changed(await digests({ BASE_CMD: "echo base2" })), ["base", "web"], "a Stapel dependency's change moves the dependent");
  assert.deepEqual(changed(await digests({ TOOL_CONTEXT: "tool2" })), ["tool", "web"], "a Dockerfile dependency's change moves the dependent");
  assert.deepEqual(changed(await digests({ OTHER_CMD: "echo other2" })), ["other"], "an unrelated change moves nothing else");
  // `plan` shows what the Dockerfile image's digest and build arguments come from
  const text = planText(await planProject({ dir, environ: {}, baseImages: assumed }));
  assert.match(text, new RegExp(`^      dependency base ${before.get("base")}: ImageName → build argument BASE_IMAGE$`, "m"));
  assert.match(text, new RegExp(`^      dependency tool ${before.get("tool")}: ImageDigest → build argument TOOL_DIGEST$`, "m"));
});
