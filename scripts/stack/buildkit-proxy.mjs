#!/usr/bin/env node
// BuildKit's gRPC API of a dockerd, on a unix socket of its own, for buildx's `remote` driver.
//
// dockerd embeds BuildKit and serves its control API on the engine socket: `POST /grpc` with `Connection: Upgrade`,
// `Upgrade: h2c` answers `101 Switching Protocols`, and the connection then carries BuildKit's gRPC (HTTP/2 without
// TLS). That is how buildx's docker driver reaches it (buildx driver/docker: DialHijack(ctx, "/grpc", "h2c", ...);
// moby api/server/router/grpc). This proxy makes that reachable the way a standalone buildkitd is: it listens on a
// unix socket, and for each connection opens the engine socket, sends the upgrade request, checks the 101, then
// copies bytes both ways. So `docker buildx create --driver remote unix://SOCKET` gives a builder that knows nothing
// of the docker driver (no local image store, no `docker push` by the engine): what a remote or Kubernetes BuildKit
// is to buildx.
//
// usage: node buildkit-proxy.mjs --listen /path/buildkit.sock [--docker /var/run/docker.sock]
// Logs one line per failed upgrade to stderr; exits on SIGTERM/SIGINT (removing its socket).

import net from "node:net";
import fs from "node:fs";

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  if (i < 0) return dflt;
  const v = process.argv[i + 1];
  if (v === undefined) fail(`${name} needs a value`);
  return v;
}
function fail(msg) {
  process.stderr.write(`buildkit-proxy: ${msg}\n`);
  process.exit(2);
}

const listen = arg("--listen");
const docker = arg("--docker", "/var/run/docker.sock");
if (!listen) fail("usage: buildkit-proxy.mjs --listen SOCKET [--docker DOCKER_SOCKET]");

const REQUEST =
  "POST /grpc HTTP/1.1\r\n" +
  "Host: docker\r\n" +
  "User-Agent: stapel2docker-buildkit-proxy\r\n" +
  "Content-Length: 0\r\n" +
  "Connection: Upgrade\r\n" +
  "Upgrade: h2c\r\n\r\n";

const log = (msg) => process.stderr.write(`${new Date().toISOString()} buildkit-proxy: ${msg}\n`);

function handle(client) {
  client.pause();
  const upstream = net.connect(docker);
  let head = Buffer.alloc(0);
  let upgraded = false;
  const closeBoth = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", closeBoth);
  upstream.on("error", (e) => {
    if (!upgraded) log(`cannot reach the engine at ${docker}: ${e.message}`);
    closeBoth();
  });
  client.on("close", () => upstream.destroy());
  upstream.on("connect", () => upstream.write(REQUEST));
  const onData = (chunk) => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) {
      if (head.length > 16384) {
        log("the engine's answer to POST /grpc has no end of headers");
        closeBoth();
      }
      return;
    }
    upstream.off("data", onData);
    const status = head.subarray(0, head.indexOf("\r\n")).toString("latin1");
    if (!/^HTTP\/1\.[01] 101 /.test(status)) {
      log(`the engine answered POST /grpc with "${status}" instead of 101 Switching Protocols`);
      closeBoth();
      return;
    }
    upgraded = true;
    const rest = head.subarray(end + 4);
    if (rest.length) client.write(rest);
    upstream.pipe(client);
    client.pipe(upstream);
    client.resume();
  };
  upstream.on("data", onData);
  upstream.on("close", () => client.destroy());
}

try {
  fs.unlinkSync(listen);
} catch (e) {
  if (e.code !== "ENOENT") fail(`cannot remove the old socket ${listen}: ${e.message}`);
}
const server = net.createServer(handle);
server.on("error", (e) => fail(`cannot listen on ${listen}: ${e.message}`));
// the socket gives BuildKit (so root on the engine's host, as the docker socket does): made owner-only from the
// start (no moment with the umask's mode), then given the docker socket's group, as the engine gives its own
process.umask(0o177);
server.listen(listen, () => {
  try {
    fs.chownSync(listen, -1, fs.statSync(docker).gid);
    fs.chmodSync(listen, 0o660);
  } catch (e) {
    log(`the socket stays owner-only (0600): ${e.message}`);
  }
  log(`listening on ${listen}, engine ${docker}`);
});
const stop = () => {
  server.close();
  try {
    fs.unlinkSync(listen);
  } catch {
    /* gone already */
  }
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
