// Pure parts of the registry client: image references (Docker's normalisation), WWW-Authenticate challenges,
// Link and Retry-After headers, docker config keys, token expiry and the token cache.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { UserError } from "../../src/diagnostics.js";
import { parseImageRef, parseRepository, formatImageRef, isLoopback } from "../../src/registry/ref.js";
import { parseWwwAuthenticate, TokenCache, tokenExpiry } from "../../src/registry/auth.js";
import { nextLink, retryAfterMs, networkErrorCode } from "../../src/registry/client.js";
import { normalizeAuthKey, helperServerUrl } from "../../src/registry/credentials.js";

const D = `sha256:${"ab".repeat(32)}`;

describe("parseImageRef", () => {
  const cases: Array<[string, ReturnType<typeof parseImageRef>]> = [
    ["127.0.0.1:5000/p/app:tag", { registry: "127.0.0.1:5000", repository: "p/app", tag: "tag" }],
    ["localhost:5000/x@" + D, { registry: "localhost:5000", repository: "x", digest: D }],
    ["localhost/x:1", { registry: "localhost", repository: "x", tag: "1" }],
    ["alpine", { registry: "docker.io", repository: "library/alpine" }],
    ["alpine:3.19", { registry: "docker.io", repository: "library/alpine", tag: "3.19" }],
    ["user/app:1", { registry: "docker.io", repository: "user/app", tag: "1" }],
    ["docker.io/alpine", { registry: "docker.io", repository: "library/alpine" }],
    ["index.docker.io/user/app", { registry: "docker.io", repository: "user/app" }],
    ["ghcr.io/org/team/app:v1.2_3-x@" + D, { registry: "ghcr.io", repository: "org/team/app", tag: "v1.2_3-x", digest: D }],
    ["[::1]:5000/a/b", { registry: "[::1]:5000", repository: "a/b" }],
    ["reg.example/a__b/c-d--e.f:T", { registry: "reg.example", repository: "a__b/c-d--e.f", tag: "T" }],
  ];
  for (const [ref, want] of cases) {
    test(ref, () => {
      assert.deepEqual(parseImageRef(ref), want);
    });
  }

  test("format round-trips what it parsed", () => {
    assert.equal(formatImageRef(parseImageRef("127.0.0.1:5000/p/app:tag")), "127.0.0.1:5000/p/app:tag");
    assert.equal(formatImageRef(parseImageRef("alpine")), "docker.io/library/alpine");
  });

  const bad: Array<[string, RegExp, RegExp?]> = [
    ["", /it is empty/],
    ["Foo/Bar:x", /"Foo" is not a valid repository path component/, /repository names are lower case: "foo\/bar:x"/],
    ["127.0.0.1:5000/App", /"App" is not a valid/, /"127\.0\.0\.1:5000\/app"/],
    ["https://127.0.0.1:5000/x", /no URL scheme/, /drop the scheme: "127\.0\.0\.1:5000\/x"/],
    ["x:-bad", /"-bad" is not a valid tag/],
    ["x@sha256:abc", /not a digest/],
    ["x@sha256:" + "A".repeat(64), /not a sha256 digest/],
    ["reg.example//x", /empty component/],
    ["a b", /white space/],
  ];
  for (const [ref, msg, hint] of bad) {
    test(`rejects ${JSON.stringify(ref)}`, () => {
      assert.throws(
        () => parseImageRef(ref),
        (e: unknown) => {
          assert.ok(e instanceof UserError);
          assert.match(e.message, msg);
          assert.match(e.message, hint ?? /hint: /);
          return true;
        },
      );
    });
  }

  test("parseRepository refuses a tag", () => {
    assert.throws(() => parseRepository("127.0.0.1:5000/demo:1"), /without a tag or digest[\s\S]*use "127\.0\.0\.1:5000\/demo"/);
    assert.deepEqual(parseRepository("127.0.0.1:5000/demo"), { registry: "127.0.0.1:5000", repository: "demo" });
  });

  test("loopback hosts (plain HTTP, as Docker)", () => {
    for (const h of ["localhost", "localhost:5000", "127.0.0.1:5000", "127.10.0.3", "[::1]:5000"]) assert.equal(isLoopback(h), true, h);
    for (const h of ["docker.io", "10.0.0.1:5000", "localhost.example", "128.0.0.1"]) assert.equal(isLoopback(h), false, h);
  });
});

