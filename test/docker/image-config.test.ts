// Base image config (USER, WORKDIR, id) from the real docker daemon; "assumed" (with a reason) when it cannot.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  daemonImageConfigResolver,
  defaultImageConfigResolver,
  localDaemonSocket,
  socketImageConfigResolver,
  assumedImageConfigResolver,
  chainResolvers,
  parseInspect,
  reasonFor,
} from "../../src/docker/image-config.js";
import { repoRoot } from "../support/paths.js";

const BASE = "stapel2docker/base-busybox:latest";
const TAG = "stapel2docker-test/user-image:image-config";

test("parseInspect reads User, WorkingDir and the id; a null config is root in /", () => {
  assert.deepEqual(parseInspect('{"User":"1000:1000","WorkingDir":"/srv","Env":["A=1"]}|sha256:abc\n'), {
    user: "1000:1000", workdir: "/srv", source: "daemon", id: "sha256:abc",
  });
  assert.deepEqual(parseInspect("null|sha256:def"), { user: "", workdir: "", source: "daemon", id: "sha256:def" });
});

test("assumed resolver: root in /", async () => {
  assert.deepEqual(await assumedImageConfigResolver.resolve("anything:1"), { user: "", workdir: "", source: "assumed" });
});

test("a docker binary that does not exist: assumed, with the reason, never a throw", async () => {
  const missing = "/nonexistent/bin/docker-s2d";
  const daemon = await daemonImageConfigResolver({ docker: missing }).resolve(BASE);
  assert.equal(daemon.source, "assumed");
  assert.match(reasonFor(daemon) ?? "", /cannot run \/nonexistent\/bin\/docker-s2d: .*ENOENT/);
  const def = await defaultImageConfigResolver({ docker: missing }).resolve(BASE);
  assert.deepEqual({ user: def.user, workdir: def.workdir, source: def.source }, { user: "", workdir: "", source: "assumed" });
  assert.match(reasonFor(def) ?? "", /^no docker daemon \(cannot run/);
});

test("a docker that hangs: assumed after the timeout", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "s2d-docker-"));
  try {
    const slow = path.join(dir, "docker");
    writeFileSync(slow, "#!/bin/sh\nexec sleep 30\n");
    chmodSync(slow, 0o755);
    const t0 = Date.now();
    const c = await daemonImageConfigResolver({ docker: slow, timeoutMs: 300 }).resolve(BASE);
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(c.source, "assumed");
    assert.match(reasonFor(c) ?? "", /did not answer within 300 ms/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("with the real daemon", () => {
  let ctx: string;
  before(() => {
    execFileSync("bash", [path.join(repoRoot, "scripts/stack/up.sh")], { stdio: "ignore" });
    ctx = mkdtempSync(path.join(tmpdir(), "s2d-imgcfg-"));
    writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${BASE}\nUSER 1000:1000\nWORKDIR /srv\n`);
    execFileSync("docker", ["build", "-q", "-t", TAG, ctx], { stdio: "ignore" });
  });
  after(() => {
    rmSync(ctx, { recursive: true, force: true });
    try {
      execFileSync("docker", ["image", "rm", "-f", TAG], { stdio: "ignore" });
    } catch {
      // already gone
    }
  });

  test("USER and WORKDIR of an image that sets them; root in / for one that does not", async () => {
    const r = daemonImageConfigResolver();
    const withUser = await r.resolve(TAG);
    const id = execFileSync("docker", ["image", "inspect", "--format", "{{.Id}}", TAG], { encoding: "utf8" }).trim();
    assert.deepEqual(withUser, { user: "1000:1000", workdir: "/srv", source: "daemon", id });
    const plain = await r.resolve(BASE);
    assert.equal(plain.user, "");
    assert.equal(plain.workdir, "");
    assert.equal(plain.source, "daemon");
    assert.match(plain.id ?? "", /^sha256:[0-9a-f]{64}$/);
    const def = await defaultImageConfigResolver().resolve(TAG);
    assert.equal(def.user, "1000:1000");
  });

  test("an image the daemon does not have: assumed with the daemon's reason; cached per reference", async () => {
    const r = daemonImageConfigResolver();
    const c = await r.resolve("stapel2docker-test/no-such-image:never");
    assert.equal(c.source, "assumed");
    assert.match(reasonFor(c) ?? "", /no such image/i);
    // cached: removing the image afterwards does not change the answer within this resolver
    const first = await r.resolve(TAG);
    execFileSync("docker", ["image", "rm", "-f", TAG], { stdio: "ignore" });
    assert.deepEqual(await r.resolve(TAG), first);
    assert.equal((await daemonImageConfigResolver().resolve(TAG)).source, "assumed");
    execFileSync("docker", ["build", "-q", "-t", TAG, ctx], { stdio: "ignore" });
  });

  test("socket resolver: the same answers as `docker image inspect`, no docker process", async () => {
    const sock = socketImageConfigResolver({ socketPath: localDaemonSocket() ?? "/var/run/docker.sock" });
    for (const ref of [TAG, BASE, "stapel2docker-test/no-such-image:never"]) {
      const viaSocket = await sock.resolve(ref);
      const viaCli = await daemonImageConfigResolver().resolve(ref);
      assert.deepEqual({ ...viaSocket, reason: undefined }, { ...viaCli, reason: undefined }, ref);
      assert.equal(/no such image/i.test(reasonFor(viaSocket) ?? ""), /no such image/i.test(reasonFor(viaCli) ?? ""), ref);
    }
    assert.equal((await sock.resolve(TAG)).user, "1000:1000");
  });

  test("chainResolvers: the first resolver that knows wins, else every reason", async () => {
    const chain = chainResolvers(daemonImageConfigResolver({ docker: "/nonexistent/docker" }), daemonImageConfigResolver());
    assert.equal((await chain.resolve(TAG)).user, "1000:1000");
    const none = await chain.resolve("stapel2docker-test/no-such-image:never");
    assert.equal(none.source, "assumed");
    assert.match(reasonFor(none) ?? "", /ENOENT.*; .*no such image/i);
  });
});

test("localDaemonSocket: the socket the docker CLI would use, none for a remote host or another context", () => {
  const home = mkdtempSync(path.join(tmpdir(), "s2d-dockercfg-"));
  try {
    assert.equal(localDaemonSocket({ HOME: home }), "/var/run/docker.sock");
    assert.equal(localDaemonSocket({ HOME: home, DOCKER_HOST: "unix:///run/user/1000/docker.sock" }), "/run/user/1000/docker.sock");
    assert.equal(localDaemonSocket({ HOME: home, DOCKER_HOST: "tcp://10.0.0.1:2376" }), undefined);
    assert.equal(localDaemonSocket({ HOME: home, DOCKER_CONTEXT: "remote" }), undefined);
    assert.equal(localDaemonSocket({ HOME: home, DOCKER_CONTEXT: "default" }), "/var/run/docker.sock");
    mkdirSync(path.join(home, ".docker"));
    writeFileSync(path.join(home, ".docker", "config.json"), JSON.stringify({ currentContext: "rootless" }));
    assert.equal(localDaemonSocket({ HOME: home }), undefined);
    writeFileSync(path.join(home, ".docker", "config.json"), JSON.stringify({ currentContext: "default", auths: {} }));
    assert.equal(localDaemonSocket({ HOME: home }), "/var/run/docker.sock");
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("socket resolver: no daemon at the socket, or a reference that is not one: assumed with the reason", async () => {
  const r = socketImageConfigResolver({ socketPath: "/nonexistent/s2d-docker.sock" });
  const c = await r.resolve(BASE);
  assert.equal(c.source, "assumed");
  assert.match(reasonFor(c) ?? "", /cannot connect to the docker daemon at unix:\/\/\/nonexistent\/s2d-docker.sock/);
  const def = await defaultImageConfigResolver({ env: { DOCKER_HOST: "unix:///nonexistent/s2d-docker.sock" } }).resolve(BASE);
  assert.match(reasonFor(def) ?? "", /^no docker daemon \(cannot connect/);
  for (const bad of ["../../containers/json", "a/../../info", "x?all=1"]) {
    assert.match(reasonFor(await r.resolve(bad)) ?? "", /is not an image reference/, bad);
  }
});
