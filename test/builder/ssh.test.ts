// --ssh-key / --ssh on the real engine: a user stage runs the host's ssh-add (mounted with its libraries from a
// fromPath folder, run through the dynamic loader) against the forwarded agent and sees the key's fingerprint;
// no key material in the Dockerfile, the bake file or the image. Plus unit tests of where SSH mounts go.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { buildProject, parseSshSpecs, startSshAgent } from "../../src/builder/index.js";
import { printPlanDockerfile } from "../../src/emit/index.js";
import { cmd, gitSource, image, mapping, plan, stage, userBody } from "../emit/planFixture.js";
import { UserError } from "../../src/diagnostics.js";
import { alive } from "../../src/builder/ssh.js";
import { tempDir } from "../git/gitFixture.js";
import { makeProject, run, sh, stackUp, uniqueRepo } from "./support.js";

const lockDir = tempDir("build-locks");
process.on("exit", () => rmSync(lockDir, { recursive: true, force: true }));

/** ssh-add and the shared libraries it needs, flat in one folder. */
function sshTools(): string {
  const dir = tempDir("ssh-tools");
  copyFileSync("/usr/bin/ssh-add", path.join(dir, "ssh-add"));
  const ldd = execFileSync("ldd", ["/usr/bin/ssh-add"], { encoding: "utf8" });
  for (const m of ldd.matchAll(/(\/\S+\.so[.\d]*)/g)) copyFileSync(m[1], path.join(dir, path.basename(m[1])));
  return dir;
}

