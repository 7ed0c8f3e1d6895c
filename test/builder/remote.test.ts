// Builds on a buildx builder of the `remote` driver, for real: "s2d-remote" of `up.sh --hosts` speaks BuildKit's gRPC
// API to dockerd "c"'s embedded BuildKit (containerd image store) through scripts/stack/buildkit-proxy.mjs, as it
// would to a standalone buildkitd: buildx knows no docker daemon behind it, so nothing local is visible through the
// driver and BuildKit pushes by itself. The registry is reached through a recording proxy (test/support), which
// shows what the builder pulled and pushed. Also: a remote builder in front of a classic-store daemon (no `image`
// exporter) and a local-only base image fail with a hint that names the driver and the setting.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { buildProject, type BuildOptions, type BuildReport } from "../../src/builder/index.js";
import { UserError } from "../../src/diagnostics.js";
import { RegistryClient } from "../../src/registry/index.js";
import { debianBinaries, makeToolchainImage, pushToolchain } from "../../src/toolchain/image.js";
import { tempDir, writeFile } from "../git/gitFixture.js";
import { startRegistryProxy, type RegistryProxy } from "../support/registry-proxy.js";
import { repoRoot } from "../support/paths.js";
import { makeProject, run, sh, WERF_YAML } from "./support.js";

const REMOTE = "s2d-remote";
const STACK_RUN = path.join(process.env.STAPEL2DOCKER_STACK_DIR ?? "/var/lib/stapel2docker-stack", "run");
const HOST_C = `unix://${path.join(STACK_RUN, "dockerd-c.sock")}`;
const BASE = "127.0.0.1:5000/stapel2docker/base-busybox:multi";
const cli = path.join(repoRoot, "dist/src/cli/main.js");

const work = tempDir("remote");
let proxy: RegistryProxy;

before(async () => {
  // dockerd c, the BuildKit proxy and the s2d-remote builder (scripts/stack/remote-builder.sh)
  await run("bash", [path.join(repoRoot, "scripts/stack/up.sh"), "--hosts"], { timeoutMs: 900_000 });
  proxy = await startRegistryProxy();
});
after(async () => {
  await proxy?.close();
  rmSync(work, { recursive: true, force: true });
});

/** A repository of its own, reached through the recording proxy (the builder reaches it too: 127.0.0.0/8). */
function proxiedRepo(): { repo: string; repoPath: string } {
  const repoPath = `s2d-test-${randomBytes(5).toString("hex")}/app`;
  return { repo: `${proxy.host}/${repoPath}`, repoPath };
}

function project() {
  return makeProject(WERF_YAML.replace("from: stapel2docker/base-busybox:latest", `from: ${BASE}`));
}

function build(dir: string, repo: string, more: Partial<BuildOptions> = {}): Promise<BuildReport> {
  return buildProject({ dir, repo, environ: {}, builder: REMOTE, lockDir: path.join(work, "locks"), buildOutput: "ignore", log: () => {}, ...more });
}

function statusOf(r: BuildReport): Record<string, string> {
  return Object.fromEntries(r.images[0].stages.map((s) => [s.stage, s.status]));
}

