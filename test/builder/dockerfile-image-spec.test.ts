// `build` of a Dockerfile image with imageSpec, addHost and ssh on the real engine and registry: the imageSpec stage
// over the Dockerfile's build is what gets pushed and tagged (its config inspected from the pushed image), a second
// build reuses it, and an image built on it sees its result. addHost reaches bake as extra-hosts: a buildx that
// would silently drop it (< 0.25) is refused before anything is built, a newer one puts the host in /etc/hosts.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { buildProject } from "../../src/builder/index.js";
import { buildxVersion } from "../../src/builder/buildx.js";
import { UserError } from "../../src/diagnostics.js";
import { git, tempDir, writeFile } from "../git/gitFixture.js";
import { run, sh, stackUp, uniqueRepo } from "./support.js";

before(async () => {
  await stackUp();
});

const SALT = `${process.pid}-${Date.now()}`;

function project(extra = ""): string {
  const dir = tempDir("df-imagespec");
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", [
    "project: dfspec",
    "configVersion: 1",
    "---",
    "image: web",
    "context: web",
    "dockerfile: Dockerfile",
    extra,
    "imageSpec:",
    "  config:",
    "    env: {WEB_MODE: production}",
    "    labels: {org.example.component: web}",
    "    cmd: [cat, /srv/greeting.txt]",
    "    workingDir: /srv",
    "    user: '65534'",
    "---",
    "image: app",
    "fromImage: web",
    "shell:",
    "  install:",
    "  - echo \"$WEB_MODE $(id -u)\" > /tmp/seen",
    "",
  ].join("\n"));
  writeFile(dir, "web/Dockerfile", `FROM stapel2docker/base-busybox:latest\nENV WEB_MODE=development\nRUN mkdir -p /srv && echo ${SALT} > /srv/greeting.txt && (grep -h internal /etc/hosts || true) > /srv/hosts\n`);
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "first");
  return dir;
}

test("build: a Dockerfile image's imageSpec is applied, pushed, reused, and seen by an image built on it", async (t) => {
  const dir = project();
  const lockDir = tempDir("df-imagespec-locks");
  t.after(() => (rmSync(dir, { recursive: true, force: true }), rmSync(lockDir, { recursive: true, force: true })));
  const repo = uniqueRepo("dfspec");
  const first = await buildProject({ dir, repo, environ: {}, lockDir, buildOutput: "ignore", log: () => {} });
  const tagOf = (image: string) => first.images.find((i) => i.image === image)!.tags[0]!;
  const config = JSON.parse(await run("docker", ["buildx", "imagetools", "inspect", "--format", "{{json .Image.Config}}", tagOf("web")]));
  assert.ok((config.Env as string[]).includes("WEB_MODE=production"));
  assert.equal(config.Labels["org.example.component"], "web");
  assert.deepEqual(config.Cmd, ["cat", "/srv/greeting.txt"]);
  assert.equal(config.WorkingDir, "/srv");
  assert.equal(config.User, "65534");
  assert.equal(await run("docker", ["run", "--rm", tagOf("web")]), `${SALT}\n`);
  assert.equal(await sh(tagOf("app"), "cat /tmp/seen"), "production 0\n", "the Stapel image runs its commands as root on the imageSpec stage");
  assert.equal(first.built, 3, "web, and app's two stages");

  const again = await buildProject({ dir, repo, environ: {}, lockDir, buildOutput: "ignore", log: () => {} });
  assert.equal(again.built, 0, "a second build reuses everything");
  assert.equal(again.images.find((i) => i.image === "web")!.tags[0], tagOf("web"));
});

test("build: addHost reaches bake's extra-hosts, or an old buildx is refused before anything is built", async (t) => {
  const dir = project("addHost: [db.internal:10.9.8.7]");
  const lockDir = tempDir("df-imagespec-locks");
  t.after(() => (rmSync(dir, { recursive: true, force: true }), rmSync(lockDir, { recursive: true, force: true })));
  const repo = uniqueRepo("dfhosts");
  const version = await buildxVersion("docker");
  assert.ok(version, "docker buildx version is readable");
  const logs: string[] = [];
  const build = buildProject({ dir, repo, environ: {}, lockDir, buildOutput: "ignore", log: (l) => logs.push(l) });
  if (version[0] === 0 && version[1] < 25) {
    await assert.rejects(build, (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, new RegExp(`^addHost of image "web" needs buildx 0\\.25 or newer \\(bake's \`extra-hosts\`\\); this machine has buildx ${version.join("\\.")}, which would build without it`));
      return true;
    });
    assert.ok(!logs.some((l) => l.startsWith("building ")), "nothing was built");
  } else {
    const r = await build;
    assert.match(await sh(r.images.find((i) => i.image === "web")!.tags[0]!, "cat /srv/hosts"), /10\.9\.8\.7\s+db\.internal/);
  }
});
