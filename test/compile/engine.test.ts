// Golden fixtures built for real: compile, run the generated build.sh (docker buildx bake on the local
// engine; scripts/stack/up.sh brings it up), then look inside the images with `docker run` and
// `docker image inspect`. Checks what the Dockerfile text alone cannot: tar modes and symlinks, named
// owners resolved in the image, single-file renames, filtered imports, exact ENV/LABEL values.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../support/paths.js";
import { tempDir } from "../git/gitFixture.js";
import { makeCaseRepo } from "./cases.js";
import { planProject } from "../../src/plan/plan.js";
import { emitProject } from "../../src/emit/index.js";
import type { Plan } from "../../src/plan/model.js";

function run(file: string, args: string[], cwd?: string, timeoutMs = 300_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout: timeoutMs, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(" ")} failed: ${String(error.code)}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

before(async () => {
  await run("bash", [path.join(repoRoot, "scripts/stack/up.sh")], undefined, 900_000);
});

/** Compiles a golden case with the real daemon as base-image resolver and builds it with build.sh. */
async function buildCase(name: string, t: { after(fn: () => void): void }): Promise<{ plan: Plan; tag(image: string): string }> {
  const tmp = tempDir(`engine-${name}`);
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const repo = makeCaseRepo(name, tmp);
  const plan = await planProject({ dir: repo, environ: {} });
  const out = path.join(repo, ".stapel2docker");
  await emitProject(plan, { out });
  await run(path.join(out, "build.sh"), [], tmp);
  return {
    plan,
    tag: (image) => {
      const p = plan.images.find((i) => i.name === image)!;
      return `${plan.project}:${p.slug}-${p.digest}`;
    },
  };
}

const sh = (image: string, script: string) => run("docker", ["run", "--rm", "--entrypoint", "/bin/sh", image, "-c", script]);

async function inspect(image: string): Promise<Record<string, any>> {
  return JSON.parse(await run("docker", ["image", "inspect", image]))[0].Config;
}

test("git mappings land with their modes, symlinks, owners and renames", async (t) => {
  const { tag } = await buildCase("git-mappings", t);
  const web = tag("web");
  const listing = await sh(web, "cd /srv/web && find . | sort");
  assert.deepEqual(listing.trim().split("\n"), [".", "./index.js", "./lib", "./lib/util.js", "./static", "./static/index.html"]);
  assert.equal(await sh(web, "cat /etc/web/web.conf"), "listen 8080\n", "a single-file add is renamed to `to`");
  assert.equal((await sh(web, "stat -c '%U:%G %a' /etc/web/web.conf")).trim(), "nobody:nogroup 644", "named owner/group resolved in the image");
  assert.equal((await sh(web, "stat -c '%u:%g %a' /usr/local/bin/run.sh")).trim(), "1000:1000 755");
  assert.equal((await sh(web, "readlink /usr/local/bin/start")).trim(), "run.sh");
  assert.equal((await sh(web, "stat -c '%u:%g' /usr/local/bin")).trim(), "1000:1000", "`to` itself gets the owner, as werf's install -d");
  assert.match(await sh(web, "cat /srv/install.txt"), /index\.js/, "install ran after gitArchive and saw the files");
});

test("imports: whole directories, filtered ones with a named owner, an earlier stage, an external image", async (t) => {
  const { tag } = await buildCase("artifact-imports", t);
  const app = tag("app");
  assert.equal((await sh(app, "stat -c %a /usr/local/bin/tool")).trim(), "755");
  assert.deepEqual((await sh(app, "cd /usr/share/toolbox && find . | sort")).trim().split("\n"), [".", "./doc", "./doc/README"]);
  assert.equal((await sh(app, "stat -c %U:%G /usr/share/toolbox/doc/README")).trim(), "nobody:nogroup");
  assert.equal((await sh(app, "ls /opt/from-install | sort")).trim(), "bin\nshare", "import from the install stage has no setup output");
  assert.match(await sh(app, "/usr/local/bin/bash -c 'echo $BASH_VERSION'"), /^\d+\.\d+/);
});

