// Auth flows against REAL docker-registry instances started by the test on free 127.0.0.1 ports:
// - htpasswd (Basic) auth, the htpasswd file written with bcryptjs;
// - token (Bearer) auth: the registry is configured with `auth: token` and a certificate made by openssl; the token
//   server is in-process (it checks the user's password or refresh token and signs RS256 JWTs with the matching key,
//   x5c header), so the whole flow is the real one: registry challenge → token server → registry verifies the JWT.
// Images are pushed by the real docker engine after `docker --config TMP login`, whose config.json the client reads.
// Credential helpers are fake `docker-credential-test` scripts on PATH.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createSign, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import bcrypt from "bcryptjs";
import { UserError } from "../../src/diagnostics.js";
import { LABELS } from "../../src/plan/labels.js";
import { RegistryClient } from "../../src/registry/index.js";
import { ensureStack, pushLocal, readRequestBody, removeAll, run, startRegistry, startServer, tempDir, type RunningRegistry, type RunningServer } from "./fixture.js";

const USER = "alice";
const PASSWORD = `pw-${randomBytes(6).toString("hex")}`;
const REFRESH = `refresh-${randomBytes(6).toString("hex")}`;

async function rejectsUser(p: Promise<unknown>, ...patterns: RegExp[]): Promise<UserError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${(e as Error)?.stack ?? String(e)}`);
    for (const re of patterns) assert.match(e.message, re);
    assert.ok(!e.message.includes(PASSWORD) && !e.message.includes(REFRESH), "no secret in the message");
    return e;
  }
  assert.fail("expected a UserError, the call succeeded");
}

/** A docker config dir holding `config`. */
async function dockerConfig(root: string, name: string, config: unknown): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "config.json"), JSON.stringify(config));
  return dir;
}

const basicAuth = (u: string, p: string) => Buffer.from(`${u}:${p}`).toString("base64");

async function loginAndPush(host: string, configDir: string, repo: string): Promise<void> {
  await run("docker", ["--config", configDir, "login", "-u", USER, "--password-stdin", host], { input: PASSWORD });
  await pushLocal(`${host}/${repo}:v1`, { dockerConfig: configDir });
}

describe("registry auth: htpasswd (Basic) on a real registry", { timeout: 5 * 60_000 }, () => {
  let reg: RunningRegistry;
  let tmp: string;
  let loggedIn: string;
  const repo = "team/app";

  before(async () => {
    await ensureStack();
    tmp = await tempDir("registry-basic");
    await writeFile(path.join(tmp, "htpasswd"), `${USER}:${bcrypt.hashSync(PASSWORD, 5)}\n`);
    reg = await startRegistry(["auth:", "  htpasswd:", "    realm: s2d-basic", `    path: ${path.join(tmp, "htpasswd")}`].join("\n"));
    loggedIn = path.join(tmp, "docker-login");
    await loginAndPush(reg.host, loggedIn, repo);
  });

  after(async () => {
    await reg?.stop();
    await removeAll(tmp);
  });

  test("anonymous: 401 becomes 'log in: docker login HOST'", async () => {
    const c = new RegistryClient({ dockerConfigDir: await dockerConfig(tmp, "empty", {}) });
    await rejectsUser(
      c.listTags(`${reg.host}/${repo}`),
      new RegExp(`^listing tags of ${reg.host}/${repo}: ${reg.host} requires authentication`),
      new RegExp(`hint: log in: docker login ${reg.host}$`),
    );
  });

  test("the config.json written by `docker login` (auths.auth): tags, config, copy", async () => {
    const saved = JSON.parse(await readFile(path.join(loggedIn, "config.json"), "utf8")) as { auths: Record<string, { auth?: string }> };
    assert.equal(saved.auths[reg.host]?.auth, basicAuth(USER, PASSWORD), "docker login stored the credentials in the file");
    const c = new RegistryClient({ dockerConfigDir: loggedIn });
    assert.deepEqual(await c.listTags(`${reg.host}/${repo}`), ["v1"]);
    const cfg = await c.getImageConfig(`${reg.host}/${repo}:v1`);
    assert.equal(typeof cfg.config.rootfs, "object");
    const digest = await c.copyTag(`${reg.host}/${repo}:v1`, "v2");
    assert.equal((await c.headManifest(`${reg.host}/${repo}:v2`))?.digest, digest);
    // Once the registry said "Basic", requests carry the credentials up front: no second 401 round trip.
    const before = c.requestCount;
    await c.listTags(`${reg.host}/${repo}`);
    assert.equal(c.requestCount - before, 1);
  });

  test("username/password fields and an https:// key are understood", async () => {
    const dir = await dockerConfig(tmp, "fields", { auths: { [`https://${reg.host}/v1/`]: { username: USER, password: PASSWORD } } });
    assert.ok((await new RegistryClient({ dockerConfigDir: dir }).listTags(`${reg.host}/${repo}`)).includes("v1"));
  });

  test("a wrong password: the credentials were refused, log in again (the secret is not shown)", async () => {
    const dir = await dockerConfig(tmp, "wrong", { auths: { [reg.host]: { auth: basicAuth(USER, `${PASSWORD}x`) } } });
    await rejectsUser(
      new RegistryClient({ dockerConfigDir: dir }).listTags(`${reg.host}/${repo}`),
      new RegExp(`^listing tags of ${reg.host}/${repo}: ${reg.host} refused the credentials from config.json auths`),
      new RegExp(`hint: check the user name and password, then log in again: docker login ${reg.host}`),
    );
  });

  describe("credential helpers (a fake docker-credential-test on PATH)", () => {
    let binDir: string;
    let savedPath: string | undefined;
    const log = () => path.join(binDir, "calls.log");

    before(async () => {
      binDir = path.join(tmp, "bin");
      await mkdir(binDir, { recursive: true });
      // Answers for our registry with the right credentials, and "not found" for anything else.
      await writeFile(
        path.join(binDir, "docker-credential-test"),
        [
          "#!/bin/sh",
          '[ "$1" = get ] || exit 2',
          "read -r server",
          `echo "$server" >> "${log()}"`,
          `if [ "$server" = "${reg.host}" ]; then`,
          `  printf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}' "$server"`,
          "else",
          "  echo 'credentials not found in native keychain'",
          "  exit 1",
          "fi",
          "",
        ].join("\n"),
      );
      await chmod(path.join(binDir, "docker-credential-test"), 0o755);
      savedPath = process.env.PATH;
      process.env.PATH = `${binDir}${path.delimiter}${savedPath ?? ""}`;
    });

    after(() => {
      process.env.PATH = savedPath;
    });

    test("credHelpers[host] is asked with the server URL on stdin", async () => {
      const dir = await dockerConfig(tmp, "helpers", { credHelpers: { [reg.host]: "test" } });
      assert.ok((await new RegistryClient({ dockerConfigDir: dir }).listTags(`${reg.host}/${repo}`)).includes("v1"));
      assert.equal((await readFile(log(), "utf8")).trim().split("\n").pop(), reg.host);
    });

    test("credsStore for every host; 'credentials not found' means anonymous", async () => {
      const dir = await dockerConfig(tmp, "store", { credsStore: "test" });
      assert.ok((await new RegistryClient({ dockerConfigDir: dir }).listTags(`${reg.host}/${repo}`)).includes("v1"));
      // The helper has nothing for "localhost:PORT" (another name of the same registry): anonymous, so a 401.
      const port = reg.host.split(":")[1];
      await rejectsUser(new RegistryClient({ dockerConfigDir: dir }).listTags(`localhost:${port}/${repo}`), /requires authentication/, /docker login localhost:/);
    });

    test("a helper that is not installed is a clear error", async () => {
      const dir = await dockerConfig(tmp, "missing-helper", { credHelpers: { [reg.host]: "absent-s2d" } });
      await rejectsUser(
        new RegistryClient({ dockerConfigDir: dir }).listTags(`${reg.host}/${repo}`),
        /the docker credential helper docker-credential-absent-s2d \(configured for 127\.0\.0\.1:\d+\) cannot be run: not found on PATH/,
      );
    });
  });
});

