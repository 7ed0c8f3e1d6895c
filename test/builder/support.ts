// Helpers of the build tests: a project repository in a temp dir, a unique repository on the local registry,
// a `docker` wrapper on PATH that records its arguments, and `docker run` to look inside the images.
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../support/paths.js";
import { git, tempDir, writeFile } from "../git/gitFixture.js";

export function run(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(" ")} failed: ${String(error.code)}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

export async function stackUp(): Promise<void> {
  await run("bash", [path.join(repoRoot, "scripts/stack/up.sh")], { timeoutMs: 900_000 });
}

/** A repository path of its own on the local registry. */
export function uniqueRepo(name: string): string {
  return `127.0.0.1:5000/s2d-test-${randomBytes(5).toString("hex")}/${name}`;
}

/** A folder with a `docker` script that appends its arguments to calls.log and runs the real docker. */
export function dockerRecorder(): { dir: string; docker: string; calls(): string[]; cleanup(): void } {
  const dir = tempDir("docker-rec");
  const real = execFileSync("bash", ["-c", "command -v docker"], { encoding: "utf8" }).trim();
  const log = path.join(dir, "calls.log");
  const docker = path.join(dir, "docker");
  writeFileSync(docker, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${real}' "$@"\n`);
  chmodSync(docker, 0o755);
  return {
    dir,
    docker,
    calls: () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((l) => l !== "") : []),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const WERF_YAML = `project: buildtest
configVersion: 1
---
image: app
from: stapel2docker/base-busybox:latest
git:
- add: /src
  to: /app
  stageDependencies:
    beforeSetup:
    - "deps/**/*"
shell:
  beforeInstall:
  - echo before-install > /before-install.txt
  install:
  - ls /app > /install-saw.txt
  beforeSetup:
  - cat /app/deps/list.txt > /before-setup-saw.txt
  setup:
  - date +%s%N > /setup-ran.txt
`;

/** A project repository: werf.yaml plus src/ with masked (deps/) and unmasked files, a script, a symlink. */
export function makeProject(werfYaml = WERF_YAML): { dir: string; commit(msg: string): string; cleanup(): void } {
  const dir = tempDir("build-project");
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", werfYaml);
  writeFile(dir, "src/deps/list.txt", "dep-1\n");
  writeFile(dir, "src/readme.txt", "hello\n");
  writeFile(dir, "src/bin/run.sh", "#!/bin/sh\necho run\n", 0o755);
  writeFile(dir, "src/old/gone.txt", "to be deleted\n");
  mkdirSync(path.join(dir, "src/lib"), { recursive: true });
  writeFile(dir, "src/lib/a.txt", "a\n");
  execFileSync("ln", ["-s", "lib/a.txt", path.join(dir, "src/link")]);
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "initial");
  return {
    dir,
    commit: (msg) => {
      git(dir, "add", "-A");
      git(dir, "commit", "-q", "--allow-empty", "-m", msg);
      return git(dir, "rev-parse", "HEAD");
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function sh(image: string, script: string): Promise<string> {
  return run("docker", ["run", "--rm", "--pull", "always", "--entrypoint", "/bin/sh", image, "-c", script]);
}

/** The stack's dockerd "c" (containerd store, qemu's binfmt handlers: multi-platform builds), from `up.sh --hosts`. */
export const STACK_DIR = process.env.STAPEL2DOCKER_STACK_DIR ?? "/var/lib/stapel2docker-stack";
export const HOST_C = `unix://${path.join(STACK_DIR, "run", "dockerd-c.sock")}`;
/** A base image of both platforms in the local registry (up.sh --hosts pushes it). */
export const MULTI_BASE = "127.0.0.1:5000/stapel2docker/base-busybox:multi";

/** `up.sh --hosts`, then a `docker` wrapper for dockerd c in `work` and the toolchain of amd64 and arm64 (this
 *  machine's binaries and Debian's arm64 ones, an OCI index) pushed to a repository of its own. */
export async function multiPlatformHost(work: string): Promise<{ dockerC: string; toolchain: string }> {
  await run("bash", [path.join(repoRoot, "scripts/stack/up.sh"), "--hosts"], { timeoutMs: 900_000 });
  const dockerC = path.join(work, "docker-c");
  writeFileSync(dockerC, `#!/bin/sh\nDOCKER_HOST='${HOST_C}' exec docker "$@"\n`);
  chmodSync(dockerC, 0o755);
  const [{ RegistryClient }, { debianBinaries, makeToolchainImage, pushToolchain }] = await Promise.all([import("../../src/registry/index.js"), import("../../src/toolchain/image.js")]);
  const arm64 = path.join(STACK_DIR, "arm64", "root");
  const toolchain = await pushToolchain(new RegistryClient(), uniqueRepo("toolchain"), [await makeToolchainImage(), await makeToolchainImage(debianBinaries(arm64))]);
  return { dockerC, toolchain };
}
