// The toolchain as a registry image: made byte for byte here (its digest follows from its content), pushed once into
// a repository, pinned by digest, and pulled by BuildKit through a `docker-image://REPO@sha256:...` named context.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import {
  elfArch,
  isPinned,
  makeToolchainImage,
  pushToolchain,
  resolveToolchain,
  toolchainTag,
  toolchainTop,
  LAYER_MEDIA_TYPE,
  type ToolchainImage,
} from "../../src/toolchain/image.js";
import { RegistryClient, MEDIA_TYPES } from "../../src/registry/index.js";
import { UserError } from "../../src/diagnostics.js";
import { stackUp, uniqueRepo } from "../builder/support.js";
import { repoRoot } from "../support/paths.js";

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

test("the image is content-addressed: the same binaries give the same bytes; manifest → config → layer", async () => {
  const a = await makeToolchainImage();
  const b = await makeToolchainImage();
  assert.equal(a.digest, b.digest);
  assert.ok(a.manifest.equals(b.manifest) && a.config.equals(b.config) && a.layer.equals(b.layer));
  assert.equal(a.platform, `linux/${elfArch("/bin/bash-static")}`);
  assert.equal(a.digest, sha(a.manifest));
  const m = JSON.parse(a.manifest.toString());
  assert.equal(m.mediaType, MEDIA_TYPES.ociManifest);
  assert.equal(m.config.digest, sha(a.config));
  assert.deepEqual(m.layers, [{ digest: sha(a.layer), mediaType: LAYER_MEDIA_TYPE, size: a.layer.length }]);
  const c = JSON.parse(a.config.toString());
  assert.deepEqual(c.rootfs, { diff_ids: [sha(a.layer)], type: "layers" });
  assert.equal(c.architecture, a.platform.split("/")[1]);
  assert.equal(c.created, undefined, "no time in the config: the digest depends on the content only");
  assert.equal(toolchainTag(a.digest), `toolchain-${a.digest.slice(7)}`);
});

test("several platforms: an OCI index sorted by platform, one platform: the manifest itself", () => {
  const fake = (platform: string): ToolchainImage => {
    const manifest = Buffer.from(`{"p":"${platform}"}`);
    return { platform, manifest, digest: sha(manifest), layer: Buffer.alloc(0), config: Buffer.alloc(0) };
  };
  const one = toolchainTop([fake("linux/amd64")]);
  assert.equal(one.mediaType, MEDIA_TYPES.ociManifest);
  const x = toolchainTop([fake("linux/arm64"), fake("linux/amd64")]);
  const y = toolchainTop([fake("linux/amd64"), fake("linux/arm64")]);
  assert.equal(x.digest, y.digest);
  const index = JSON.parse(x.body.toString());
  assert.equal(index.mediaType, MEDIA_TYPES.ociIndex);
  assert.deepEqual(index.manifests.map((e: { platform: { architecture: string } }) => e.platform.architecture), ["amd64", "arm64"]);
});