describe("registry auth: token (Bearer) on a real registry with an in-process token server", { timeout: 5 * 60_000 }, () => {
  let reg: RunningRegistry;
  let tokens: RunningServer;
  let tmp: string;
  let loggedIn: string;
  let certDer: string;
  let keyPem: string;
  let expiresIn = 300;
  const service = "s2d-test-registry";
  const issuer = "s2d-test-issuer";
  const repo = "team/tok";
  const requests: Array<{ method: string; scopes: string[]; user?: string; grant?: string }> = [];

  const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");
  function jwt(subject: string, scopes: string[]): string {
    const now = Math.floor(Date.now() / 1000);
    const access = scopes
      .map((s) => /^([^:]+):(.+):([^:]+)$/.exec(s))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ type: m[1], name: m[2], actions: m[3]!.split(",") }));
    const header = b64url(JSON.stringify({ typ: "JWT", alg: "RS256", x5c: [certDer] }));
    const claims = b64url(JSON.stringify({ iss: issuer, sub: subject, aud: service, exp: now + expiresIn, nbf: now - 10, iat: now, jti: randomBytes(8).toString("hex"), access }));
    const signer = createSign("RSA-SHA256");
    signer.update(`${header}.${claims}`);
    return `${header}.${claims}.${b64url(signer.sign(keyPem))}`;
  }

  before(async () => {
    await ensureStack();
    tmp = await tempDir("registry-token");
    await run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=s2d-token-signer",
      "-keyout", path.join(tmp, "key.pem"), "-out", path.join(tmp, "cert.pem")]);
    keyPem = await readFile(path.join(tmp, "key.pem"), "utf8");
    certDer = (await readFile(path.join(tmp, "cert.pem"), "utf8")).replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");

    tokens = await startServer(async (req, res) => {
      const u = new URL(req.url ?? "/", "http://tokens");
      let scopes = u.searchParams.getAll("scope").flatMap((s) => s.split(" "));
      let subject: string | undefined;
      let grant: string | undefined;
      let user: string | undefined;
      if (req.method === "POST") {
        const form = new URLSearchParams((await readRequestBody(req)).toString());
        grant = form.get("grant_type") ?? undefined;
        scopes = (form.get("scope") ?? "").split(" ").filter(Boolean);
        if (grant === "refresh_token" && form.get("refresh_token") === REFRESH) subject = USER;
        else if (grant === "password" && form.get("username") === USER && form.get("password") === PASSWORD) subject = USER;
        else {
          res.writeHead(401, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: "invalid_grant" }));
          return;
        }
      } else {
        const h = req.headers.authorization;
        if (h) {
          const [name, pass] = Buffer.from(h.replace(/^Basic /, ""), "base64").toString().split(":");
          user = name;
          if (name !== USER || pass !== PASSWORD) {
            res.writeHead(401, { "content-type": "application/json" });
            res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }));
            return;
          }
          subject = USER;
        }
      }
      requests.push({ method: req.method ?? "", scopes, ...(user ? { user } : {}), ...(grant ? { grant } : {}) });
      // Only alice gets access; anonymous users get a token that grants nothing.
      const token = jwt(subject ?? "", subject ? scopes : []);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(req.method === "POST" ? { access_token: token, expires_in: expiresIn } : { token, expires_in: expiresIn }));
    });
    reg = await startRegistry(
      ["auth:", "  token:", `    realm: http://${tokens.host}/token`, `    service: ${service}`, `    issuer: ${issuer}`, `    rootcertbundle: ${path.join(tmp, "cert.pem")}`].join("\n"),
    );
    loggedIn = path.join(tmp, "docker-login");
    await loginAndPush(reg.host, loggedIn, repo);
  });

  after(async () => {
    await reg?.stop();
    await tokens?.close();
    await removeAll(tmp);
  });

  test("anonymous: the token grants nothing, so 'log in'", async () => {
    const c = new RegistryClient({ dockerConfigDir: await dockerConfig(tmp, "empty", {}) });
    await rejectsUser(c.listTags(`${reg.host}/${repo}`), new RegExp(`${reg.host} requires authentication`), new RegExp(`docker login ${reg.host}`));
  });

  test("basic credentials → token per scope, cached: one token for every pull, another for push", async () => {
    requests.length = 0;
    const c = new RegistryClient({ dockerConfigDir: loggedIn });
    assert.deepEqual(await c.listTags(`${reg.host}/${repo}`), ["v1"]);
    const cfg = await c.getImageConfig(`${reg.host}/${repo}:v1`);
    assert.equal(cfg.config.config.Labels?.[LABELS.digest], undefined);
    assert.equal(typeof (await c.headManifest(`${reg.host}/${repo}:v1`))?.digest, "string");
    assert.deepEqual(requests, [{ method: "GET", scopes: [`repository:${repo}:pull`], user: USER }]);
    await c.copyTag(`${reg.host}/${repo}:v1`, "v2");
    await c.copyTag(`${reg.host}/${repo}:v1`, "v3");
    assert.equal(requests.length, 2);
    assert.deepEqual(requests[1]!.scopes, [`repository:${repo}:pull,push`]);
    assert.deepEqual(await c.listTags(`${reg.host}/${repo}`), ["v1", "v2", "v3"]);
    assert.equal(requests.length, 2, "tokens are reused until they expire");
  });

  test("an expired token is fetched again", async () => {
    expiresIn = 1;
    try {
      requests.length = 0;
      const c = new RegistryClient({ dockerConfigDir: loggedIn });
      await c.listTags(`${reg.host}/${repo}`);
      await new Promise((r) => setTimeout(r, 1100));
      await c.listTags(`${reg.host}/${repo}`);
      assert.equal(requests.length, 2);
    } finally {
      expiresIn = 300;
    }
  });

  test("identity token: POST grant_type=refresh_token, no password sent", async () => {
    requests.length = 0;
    const dir = await dockerConfig(tmp, "identity", { auths: { [reg.host]: { identitytoken: REFRESH } } });
    const c = new RegistryClient({ dockerConfigDir: dir });
    assert.ok((await c.listTags(`${reg.host}/${repo}`)).includes("v1"));
    assert.deepEqual(requests, [{ method: "POST", scopes: [`repository:${repo}:pull`], grant: "refresh_token" }]);
  });

  test("wrong password: the token server refuses, and the error says to log in again", async () => {
    const dir = await dockerConfig(tmp, "wrong", { auths: { [reg.host]: { auth: basicAuth(USER, "nope") } } });
    await rejectsUser(
      new RegistryClient({ dockerConfigDir: dir }).listTags(`${reg.host}/${repo}`),
      new RegExp(`^listing tags of ${reg.host}/${repo} \\(getting a token from http://${tokens.host}/token\\): ${reg.host} refused the credentials from config.json auths \\(UNAUTHORIZED: bad credentials\\)`),
      new RegExp(`docker login ${reg.host}`),
    );
  });
});