/** The repositories:tags of a daemon's image store. */
async function imageRefs(host?: string): Promise<string[]> {
  const out = await run("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], { env: host ? { ...process.env, DOCKER_HOST: host } : process.env });
  return out.split("\n").filter(Boolean);
}

test("--builder s2d-remote (remote driver): the toolchain pulled by digest, stages pushed by BuildKit, a second build builds nothing, the image runs", async (t) => {
  const p = project();
  t.after(() => p.cleanup());
  const { repo, repoPath } = proxiedRepo();
  const seen0 = proxy.seen.length;
  const first = await build(p.dir, repo);
  assert.ok(first.bake, "it baked");
  assert.ok(Object.values(statusOf(first)).every((s) => s === "built"), JSON.stringify(statusOf(first)));

  const seen = proxy.seen.slice(seen0);
  const tags = await new RegistryClient().listTags(repo);
  const toolchain = tags.filter((x) => x.startsWith("toolchain-"));
  assert.equal(toolchain.length, 1, "the toolchain was pushed into the repo once");
  const toolchainDigest = `sha256:${toolchain[0].slice("toolchain-".length)}`;
  // the builder (not stapel2docker's client) fetched the toolchain's manifest by digest from the registry
  assert.ok(
    seen.some((s) => !s.ours && (s.method === "GET" || s.method === "HEAD") && s.path === `/v2/${repoPath}/manifests/${toolchainDigest}`),
    `the builder read ${toolchainDigest}: ${JSON.stringify(seen.filter((s) => !s.ours).map((s) => `${s.method} ${s.path}`))}`,
  );
  // and BuildKit itself pushed every stage's manifest under its tag
  for (const s of first.images[0].stages) {
    const tag = s.tag.slice(s.tag.lastIndexOf(":") + 1);
    assert.ok(seen.some((x) => !x.ours && x.method === "PUT" && x.path === `/v2/${repoPath}/manifests/${tag}` && x.status === 201), `${s.stage} pushed by the builder`);
  }
  // built by dockerd c's BuildKit: its store names the stages; the default daemon has none of them
  const refsC = await imageRefs(HOST_C);
  assert.ok(refsC.some((r) => r.startsWith(`${repo}:`)), "dockerd c built them");
  assert.ok(!(await imageRefs()).some((r) => r.startsWith(`${repo}:`)), "nothing was loaded into the default daemon");

  const again = await build(p.dir, repo);
  assert.equal(again.bake, false, "the second build bakes nothing");
  assert.ok(Object.values(statusOf(again)).every((s) => s === "reused"));
  assert.deepEqual(again.images[0].stages.map((s) => s.tag), first.images[0].stages.map((s) => s.tag));

  // the final tag: pulled from the registry by the default daemon and run
  assert.equal(await sh(first.images[0].tags[0], "cat /before-install.txt /before-setup-saw.txt"), "before-install\ndep-1\n");
});

test("BUILDX_BUILDER=s2d-remote: the CLI's build builds only the changed stages on the remote builder, `run` runs the image", async (t) => {
  const p = project();
  t.after(() => p.cleanup());
  const { repo } = proxiedRepo();
  const env = { ...process.env, BUILDX_BUILDER: REMOTE, STAPEL2DOCKER_LOCK_DIR: path.join(work, "locks") };
  /** The report table's rows of image app: stage → [status, tag]. */
  const cliBuild = async () => {
    const out = await run("node", [cli, "build", "--repo", repo, "--progress", "quiet"], { cwd: p.dir, env });
    return new Map([...out.matchAll(/^app +(\w+) +(built|reused) +[\d.]+ +(\S+)$/gm)].map((m) => [m[1], { status: m[2], tag: `${repo}:${m[3]}` }]));
  };
  const first = await cliBuild();
  assert.equal(first.size, 6);
  assert.ok([...first.values()].every((s) => s.status === "built"), JSON.stringify([...first]));

  writeFile(p.dir, "src/deps/list.txt", "dep-2\n");
  p.commit("masked edit");
  const second = await cliBuild();
  assert.deepEqual(Object.fromEntries([...second].map(([k, v]) => [k, v.status])), { from: "reused", beforeInstall: "reused", gitArchive: "reused", install: "reused", beforeSetup: "built", setup: "built" });
  // the new stages were built by dockerd c (BUILDX_BUILDER reached buildx), not by the default daemon's BuildKit
  const refsC = await imageRefs(HOST_C);
  for (const [stage, s] of second) if (s.status === "built") assert.ok(refsC.includes(s.tag), `${stage} built on dockerd c`);
  assert.ok(!(await imageRefs()).some((r) => r.startsWith(`${repo}:`)));

  // `run`: builds nothing more, then docker run (the default daemon pulls the final tag)
  const out = await run("node", [cli, "run", "app", "--repo", repo, "--quiet", "--docker-options", "--rm --pull always", "--", "cat", "/before-setup-saw.txt"], { cwd: p.dir, env });
  assert.equal(out, "dep-2\n");

  // `run --builder` (no BUILDX_BUILDER): the changed stages are built by dockerd c too, then the image runs
  writeFile(p.dir, "src/deps/list.txt", "dep-3\n");
  p.commit("another masked edit");
  const { BUILDX_BUILDER: _, ...noBuilderEnv } = env;
  const out3 = await run("node", [cli, "run", "app", "--repo", repo, "--builder", REMOTE, "--docker-options", "--rm --pull always", "--", "cat", "/before-setup-saw.txt"], { cwd: p.dir, env: noBuilderEnv });
  assert.equal(out3, "dep-3\n");
  const refsC3 = await imageRefs(HOST_C);
  const third = await cliBuild();
  for (const [stage, s] of third) if (stage === "beforeSetup" || stage === "setup") assert.ok(refsC3.includes(s.tag), `${stage} built on dockerd c by run --builder`);
  assert.ok(!(await imageRefs()).some((r) => r.startsWith(`${repo}:`) && !r.startsWith(`${repo}:app-`)), "no stage built by the default daemon");
});

test("no docker daemon where stapel2docker runs (a CI job with only a remote BuildKit): build --builder s2d-remote builds and pushes", async (t) => {
  const p = project();
  t.after(() => p.cleanup());
  const { repo } = proxiedRepo();
  // DOCKER_HOST names no daemon: buildx's remote driver needs none; the registry is all the build uses besides
  const env = { ...process.env, DOCKER_HOST: `unix://${path.join(work, "no-daemon.sock")}`, STAPEL2DOCKER_LOCK_DIR: path.join(work, "locks") };
  const out = await run("node", [cli, "build", "--builder", REMOTE, "--repo", repo, "--quiet"], { cwd: p.dir, env });
  const tag = out.trim();
  assert.match(tag, new RegExp(`^${repo.replace(/[.]/g, "\\.")}:app-[0-9a-f]{56}$`));
  // the stages (the final tag is written registry-side, over the last stage) were built by dockerd c
  assert.ok((await imageRefs(HOST_C)).some((r) => r.startsWith(`${repo}:`)), "built by dockerd c");
  assert.equal(await sh(tag, "cat /before-install.txt"), "before-install\n");
});

test("a base image in the registry only: its USER and WORKDIR are read from the registry (the remote builder pulls it) and restored after the stages", async (t) => {
  // made on the default daemon, pushed, then removed from it: only the registry has it
  const base = `127.0.0.1:5000/s2d-test-${randomBytes(5).toString("hex")}/base:user`;
  const ctx = path.join(work, `base-${randomBytes(4).toString("hex")}`);
  writeFile(ctx, "Dockerfile", "FROM stapel2docker/base-busybox:latest\nUSER 1000\nWORKDIR /srv\n");
  await run("docker", ["build", "-q", "-t", base, ctx]);
  await run("docker", ["push", "-q", base]);
  await run("docker", ["image", "rm", base]);
  const p = makeProject(`project: registry-base\nconfigVersion: 1\n---\nimage: app\nfrom: ${base}\nshell:\n  install:\n  - id -u > /install-uid.txt\n`);
  t.after(() => p.cleanup());
  const { repo } = proxiedRepo();
  const lines: string[] = [];
  const r = await build(p.dir, repo, { log: (l) => lines.push(l) });
  assert.ok(!lines.some((l) => /assum/i.test(l)), lines.join("\n"));
  const final = r.images[0].tags[0];
  const { config } = await new RegistryClient().getImageConfig(final);
  const c = (config as { config: { User?: string; WorkingDir?: string } }).config;
  assert.deepEqual({ user: c.User, workdir: c.WorkingDir }, { user: "1000", workdir: "/srv" });
  // the stage ran as root (werf's rule), the image runs as the base's user
  assert.equal(await sh(final, "cat /install-uid.txt; id -u; pwd"), "0\n1000\n/srv\n");
});

test("--platform linux/amd64,linux/arm64 on s2d-remote: a stage tag per platform, the final tag an index, arm64 runs as aarch64", async (t) => {
  const arm64Root = path.join(process.env.STAPEL2DOCKER_STACK_DIR ?? "/var/lib/stapel2docker-stack", "arm64", "root");
  const { repo } = proxiedRepo();
  // the toolchain of both platforms (an OCI index), pushed into the repo
  const toolchain = await pushToolchain(new RegistryClient(), repo, [await makeToolchainImage(), await makeToolchainImage(debianBinaries(arm64Root))]);
  const salt = randomBytes(4).toString("hex");
  const p = makeProject(`project: remote-multi
configVersion: 1
---
image: app
from: ${BASE}
shell:
  install:
  - uname -m > /arch.txt && true ${salt}
`);
  t.after(() => p.cleanup());
  const r = await build(p.dir, repo, { toolchain, platform: ["linux/amd64", "linux/arm64"] });
  const image = r.images[0];
  assert.deepEqual(image.platforms, ["linux/amd64", "linux/arm64"]);
  assert.ok(image.stages.every((s) => s.status === "built"));
  const index = await new RegistryClient().getManifest(image.tags[0]);
  assert.deepEqual((index.json.manifests as { platform: { architecture: string } }[]).map((m) => m.platform.architecture), ["amd64", "arm64"]);
  assert.equal((await run("docker", ["run", "--rm", "--pull", "always", "--platform", "linux/arm64", image.tags[0], "cat", "/arch.txt"])).trim(), "aarch64");
  assert.equal((await run("docker", ["run", "--rm", "--pull", "always", "--platform", "linux/amd64", image.tags[0], "cat", "/arch.txt"])).trim(), "x86_64");
});

test("compile's build.sh with BUILDX_BUILDER=s2d-remote and --push: the remote builder builds and pushes the final tag", async (t) => {
  const p = project();
  t.after(() => p.cleanup());
  const { repo } = proxiedRepo();
  const out = path.join(work, `compiled-${randomBytes(3).toString("hex")}`);
  // compile pins the toolchain by digest in the bake file and says to push it once
  await run("node", [cli, "toolchain", "--push", repo]);
  await run("node", [cli, "compile", "--repo", repo, "--out", out], { cwd: p.dir });
  await run("bash", [path.join(out, "build.sh"), "--push", "--progress", "quiet"], { cwd: p.dir, env: { ...process.env, BUILDX_BUILDER: REMOTE } });
  const bake = JSON.parse(readFileSync(path.join(out, "docker-bake.json"), "utf8")) as { target: Record<string, { tags?: string[] }> };
  const tag = bake.target.app.tags![0];
  assert.ok(tag.startsWith(`${repo}:app-`), tag);
  assert.ok((await imageRefs(HOST_C)).includes(tag), "built by dockerd c");
  assert.equal(await sh(tag, "cat /before-setup-saw.txt"), "dep-1\n");
});

/** buildkit-proxy.mjs in front of the default daemon (classic image store), and a remote builder for it. */
async function classicRemote(t: { after(fn: () => unknown): void }): Promise<string> {
  const sock = path.join(work, `bk-${randomBytes(3).toString("hex")}.sock`);
  const child: ChildProcess = spawn("node", [path.join(repoRoot, "scripts/stack/buildkit-proxy.mjs"), "--listen", sock, "--docker", "/var/run/docker.sock"], { stdio: "ignore" });
  const name = `s2d-remote-classic-${randomBytes(3).toString("hex")}`;
  t.after(async () => {
    await run("docker", ["buildx", "rm", name]).catch(() => {});
    child.kill("SIGTERM");
  });
  for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100));
  await run("docker", ["buildx", "create", "--name", name, "--driver", "remote", `unix://${sock}`]);
  return name;
}

