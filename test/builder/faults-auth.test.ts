// `stapel2docker build` against a real `docker-registry` with htpasswd (Basic) auth on a free 127.0.0.1 port
// (test/registry/fixture.ts's startRegistry), run as the CLI with DOCKER_CONFIG pointing at:
//  - no credentials → "requires authentication", hint "log in: docker login HOST", exit 1, nothing pushed;
//  - wrong credentials → "refused the credentials", hint "... docker login HOST", exit 1, nothing pushed;
//  - the config `docker --config DIR login` wrote → the build succeeds (the daemon's push uses that login too).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, writeFile as writeFileAsync } from "node:fs/promises";
import { rmSync } from "node:fs";
import path from "node:path";
import bcrypt from "bcryptjs";
import { RegistryClient } from "../../src/registry/index.js";
import { tempDir as gitTempDir } from "../git/gitFixture.js";
import { repoRoot } from "../support/paths.js";
import { removeAll, run, startRegistry, tempDir, type RunningRegistry } from "../registry/fixture.js";
import { WERF_YAML, makeProject, stackUp } from "./support.js";

const USER = "builder";
const PASSWORD = `pw-${randomBytes(6).toString("hex")}`;
const cli = path.join(repoRoot, "dist/src/cli/main.js");
const lockDir = gitTempDir("faults-auth-locks");
process.on("exit", () => rmSync(lockDir, { recursive: true, force: true }));

let reg: RunningRegistry;
let tmp: string;
let loggedIn: string;

before(async () => {
  await stackUp();
  tmp = await tempDir("build-auth");
  await writeFileAsync(path.join(tmp, "htpasswd"), `${USER}:${bcrypt.hashSync(PASSWORD, 5)}\n`);
  reg = await startRegistry(["auth:", "  htpasswd:", "    realm: s2d-build", `    path: ${path.join(tmp, "htpasswd")}`].join("\n"));
  loggedIn = path.join(tmp, "logged-in");
  await run("docker", ["--config", loggedIn, "login", "-u", USER, "--password-stdin", reg.host], { input: PASSWORD });
});

after(async () => {
  await reg?.stop();
  await removeAll(tmp);
});

async function dockerConfig(name: string, config: unknown): Promise<string> {
  const dir = path.join(tmp, name);
  await mkdir(dir, { recursive: true });
  await writeFileAsync(path.join(dir, "config.json"), JSON.stringify(config));
  return dir;
}

function runCli(args: string[], dockerConfigDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, DOCKER_CONFIG: dockerConfigDir, STAPEL2DOCKER_LOCK_DIR: lockDir, STAPEL2DOCKER_NO_LABEL_CACHE: "1" };
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString("utf8")));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The repository's tags, read with the right credentials; [] when the repository does not exist. */
async function tags(repo: string): Promise<string[]> {
  try {
    return await new RegistryClient({ dockerConfigDir: loggedIn }).listTags(repo);
  } catch (e) {
    if (/not found/.test((e as Error).message)) return [];
    throw e;
  }
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function failsClearly(r: { code: number | null; stdout: string; stderr: string }, host: string): void {
  assert.equal(r.code, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at .*\.js:\d+/, "no stack trace");
  assert.doesNotMatch(r.stderr, new RegExp(PASSWORD), "no secret shown");
  assert.doesNotMatch(r.stderr, /buildx bake/, "buildx was not started");
  assert.equal(r.stdout, "", "no report");
  assert.match(r.stderr, new RegExp(`listing tags of ${esc(host)}/`), "names the registry and the operation");
}

test("no credentials, then wrong credentials: a clear 'docker login HOST' error, exit 1, nothing pushed; the right login builds", { timeout: 300_000 }, async (t) => {
  const nonce = randomBytes(6).toString("hex");
  const p = makeProject(WERF_YAML.replace("  - date +%s%N > /setup-ran.txt", `  - echo setup-${nonce} > /setup-ran.txt`));
  t.after(() => p.cleanup());
  const repo = `${reg.host}/team/app`;

  const anonymous = await runCli(["build", "--dir", p.dir, "--repo", repo], await dockerConfig("empty", {}));
  failsClearly(anonymous, reg.host);
  assert.match(anonymous.stderr, new RegExp(`${esc(reg.host)} requires authentication`));
  assert.match(anonymous.stderr, new RegExp(`hint: log in: docker login ${esc(reg.host)}\\n`));

  const wrongAuth = Buffer.from(`${USER}:${PASSWORD}-wrong`).toString("base64");
  const wrong = await runCli(["build", "--dir", p.dir, "--repo", repo], await dockerConfig("wrong", { auths: { [reg.host]: { auth: wrongAuth } } }));
  failsClearly(wrong, reg.host);
  assert.match(wrong.stderr, new RegExp(`${esc(reg.host)} refused the credentials from config.json auths`));
  assert.match(wrong.stderr, new RegExp(`hint: check the user name and password, then log in again: docker login ${esc(reg.host)}\\n`));
  assert.deepEqual(await tags(repo), [], "nothing pushed");

  const ok = await runCli(["build", "--dir", p.dir, "--repo", repo], loggedIn);
  assert.equal(ok.code, 0, ok.stderr.slice(-3000));
  const stored = await tags(repo);
  const finals = stored.filter((x) => x.startsWith("app-"));
  assert.equal(finals.length, 1, stored.join(" "));
  assert.ok(stored.filter((x) => /^[0-9a-f]{56}-\d+$/.test(x)).length >= 5, `the stages were pushed by the daemon: ${stored.join(" ")}`);
  const out = await run("docker", ["--config", loggedIn, "run", "--rm", "--pull", "always", "--entrypoint", "/bin/sh", `${repo}:${finals[0]}`, "-c", "cat /setup-ran.txt"]);
  assert.equal(out.stdout, `setup-${nonce}\n`);

  // and a no-op build with the login: nothing built, the final tag written again
  const again = await runCli(["build", "--dir", p.dir, "--repo", repo], loggedIn);
  assert.equal(again.code, 0, again.stderr.slice(-3000));
  assert.match(again.stdout, /\n0 stage\(s\) built/);
});