test("docker directives: exact values in the image config, ENTRYPOINT without CMD resets CMD", async (t) => {
  const { tag } = await buildCase("docker-directives", t);
  const c = await inspect(tag("service"));
  const env = Object.fromEntries((c.Env as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  assert.equal(env.PLAIN, "value");
  assert.equal(env.SPACES, "a b  c");
  assert.equal(env.QUOTES, `say "hi" and 'bye'`);
  assert.equal(env.DOLLAR, "$HOME and ${PATH}");
  assert.equal(env.BACKSLASH, "C:\\path\\");
  assert.equal(env.UNICODE, "héllo wörld ✓");
  assert.equal(c.Labels["org.opencontainers.image.title"], 'service "one"');
  assert.deepEqual(c.Entrypoint, ["/bin/sh", "-c"]);
  assert.deepEqual(c.Cmd ?? [], [], "ENTRYPOINT without CMD → CMD []");
  assert.equal(c.User, "65534:65534");
  assert.equal(c.WorkingDir, "/data");
  assert.deepEqual(Object.keys(c.Volumes).sort(), ["/data", "/var/log/service"]);
  assert.deepEqual(Object.keys(c.ExposedPorts).sort(), ["8080/tcp", "9090/tcp"]);
  assert.deepEqual(c.Healthcheck.Test, ["CMD-SHELL", "wget -q -O- http://localhost:8080/health || exit 1"]);
  for (const k of Object.keys(env)) assert.ok(!k.startsWith("WERF_COMMIT"), "commit variables are not in the image config");
  const shellForm = await inspect(tag("shell-form"));
  assert.deepEqual(shellForm.Entrypoint, ["/bin/sh", "-c", "/bin/sh -c"]);
  assert.deepEqual(shellForm.Cmd, ["/bin/sh", "-c", 'echo "shell form $HOME"']);
});

test("shell stages run in order as root in / with bash from the toolchain and see WERF_COMMIT_HASH", async (t) => {
  const { tag, plan } = await buildCase("shell-stages", t);
  const lines = (await sh(tag("app"), "cat /opt/app/stages")).trim().split("\n");
  assert.deepEqual(lines, [
    "before install",
    "install one",
    "install two",
    `before setup: ${plan.commit!.hash.slice(0, 7)}`,
    'setup $HOME "quoted" \\back\\slash',
  ]);
});

test("imageSpec: the expressible settings land in the image config; the global spec is merged", async (t) => {
  const { tag } = await buildCase("image-spec", t);
  const c = await inspect(tag("api"));
  assert.deepEqual(c.Entrypoint, ["/bin/sh", "-c"]);
  assert.deepEqual(c.Cmd ?? [], []);
  assert.equal(c.WorkingDir, "/srv/api");
  assert.equal(c.User, "65534");
  assert.equal(c.StopSignal, "SIGTERM");
  assert.ok((c.Env as string[]).includes("API_MODE=production"));
  assert.equal(c.Labels["org.example.component"], "api");
  assert.equal(c.Labels["org.example.team"], "platform", "the global build.imageSpec label");
  assert.deepEqual(Object.keys(c.Volumes), ["/srv/api/data"]);
  assert.deepEqual(Object.keys(c.ExposedPorts), ["8080/tcp"]);
  assert.deepEqual(c.Healthcheck.Test, ["CMD-SHELL", "wget -q -O- http://localhost:8080/ || exit 1"]);
  assert.equal(c.Healthcheck.Interval, 30e9);
  assert.equal(c.Healthcheck.Retries, 3);
  const w = await inspect(tag("worker"));
  assert.equal(w.WorkingDir, "/");
  assert.deepEqual(w.Cmd ?? [], [], "clearCmd");
});

test("imageSpec of a Dockerfile image: a stage over its build sets the config; an image built on it sees it", async (t) => {
  const { tag, plan } = await buildCase("dockerfile-image-spec", t);
  const web = plan.dockerfileImages.find((d) => d.image.name === "web")!;
  const c = await inspect(`${plan.project}:${web.target}-${web.digest}`);
  assert.deepEqual(c.Entrypoint, ["/bin/sh", "-c"]);
  assert.deepEqual(c.Cmd, ["cat /srv/greeting.txt"]);
  assert.equal(c.WorkingDir, "/srv");
  assert.equal(c.User, "65534");
  assert.equal(c.StopSignal, "SIGTERM");
  assert.ok((c.Env as string[]).includes("WEB_MODE=production"), "imageSpec env over the Dockerfile's ENV");
  assert.equal(c.Labels["org.example.component"], "web");
  assert.equal(c.Labels["org.example.team"], "platform", "the global build.imageSpec, merged for a final image");
  assert.equal(c.Labels["org.example.base"], "busybox", "removeLabels cannot be expressed: the label stays (a planning warning says so)");
  assert.deepEqual(Object.keys(c.Volumes), ["/srv/data"]);
  assert.deepEqual(Object.keys(c.ExposedPorts), ["8080/tcp"]);
  assert.deepEqual(c.Healthcheck.Test, ["CMD", "test", "-f", "/srv/greeting.txt"]);
  assert.equal(await run("docker", ["run", "--rm", `${plan.project}:${web.target}-${web.digest}`]), "hello\n", "ENTRYPOINT + CMD run the Dockerfile's result");
  assert.equal(await sh(tag("app"), "cat /tmp/mode"), "production\n", "a Stapel image FROM it builds on the imageSpec stage");
  assert.ok(plan.warnings.some((w) => /^imageSpec of image "web": author, removeLabels cannot be expressed/.test(w.message)));
});

test("build.sh refuses a buildx that would ignore a Dockerfile image's addHost or network", async (t) => {
  const version = (await run("docker", ["buildx", "version"])).match(/\bv?(\d+)\.(\d+)\./);
  assert.ok(version, "docker buildx version is readable");
  if (Number(version[1]) > 0 || Number(version[2]) >= 25) {
    t.skip(`buildx ${version[1]}.${version[2]} reads network and extra-hosts`);
    return;
  }
  const tmp = tempDir("engine-old-buildx");
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const repo = makeCaseRepo("dockerfile-images", tmp);
  const plan = await planProject({ dir: repo, environ: {} });
  const out = path.join(repo, ".stapel2docker");
  await emitProject(plan, { out });
  await assert.rejects(run(path.join(out, "build.sh"), [], tmp), (e: Error) => {
    assert.match(e.message, /build\.sh: (network|addHost) of native \(bake's (network|extra-hosts)\) needs buildx 0\.(18|25) or newer; this is github\.com\/docker\/buildx/);
    assert.doesNotMatch(e.message, /#\d+ \[/, "nothing was built");
    return true;
  });
});