test("a remote builder in front of a classic-store dockerd cannot push: the error names the driver and the daemon setting", async (t) => {
  const builder = await classicRemote(t);
  // one stage (one bake target), as below: nothing for buildx 0.13's driver.Boot crash to hide the error behind
  const p = makeProject(`project: classic\nconfigVersion: 1\n---\nimage: app\nfrom: ${BASE}\n`);
  t.after(() => p.cleanup());
  const { repo } = proxiedRepo();
  await assert.rejects(build(p.dir, repo, { builder }), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, /exporter "image" could not be found/);
    assert.match(e.message, /remote driver/);
    assert.match(e.message, /"containerd-snapshotter": true/);
    assert.match(e.message, /DOCKER_HOST or DOCKER_CONTEXT, no --builder/);
    return true;
  });
  // nothing half-pushed: no stage tag in the repo
  const tags = await new RegistryClient().listTags(repo).catch(() => [] as string[]);
  assert.deepEqual(tags.filter((x) => !x.startsWith("toolchain-")), []);
});

test("a base image only in the local daemon: the remote builder cannot see it, and the hint says to push it", async (t) => {
  const local = `s2d-local-only-${randomBytes(4).toString("hex")}:latest`;
  await run("docker", ["tag", "stapel2docker/base-busybox:latest", local]);
  t.after(() => run("docker", ["rmi", local]).catch(() => {}));
  // one stage, so one bake target: with several, buildx 0.13 may crash in driver.Boot as the failure cancels the others
  // (the last test of this file), which hides this error
  const p = makeProject(`project: local-base\nconfigVersion: 1\n---\nimage: app\nfrom: ${local}\n`);
  t.after(() => p.cleanup());
  const { repo } = proxiedRepo();
  await assert.rejects(build(p.dir, repo), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, new RegExp(`could not get docker\\.io/library/${local.replace(/[.:]/g, "\\$&")} from its registry`));
    assert.match(e.message, /Only a builder of the docker driver also sees its daemon's local images/);
    return true;
  });
  // the CLI (its bake failures go through the introspection hooks) says the same
  await assert.rejects(
    run("node", [cli, "build", "--builder", REMOTE, "--repo", repo, "--progress", "quiet"], { cwd: p.dir, env: { ...process.env, STAPEL2DOCKER_LOCK_DIR: path.join(work, "locks") } }),
    (e: Error) => /werf\.yaml:5:7: image app, stage from: build stage app--from failed/.test(e.message) && /hint: the builder could not get docker\.io\/library\/s2d-local-only-/.test(e.message),
  );
  // the docker driver (default builder) sees it and builds
  const r = await build(p.dir, repo, { builder: "default" });
  assert.ok(r.images[0].stages.every((s) => s.status === "built"));
});

