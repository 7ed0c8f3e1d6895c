// Registry failures as UserErrors that name the registry, the operation and what to do: network errors (refused,
// DNS, timeouts, TLS), HTTP statuses and the registry's own error bodies.

import { UserError } from "../diagnostics.js";
import type { Credentials } from "./credentials.js";
import type { ImageRef } from "./ref.js";

/** What a request is for, in messages: "listing tags of 127.0.0.1:5000/demo". */
export interface Operation {
  what: string;
  registry: string;
  repository: string;
  push: boolean;
  /** The server actually spoken to when it is not the registry (a token server's origin). */
  endpoint?: string;
}

export const TLS_CODE = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH|EPROTO)/;

/** The environment variable listing hosts spoken to over plain HTTP. */
export const INSECURE_ENV = "STAPEL2DOCKER_INSECURE_REGISTRIES";

/** A network failure's code (ECONNREFUSED, CERT_HAS_EXPIRED...), looking through fetch's "fetch failed" wrapper. */
export function networkErrorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur && typeof cur === "object"; i++) {
    const err = cur as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown[] };
    if (err.name === "TimeoutError") return "TIMEOUT";
    if (typeof err.code === "string" && err.code !== "") return err.code;
    if (Array.isArray(err.errors) && err.errors.length > 0) cur = err.errors[0];
    else cur = err.cause;
  }
  return undefined;
}

export function networkErrorText(e: unknown): string {
  let cur: unknown = e;
  let text = "";
  for (let i = 0; i < 5 && cur instanceof Error; i++) {
    text = cur.message;
    cur = (cur as { cause?: unknown }).cause;
  }
  return text;
}