describe("WWW-Authenticate", () => {
  test("Bearer with quoted params, commas and escapes inside quotes", () => {
    assert.deepEqual(
      parseWwwAuthenticate('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push",error="insufficient_scope"'),
      { scheme: "bearer", params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:a/b:pull,push", error: "insufficient_scope" } },
    );
    assert.deepEqual(parseWwwAuthenticate('Basic realm="say \\"hi\\""'), { scheme: "basic", params: { realm: 'say "hi"' } });
    assert.deepEqual(parseWwwAuthenticate("bearer realm=http://t/x, service=s"), { scheme: "bearer", params: { realm: "http://t/x", service: "s" } });
    assert.equal(parseWwwAuthenticate("Negotiate abc"), undefined);
    assert.equal(parseWwwAuthenticate(null), undefined);
  });
});

describe("headers", () => {
  test("Link rel=next", () => {
    assert.equal(nextLink('</v2/x/tags/list?last=b&n=2>; rel="next"'), "/v2/x/tags/list?last=b&n=2");
    assert.equal(nextLink('<https://r/a>; rel="prev", <https://r/b>; rel=next'), "https://r/b");
    assert.equal(nextLink('<https://r/a>; rel="prev"'), undefined);
    assert.equal(nextLink(null), undefined);
  });

  test("Retry-After in seconds or as a date", () => {
    assert.equal(retryAfterMs("3"), 3000);
    assert.equal(retryAfterMs("Sun, 22 Nov 2026 11:00:10 GMT", Date.parse("Sun, 22 Nov 2026 11:00:00 GMT")), 10_000);
    assert.equal(retryAfterMs("soon"), undefined);
    assert.equal(retryAfterMs(null), undefined);
  });

  test("network error codes are found under fetch's wrapper", () => {
    const wrapped = new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
    assert.equal(networkErrorCode(wrapped), "ECONNREFUSED");
    const agg = new TypeError("fetch failed", { cause: Object.assign(new AggregateError([Object.assign(new Error("x"), { code: "ECONNRESET" })]), {}) });
    assert.equal(networkErrorCode(agg), "ECONNRESET");
    assert.equal(networkErrorCode(new DOMException("timed out", "TimeoutError")), "TIMEOUT");
  });
});

describe("docker config keys", () => {
  test("normalised to host[:port], Docker Hub aliases together", () => {
    assert.equal(normalizeAuthKey("https://index.docker.io/v1/"), "docker.io");
    assert.equal(normalizeAuthKey("registry-1.docker.io"), "docker.io");
    assert.equal(normalizeAuthKey("https://127.0.0.1:5000/v2/"), "127.0.0.1:5000");
    assert.equal(normalizeAuthKey("Reg.Example:443"), "reg.example:443");
    assert.equal(helperServerUrl("docker.io"), "https://index.docker.io/v1/");
    assert.equal(helperServerUrl("127.0.0.1:5000"), "127.0.0.1:5000");
  });
});

describe("tokens", () => {
  test("expiry: expires_in minus a margin, 60 s by default", () => {
    assert.equal(tokenExpiry(0, 300), 270_000);
    assert.equal(tokenExpiry(0, undefined), 54_000);
    assert.equal(tokenExpiry(0, 1), 900);
    assert.equal(tokenExpiry(1000, 3600), 1000 + 3570_000);
  });

  test("cache: one fetch per key while valid, shared while in flight, again after expiry or drop", async () => {
    let now = 0;
    let fetches = 0;
    const cache = new TokenCache(() => now);
    const get = (key: string) => cache.get(key, async () => ({ token: `${key}#${++fetches}`, expiresAt: now + 100 }));
    const [a, b] = await Promise.all([get("k"), get("k")]);
    assert.deepEqual([a, b, fetches], ["k#1", "k#1", 1]);
    assert.equal(await get("other"), "other#2");
    now = 99;
    assert.equal(await get("k"), "k#1");
    now = 100;
    assert.equal(await get("k"), "k#3");
    cache.drop("k");
    assert.equal(await get("k"), "k#4");
    await assert.rejects(cache.get("bad", async () => Promise.reject(new Error("down"))), /down/);
    assert.equal(await cache.get("bad", async () => ({ token: "ok", expiresAt: now + 1 })), "ok", "a failed fetch is not cached");
  });
});
