// `stapel2docker build` end to end through a small faulty HTTP proxy (in-process) in front of the real registry on
// 127.0.0.1:5000, used as the build's registry host: both our registry client and the daemon's pushes go through it
// (Docker treats 127.0.0.0/8 as insecure: plain HTTP). The proxy keeps the client's Host header, so the upload
// Locations the registry hands out point back at the proxy. Run as the CLI (a child process): exit code, stderr.
//  (a) a few 500s, then healthy → the build retries and succeeds;
//  (b) 500s forever from the push on → a clear error naming the registry and the operation, exit 1, no tag at all;
//      500s forever on the final tags → exit 1, the finished stages are stored, no final tag;
//  (c) after (b), the next build through a healthy proxy succeeds, reusing what was finished.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import path from "node:path";
import { RegistryClient } from "../../src/registry/index.js";
import { makeToolchainImage, pushToolchain } from "../../src/toolchain/image.js";
import { tempDir, writeFile } from "../git/gitFixture.js";
import { repoRoot } from "../support/paths.js";
import { startRegistryProxy, type RegistryProxy } from "../support/registry-proxy.js";
import { WERF_YAML, makeProject, sh, stackUp } from "./support.js";

const cli = path.join(repoRoot, "dist/src/cli/main.js");
const lockDir = tempDir("faults-locks");
const labelDir = tempDir("faults-labels");
process.on("exit", () => {
  rmSync(lockDir, { recursive: true, force: true });
  rmSync(labelDir, { recursive: true, force: true });
});


function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, STAPEL2DOCKER_LOCK_DIR: lockDir, XDG_CACHE_HOME: labelDir };
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString("utf8")));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const STAGE_TAG = /^[0-9a-f]{56}-\d+$/;
/** The tags of `project/app` as the real registry (not the proxy) has them (but the toolchain's `toolchain-<hex>`). */
async function realTags(project: string): Promise<string[]> {
  return (await new RegistryClient().listTags(`127.0.0.1:5000/${project}/app`).catch(() => [] as string[])).filter((t) => !t.startsWith("toolchain-"));
}

/** A project whose commands are unique to this run (BuildKit's cache would otherwise skip the RUNs). */
function project() {
  const nonce = randomBytes(6).toString("hex");
  const p = makeProject(WERF_YAML.replace("  - date +%s%N > /setup-ran.txt", `  - echo setup-${nonce} > /setup-ran.txt`));
  return { ...p, nonce };
}

const noStack = (stderr: string) => assert.doesNotMatch(stderr, /\n\s+at .*\.js:\d+/, "no stack trace");
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

let proxy: RegistryProxy;
before(async () => {
  await stackUp();
  proxy = await startRegistryProxy();
});
after(async () => {
  await proxy?.close();
});

