// Several build hosts on one registry, for real: the default dockerd is host A, the stack's dockerd "b" (up.sh
// --hosts: its own image store, BuildKit and socket) is host B. Each host has its own lock folder, as separate
// machines would: the registry is all they share.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { buildProject, indexStageTags, type BuildOptions, type BuildReport } from "../../src/builder/index.js";
import { UserError } from "../../src/diagnostics.js";
import { RegistryClient } from "../../src/registry/index.js";
import { tempDir, writeFile } from "../git/gitFixture.js";
import { makeProject, run, sh, uniqueRepo, WERF_YAML } from "./support.js";
import { repoRoot } from "../support/paths.js";
import { randomBytes } from "node:crypto";

const STACK_RUN = path.join(process.env.STAPEL2DOCKER_STACK_DIR ?? "/var/lib/stapel2docker-stack", "run");
export const HOST_B = `unix://${path.join(STACK_RUN, "dockerd-b.sock")}`;

const work = tempDir("hosts");
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

/** A `docker` command that talks to the daemon at `host`. */
function dockerFor(host: string, name: string): string {
  const f = path.join(work, `docker-${name}`);
  writeFileSync(f, `#!/bin/sh\nDOCKER_HOST='${host}' exec docker "$@"\n`);
  chmodSync(f, 0o755);
  return f;
}

let base = "";
let dockerB = "";

before(async () => {
  await run("bash", [path.join(repoRoot, "scripts/stack/up.sh"), "--hosts"], { timeoutMs: 900_000 });
  dockerB = dockerFor(HOST_B, "b");
  // host B starts empty: no image, no BuildKit cache (only these tests use it)
  await run(dockerB, ["system", "prune", "-af"]);
  await run(dockerB, ["buildx", "prune", "-af"]);
  // the base image in the registry (host B has no local image to start from)
  base = `${uniqueRepo("base")}:busybox`;
  await run("docker", ["tag", "stapel2docker/base-busybox:latest", base]);
  await run("docker", ["push", "-q", base]);
  await run("docker", ["rmi", base]);
});

function build(dir: string, repo: string, host: "a" | "b", more: Partial<BuildOptions> = {}): Promise<BuildReport> {
  return buildProject({
    dir,
    repo,
    environ: {},
    docker: host === "a" ? "docker" : dockerB,
    lockDir: path.join(work, `locks-${host}`),
    buildOutput: "ignore",
    log: () => {},
    ...more,
  });
}

function statusOf(r: BuildReport): Record<string, string> {
  return Object.fromEntries(r.images[0].stages.map((s) => [s.stage, s.status]));
}

function project() {
  return makeProject(WERF_YAML.replace("from: stapel2docker/base-busybox:latest", `from: ${base}`));
}

test("host B with an empty store builds after host A: only the changed stages, the toolchain from the registry", async (t) => {
  const p = project();
  t.after(() => p.cleanup());
  const repo = uniqueRepo("app");
  const a = await build(p.dir, repo, "a");
  assert.ok(Object.values(statusOf(a)).every((s) => s === "built"));
  assert.equal((await run(dockerB, ["image", "ls", "-q"])).trim(), "", "host B has no image yet");

  writeFile(p.dir, "src/deps/list.txt", "dep-2\n");
  p.commit("masked edit");
  const b = await build(p.dir, repo, "b");
  assert.deepEqual(statusOf(b), { from: "reused", beforeInstall: "reused", gitArchive: "reused", install: "reused", beforeSetup: "built", setup: "built" });
  for (const s of b.images[0].stages.filter((x) => x.status === "reused")) {
    assert.equal(s.tag, a.images[0].stages.find((x) => x.stage === s.stage)!.tag, `${s.stage}: host A's tag`);
  }
  assert.equal(await sh(b.images[0].tags[0], "cat /before-setup-saw.txt /install-saw.txt | tr '\\n' ' '"), "dep-2 bin deps lib link old readme.txt ");
  // host B never had a local toolchain image: the bake pulled it by digest from the repo
  const imagesB = await run(dockerB, ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]);
  assert.ok(!/stapel2docker\/toolchain/.test(imagesB), imagesB);
  const tags = await new RegistryClient().listTags(repo);
  assert.equal(tags.filter((x) => x.startsWith("toolchain-")).length, 1, "the toolchain is in the repo, once");
});