/** The registry's own error ({"errors":[{"code","message"}]}), when it said one. */
export function registryErrorText(body: string): string {
  try {
    const j = JSON.parse(body) as { errors?: Array<{ code?: string; message?: string }> };
    if (Array.isArray(j.errors) && j.errors.length > 0) {
      return j.errors.map((x) => [x.code, x.message].filter(Boolean).join(": ")).join("; ");
    }
  } catch {
    /* not JSON */
  }
  const line = body.trim().split("\n")[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}


/** How the transport was set up, for messages. */
export interface ErrorContext {
  retries: number;
  timeoutMs: number;
  baseUrl(registry: string): string;
}

export function opError(op: Operation, message: string, hint?: string): UserError {
  return new UserError({ message: `${op.what}: ${message}`, ...(hint ? { hint } : {}) });
}

export function unauthorizedError(op: Operation, creds: Credentials | undefined, said: string): UserError {
  const detail = said ? ` (${said})` : "";
  if (creds) {
    return opError(
      op,
      `${op.registry} refused the credentials from ${creds.source}${detail}`,
      `check the user name and password, then log in again: docker login ${op.registry}`,
    );
  }
  return opError(op, `${op.registry} requires authentication${detail}`, `log in: docker login ${op.registry}`);
}

export function statusError(ctx: ErrorContext, op: Operation, res: Response, body: Buffer, ref?: ImageRef): UserError {
  const said = registryErrorText(body.toString("utf8"));
  const detail = `${res.status}${said ? `: ${said}` : ""}`;
  const repo = `${op.registry}/${op.repository}`;
  switch (res.status) {
    case 401:
      return opError(op, `authentication required (${detail})`, `log in: docker login ${op.registry}`);
    case 403:
      return opError(
        op,
        `no permission to ${op.push ? "push to" : "pull from"} ${repo} (${detail})`,
        `ask for ${op.push ? "push" : "pull"} access to ${repo}, or log in as a user that has it: docker login ${op.registry}`,
      );
    case 404: {
      const what = /NAME_UNKNOWN/.test(said)
        ? `repository ${repo} not found`
        : ref?.digest !== undefined
          ? `${ref.digest} not found in ${repo}`
          : ref?.tag !== undefined
            ? `tag ${ref.tag} not found in ${repo}`
            : `not found in ${repo}`;
      return opError(op, `${what} (${detail})`, "check the repository and tag, or push the image first");
    }
    case 429:
      return opError(op, `too many requests (${detail}), still after ${ctx.retries + 1} attempts`, "wait and try again, or log in to get a higher rate limit");
    default:
      if (res.status >= 500) {
        return opError(op, `the registry failed with ${detail} (${ctx.retries + 1} attempts)`, `the registry at ${ctx.baseUrl(op.registry)} is failing; try again later or check its logs`);
      }
      if (res.status === 400 && /BLOB_UNKNOWN|MANIFEST_BLOB_UNKNOWN/.test(said)) {
        return opError(op, `the registry lacks a blob the manifest references (${detail})`, `push the image's layers to ${repo} first`);
      }
      return opError(op, `unexpected answer ${detail}`);
  }
}

export function networkError(ctx: ErrorContext, op: Operation, e: unknown, attempts = 1): UserError {
  const code = networkErrorCode(e) ?? "";
  const text = networkErrorText(e);
  const base = op.endpoint ?? ctx.baseUrl(op.registry);
  const host = op.endpoint ? new URL(op.endpoint).host : op.registry;
  const tries = attempts > 1 ? `, ${attempts} attempts` : "";
  if (code === "ECONNREFUSED") {
    return opError(op, `cannot connect to ${host} (connection refused${tries})`, `is ${op.endpoint ? "the token server" : "the registry"} running at ${base}? start it, or check the host and port`);
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return opError(op, `cannot resolve the host of ${host} (${code})`, "check the registry's host name and the DNS");
  }
  if (code === "TIMEOUT" || code === "ETIMEDOUT" || code.startsWith("UND_ERR_") && /TIMEOUT/.test(code)) {
    return opError(op, `${host} did not answer within ${Math.round(ctx.timeoutMs / 1000)} s${tries}`, `is the registry at ${base} up and reachable?`);
  }
  if (TLS_CODE.test(code) || /certificate|ssl|tls/i.test(text)) {
    const plainHttp = /wrong version number|packet length too long|http request/i.test(text);
    return opError(
      op,
      `TLS with ${host} failed (${code || "TLS error"}${text ? `: ${text}` : ""})`,
      plainHttp
        ? `the registry seems to speak plain HTTP: add it to insecure registries (${INSECURE_ENV}=${op.registry})`
        : `the registry's certificate is not trusted: give its CA to Node (NODE_EXTRA_CA_CERTS=ca.pem), or add it to insecure registries (${INSECURE_ENV}=${op.registry}) if it serves plain HTTP`,
    );
  }
  return opError(op, `cannot reach ${host} (${code || text || "network error"}${tries})`, `is the registry at ${base} up and reachable?`);
}

/** Hosted registries whose distribution API does not delete: where they do it instead. */
const OWN_DELETE_API: Array<[RegExp, string]> = [
  [/(^|\.)docker\.io$/, "Docker Hub deletes tags through its own API (hub.docker.com) or web UI"],
  [/^ghcr\.io$/, "GitHub deletes package versions through its REST API (packages) or web UI"],
  [/gitlab/, "GitLab deletes tags through its container registry API (projects/:id/registry/repositories) or a cleanup policy"],
  [/^quay\.io$/, "Quay deletes tags through its own API (api/v1/repository/.../tag) or web UI"],
];

/** A registry refusing manifest deletion (405 UNSUPPORTED). */
export function deletionRefused(op: Operation, status: number, body: Buffer): UserError {
  const said = registryErrorText(body.toString("utf8"));
  const own = OWN_DELETE_API.find(([re]) => re.test(op.registry.replace(/:[0-9]+$/, "")))?.[1];
  return opError(
    op,
    `the registry ${op.registry} refuses to delete manifests (${status}${said ? `: ${said}` : ""})`,
    own
      ? `${own}; stapel2docker deletes through the OCI distribution API only`
      : "enable deletion: docker-registry needs `storage: delete: enabled: true` (REGISTRY_STORAGE_DELETE_ENABLED=true); Harbor, Docker Hub, GitHub, GitLab and Quay delete through their own API (or enable the OCI DELETE there)",
  );
}