function keyPair(comment: string): { key: string; fingerprint: string; dir: string } {
  const dir = tempDir("ssh-key");
  const key = path.join(dir, "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key]);
  const fingerprint = execFileSync("ssh-keygen", ["-l", "-f", `${key}.pub`], { encoding: "utf8" }).split(" ")[1];
  return { key, fingerprint, dir };
}

test("--ssh-key: the user stage lists the key through SSH_AUTH_SOCK; no key in the build files or the image", async (t) => {
  await stackUp();
  const tools = sshTools();
  // a fresh key and command text: BuildKit's cache key of a RUN does not include the agent's keys
  const nonce = randomBytes(6).toString("hex");
  const k = keyPair(`s2d-ssh-test-${nonce}`);
  const loader = readdirSync(tools).find((f) => f.startsWith("ld-linux"))!;
  const p = makeProject(`project: sshtest
configVersion: 1
---
image: app
from: stapel2docker/base-busybox:latest
mount:
- fromPath: ${tools}
  to: /sshtools
shell:
  install:
  - test -S "$SSH_AUTH_SOCK" && echo ${nonce} >/dev/null
  - /sshtools/${loader} --library-path /sshtools /sshtools/ssh-add -l > /ssh-add-l.txt
`);
  const keep = tempDir("ssh-keep");
  t.after(() => {
    for (const d of [tools, k.dir, keep]) rmSync(d, { recursive: true, force: true });
    p.cleanup();
  });
  const repo = uniqueRepo("ssh");
  const logs: string[] = [];
  process.env.STAPEL2DOCKER_KEEP_BUILD_DIR = "1";
  // the tools folder is a host path outside the project: allowed by a giterminism config the test (the CI) controls
  const giterminismConfig = path.join(keep, "werf-giterminism.yaml");
  writeFileSync(giterminismConfig, `giterminismConfigVersion: 1\nconfig:\n  stapel:\n    mount:\n      allowFromPaths: [${JSON.stringify(tools)}]\n`);
  let r;
  try {
    r = await buildProject({ dir: p.dir, repo, environ: {}, lockDir, buildOutput: "ignore", log: (l) => logs.push(l), sshKeys: [k.key], giterminismConfig });
  } finally {
    delete process.env.STAPEL2DOCKER_KEEP_BUILD_DIR;
  }
  const work = logs.map((l) => /^build files kept in (.*)$/.exec(l)?.[1]).find(Boolean)!;
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const listed = await sh(r.images[0].tags[0], "cat /ssh-add-l.txt");
  assert.match(listed, new RegExp(`^256 ${k.fingerprint.replace(/[+/]/g, "\\$&")} s2d-ssh-test-${nonce} \\(ED25519\\)\n$`));

  const dockerfile = readFileSync(path.join(work, "Dockerfile"), "utf8");
  assert.match(dockerfile, /RUN --mount=type=bind,from=stapel-toolchain,source=\/\.stapel,target=\/\.stapel \\\n(    --mount=.* \\\n)*    --mount=type=ssh,id=default \\\n    <<'STAPEL_EOF'\n/);
  const bake = JSON.parse(readFileSync(path.join(work, "docker-bake.json"), "utf8"));
  const ssh = Object.values(bake.target as Record<string, { ssh?: string[] }>).map((x) => x.ssh);
  assert.ok(ssh.every((s) => s?.length === 1 && /^default=\/.*agent\.sock$/.test(s[0])), JSON.stringify(ssh));
  assert.ok(!existsSync(bake.target[Object.keys(bake.target)[0]].ssh[0].slice("default=".length)), "the temporary agent is gone");
  const secret = readFileSync(k.key, "utf8").split("\n").slice(1, 3).join("");
  // no key material anywhere in the build folder or the image
  assert.equal(grepCount(work, secret.slice(0, 40)), 0);
  assert.equal(await sh(r.images[0].tags[0], `find / -xdev -type f -exec grep -l -F '${secret.slice(0, 40)}' {} + | wc -l`), "0\n");
});

function grepCount(dir: string, needle: string): number {
  try {
    return execFileSync("grep", ["-rl", "-F", needle, dir], { encoding: "utf8" }).split("\n").filter(Boolean).length;
  } catch {
    return 0; // grep exits 1 when nothing matches
  }
}

test("startSshAgent: the agent holds the key and is stopped afterwards", async (t) => {
  const k = keyPair("s2d-agent-unit");
  t.after(() => rmSync(k.dir, { recursive: true, force: true }));
  const agent = await startSshAgent([k.key]);
  const listed = await run("ssh-add", ["-l"], { env: { ...process.env, SSH_AUTH_SOCK: agent.socket } });
  assert.match(listed, new RegExp(`s2d-agent-unit`));
  assert.ok(listed.includes(k.fingerprint));
  await agent.stop();
  assert.ok(!existsSync(agent.socket));
  assert.equal(alive(agent.pid), false, "the ssh-agent process is gone");
});

test("parseSshSpecs: default needs SSH_AUTH_SOCK; ID=PATH must exist; default sorts first", () => {
  const dir = tempDir("ssh-spec");
  try {
    mkdirSync(path.join(dir, "k"));
    assert.deepEqual(parseSshSpecs([`zz=${dir}/k`, "default"], { SSH_AUTH_SOCK: "/run/agent" }), [
      { id: "default", paths: ["/run/agent"] },
      { id: "zz", paths: [`${dir}/k`] },
    ]);
    assert.throws(() => parseSshSpecs(["default"], {}), (e) => e instanceof UserError && /SSH_AUTH_SOCK is not set/.test(e.message));
    assert.throws(() => parseSshSpecs([`x=${dir}/missing`], {}), (e) => e instanceof UserError && /does not exist/.test(e.message));
    assert.throws(() => parseSshSpecs(["github"], {}), (e) => e instanceof UserError && /only `default` may omit/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("ssh agents: a mount per agent on every RUN of a user stage, none on git patch RUNs, scripts untouched", () => {
  const src = gitSource("1111111111111111", mapping("/", "/app"), "/r", "c2");
  const p = plan([
    image("a", "image", [
      stage("a", "a", "from", { kind: "from", base: { kind: "external", ref: "x" } }, 1),
      stage("a", "a", "install", userBody("install", [cmd("RUN not an instruction\nFROM y AS fake\nEOF", 3)]), 2),
      stage("a", "a", "gitLatestPatch", {
        kind: "gitPatch",
        stage: "gitLatestPatch",
        patches: [{ source: src, fromCommit: "c1", tar: "p.tar", removals: "p.list" }],
        context: { name: "stapel-patches", path: "/tmp/patches" },
      }, 4),
    ]),
  ]);
  const printed = printPlanDockerfile(p, ["default", "gh"]);
  const lines = printed.text.split("\n");
  const runs = lines.map((l, i) => ({ l, i })).filter((x) => x.l.startsWith("RUN --mount"));
  assert.equal(runs.length, 2);
  const [user, patch] = runs.map((r) => printed.lines[r.i].stage);
  assert.deepEqual([user, patch], ["a--install", "a--gitlatestpatch"]);
  const mountsOf = (stageName: string) => lines.filter((l, i) => printed.lines[i]?.stage === stageName && printed.lines[i]?.kind === "run" && /--mount=type=ssh/.test(l));
  assert.deepEqual(mountsOf("a--install").map((l) => l.trim()), ["--mount=type=ssh,id=default \\", "--mount=type=ssh,id=gh \\"]);
  assert.deepEqual(mountsOf("a--gitlatestpatch"), []);
  // the command's own lines stay in the heredoc, as written
  assert.ok(printed.text.includes("RUN not an instruction\nFROM y AS fake\nEOF\n"));
  assert.ok(!printed.text.includes("--mount=type=ssh,id=default RUN"));
});

void before;
