// The registry client against the REAL local registry (docker-registry 2.8.2 on 127.0.0.1:5000, started by
// scripts/stack/up.sh), with images pushed by the real docker engine and buildx. In-process proxies in front of it
// add what that registry does not do: tags-list pagination (2.8 ignores `?n=` on tags/list; distribution 3 and
// most hosted registries paginate with Link headers), 503s and 429s for the retries.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../../src/diagnostics.js";
import { LABELS, gitCommitLabel } from "../../src/plan/labels.js";
import { MEDIA_TYPES, RegistryClient, registryImageConfigResolver } from "../../src/registry/index.js";
import {
  LOCAL_REGISTRY,
  ensureStack,
  forward,
  freePort,
  removeAll,
  run,
  startServer,
  tempDir,
  uniqueRepo,
  type RunningServer,
} from "./fixture.js";

const sha = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** A client that never reads the machine's docker config, with quick retries. */
const client = (extra: ConstructorParameters<typeof RegistryClient>[0] = {}) =>
  new RegistryClient({ dockerConfigDir: "/nonexistent-docker-config", retryDelayMs: 5, ...extra });

async function rejectsUser(p: Promise<unknown>, ...patterns: RegExp[]): Promise<UserError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${(e as Error)?.stack ?? String(e)}`);
    for (const re of patterns) assert.match(e.message, re);
    assert.doesNotMatch(e.message, /\n\s+at /, "no stack trace in the message");
    return e;
  }
  assert.fail("expected a UserError, the call succeeded");
}

describe("registry client on the real local registry", { timeout: 10 * 60_000 }, () => {
  const repo = uniqueRepo("app");
  const base = `${LOCAL_REGISTRY}/${repo}`;
  const stageDigest = "0123456789abcdef0123456789abcdef0123456789abcdef01234567";
  const commit = "89abcdef0123456789abcdef0123456789abcdef";
  let buildDir: string;
  let v2Digest: string;

  before(async () => {
    await ensureStack();
    // An image built by buildx with the stage labels the build writes (docker driver: Docker v2 media types).
    buildDir = await tempDir("registry-build");
    await writeFile(
      path.join(buildDir, "Dockerfile"),
      `FROM stapel2docker/base-busybox:latest\nLABEL ${LABELS.digest}=${stageDigest} ${gitCommitLabel("0a1b2c")}=${commit}\n`,
    );
    await run("docker", ["buildx", "build", "-q", "--output", `type=image,name=${base}:${stageDigest}-1700000000000,push=true`, buildDir]);
    const head = await fetch(`http://${base.replace(`${LOCAL_REGISTRY}/`, `${LOCAL_REGISTRY}/v2/`)}/manifests/${stageDigest}-1700000000000`, {
      method: "HEAD",
      headers: { Accept: MEDIA_TYPES.dockerManifest },
    });
    v2Digest = head.headers.get("docker-content-digest") ?? "";
    assert.match(v2Digest, /^sha256:[0-9a-f]{64}$/);
  });

  after(async () => {
    await removeAll(buildDir);
  });

  test("head and get a Docker v2 manifest: digest is the sha256 of the exact bytes and matches the registry's", async () => {
    const c = client();
    const ref = `${base}:${stageDigest}-1700000000000`;
    const head = await c.headManifest(ref);
    assert.deepEqual(head && { mediaType: head.mediaType, digest: head.digest }, { mediaType: MEDIA_TYPES.dockerManifest, digest: v2Digest });
    const m = await c.getManifest(ref);
    assert.equal(m.digest, v2Digest);
    assert.equal(sha(m.body), v2Digest);
    assert.equal(head!.size, m.body.length);
    assert.equal(m.mediaType, MEDIA_TYPES.dockerManifest);
    assert.equal(m.json.config.mediaType, "application/vnd.docker.container.image.v1+json");
    // By digest too.
    const byDigest = await c.getManifest(`${base}@${v2Digest}`);
    assert.deepEqual(byDigest.body, m.body);
  });

  test("getImageConfig reads the stage labels from the config blob", async () => {
    const c = client();
    const cfg = await c.getImageConfig(`${base}:${stageDigest}-1700000000000`);
    assert.equal(cfg.config.config.Labels[LABELS.digest], stageDigest);
    assert.equal(cfg.config.config.Labels[gitCommitLabel("0a1b2c")], commit);
    assert.equal(cfg.manifestDigest, v2Digest);
    const m = await c.getManifest(`${base}@${v2Digest}`);
    assert.equal(cfg.digest, m.json.config.digest);
    assert.equal(cfg.digest, sha(await c.getBlob(base, cfg.digest)));
  });

  test("registryImageConfigResolver: USER, WORKDIR and id from the registry; failures are assumptions with the reason", async () => {
    const dir = await tempDir("registry-user");
    try {
      await writeFile(path.join(dir, "Dockerfile"), "FROM stapel2docker/base-busybox:latest\nUSER nobody\nWORKDIR /srv/app\n");
      await run("docker", ["buildx", "build", "-q", "--output", `type=image,name=${base}:user,push=true`, dir]);
      const c = client();
      const resolver = registryImageConfigResolver(c);
      const got = await resolver.resolve(`${base}:user`);
      const cfg = await c.getImageConfig(`${base}:user`);
      assert.deepEqual(got, { user: "nobody", workdir: "/srv/app", source: "registry", id: cfg.digest });
      const before = c.requestCount;
      await resolver.resolve(`${base}:user`);
      assert.equal(c.requestCount, before, "cached per reference");
      const missing = await resolver.resolve(`${base}:absent`);
      assert.equal(missing.source, "assumed");
      assert.match((missing as { reason?: string }).reason ?? "", /tag absent not found/);
    } finally {
      await removeAll(dir);
    }
  });

  test("OCI manifest and OCI index (platform chosen, attestations skipped); putManifest returns the digest", async () => {
    const c = client();
    const v2 = await c.getManifest(`${base}@${v2Digest}`);
    // The docker driver pushes Docker v2 types only, so the OCI documents are written here, over the same blobs.
    const oci = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: { ...v2.json.config, mediaType: "application/vnd.oci.image.config.v1+json" },
        layers: v2.json.layers.map((l: { size: number; digest: string }) => ({ ...l, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" })),
      }),
    );
    const ociDigest = await c.putManifest(`${base}:oci`, { mediaType: MEDIA_TYPES.ociManifest, body: oci });
    assert.equal(ociDigest, sha(oci));
    const gotOci = await c.getManifest(`${base}:oci`);
    assert.equal(gotOci.mediaType, MEDIA_TYPES.ociManifest);
    assert.equal(gotOci.digest, ociDigest);
    assert.deepEqual(gotOci.body, oci);
    assert.equal((await c.headManifest(`${base}:oci`))?.digest, ociDigest);

    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: [
          { mediaType: MEDIA_TYPES.ociManifest, digest: ociDigest, size: oci.length, platform: { os: "unknown", architecture: "unknown" },
            annotations: { "vnd.docker.reference.type": "attestation-manifest" } },
          { mediaType: MEDIA_TYPES.dockerManifest, digest: v2Digest, size: v2.body.length, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
          { mediaType: MEDIA_TYPES.ociManifest, digest: ociDigest, size: oci.length, platform: { os: "linux", architecture: "amd64" } },
        ],
      }),
    );
    const indexDigest = await c.putManifest(`${base}:multi`, { mediaType: MEDIA_TYPES.ociIndex, body: index });
    const head = await c.headManifest(`${base}:multi`);
    assert.deepEqual(head, { digest: indexDigest, mediaType: MEDIA_TYPES.ociIndex, size: index.length });
    const amd = await c.getImageConfig(`${base}:multi`);
    assert.equal(amd.manifestDigest, ociDigest);
    assert.equal(amd.config.config.Labels[LABELS.digest], stageDigest);
    const arm = await c.getImageConfig(`${base}:multi`, "linux/arm64");
    assert.equal(arm.manifestDigest, v2Digest);
    await rejectsUser(c.getImageConfig(`${base}:multi`, "linux/s390x"), /no linux\/s390x image \(it has: linux\/amd64, linux\/arm64\/v8\)/);
  });

  test("copyTag: manifest GET + PUT under a new tag, listTags shows it, digests equal; cross-repository mounts blobs", async () => {
    const c = client();
    const src = `${base}:${stageDigest}-1700000000000`;
    const digest = await c.copyTag(src, "final-app");
    assert.equal(digest, v2Digest);
    assert.ok((await c.listTags(base)).includes("final-app"));
    assert.equal((await c.headManifest(`${base}:final-app`))?.digest, v2Digest);

    const other = `${LOCAL_REGISTRY}/${uniqueRepo("copy")}`;
    const copied = await c.copyTag(src, `${other}:v1`);
    assert.equal(copied, v2Digest);
    assert.deepEqual(await c.listTags(other), ["v1"]);
    const cfg = await c.getImageConfig(`${other}:v1`);
    assert.equal(cfg.config.config.Labels[LABELS.digest], stageDigest);
    // An index with its children, into a third repository.
    const third = `${LOCAL_REGISTRY}/${uniqueRepo("copy-index")}`;
    const multi = await c.headManifest(`${base}:multi`); // written by the OCI test above (tests run in order)
    assert.ok(multi, "the index tag exists");
    assert.equal(await c.copyTag(`${base}:multi`, `${third}:m`), multi.digest);
    assert.equal((await c.getImageConfig(`${third}:m`, "linux/arm64")).manifestDigest, v2Digest);
    await rejectsUser(c.copyTag(src, "other.example:5000/x:y"), /copying between registries is not supported/, /hint: copy the image with: docker buildx imagetools create/);
  });

  test("listTags: more than 100 tags, all listed and sorted; pagination with Link rel=next through a paginating proxy", async () => {
    const c = client();
    const repo2 = `${LOCAL_REGISTRY}/${uniqueRepo("many")}`;
    const m = await c.getManifest(`${base}@${v2Digest}`);
    await c.copyTag(`${base}@${v2Digest}`, `${repo2}:seed`);
    const want = ["seed"];
    for (let i = 0; i < 105; i++) {
      const tag = `${stageDigest}-${1700000000000 + i}`;
      want.push(tag);
    }
    for (let i = 0; i < want.length - 1; i += 15) {
      await Promise.all(want.slice(1 + i, 1 + i + 15).map((t) => c.putManifest(`${repo2}:${t}`, m)));
    }
    want.sort();
    const direct = client();
    assert.deepEqual(await direct.listTags(repo2), want);
    assert.equal(direct.requestCount, 1, "one tags-list request when the registry answers in one page");

    // The proxy paginates as distribution 3 does: ?n=&last=, Link: </v2/.../tags/list?last=X&n=N>; rel="next".
    const seen: string[] = [];
    const proxy = await startServer(async (req, res) => {
      const u = new URL(req.url ?? "/", "http://proxy");
      seen.push(u.pathname + u.search);
      const tl = /^\/v2\/(.+)\/tags\/list$/.exec(u.pathname);
      if (!tl) return forward(req, res, LOCAL_REGISTRY);
      const upstream = await fetch(`http://${LOCAL_REGISTRY}${u.pathname}`);
      const all = ((await upstream.json()) as { tags: string[] }).tags.sort();
      const n = Number(u.searchParams.get("n") ?? 1000);
      const last = u.searchParams.get("last");
      const from = last ? all.findIndex((t) => t > last) : 0;
      const page = from < 0 ? [] : all.slice(from, from + n);
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (from >= 0 && from + n < all.length) headers.link = `<${u.pathname}?last=${encodeURIComponent(page[page.length - 1]!)}&n=${n}>; rel="next"`;
      res.writeHead(200, headers);
      res.end(JSON.stringify({ name: tl[1], tags: page }));
    });
    try {
      const viaProxy = client();
      const proxied = repo2.replace(LOCAL_REGISTRY, proxy.host);
      assert.deepEqual(await viaProxy.listTags(proxied, { pageSize: 10 }), want);
      assert.equal(seen.length, 11, "106 tags in pages of 10");
      assert.match(seen[0]!, /\?n=10$/);
      assert.match(seen[1]!, /\?last=[0-9a-f]+-\d+&n=10$/);
    } finally {
      await proxy.close();
    }
  });

  test("404s: unknown repository lists no tags, unknown tag heads undefined, get says what was not found", async () => {
    const c = client();
    const missing = `${LOCAL_REGISTRY}/${uniqueRepo("missing")}`;
    assert.deepEqual(await c.listTags(missing), []);
    assert.equal(await c.headManifest(`${base}:no-such-tag`), undefined);
    assert.equal(await c.headManifest(`${missing}:x`), undefined);
    await rejectsUser(
      c.getManifest(`${base}:no-such-tag`),
      new RegExp(`^reading manifest ${base}:no-such-tag: tag no-such-tag not found in ${base} \\(404: MANIFEST_UNKNOWN`),
      /hint: check the repository and tag, or push the image first/,
    );
    await rejectsUser(c.getImageConfig(`${missing}:x`), /^reading the image config of .*: tag x not found in 127\.0\.0\.1:5000\/s2d-registry-test\/missing-.* \(404: MANIFEST_UNKNOWN/);
    await rejectsUser(c.getManifest(`${base}`), /has neither a tag nor a digest/);
    await rejectsUser(c.listTags(`${base}:tag`), /expected a repository without a tag or digest/);
  });

  test("an open registry needs no credentials: a broken credsStore is not even run", async () => {
    const dir = await tempDir("registry-open");
    try {
      await writeFile(path.join(dir, "config.json"), JSON.stringify({ credsStore: "absent-s2d-helper" }));
      const c = new RegistryClient({ dockerConfigDir: dir });
      assert.ok((await c.listTags(base)).includes(`${stageDigest}-1700000000000`));
      assert.equal(c.requestCount, 1);
    } finally {
      await removeAll(dir);
    }
  });

  test("unreachable registry: connection refused names the registry, the operation and what to do", async () => {
    const port = await freePort();
    const c = client({ retries: 2 });
    const e = await rejectsUser(
      c.listTags(`127.0.0.1:${port}/demo`),
      new RegExp(`^listing tags of 127\\.0\\.0\\.1:${port}/demo: cannot connect to 127\\.0\\.0\\.1:${port} \\(connection refused\\)`),
      new RegExp(`hint: is the registry running at http://127\\.0\\.0\\.1:${port}\\?`),
    );
    assert.equal(e.diagnostics.length, 1);
    assert.equal(c.requestCount, 1, "connection refused is not retried");
  });

  test("retries: 503 twice then pass-through succeeds; 429 honours Retry-After; persistent 500 is a clear error", async () => {
    let failures = 0;
    let hits = 0;
    let mode: "503" | "429" | "500" = "503";
    const times: number[] = [];
    const proxy: RunningServer = await startServer(async (req, res) => {
      hits++;
      times.push(Date.now());
      if (mode === "500") {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ errors: [{ code: "UNKNOWN", message: "disk on fire" }] }));
        return;
      }
      if (failures < 2) {
        failures++;
        if (mode === "429") res.writeHead(429, { "retry-after": "1" });
        else res.writeHead(503);
        res.end("busy");
        return;
      }
      return forward(req, res, LOCAL_REGISTRY);
    });
    try {
      const proxied = base.replace(LOCAL_REGISTRY, proxy.host);
      const c = client();
      assert.ok((await c.listTags(proxied)).includes(`${stageDigest}-1700000000000`));
      assert.equal(hits, 3);
      assert.equal(c.requestCount, 3);

      mode = "429";
      failures = 0;
      hits = 0;
      times.length = 0;
      const head = await client().headManifest(`${proxied}:${stageDigest}-1700000000000`);
      assert.equal(head?.digest, v2Digest);
      assert.equal(hits, 3);
      assert.ok(times[1]! - times[0]! >= 900 && times[2]! - times[1]! >= 900, `Retry-After: 1 honoured (${times[1]! - times[0]!} ms, ${times[2]! - times[1]!} ms)`);

      mode = "500";
      hits = 0;
      await rejectsUser(
        client({ retries: 2 }).getManifest(`${proxied}:x`),
        new RegExp(`reading manifest ${proxy.host}/.*: the registry failed with 500: UNKNOWN: disk on fire \\(3 attempts\\)`),
        /hint: the registry at http:\/\/127\.0\.0\.1:\d+ is failing/,
      );
      assert.equal(hits, 3);
    } finally {
      await proxy.close();
    }
  });

  test("a token server that is down is named as such", async () => {
    const realmPort = await freePort();
    const proxy = await startServer((_req, res) => {
      res.writeHead(401, { "www-authenticate": `Bearer realm="http://127.0.0.1:${realmPort}/token",service="svc"` });
      res.end();
    });
    try {
      await rejectsUser(
        client().listTags(`${proxy.host}/demo`),
        new RegExp(`^listing tags of ${proxy.host}/demo \\(getting a token from http://127\\.0\\.0\\.1:${realmPort}/token\\): cannot connect to 127\\.0\\.0\\.1:${realmPort}`),
        new RegExp(`hint: is the token server running at http://127\\.0\\.0\\.1:${realmPort}\\?`),
      );
    } finally {
      await proxy.close();
    }
  });

  test("a 403 says there is no permission to push, and 4xx are not retried", async () => {
    let hits = 0;
    const proxy = await startServer((_req, res) => {
      hits++;
      res.writeHead(403, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "DENIED", message: "requested access to the resource is denied" }] }));
    });
    try {
      const c = client();
      await rejectsUser(
        c.putManifest(`${proxy.host}/team/app:v1`, { mediaType: MEDIA_TYPES.dockerManifest, body: Buffer.from("{}") }),
        new RegExp(`^pushing manifest ${proxy.host}/team/app:v1: no permission to push to ${proxy.host}/team/app \\(403: DENIED`),
        /hint: ask for push access/,
      );
      assert.equal(hits, 1);
    } finally {
      await proxy.close();
    }
  });

  test("a corrupted manifest (body does not match Docker-Content-Digest) is refused", async () => {
    const proxy = await startServer((req, res) => {
      const body = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifest, config: {}, layers: [] });
      res.writeHead(200, { "content-type": MEDIA_TYPES.dockerManifest, "docker-content-digest": v2Digest, "content-length": String(body.length) });
      res.end(req.method === "HEAD" ? undefined : body);
    });
    try {
      await rejectsUser(client().getManifest(`${proxy.host}/x/y:z`), /does not match its Docker-Content-Digest/);
      await rejectsUser(client().getManifest(`${proxy.host}/x/y@${v2Digest}`), /has digest sha256:[0-9a-f]{64}, not the sha256:/);
    } finally {
      await proxy.close();
    }
  });

  test("TLS: a registry that is not loopback is spoken to over HTTPS, and a plain-HTTP answer is a TLS error with a hint", async () => {
    const proxy = await startServer((_req, res) => {
      res.writeHead(200);
      res.end("{}");
    });
    try {
      // "registry.example" is not loopback, so the client speaks HTTPS; the injected fetch records the URL and sends
      // the request to our plain-HTTP server, whose answer breaks the TLS handshake.
      const urls: string[] = [];
      const recording: typeof fetch = async (input, init) => {
        urls.push(String(input));
        return fetch(String(input).replace(/^https:\/\/registry\.example:(\d+)/, `https://${proxy.host}`), init);
      };
      const c = client({ fetch: recording, retries: 0 });
      await rejectsUser(
        c.listTags(`registry.example:${proxy.port}/demo`),
        /listing tags of registry\.example:\d+\/demo: TLS with registry\.example:\d+ failed/,
        /hint: the registry seems to speak plain HTTP: add it to insecure registries \(STAPEL2DOCKER_INSECURE_REGISTRIES=registry\.example:\d+\)/,
      );
      assert.equal(urls[0], `https://registry.example:${proxy.port}/v2/demo/tags/list`);
      const insecure = client({ fetch: recording, insecureRegistries: [`registry.example:${proxy.port}`] });
      assert.equal(insecure.baseUrl(`registry.example:${proxy.port}`), `http://registry.example:${proxy.port}`);
      assert.equal(client().baseUrl("localhost:5000"), "http://localhost:5000");
      assert.equal(client().baseUrl("127.3.4.5:80"), "http://127.3.4.5:80");
      assert.equal(client().baseUrl("[::1]:5000"), "http://[::1]:5000");
      assert.equal(client().baseUrl("docker.io"), "https://registry-1.docker.io");
    } finally {
      await proxy.close();
    }
  });
});
