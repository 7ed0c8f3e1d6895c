// werf's build secrets on the real engine: an env, a file and a value secret reach a Stapel RUN at
// /run/secrets/<id> and a Dockerfile image's RUN --mount=type=secret, and their values appear nowhere else:
// not in the Dockerfile, the bake file, build.sh, `plan --json`, the image's layers or its config.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { buildProject } from "../../src/builder/index.js";
import { planProject } from "../../src/plan/plan.js";
import { emitProject } from "../../src/emit/index.js";
import { planJson } from "../../src/cli/plan.js";
import { UserError } from "../../src/diagnostics.js";
import { git, tempDir, writeFile } from "../git/gitFixture.js";
import { run, sh, stackUp, uniqueRepo } from "./support.js";

before(async () => {
  await stackUp();
});

const ENV_VALUE = `env-secret-${process.pid}-7f3a`;
const FILE_VALUE = `file-secret-${process.pid}-91c2`;
const INLINE_VALUE = `inline-secret-${process.pid}-04be`;
const SALT = `${process.pid}-${Date.now()}`;

function project(): string {
  const dir = tempDir("secrets-project");
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf-giterminism.yaml", "giterminismConfigVersion: 1\nconfig:\n  secrets:\n    allowEnvVariables: [S2D_TEST_SECRET]\n");
  writeFile(dir, "werf.yaml", [
    "project: secrets",
    "configVersion: 1",
    "---",
    "image: app",
    "from: stapel2docker/base-busybox:latest",
    "secrets:",
    "- env: S2D_TEST_SECRET",
    "- id: token",
    "  src: secret.txt",
    "- id: inline",
    `  value: ${INLINE_VALUE}`,
    "shell:",
    "  install:",
    // the RUN proves it read each secret by storing a checksum, never the value; a secret does not enter
    // BuildKit's cache key, so the command is made unique per run (no layer of an earlier run is reused)
    `  - for f in S2D_TEST_SECRET token inline; do md5sum < /run/secrets/$f | cut -c1-32; done > /seen.txt; true ${SALT}`,
    "---",
    "image: web",
    // a context of its own: `context: .` would hold werf.yaml, where the `value:` is written
    "context: web",
    "dockerfile: Dockerfile",
    "secrets:",
    "- id: inline",
    `  value: ${INLINE_VALUE}`,
    "",
  ].join("\n"));
  writeFile(dir, "web/Dockerfile", `FROM stapel2docker/base-busybox:latest\nRUN --mount=type=secret,id=inline md5sum < /run/secrets/inline | cut -c1-32 > /seen.txt # ${SALT}\n`);
  writeFile(dir, "secret.txt", FILE_VALUE);
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "secrets");
  return dir;
}

const md5 = (s: string) => execFileSync("sh", ["-c", "printf %s \"$0\" | md5sum | cut -c1-32", s], { encoding: "utf8" }).trim();

/** Every regular file below `dir` whose bytes contain one of the values. */
function filesHolding(dir: string, values: string[]): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = path.join(d, e);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && values.some((v) => readFileSync(p).includes(v))) hits.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return hits.sort();
}

test("build: secrets reach the RUNs and no output, layer or config holds them", async (t) => {
  const dir = project();
  const lockDir = tempDir("secrets-locks");
  t.after(() => (rmSync(dir, { recursive: true, force: true }), rmSync(lockDir, { recursive: true, force: true })));
  const repo = uniqueRepo("secrets");
  process.env.S2D_TEST_SECRET = ENV_VALUE;
  t.after(() => delete process.env.S2D_TEST_SECRET);
  const report = await buildProject({ dir, repo, environ: {}, lockDir, buildOutput: "ignore", log: () => {} });
  const app = report.images.find((i) => i.image === "app")!.tags[0]!;
  const web = report.images.find((i) => i.image === "web")!.tags[0]!;
  assert.equal(await sh(app, "cat /seen.txt"), [ENV_VALUE, FILE_VALUE, INLINE_VALUE].map(md5).join("\n") + "\n");
  assert.equal(await sh(web, "cat /seen.txt"), md5(INLINE_VALUE) + "\n");
  // the images: every layer and the config, as `docker save` writes them
  const saved = tempDir("secrets-saved");
  t.after(() => rmSync(saved, { recursive: true, force: true }));
  await run("sh", ["-c", `docker save "$0" "$1" | tar -x -C "$2"`, app, web, saved]);
  for (const layer of readdirSync(saved, { recursive: true }).map(String).filter((f) => f.endsWith(".tar") || f.endsWith("layer.tar"))) {
    execFileSync("sh", ["-c", `mkdir -p "$0.x" && tar -x -C "$0.x" -f "$0" 2>/dev/null || true`, path.join(saved, layer)]);
  }
  assert.deepEqual(filesHolding(saved, [ENV_VALUE, FILE_VALUE, INLINE_VALUE]), [], "no layer or config holds a secret");
});

