// Which buildx builder runs the bake, and what a builder's failure means. `--builder NAME` is passed to
// `docker buildx bake` (buildx itself reads BUILDX_BUILDER when it is not given); nothing in the generated files
// assumes the docker driver: the toolchain and every stored stage come from the registry by reference. When a
// builder fails for a reason of its driver or daemon, the hint names the setting that is missing
// (docs/builders.md).

import { UserError } from "../diagnostics.js";
import { chainResolvers, defaultImageConfigResolver } from "../docker/image-config.js";
import type { BaseImageResolver } from "../plan/model.js";
import type { RegistryClient } from "../registry/client.js";
import { registryImageConfigResolver } from "../registry/resolver.js";

/** A buildx builder name, as `docker buildx create --name` accepts it. */
const BUILDER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;

/** The arguments that select the builder (none: buildx's current one, or BUILDX_BUILDER). */
export function builderArgs(builder: string | undefined): string[] {
  if (builder === undefined || builder === "") return [];
  if (!BUILDER_NAME.test(builder) || builder.length > 128) {
    throw new UserError({
      message: `--builder ${JSON.stringify(builder)} is not a buildx builder name`,
      hint: "give the name `docker buildx ls` shows (letters, digits, '.', '_', '-')",
    });
  }
  return ["--builder", builder];
}

/** The builder a bake will use when one is named (`--builder`, else BUILDX_BUILDER); undefined: buildx's current one. */
export function selectedBuilder(builder: string | undefined, env: Record<string, string | undefined> = process.env): string | undefined {
  const name = builder || env.BUILDX_BUILDER || undefined;
  return name === "default" ? undefined : name;
}

/**
 * Where `build` reads a base image's USER and WORKDIR (the stages run as root in `/` and restore them): from where
 * the builder takes the image. The docker driver (buildx's default builder) uses its daemon's images before pulling:
 * the daemon first, then the registry. A builder named by `--builder` or BUILDX_BUILDER (docker-container, remote,
 * kubernetes) pulls: the registry first, then the daemon (a builder named for another docker context). Neither
 * knowing it: "assumed" (root in /) with both reasons, which `plan` warns about.
 */
export function baseImageResolver(builder: string | undefined, client: RegistryClient, env: Record<string, string | undefined> = process.env): BaseImageResolver {
  const daemon = defaultImageConfigResolver({ env });
  const registry = registryImageConfigResolver(client);
  return selectedBuilder(builder, env) ? chainResolvers(registry, daemon) : chainResolvers(daemon, registry);
}