test("hints of the remote driver: the missing image exporter, an image the builder cannot find", async () => {
  const { builderHint } = await import("../../src/builder/builders.js");
  const { buildxBootPanic } = await import("../../src/builder/buildx.js");
  assert.match(builderHint('ERROR: failed to solve: exporter "image" could not be found') ?? "", /containerd-snapshotter.*buildkitd/s);
  const local = builderHint(
    'ERROR: failed to solve: s2d-x:latest: failed to resolve source metadata for docker.io/library/s2d-x:latest: failed to do request: Head "https://registry-1.docker.io/v2/library/s2d-x/manifests/latest": dial tcp: lookup registry-1.docker.io on 10.0.0.1:53: no such host',
  );
  assert.match(local ?? "", /could not get docker\.io\/library\/s2d-x:latest from its registry.*docker tag, docker push/s);
  const missing = builderHint("ERROR: failed to solve: failed to resolve source metadata for r:5000/a/b:c: r:5000/a/b:c: not found");
  assert.match(missing ?? "", /could not get r:5000\/a\/b:c/);
  // buildx 0.13's crash in driver.Boot (a remote builder's status check failing while a failed bake is cancelled)
  const panic = "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x125d601]\n\ngoroutine 275 [running]:\ngithub.com/docker/buildx/driver.Boot({0x2ca55a0, 0xc00011dc70}, {0x2ca55a0, 0xc00011d810}, 0xc000031cc0, {0x0, 0x0})\n\tgithub.com/docker/buildx/driver/driver.go:96 +0xa1\n";
  assert.ok(buildxBootPanic(panic));
  assert.ok(!buildxBootPanic("panic: something else\nmain.main()"));
  assert.match(builderHint(panic) ?? "", /buildx crashed while checking the builder.*docker buildx inspect --bootstrap NAME.*upgrade the docker-buildx plugin/s);
  // a registry that answers 5xx keeps its own hint
  assert.match(builderHint("failed to resolve source metadata for r:5000/x@sha256:00: unexpected status from HEAD request to http://r:5000/v2/x/manifests/sha256:00: 500 Internal Server Error") ?? "", /answered 500/);
});