test("hosts A and B build the same new commit at once: both succeed, every digest resolves to one oldest tag", async (t) => {
  const p = project();
  t.after(() => p.cleanup());
  const repo = uniqueRepo("app");
  await build(p.dir, repo, "a");
  // a new commit that rebuilds beforeSetup and setup; the salt makes the setup command new to both BuildKits
  writeFile(p.dir, "werf.yaml", WERF_YAML.replace("from: stapel2docker/base-busybox:latest", `from: ${base}`).replace("date +%s%N > /setup-ran.txt", `date +%s%N > /setup-ran.txt; true ${randomBytes(4).toString("hex")}`));
  writeFile(p.dir, "src/deps/list.txt", "dep-3\n");
  p.commit("new commit");
  const [ra, rb] = await Promise.all([build(p.dir, repo, "a"), build(p.dir, repo, "b")]);
  assert.ok(ra.bake && rb.bake, "both hosts built (no lock is shared between hosts)");
  assert.equal(ra.images[0].digest, rb.images[0].digest);
  assert.deepEqual(ra.images[0].stages.map((s) => s.digest), rb.images[0].stages.map((s) => s.digest));

  const client = new RegistryClient();
  const index = indexStageTags(await client.listTags(repo));
  // nothing partial: every stage tag of either build is a complete image in the registry
  for (const r of [ra, rb]) for (const s of r.images[0].stages) await client.getImageConfig(s.tag);
  // a third build finds everything and takes the oldest tag of every digest
  const again = await build(p.dir, repo, "a");
  assert.equal(again.bake, false);
  for (const s of again.images[0].stages) {
    const oldest = index.get(s.digest)![0].tag;
    assert.equal(s.tag, `${repo}:${oldest}`, `${s.stage} resolves to its oldest tag`);
    assert.equal(s.status, "reused");
  }
  assert.equal(await sh(again.images[0].tags[0], "cat /before-setup-saw.txt"), "dep-3\n");
});

test("--builder NAME reaches buildx (BUILDX_BUILDER too); a context's docker-driver builder and an unknown one say what to do", async (t) => {
  const ctx = "s2d-host-b";
  try {
    await run("docker", ["context", "inspect", ctx]);
  } catch {
    await run("docker", ["context", "create", ctx, "--docker", `host=${HOST_B}`]).catch(() => run("docker", ["context", "inspect", ctx]));
  }
  const p = project();
  t.after(() => p.cleanup());
  const repo = uniqueRepo("app");
  // the docker driver's builder of another context: buildx refuses it outside that context, the hint says how
  await assert.rejects(build(p.dir, repo, "a", { builder: ctx }), (e: unknown) => e instanceof UserError && /DOCKER_CONTEXT=s2d-host-b/.test(e.message));
  // from that context, the same --builder builds on host B
  const inCtx = path.join(work, "docker-ctx-b");
  writeFileSync(inCtx, `#!/bin/sh\nDOCKER_CONTEXT='${ctx}' exec docker "$@"\n`);
  chmodSync(inCtx, 0o755);
  const r = await build(p.dir, repo, "a", { builder: ctx, docker: inCtx });
  assert.ok(r.images[0].stages.every((s) => s.status === "built"));
  const listed = async (docker: string) => (await run(docker, ["image", "ls", "--format", "{{.Repository}}"])).split("\n");
  assert.ok((await listed(dockerB)).includes(repo), "host B built it");
  assert.ok(!(await listed("docker")).includes(repo), "the default daemon did not");
  // an unknown builder, by --builder or by BUILDX_BUILDER (buildx reads it): buildx's words, and what to do
  writeFile(p.dir, "src/deps/list.txt", "dep-9\n");
  p.commit("edit");
  const unknown = (e: unknown) => e instanceof UserError && /docker buildx ls/.test(e.message) && /no builder "s2d-no-such-builder"/.test(e.message);
  await assert.rejects(build(p.dir, repo, "a", { builder: "s2d-no-such-builder" }), unknown);
  const viaEnv = path.join(work, "docker-env-builder");
  writeFileSync(viaEnv, `#!/bin/sh\nBUILDX_BUILDER=s2d-no-such-builder exec docker "$@"\n`);
  chmodSync(viaEnv, 0o755);
  await assert.rejects(build(p.dir, repo, "a", { docker: viaEnv }), unknown);
});