test("compile: the value secret is a private file; Dockerfile, bake file, build.sh and plan --json hold no value", async (t) => {
  const dir = project();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const plan = await planProject({ dir, environ: {} });
  assert.doesNotMatch(planJson(plan), new RegExp(INLINE_VALUE));
  const out = path.join(dir, ".stapel2docker");
  await emitProject(plan, { out });
  const bake = JSON.parse(readFileSync(path.join(out, "docker-bake.json"), "utf8"));
  assert.deepEqual(bake.target.app.secret, [
    "id=stapel-commit,src=.stapel2docker/commit.env",
    "id=S2D_TEST_SECRET,env=S2D_TEST_SECRET",
    "id=inline,src=.stapel2docker/secrets/inline",
    "id=token,src=secret.txt",
  ]);
  assert.deepEqual(bake.target.web.secret, ["id=inline,src=.stapel2docker/secrets/inline"]);
  assert.match(readFileSync(path.join(out, "Dockerfile"), "utf8"), /--mount=type=secret,id=S2D_TEST_SECRET --mount=type=secret,id=token --mount=type=secret,id=inline|--mount=type=secret,id=inline/);
  assert.deepEqual(filesHolding(out, [INLINE_VALUE]), ["secrets/inline"]);
  assert.equal(statSync(path.join(out, "secrets/inline")).mode & 0o777, 0o600);
  // built with build.sh: the secrets reach the RUN
  process.env.S2D_TEST_SECRET = ENV_VALUE;
  t.after(() => delete process.env.S2D_TEST_SECRET);
  await run(path.join(out, "build.sh"), [], { cwd: dir, env: process.env });
  const tag = bake.target.app.tags[0];
  assert.equal(await run("docker", ["run", "--rm", tag, "cat", "/seen.txt"]), [ENV_VALUE, FILE_VALUE, INLINE_VALUE].map(md5).join("\n") + "\n");
});

test("refusals: env not allowed, a missing file, an unset variable at build", async (t) => {
  const dir = project();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFile(dir, "werf-giterminism.yaml", "giterminismConfigVersion: 1\n");
  git(dir, "commit", "-qam", "no allow-list");
  await assert.rejects(planProject({ dir, environ: {} }), (e: unknown) =>
    e instanceof UserError && /^werf\.yaml:7:3: secret env "S2D_TEST_SECRET" not allowed by giterminism/m.test(e.message));
  git(dir, "checkout", "-q", "HEAD~1", "--", "werf-giterminism.yaml");
  git(dir, "rm", "-q", "secret.txt");
  git(dir, "commit", "-qam", "file gone");
  await assert.rejects(planProject({ dir, environ: {} }), (e: unknown) => e instanceof UserError && /secret src "secret\.txt": no such file/.test(e.message));
  git(dir, "checkout", "-q", "HEAD~1", "--", "secret.txt");
  git(dir, "commit", "-qam", "file back");
  delete process.env.S2D_TEST_SECRET;
  await assert.rejects(buildProject({ dir, repo: uniqueRepo("secrets"), environ: {}, buildOutput: "ignore", log: () => {} }), (e: unknown) =>
    e instanceof UserError && /secret "S2D_TEST_SECRET": the environment variable S2D_TEST_SECRET is not set/.test(e.message));
});