/** Starts buildkit-proxy.mjs in front of `upstream`; its stderr is collected. */
async function startProxy(t: { after(fn: () => unknown): void }, upstream: string): Promise<{ sock: string; log: () => string }> {
  const sock = path.join(work, `bk-${randomBytes(3).toString("hex")}.sock`);
  const child = spawn("node", [path.join(repoRoot, "scripts/stack/buildkit-proxy.mjs"), "--listen", sock, "--docker", upstream], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  t.after(() => child.kill("SIGTERM"));
  for (let i = 0; i < 100 && !/listening on/.test(err); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(err, /listening on /);
  return { sock, log: () => err };
}

/** Connects to `sock`, sends `data`, resolves with what came back before the proxy ended the connection. */
function exchange(sock: string, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(sock, () => c.write(data));
    let got = "";
    c.on("data", (b) => (got += b.toString()));
    c.on("close", () => resolve(got));
    // the proxy destroys the connection: a close, or a reset when the client's bytes were not read
    c.on("error", (e: NodeJS.ErrnoException) => (e.code === "ECONNRESET" || e.code === "EPIPE" ? resolve(got) : reject(e)));
  });
}

test("buildkit-proxy: an engine that does not upgrade /grpc, or no engine: the connection is closed, the log says why", async (t) => {
  // a server that answers every request 404, as a daemon without the endpoint would
  const fake = path.join(work, `fake-${randomBytes(3).toString("hex")}.sock`);
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.connection} ${req.headers.upgrade}`);
    res.writeHead(404).end("page not found");
  });
  await new Promise<void>((r) => server.listen(fake, () => r()));
  t.after(() => server.close());
  const p = await startProxy(t, fake);
  assert.equal(await exchange(p.sock, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), "", "nothing of the engine's answer reaches the client");
  assert.deepEqual(requests, ["POST /grpc Upgrade h2c"]);
  for (let i = 0; i < 50 && !/instead of 101/.test(p.log()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(p.log(), /the engine answered POST \/grpc with "HTTP\/1\.1 404 Not Found" instead of 101 Switching Protocols/);

  const none = await startProxy(t, path.join(work, "no-such.sock"));
  assert.equal(await exchange(none.sock, "x"), "");
  for (let i = 0; i < 50 && !/cannot reach/.test(none.log()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(none.log(), /cannot reach the engine at \S+no-such\.sock: connect ENOENT/);
});

test("a bake whose buildx crashes in driver.Boot is run again (3 times in all); every time: the error says buildx crashed", async () => {
  const { runBuildx } = await import("../../src/builder/buildx.js");
  const dir = path.join(work, `panic-${randomBytes(3).toString("hex")}`);
  const fake = path.join(dir, "docker");
  const count = path.join(dir, "count");
  const { mkdirSync, writeFileSync } = await import("node:fs");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    fake,
    `#!/bin/sh\necho x >> '${count}'\necho 'panic: runtime error: invalid memory address or nil pointer dereference' >&2\necho 'github.com/docker/buildx/driver.Boot({0x2ca55a0, 0xc00011dc70}, {0x0, 0x0})' >&2\nexit 2\n`,
    { mode: 0o755 },
  );
  const logged: string[] = [];
  await assert.rejects(runBuildx(fake, ["buildx", "bake"], dir, "ignore", (l) => logged.push(l)), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /docker buildx bake failed \(exit code 2\)/);
    assert.match(e.message, /buildx crashed while checking the builder/);
    return true;
  });
  assert.equal(readFileSync(count, "utf8"), "x\nx\nx\n");
  assert.deepEqual(logged.map((l) => l.replace(/\(\d\/3\)/, "(n/3)")), Array(2).fill("buildx crashed starting the builder (driver.Boot), which hides the build's own error; running it again (n/3)"));
});
