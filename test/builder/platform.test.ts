// Multi-platform builds for real (up.sh --hosts): dockerd "c" with the containerd image store builds a Stapel image
// for linux/amd64 and linux/arm64 (arm64 RUNs through qemu-user-static in binfmt_misc), each stage pushed as an index,
// the final tag an index; the arm64 image runs and says aarch64. The toolchain is an index of both platforms.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { buildProject, type BuildOptions, type BuildReport } from "../../src/builder/index.js";
import { planProject } from "../../src/plan/plan.js";
import { MEDIA_TYPES, RegistryClient } from "../../src/registry/index.js";
import { UserError } from "../../src/diagnostics.js";
import { debianBinaries, makeToolchainImage, pushToolchain } from "../../src/toolchain/image.js";
import { tempDir } from "../git/gitFixture.js";
import { makeProject, run, uniqueRepo } from "./support.js";
import { repoRoot } from "../support/paths.js";

const STATE = process.env.STAPEL2DOCKER_STACK_DIR ?? "/var/lib/stapel2docker-stack";
const HOST_C = `unix://${path.join(STATE, "run", "dockerd-c.sock")}`;
const ARM64_ROOT = path.join(STATE, "arm64", "root");
const BASE = "127.0.0.1:5000/stapel2docker/base-busybox:multi";

const work = tempDir("platform");
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
const lockDir = path.join(work, "locks");
let dockerC = "";
let toolchain = "";

before(async () => {
  await run("bash", [path.join(repoRoot, "scripts/stack/up.sh"), "--hosts"], { timeoutMs: 900_000 });
  dockerC = path.join(work, "docker-c");
  writeFileSync(dockerC, `#!/bin/sh\nDOCKER_HOST='${HOST_C}' exec docker "$@"\n`);
  chmodSync(dockerC, 0o755);
  // the toolchain of both platforms: this machine's binaries and Debian's arm64 ones (an OCI index)
  toolchain = await pushToolchain(new RegistryClient(), uniqueRepo("toolchain"), [await makeToolchainImage(), await makeToolchainImage(debianBinaries(ARM64_ROOT))]);
});

const WERF = (platform: string) => `project: multi
configVersion: 1
---
image: app
from: ${BASE}
${platform}
shell:
  install:
  - uname -m > /arch.txt
  setup:
  - echo "built for $(cat /arch.txt)" > /setup.txt
`;

function build(dir: string, repo: string, more: Partial<BuildOptions> = {}): Promise<BuildReport> {
  return buildProject({ dir, repo, environ: {}, lockDir, docker: dockerC, toolchain, buildOutput: "ignore", log: () => {}, ...more });
}

test("platform: [linux/amd64, linux/arm64]: every stage and the final tag are indexes; the arm64 image runs as aarch64", async (t) => {
  const p = makeProject(WERF("platform: [linux/amd64, linux/arm64]"));
  t.after(() => p.cleanup());
  const repo = uniqueRepo("multi");
  const r = await build(p.dir, repo);
  const client = new RegistryClient();
  const final = await client.getManifest(r.images[0].tags[0]);
  assert.ok([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList].includes(final.mediaType as never), final.mediaType);
  const platforms = (final.json.manifests as { platform: { architecture: string } }[]).map((m) => m.platform.architecture).filter((a) => a !== "unknown");
  assert.deepEqual(platforms.sort(), ["amd64", "arm64"]);
  for (const s of r.images[0].stages) assert.ok((await client.getManifest(s.tag)).json.manifests, `${s.stage} is stored as an index`);
  assert.equal((await run("docker", ["run", "--rm", "--pull", "always", "--platform", "linux/arm64", r.images[0].tags[0], "uname", "-m"])).trim(), "aarch64");
  assert.equal((await run("docker", ["run", "--rm", "--pull", "always", "--platform", "linux/arm64", r.images[0].tags[0], "cat", "/setup.txt"])).trim(), "built for aarch64");
  assert.equal((await run("docker", ["run", "--rm", "--pull", "always", "--platform", "linux/amd64", r.images[0].tags[0], "cat", "/setup.txt"])).trim(), "built for x86_64");
  // a second build reuses every stage
  const again = await build(p.dir, repo);
  assert.equal(again.bake, false);
});

test("the platform is part of the digest: --platform, werf.yaml platform and meta build.platform", async (t) => {
  const a = makeProject(WERF("platform: [linux/amd64, linux/arm64]"));
  const b = makeProject(WERF("").replace("configVersion: 1\n", "configVersion: 1\nbuild:\n  platform: [linux/amd64, linux/arm64]\n"));
  const c = makeProject(WERF(""));
  t.after(() => (a.cleanup(), b.cleanup(), c.cleanup()));
  const digest = async (dir: string, platform?: string[]) => (await planProject({ dir, environ: {}, ...(platform ? { platform } : {}) })).images[0].digest;
  const both = await digest(a.dir);
  assert.equal(await digest(b.dir), both, "meta build.platform = the image's platform");
  assert.notEqual(await digest(c.dir), both);
  assert.equal(await digest(c.dir, ["linux/amd64", "linux/arm64"]), both, "--platform = werf.yaml's");
  assert.notEqual(await digest(a.dir, ["linux/arm64"]), both, "--platform overrides werf.yaml's");
  assert.equal((await planProject({ dir: a.dir, environ: {}, platform: ["linux/arm64"] })).images[0].platform.join(), "linux/arm64");
});

test("several platforms on the classic docker driver: the error names the containerd image store; no arm64 toolchain: says how to push one", async (t) => {
  const p = makeProject(WERF("platform: [linux/amd64, linux/arm64]"));
  t.after(() => p.cleanup());
  const repo = uniqueRepo("multi");
  await assert.rejects(build(p.dir, repo, { docker: "docker" }), (e: unknown) => e instanceof UserError && /containerd-snapshotter/.test(e.message));
  await assert.rejects(build(p.dir, repo, { toolchain: undefined }), (e: unknown) => e instanceof UserError && /toolchain --push REPO --also DIR/.test(e.message));
});
