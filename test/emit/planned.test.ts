// The emitter on plans from the real planner (src/plan/plan.ts) for a git repo made in a temp dir.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { planProject } from "../../src/plan/plan.js";
import { emitProject, renderDockerfile } from "../../src/emit/index.js";
import { commitAll, git, tempDir, writeFile } from "../git/gitFixture.js";
import { dockerfileStages, graphProblems } from "./dockerfileGraph.js";

const WERF_YAML = `project: demo
configVersion: 1
---
artifact: builder
from: stapel2docker/base-busybox:latest
shell:
  install:
  - mkdir -p /out/sub && echo A > /out/a.txt && echo B > /out/sub/b.log
---
image: app
from: stapel2docker/base-busybox:latest
git:
- add: /app
  to: /srv/app
  owner: nobody
import:
- artifact: builder
  add: /out
  to: /flt
  includePaths: ["**/*.log"]
  after: setup
shell:
  install:
  - echo "$WERF_COMMIT_HASH" > /commit.txt
docker:
  ENTRYPOINT: ["/bin/cat"]
`;

test("planned project: stage graph resolves, output identical in two clones", async () => {
  const a = tempDir("emit-plan");
  const b = tempDir("emit-clone");
  try {
    git(a, "init", "-q", "-b", "main");
    writeFile(a, "werf.yaml", WERF_YAML);
    writeFile(a, "app/main.sh", "echo hi\n", 0o755);
    commitAll(a, "init");
    git(b, "clone", "-q", a, "c");
    const clone = path.join(b, "c");
    const texts: string[] = [];
    for (const dir of [a, clone]) {
      const plan = await planProject({ dir, environ: {} });
      const text = renderDockerfile(plan);
      assert.deepEqual(graphProblems(dockerfileStages(text), ["stapel-toolchain"], (r) => r.startsWith("stapel2docker/")), []);
      const r = await emitProject(plan, { out: path.join(dir, ".stapel2docker") });
      assert.deepEqual(r.targets, ["app"]);
      texts.push(["Dockerfile", "docker-bake.json", "build.sh", "commit.env"].map((f) => readFileSync(path.join(r.out, f), "utf8")).join("\0"));
      texts.push(readFileSync(path.join(r.out, "context", plan.images[1].stages.find((s) => s.name === "gitArchive")!.body.kind === "gitArchive" ? (plan.images[1].stages.find((s) => s.name === "gitArchive")!.body as { archives: { file: string }[] }).archives[0].file : "missing")).toString("base64"));
    }
    assert.equal(texts[0], texts[2]);
    assert.equal(texts[1], texts[3]);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});
