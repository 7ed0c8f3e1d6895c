// The real build stack: scripts/stack/up.sh brings up dockerd, buildx, the local registry and the
// imported base/toolchain images; then a real `docker buildx bake` of two targets is pushed to the
// registry and run. Nothing is mocked and nothing is skipped: if the stack cannot come up, this fails
// with up.sh's own message.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const upScript = path.join(repoRoot, "scripts/stack/up.sh");
const registry = "127.0.0.1:5000";

interface CommandResult {
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command; rejects with its exit status and both outputs, so a failure tells why. */
function run(file: string, args: string[], options: { cwd?: string; timeoutMs: number }): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const why = error.killed ? `killed after ${options.timeoutMs} ms` : `exit ${String(error.code)}`;
          reject(new Error(`${file} ${args.join(" ")} failed (${why})\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
          return;
        }
        resolve({ stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

const docker = (args: string[], cwd?: string, timeoutMs = 120_000) => run("docker", args, { cwd, timeoutMs });

async function registryJson(urlPath: string): Promise<unknown> {
  const response = await fetch(`http://${registry}${urlPath}`);
  if (response.status !== 200) assert.fail(`GET ${urlPath} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

const manifestAccept = [
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
].join(", ");

/** Component lines of up.sh: "name   status (details)". */
function componentLines(stdout: string): Array<{ component: string; status: string }> {
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const match = /^(\S+)\s+(.*)$/.exec(line);
      assert.ok(match, `unexpected up.sh line: ${line}`);
      return { component: match[1]!, status: match[2]! };
    });
}

describe("build stack (scripts/stack/up.sh)", { timeout: 30 * 60_000 }, () => {
  let firstUp: CommandResult;

  before(async () => {
    // A cold machine installs packages here (a few minutes); a warm one only checks.
    firstUp = await run("bash", [upScript], { timeoutMs: 25 * 60_000 });
  });

  test("up.sh reports every component and is a quick no-op once the stack is up", async () => {
    const expected = ["packages", "dockerd", "registry", "registry2", "image", "image", "image", "buildx", "stack"];
    assert.deepEqual(
      componentLines(firstUp.stdout).map((l) => l.component),
      expected,
    );
    const again = await run("bash", [upScript], { timeoutMs: 60_000 });
    const lines = componentLines(again.stdout);
    assert.deepEqual(lines.map((l) => l.component), expected);
    for (const line of lines.slice(0, -1)) {
      assert.match(line.status, /^already ok/, `${line.component} was not already ok on the second run: ${line.status}`);
    }
    assert.match(lines.at(-1)!.status, /^up in \d+\.\d s \(state: .*; logs: .*\) \[\d+\.\d s\]$/);
    // every step says how long it took (speed itself is not asserted in tests)
    for (const line of lines) assert.match(line.status, / \[\d+\.\d s\]$/, line.status);
  });

  test("engine, buildx and the registry are real and recent enough", async () => {
    const server = (await docker(["version", "--format", "{{.Server.Version}}"])).stdout.trim();
    assert.ok(Number(server.split(".")[0]) >= 26, `docker engine ${server} < 26`);
    const buildx = (await docker(["buildx", "version"])).stdout;
    const buildxVersion = /\b(\d+)\.(\d+)\.\d+/.exec(buildx);
    assert.ok(buildxVersion, `cannot read the buildx version from: ${buildx}`);
    const [major, minor] = [Number(buildxVersion[1]), Number(buildxVersion[2])];
    assert.ok(major > 0 || minor >= 13, `buildx ${buildxVersion[0]} < 0.13`);
    const inspect = (await docker(["buildx", "inspect"])).stdout;
    assert.match(inspect, /^Driver:\s+docker$/m);
    const v2 = await fetch(`http://${registry}/v2/`);
    assert.equal(v2.status, 200);
  });

  test("the imported images hold what the generated Dockerfiles rely on", async () => {
    const busybox = await docker([
      "run", "--rm", "stapel2docker/base-busybox",
      "sh", "-c", "test ! -e /bin/bash && test -d /tmp && stat -c %a /tmp && head -n 1 /etc/passwd && id -un && ls /usr/bin/env",
    ]);
    assert.equal(busybox.stdout, "1777\nroot:x:0:0:root:/root:/bin/sh\nroot\n/usr/bin/env\n");
    const bash = await docker(["run", "--rm", "stapel2docker/base-bash", "/bin/bash", "-c", 'echo "$BASH_VERSION"']);
    assert.match(bash.stdout, /^5\.\d+\.\d+/);
    // The toolchain image is scratch-based (no /bin to run a shell in): list its filesystem instead.
    const created = (await docker(["create", "stapel2docker/toolchain"])).stdout.trim();
    try {
      const listing = (await run("bash", ["-c", `docker export ${created} | tar -tvf -`], { timeoutMs: 60_000 })).stdout;
      assert.match(listing, /^-rwxr-xr-x 0\/0 .* \.stapel\/bin\/bash$/m);
      assert.match(listing, /^-rwxr-xr-x 0\/0 .* \.stapel\/bin\/busybox$/m);
      assert.match(listing, /^l.* \.stapel\/bin\/sh -> busybox$/m);
      assert.match(listing, /^l.* \.stapel\/bin\/sed -> busybox$/m);
      assert.doesNotMatch(listing, / (bin|sbin|usr|lib)\//, "no system directories beside /.stapel");
    } finally {
      await docker(["rm", created]);
    }
    const exported = await docker(["image", "inspect", "--format", "{{json .Config.Cmd}}", "stapel2docker/toolchain"]);
    assert.equal(exported.stdout.trim(), '["/.stapel/bin/bash"]');
  });

  describe("smoke: docker buildx bake of two targets, pushed and run", () => {
    const id = `smoke-${Date.now().toString(36)}-${process.pid}`;
    const appRef = `${registry}/smoke/app:${id}`;
    const toolsRef = `${registry}/smoke/tools:${id}`;
    let dir = "";

    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), "stapel2docker-smoke-"));
      // No `# syntax=` line: a frontend image cannot be pulled; heredocs come with the built-in one.
      await writeFile(
        path.join(dir, "Dockerfile"),
        [
          "FROM stapel2docker/base-busybox AS app",
          'SHELL ["/.stapel/bin/bash", "-ec"]',
          "RUN --mount=type=bind,from=stapel2docker/toolchain,source=/.stapel,target=/.stapel \\",
          `    --mount=type=cache,id=${id},target=/var/cache/smoke \\`,
          "    --mount=type=tmpfs,target=/scratch <<'EOF'",
          "declare -a words=(stapel to docker)",
          '[[ ${#words[@]} -eq 3 && ! -e /bin/bash && "$BASH" == /.stapel/bin/bash ]]',
          "grep -q ' /scratch tmpfs ' /proc/mounts",
          "echo scratch > /scratch/left-behind",
          "echo run >> /var/cache/smoke/runs",
          "mkdir -p /app",
          `printf '%s\\n' "\${words[*]}" "${id}" "$(wc -l < /var/cache/smoke/runs)" > /app/result.txt`,
          "EOF",
          "",
          "FROM base AS tools",
          'SHELL ["/bin/bash", "-ec"]',
          "COPY --from=app /app/result.txt /result.txt",
          'RUN [[ -f /result.txt ]] && echo "second target on bash $BASH_VERSION" > /second.txt',
          "",
        ].join("\n"),
      );
      const bake = {
        group: { default: { targets: ["app", "tools"] } },
        target: {
          app: { context: ".", dockerfile: "Dockerfile", target: "app", tags: [appRef] },
          tools: {
            context: ".",
            dockerfile: "Dockerfile",
            target: "tools",
            contexts: { base: "docker-image://stapel2docker/base-bash:latest" },
            tags: [toolsRef],
          },
        },
      };
      await writeFile(path.join(dir, "docker-bake.json"), JSON.stringify(bake, null, 2));
    });

    after(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
      await docker(["image", "rm", "--force", appRef, toolsRef]).catch(() => undefined);
      for (const name of ["smoke/app", "smoke/tools"]) {
        const head = await fetch(`http://${registry}/v2/${name}/manifests/${id}`, {
          method: "HEAD",
          headers: { Accept: manifestAccept },
        }).catch(() => undefined);
        const digest = head?.headers.get("docker-content-digest");
        if (digest) await fetch(`http://${registry}/v2/${name}/manifests/${digest}`, { method: "DELETE" }).catch(() => undefined);
      }
    });

    test("bake builds both targets and pushes them to the local registry", async () => {
      const built = await docker(["buildx", "bake", "--progress=plain", "-f", "docker-bake.json", "--push"], dir, 300_000);
      assert.match(built.stderr, /pushing 127\.0\.0\.1:5000\/smoke\/app:/);
      assert.match(built.stderr, /pushing 127\.0\.0\.1:5000\/smoke\/tools:/);
      for (const name of ["smoke/app", "smoke/tools"]) {
        const tags = (await registryJson(`/v2/${name}/tags/list`)) as { name: string; tags: string[] };
        assert.equal(tags.name, name);
        assert.ok(tags.tags.includes(id), `${name} tags ${JSON.stringify(tags.tags)} lack ${id}`);
        const manifest = await fetch(`http://${registry}/v2/${name}/manifests/${id}`, { headers: { Accept: manifestAccept } });
        assert.equal(manifest.status, 200);
      }
    });

    test("the pushed images run from the registry with the expected files", async () => {
      // Drop the local copies so `docker run` has to pull them back from 127.0.0.1:5000.
      await docker(["image", "rm", "--force", appRef, toolsRef]);
      const app = await docker(["run", "--rm", appRef, "cat", "/app/result.txt"]);
      const [words, runId, runs] = app.stdout.trimEnd().split("\n");
      assert.equal(words, "stapel to docker");
      assert.equal(runId, id);
      assert.equal(runs, "1", "the cache mount of a fresh id starts empty");
      // Mounts leave nothing in the image: no toolchain, no tmpfs file, no cache content.
      await docker([
        "run", "--rm", appRef, "sh", "-c",
        "test ! -e /.stapel/bin/bash && test ! -e /scratch/left-behind && test ! -e /var/cache/smoke/runs",
      ]);
      const tools = await docker(["run", "--rm", toolsRef, "cat", "/second.txt", "/result.txt"]);
      assert.match(tools.stdout, /^second target on bash 5\.\d+\.\d+\S*\nstapel to docker\n/);
      assert.ok(tools.stdout.includes(`\n${id}\n`));
    });
  });
});
