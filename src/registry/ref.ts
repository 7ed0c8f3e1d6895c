// Image references as Docker understands them ("docker/distribution/reference" normalisation):
//   "127.0.0.1:5000/p/app:tag", "localhost:5000/x@sha256:...", "alpine" (→ docker.io/library/alpine),
//   "user/app:1" (→ docker.io/user/app). The first path component is a registry host when it contains "." or ":"
//   or is "localhost"; otherwise the image lives on Docker Hub.

import { UserError } from "../diagnostics.js";

export interface ImageRef {
  /** Host[:port] as written ("docker.io" for Docker Hub). */
  registry: string;
  /** The repository path inside the registry ("library/alpine", "p/app"). */
  repository: string;
  tag?: string;
  /** "sha256:<64 hex>" (or another algorithm the registry knows). */
  digest?: string;
}

export const DOCKER_HUB = "docker.io";

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]{1,5})?$/;

function bad(ref: string, why: string, hint?: string): never {
  throw new UserError({
    message: `invalid image reference ${JSON.stringify(ref)}: ${why}`,
    hint: hint ?? 'write it as REGISTRY/PATH[:TAG][@sha256:DIGEST], e.g. "127.0.0.1:5000/project/app:1.0"',
  });
}

/** Parses an image reference; a UserError (with a hint) when it is not one. */
export function parseImageRef(ref: string): ImageRef {
  if (typeof ref !== "string" || ref.trim() === "") bad(String(ref), "it is empty");
  if (ref !== ref.trim() || /\s/.test(ref)) bad(ref, "it contains white space");
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(ref)) bad(ref, "a reference has no URL scheme", `drop the scheme: ${JSON.stringify(ref.replace(/^[a-z][a-z0-9+.-]*:\/\//i, ""))}`);

  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) bad(ref, `${JSON.stringify(digest)} is not a digest`, 'a digest looks like "sha256:" followed by 64 lower-case hex digits');
    if (digest.startsWith("sha256:") && !SHA256.test(digest)) bad(ref, `${JSON.stringify(digest)} is not a sha256 digest (64 lower-case hex digits)`);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.indexOf(":", lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) bad(ref, `${JSON.stringify(tag)} is not a valid tag`, "a tag has at most 128 characters out of [A-Za-z0-9_.-] and does not start with '.' or '-'");
  }

  const parts = rest.split("/");
  let registry = DOCKER_HUB;
  if (parts.length > 1 && (parts[0]!.includes(".") || parts[0]!.includes(":") || parts[0] === "localhost" || /^\[.*\]/.test(parts[0]!))) {
    registry = parts.shift()!;
    if (!HOST.test(registry)) bad(ref, `${JSON.stringify(registry)} is not a registry host`);
  }
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = DOCKER_HUB;
  if (parts.length === 0 || parts.some((p) => p === "")) bad(ref, "the repository path is empty or has an empty component");
  for (const p of parts) {
    if (!COMPONENT.test(p)) {
      bad(
        ref,
        `${JSON.stringify(p)} is not a valid repository path component`,
        /[A-Z]/.test(p)
          ? `repository names are lower case: ${JSON.stringify(
              `${registry === DOCKER_HUB && !ref.startsWith(DOCKER_HUB) ? "" : `${registry}/`}${parts.join("/").toLowerCase()}${tag !== undefined ? `:${tag}` : ""}${digest !== undefined ? `@${digest}` : ""}`,
            )}`
          : "path components are lower-case letters and digits, separated by '.', '_', '__' or dashes",
      );
    }
  }
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift("library");
  const repository = parts.join("/");
  if (registry.length + 1 + repository.length > 255) bad(ref, "the name is longer than 255 characters");
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** A repository ("registry/path", no tag, no digest); a UserError when a tag or digest is given. */
export function parseRepository(repo: string): ImageRef {
  const r = parseImageRef(repo);
  if (r.tag !== undefined || r.digest !== undefined) {
    bad(repo, "expected a repository without a tag or digest", `use ${JSON.stringify(`${r.registry}/${r.repository}`)}`);
  }
  return r;
}

/** "registry/repository[:tag][@digest]" (Docker Hub names keep their "docker.io/" prefix). */
export function formatImageRef(r: ImageRef): string {
  return `${r.registry}/${r.repository}${r.tag !== undefined ? `:${r.tag}` : ""}${r.digest !== undefined ? `@${r.digest}` : ""}`;
}

/** The host the API is served from ("docker.io" → "registry-1.docker.io"). */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? "registry-1.docker.io" : registry;
}

/** The host name without port or brackets. */
export function hostName(registry: string): string {
  if (registry.startsWith("[")) return registry.slice(1, registry.indexOf("]"));
  const c = registry.lastIndexOf(":");
  return c >= 0 ? registry.slice(0, c) : registry;
}

/** Docker talks plain HTTP to loopback registries without being told (localhost, 127.0.0.0/8, ::1). */
export function isLoopback(registry: string): boolean {
  const h = hostName(registry).toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