/** Known failures of a driver or daemon setting, the words buildx or BuildKit print, and what to change. */
const HINTS: { re: RegExp; hint: (m: RegExpMatchArray) => string }[] = [
  {
    re: /use `docker --context=([^`\s]+) buildx` to switch to context/,
    hint: (m) =>
      `${JSON.stringify(m[1])} is the docker-driver builder of the docker context ${JSON.stringify(m[1])}, which buildx uses only from that ` +
      `context: run stapel2docker with DOCKER_CONTEXT=${m[1]} (or DOCKER_HOST set to its daemon), or use a docker-container, remote or kubernetes builder`,
  },
  {
    re: /no builder "?([^"\s]+)"? found|failed to find driver|could not find builder/i,
    hint: (m) =>
      `buildx has no builder ${m[1] ? JSON.stringify(m[1]) : "of that name"}: list them with \`docker buildx ls\`, ` +
      "make one with `docker buildx create --name NAME --driver docker-container` (or remote, kubernetes), see docs/builders.md",
  },
  {
    re: /Multi-platform build is not supported for the docker driver|docker exporter does not currently support exporting manifest lists/i,
    hint: () =>
      "the docker driver builds one platform at a time unless the daemon uses the containerd image store: set " +
      '"features": {"containerd-snapshotter": true} in daemon.json, or use a docker-container, remote or kubernetes builder (--builder NAME)',
  },
  {
    // BuildKit's image exporter is what pushes; a Docker Engine's embedded BuildKit with the classic image store has
    // only moby's own exporter (the docker driver turns --push into a `docker push` by the engine), so a remote
    // driver pointed at such a daemon (its /grpc endpoint, through a proxy) cannot push
    re: /exporter "image" could not be found/,
    hint: () =>
      "this builder's BuildKit has no `image` exporter, so it cannot push the stages: it is a Docker Engine's built-in BuildKit " +
      "with the classic image store, reached through the remote driver. Use the docker driver for that daemon (DOCKER_HOST or " +
      'DOCKER_CONTEXT, no --builder), or give the daemon the containerd image store ("features": {"containerd-snapshotter": true} ' +
      "in daemon.json), or point the remote builder at a buildkitd",
  },
  {
    re: /^panic: [^\n]*[\s\S]*github\.com\/docker\/buildx\/driver\.Boot\(/m,
    hint: () =>
      "buildx crashed while checking the builder (a nil-pointer panic in driver.Boot: buildx 0.13 does so when a builder of a " +
      "non-docker driver does not answer its status check, e.g. while a failing bake is cancelled), every time the bake was run: " +
      "the build's own error is lost. Check the builder with `docker buildx inspect --bootstrap NAME`, run the bake again, " +
      "or upgrade the docker-buildx plugin",
  },
  {
    re: /network bridge not found/i,
    hint: () =>
      "the daemon behind the docker driver has no default bridge network (dockerd --bridge=none), which BuildKit's RUN needs: " +
      "start it with a bridge (--bridge NAME of an existing bridge interface) or use a docker-container/remote builder",
  },
  {
    re: /http: server gave HTTP response to HTTPS client|connect: connection refused.*(127\.0\.0\.1|localhost)|dial tcp (127\.0\.0\.1|\[::1\]):\d+/i,
    hint: () =>
      "the builder cannot reach the registry: is it up? A docker-container builder runs in a network of its own, " +
      "so a registry on localhost needs `docker buildx create --driver-opt network=host`, and a plain-HTTP one a buildkitd.toml " +
      'entry `[registry."HOST:PORT"] http = true` (docker buildx create --config FILE); see docs/builders.md',
  },
  {
    // an image the builder could not find in its registry: with the docker driver, BuildKit also sees the daemon's
    // local images; with any other driver only registries
    re: /failed to resolve source metadata for (\S+?): (?:failed to do request: [^\n]*(?:no such host|i\/o timeout|network is unreachable)|(?:\S+: )?(?:not found|pull access denied))/,
    hint: (m) =>
      `the builder could not get ${m[1]} from its registry. Only a builder of the docker driver also sees its daemon's ` +
      "local images; a docker-container, remote or kubernetes builder pulls every image it builds on: push a local base image " +
      "to a registry the builder reaches (docker tag, docker push) and name it there in werf.yaml (`from:`)",
  },
  {
    re: /unexpected status from (?:HEAD|GET) request to (?:https?:\/\/)?([^/\s]+)[^\n]*: (5\d\d)/,
    hint: (m) =>
      `the registry ${m[1]} answered ${m[2]} when the builder pulled from it (an image the build reads: the toolchain, a base ` +
      "image or a stored stage), also after the bake was run again: it is failing; try again later, or ask its operators",
  },
  {
    re: /received unexpected HTTP status: (5\d\d)/,
    hint: (m) => `the registry answered ${m[1]} when the builder pushed a stage, also after the bake was run again: it is failing; try again later, or ask its operators`,
  },
  {
    re: /(pull access denied|unauthorized|authentication required|401 Unauthorized)/i,
    hint: () =>
      "the builder has no credentials for the registry: `docker login REGISTRY` on the machine that runs buildx " +
      "(a docker-container or remote builder gets them from the client; a kubernetes builder too, through the buildx client)",
  },
];

/** The hint for a builder failure, when its output shows a known driver or daemon setting; undefined otherwise. */
export function builderHint(output: string): string | undefined {
  for (const h of HINTS) {
    const m = output.match(h.re);
    if (m) return h.hint(m);
  }
  return undefined;
}
