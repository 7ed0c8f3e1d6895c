// `up.sh --hosts`: two more build hosts (dockerd b and c: own data root, exec root, socket, bridge; c with the
// containerd image store) and multi-platform emulation, idempotent; and the default daemon keeps its docker0 bridge
// (a dockerd started with --bridge=none would delete it: DEVELOPERS.md).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { run } from "../builder/support.js";
import { repoRoot } from "../support/paths.js";

const STATE = process.env.STAPEL2DOCKER_STACK_DIR ?? "/var/lib/stapel2docker-stack";
const up = () => run("bash", [path.join(repoRoot, "scripts/stack/up.sh"), "--hosts"], { timeoutMs: 900_000 });
const info = (host: string, format: string) =>
  run("docker", ["--host", `unix://${path.join(STATE, "run", `dockerd-${host}.sock`)}`, "info", "--format", format]).then((s) => s.trim());

test("up.sh --hosts: one line per step; run again, every step is already ok", async () => {
  await up();
  const again = (await up()).trim().split("\n");
  const steps = again.filter((l) => !l.startsWith("stack "));
  for (const name of ["dockerd-b", "dockerd-c", "qemu", "binfmt", "arm64", "multi-base"]) {
    assert.ok(steps.some((l) => l.startsWith(`${name} `)), `a line for ${name}`);
  }
  for (const l of steps) assert.match(l, /^\S+\s+already ok/, l);
});

test("hosts b and c are separate engines; c uses the containerd store; docker0 and the default daemon's RUNs are intact", async () => {
  const roots = new Set([
    (await run("docker", ["info", "--format", "{{.DockerRootDir}}"])).trim(),
    await info("b", "{{.DockerRootDir}}"),
    await info("c", "{{.DockerRootDir}}"),
  ]);
  assert.equal(roots.size, 3, [...roots].join(", "));
  assert.match(await info("c", "{{json .DriverStatus}}"), /io\.containerd\.snapshotter/);
  assert.doesNotMatch(await info("b", "{{json .DriverStatus}}"), /io\.containerd\.snapshotter/);
  await run("ip", ["link", "show", "docker0"]);
  assert.equal((await run("docker", ["run", "--rm", "stapel2docker/base-busybox:latest", "echo", "bridge-ok"])).trim(), "bridge-ok");
  // arm64 binaries run here: qemu's handler, registered with the fix-binary flag
  assert.match(readFileSync("/proc/sys/fs/binfmt_misc/qemu-aarch64", "utf8"), /^flags: .*F/m);
  assert.equal((await run(path.join(STATE, "arm64", "root", "bin", "busybox"), ["uname", "-m"])).trim(), "aarch64");
});