test("(a) a few 500s then healthy: the build retries and succeeds", { timeout: 300_000 }, async (t) => {
  const p = project();
  t.after(() => p.cleanup());
  const name = `s2d-test-${randomBytes(5).toString("hex")}`;
  const repo = `${proxy.host}/${name}/app`;
  // the first 2 answers to every (method, path) of ours fail; so do the daemon's first 3 requests
  const seenOurs = new Map<string, number>();
  let daemon = 0;
  proxy.seen = [];
  proxy.fault = ({ method, path: p2, ours }) => {
    if (!ours) return ++daemon <= 3;
    const k = `${method} ${p2}`;
    const c = (seenOurs.get(k) ?? 0) + 1;
    seenOurs.set(k, c);
    return c <= 2;
  };
  const r = await runCli(["build", "--dir", p.dir, "--repo", repo]);
  proxy.fault = () => false;
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const injected = proxy.seen.filter((s) => s.injected);
  assert.ok(injected.some((s) => /\/tags\/list$/.test(s.path)), "the tag listing met 500s");
  assert.ok(injected.some((s) => s.method === "PUT" && /\/manifests\/app-/.test(s.path)), "the final tag met 500s");
  assert.equal(injected.filter((s) => !s.ours).length, 3, "the daemon's first 3 requests failed");
  assert.ok(proxy.seen.some((s) => !s.ours && s.method === "PUT" && /\/manifests\//.test(s.path) && s.status === 201), "the daemon pushed through the proxy");
  const tags = await realTags(name);
  const finals = tags.filter((x) => x.startsWith("app-"));
  assert.equal(finals.length, 1, `one final tag: ${tags.join(" ")}`);
  assert.match(r.stdout, /stage\(s\) built/);
  assert.equal(await sh(`127.0.0.1:5000/${name}/app:${finals[0]}`, "cat /setup-ran.txt"), `setup-${p.nonce}\n`);
});

test("(b) 500s forever: clear error, exit 1, nothing partial; (c) then a healthy build works", { timeout: 600_000 }, async (t) => {
  const p = project();
  t.after(() => p.cleanup());
  const name = `s2d-test-${randomBytes(5).toString("hex")}`;
  const repo = `${proxy.host}/${name}/app`;

  // (b1) only tag listings get through: every push of the daemon and every other request fail, forever (the
  // toolchain is in the repo already, and our check that it is gets through: this is about the stages' pushes)
  await pushToolchain(new RegistryClient(), `127.0.0.1:5000/${name}/app`, [await makeToolchainImage()]);
  proxy.seen = [];
  proxy.fault = ({ method, path: p2, ours }) => !(method === "GET" && /\/tags\/list$/.test(p2)) && !(ours && method === "HEAD" && /\/manifests\/sha256:/.test(p2));
  const b1 = await runCli(["build", "--dir", p.dir, "--repo", repo]);
  assert.equal(b1.code, 1, b1.stderr.slice(-3000));
  assert.ok(proxy.seen.some((s) => s.injected && !s.ours), "the daemon's push met the 500s");
  assert.match(b1.stderr, /docker buildx bake failed .*no tag was written for the stages it did not finish/);
  assert.match(b1.stderr, new RegExp(esc(proxy.host)), "names the registry");
  // the builder's first request is the pull of the toolchain (a registry image since issue #14), then the pushes
  assert.match(b1.stderr, /pull|push/i, "names the operation");
  assert.match(b1.stderr, /500/, "says what the registry answered");
  noStack(b1.stderr);
  assert.equal(b1.stdout, "", "no report");
  assert.deepEqual(await realTags(name), [], "no tag at all on the registry");

  // (b2) the stages push fine, the final tag fails forever: stages stored, no final tag
  proxy.seen = [];
  proxy.fault = ({ method, path: p2, ours }) => ours && method === "PUT" && /\/manifests\/app-/.test(p2);
  const b2 = await runCli(["build", "--dir", p.dir, "--repo", repo]);
  assert.equal(b2.code, 1, b2.stderr.slice(-3000));
  const attempts = proxy.seen.filter((s) => s.injected).length;
  assert.equal(attempts, 5, "the final tag was tried 5 times (4 retries)");
  assert.match(b2.stderr, new RegExp(`${esc(proxy.host)}/${name}/app`), "names the registry and repository");
  assert.match(b2.stderr, /tag/i, "names the operation");
  assert.match(b2.stderr, /the registry failed with 500.*\(5 attempts\)/);
  assert.match(b2.stderr, new RegExp(`hint: .*${esc(proxy.host)} is failing`));
  noStack(b2.stderr);
  const afterB2 = await realTags(name);
  assert.ok(afterB2.length > 0 && afterB2.every((x) => STAGE_TAG.test(x)), `only stage tags, no final tag: ${afterB2.join(" ")}`);

  // (c) healthy: everything stored is reused, the final tag is written, the image is right
  proxy.seen = [];
  proxy.fault = () => false;
  writeFile(p.dir, "src/readme.txt", "after the faults\n");
  p.commit("edit");
  const c = await runCli(["build", "--dir", p.dir, "--repo", repo]);
  assert.equal(c.code, 0, c.stderr.slice(-3000));
  const tags = await realTags(name);
  const finals = tags.filter((x) => x.startsWith("app-"));
  assert.equal(finals.length, 1, tags.join(" "));
  for (const x of afterB2) assert.match(c.stdout, new RegExp(`reused .*${x}`), `${x} reused`);
  const img = `127.0.0.1:5000/${name}/app:${finals[0]}`;
  assert.equal(await sh(img, "cat /setup-ran.txt /app/readme.txt"), `setup-${p.nonce}\nafter the faults\n`);
});