test("the platform comes from the ELF machine; references pinned by digest are told from tags", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "s2d-tc-"));
  try {
    const f = path.join(dir, "arm-bash");
    // an ELF header for aarch64 (e_machine 0xb7), enough for elfArch
    const h = Buffer.alloc(64);
    h.writeUInt32BE(0x7f454c46, 0);
    h[4] = 2;
    h[5] = 1;
    h.writeUInt16LE(0xb7, 18);
    writeFileSync(f, h);
    assert.equal(elfArch(f), "arm64");
    assert.equal(elfArch("/bin/busybox"), elfArch("/bin/bash-static"));
    assert.equal(isPinned("r/x@sha256:" + "a".repeat(64)), true);
    assert.equal(isPinned("r/x:latest"), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("engine: pushed once (then one HEAD), pinned by digest, a tag resolved to its digest, and BuildKit runs its bash", async (t) => {
  await stackUp();
  const client = new RegistryClient();
  const repo = uniqueRepo("toolchain");
  const image = await makeToolchainImage();
  const ref = await pushToolchain(client, repo, [image]);
  assert.equal(ref, `${repo}@${image.digest}`);
  assert.deepEqual(await client.listTags(repo), [toolchainTag(image.digest)]);
  const before = client.requestCount;
  assert.equal(await resolveToolchain({ repo, client }), ref);
  assert.equal(client.requestCount - before, 1, "already there: one HEAD");
  // a tag given is pinned through the registry; an unknown one is a located user error
  assert.equal(await resolveToolchain({ given: `${repo}:${toolchainTag(image.digest)}`, repo: "unused/x", client }), ref);
  assert.equal(await resolveToolchain({ given: ref, repo: "unused/x", client }), ref);
  await assert.rejects(resolveToolchain({ given: `${repo}:nope`, repo, client }), (e: unknown) => e instanceof UserError && /no such image/.test(e.message));
  // two hosts pushing it into a new repo at once: both get the same reference
  const fresh = uniqueRepo("toolchain");
  const [x, y] = await Promise.all([pushToolchain(new RegistryClient(), fresh, [image]), pushToolchain(new RegistryClient(), fresh, [image])]);
  assert.equal(x, `${fresh}@${image.digest}`);
  assert.equal(y, x);

  const ctx = mkdtempSync(path.join(tmpdir(), "s2d-tc-build-"));
  t.after(() => rmSync(ctx, { recursive: true, force: true }));
  writeFileSync(
    path.join(ctx, "Dockerfile"),
    "FROM stapel2docker/base-busybox:latest\n" +
      `RUN --mount=type=bind,from=stapel-toolchain,source=/.stapel,target=/.stapel /.stapel/bin/bash -c 'echo "ran ${repo} $BASH_VERSION"'\n`,
  );
  const r = spawnSync("docker", ["buildx", "build", "--progress=plain", "--build-context", `stapel-toolchain=docker-image://${ref}`, ctx], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`ran ${repo.replace(/[.]/g, "\\.")} 5\\.`));
});


test("engine: `toolchain --push REPO` prints the pinned reference, `--digest` its digest; `--also DIR` makes an index", async () => {
  await stackUp();
  const cli = path.join(repoRoot, "dist", "src", "cli", "main.js");
  const repo = uniqueRepo("toolchain-cli");
  const digest = spawnSync(process.execPath, [cli, "toolchain", "--digest"], { encoding: "utf8" });
  assert.equal(digest.status, 0, digest.stderr);
  const pushed = spawnSync(process.execPath, [cli, "toolchain", "--push", repo], { encoding: "utf8" });
  assert.equal(pushed.status, 0, pushed.stderr);
  assert.equal(pushed.stdout.trim(), `${repo}@${digest.stdout.trim()}`);
  assert.ok(await new RegistryClient().headManifest(pushed.stdout.trim()));
  const arm64 = path.join(process.env.STAPEL2DOCKER_STACK_DIR ?? "/var/lib/stapel2docker-stack", "arm64", "root");
  if (!existsSync(path.join(arm64, "bin", "busybox"))) return; // made by up.sh --hosts (test/builder/platform.test.ts)
  const both = spawnSync(process.execPath, [cli, "toolchain", "--push", repo, "--also", arm64], { encoding: "utf8" });
  assert.equal(both.status, 0, both.stderr);
  const index = await new RegistryClient().getManifest(both.stdout.trim());
  assert.equal(index.mediaType, MEDIA_TYPES.ociIndex);
  assert.deepEqual(index.json.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture), ["amd64", "arm64"]);
});

test("compile pins this machine's toolchain by digest in --repo: no local-only reference in the generated files", async (t) => {
  const cli = path.join(repoRoot, "dist", "src", "cli", "main.js");
  const dir = mkdtempSync(path.join(tmpdir(), "s2d-tc-compile-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, "werf.yaml"), "project: tc\nconfigVersion: 1\n---\nimage: app\nfrom: alpine:3.20\nshell:\n  install:\n  - echo hi\n");
  const digest = spawnSync(process.execPath, [cli, "toolchain", "--digest"], { encoding: "utf8" }).stdout.trim();
  const r = spawnSync(process.execPath, [cli, "compile", "--dir", dir, "--repo", "registry.example.com/team/tc"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /toolchain --push registry\.example\.com\/team\/tc/);
  const out = path.join(dir, ".stapel2docker");
  const bake = JSON.parse(readFileSync(path.join(out, "docker-bake.json"), "utf8"));
  const contexts = Object.values(bake.target as Record<string, { contexts?: Record<string, string> }>).map((x) => x.contexts?.["stapel-toolchain"]).filter(Boolean);
  assert.ok(contexts.length > 0);
  for (const c of contexts) assert.equal(c, `docker-image://registry.example.com/team/tc@${digest}`);
  for (const f of ["Dockerfile", "docker-bake.json", "build.sh"]) assert.doesNotMatch(readFileSync(path.join(out, f), "utf8"), /stapel2docker\/toolchain/, f);
});
