// --builder's argument and the hints that name the driver or daemon setting a builder failure needs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { builderArgs, builderHint } from "../../src/builder/builders.js";
import { UserError } from "../../src/diagnostics.js";

test("--builder NAME becomes buildx's --builder; nothing when not given; a bad name is refused", () => {
  assert.deepEqual(builderArgs(undefined), []);
  assert.deepEqual(builderArgs("ci-builder_1.x"), ["--builder", "ci-builder_1.x"]);
  for (const bad of ["-x", "a b", "a;b", "--push"]) assert.throws(() => builderArgs(bad), UserError, bad);
});

test("hints: each known failure names the setting; unknown output gives none", () => {
  const cases: [string, RegExp][] = [
    ['ERROR: no builder "ci" found', /docker buildx ls.*docker buildx create --name NAME --driver docker-container/],
    ["ERROR: Multi-platform build is not supported for the docker driver.\nSwitch to a different driver", /containerd-snapshotter/],
    ["ERROR: docker exporter does not currently support exporting manifest lists", /containerd-snapshotter/],
    ["process did not complete successfully: network bridge not found", /--bridge=none/],
    ["ERROR: use `docker --context=hostb buildx` to switch to context \"hostb\"", /DOCKER_CONTEXT=hostb/],
    ['failed to push: http: server gave HTTP response to HTTPS client', /http = true/],
    ["ERROR: failed to authorize: 401 Unauthorized", /docker login/],
    ["failed to resolve source metadata for r:5000/x@sha256:00: unexpected status from HEAD request to http://r:5000/v2/x/manifests/sha256:00: 500 Internal Server Error", /registry r:5000 answered 500 when the builder pulled/],
    ["ERROR: Error response from daemon: received unexpected HTTP status: 503 Service Unavailable", /answered 503 when the builder pushed/],
  ];
  for (const [out, re] of cases) assert.match(builderHint(out) ?? "", re, out);
  assert.equal(builderHint("#7 ERROR: process \"/bin/sh -c false\" did not complete successfully: exit code: 1"), undefined);
});
