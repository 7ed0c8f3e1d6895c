import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { META, load, sharedDir, sharedMissing } from "./helpers.js";

function corpus(folder: string) {
  const text = fs.readFileSync(path.join(sharedDir, "corpus", folder, "werf.yaml"), "utf8");
  return load(text);
}

test("string-or-list fields are always lists; defaults are filled in", () => {
  const cfg = load(`${META}image: app\nfrom: alpine\ngit:\n- to: /app\n  includePaths: src\n  stageDependencies:\n    install: package.json\n    setup: ['**/*']\nshell:\n  install: npm ci\n  setup:\n  - npm run build\n  - npm prune\ndocker:\n  EXPOSE: "80"\n  CMD: [node, server.js]\n  ENTRYPOINT: /entry.sh\n`);
  const img = cfg.images[0]!;
  assert.deepEqual(img.git[0]!.includePaths, ["src"]);
  assert.equal(img.git[0]!.add, "/");
  assert.equal(img.git[0]!.local, true);
  assert.deepEqual(img.git[0]!.stageDependencies, { install: ["package.json"], beforeSetup: [], setup: ["**/*"] });
  assert.deepEqual(img.shell!.install.map((c) => c.command), ["npm ci"]);
  assert.deepEqual(img.shell!.setup.map((c) => [c.command, c.pos.line]), [["npm run build", 15], ["npm prune", 16]]);
  assert.equal(img.shell!.stagePos.setup?.line, 14);
  assert.deepEqual(img.docker!.expose, ["80"]);
  assert.deepEqual(img.docker!.cmd, ["node", "server.js"]);
  assert.equal(img.docker!.entrypoint, "/entry.sh");
  assert.equal(img.final, true);
  assert.deepEqual(img.pos, { file: "werf.yaml", line: 4, col: 1 });
});

test("image lists, nameless images, v1.1 keys, `from` naming another image", () => {
  const cfg = load(`${META}image: [api, worker]\nfrom: base\n---\nimage: base\nfrom: alpine:3.19\n---\nartifact: tools\nfromImageArtifact: builder\nasLayers: true\n---\nartifact: builder\nfrom: golang\nfromLatest: true\nherebyIAdmitThatFromLatestMightBreakReproducibility: true\n`);
  assert.deepEqual(cfg.images.map((i) => `${i.kind}:${i.name}`), ["image:api", "image:worker", "image:base", "artifact:tools", "artifact:builder"]);
  assert.equal(cfg.images[0]!.fromImage, "base");
  assert.equal(cfg.images[0]!.from, undefined);
  assert.equal(cfg.images[2]!.from, "alpine:3.19");
  assert.equal(cfg.images[3]!.fromArtifact, "builder");
  assert.equal(cfg.images[3]!.asLayers, true);
  assert.equal(cfg.images[3]!.final, false);
  assert.equal(load(`${META}image: ~\nfrom: alpine\n`).images[0]!.name, "");
});

test("imports and dependencies are normalised", () => {
  const cfg = load(`${META}artifact: build\nfrom: golang\n---\nimage: app\nfrom: alpine\nimport:\n- artifact: build\n  add: /out/app\n  after: setup\n  stage: install\n- image: nginx:1.25\n  add: /etc/nginx\n  to: /nginx\n  before: install\ndependencies:\n- image: build\n  before: setup\n  imports:\n  - type: ImageName\n    targetEnv: BUILD_IMAGE\n`);
  const [a, b] = cfg.images[1]!.import;
  assert.deepEqual(
    { source: a!.source, artifact: a!.artifact, external: a!.external, to: a!.to, at: a!.at, stage: a!.stage },
    { source: "build", artifact: true, external: false, to: "/out/app", at: { when: "after", stage: "setup" }, stage: "install" },
  );
  assert.equal(b!.external, true);
  assert.deepEqual(cfg.images[1]!.dependencies[0]!.at, { when: "before", stage: "setup" });
  assert.deepEqual(cfg.images[1]!.dependencies[0]!.imports, [{ type: "ImageName", targetEnv: "BUILD_IMAGE" }]);
});

test("ansible tasks keep their module, data and position", () => {
  const cfg = load(`${META}image: app\nfrom: ubuntu\nansible:\n  install:\n  - name: deps\n    apt:\n      name: [curl, git]\n      update_cache: yes\n`);
  const task = cfg.images[0]!.ansible!.install[0]!;
  assert.equal(task.module, "apt");
  assert.deepEqual(task.config, { name: "deps", apt: { name: ["curl", "git"], update_cache: true } });
  assert.equal(task.pos.line, 8);
});

test("corpus: Alignfig (images, artifact, imports, docker)", { skip: sharedMissing("corpus") }, () => {
  const cfg = corpus("Alignfig__alignfig");
  assert.equal(cfg.meta.project, "alignfig");
  assert.deepEqual(cfg.images.map((i) => i.name), ["redis", "redis_exporter", "python_base", "python_api", "golang_builder", "golang_web"]);
  const api = cfg.images[3]!;
  assert.equal(api.fromImage, "python_base");
  assert.equal(api.docker!.workdir, "/app");
  assert.deepEqual(api.git[0]!.stageDependencies.setup, ["**/*"]);
  const web = cfg.images[5]!;
  assert.deepEqual(web.import.map((i) => [i.source, i.artifact, i.add, i.to, i.at.stage]), [
    ["golang_builder", true, "/app/bin/golang_web", "/golang_web", "setup"],
    ["golang_builder", true, "/app/templates", "/templates", "setup"],
  ]);
  assert.deepEqual(cfg.images[2]!.docker!.env, { PYTHONDONTWRITEBYTECODE: "1", PYTHONUNBUFFERED: "1" });
});

test("corpus: hlf-karma (ansible) and the e2e complex fixture (Dockerfile image, remote git)", { skip: sharedMissing("corpus") }, () => {
  const karma = corpus("ANO-ID-AS-Center__hlf-karma");
  const chaincode = karma.images[0]!;
  assert.equal(chaincode.ansible!.install[0]!.module, "shell");
  assert.deepEqual(chaincode.ansible!.install[0]!.config.args, { chdir: "/app/chaincode" });

  const complex = corpus("werf__werf__test-e2e-build-_fixtures-complex-state0");
  assert.equal(complex.dockerfileImages[0]!.name, "dockerfile");
  assert.equal(complex.dockerfileImages[0]!.context, ".");
  assert.equal(complex.dockerfileImages[0]!.dependencies[1]!.imports.length, 4);
  const shellImg = complex.images.find((i) => i.name === "stapel-shell")!;
  assert.equal(shellImg.git[0]!.local, false);
  assert.equal(shellImg.git[0]!.commit, "2e68773dfca072cb81f219fc3b97ad34fe9d9f94");
  assert.equal(shellImg.shell!.beforeInstallCacheVersion, "1");
  assert.equal(shellImg.mount[0]!.type, "tmp_dir");
  assert.equal(shellImg.docker!.user, "0:0");
});
