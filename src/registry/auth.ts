// Registry authentication: the WWW-Authenticate challenge, and the Bearer token flow of the distribution spec
// ("token authentication": GET realm?service=&scope= with basic credentials, or POST realm with an OAuth2 refresh
// token when `docker login` stored an identity token). Tokens are cached per (registry, scopes) until expires_in.

export interface Challenge {
  scheme: "basic" | "bearer";
  params: Record<string, string>;
}

/**
 * Parses a WWW-Authenticate value: `Bearer realm="https://a/token",service="reg",scope="repository:x:pull"` or
 * `Basic realm="..."`. Only the first challenge counts (registries send one). Undefined for other schemes.
 */
export function parseWwwAuthenticate(header: string | null | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z][A-Za-z0-9_-]*)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme !== "basic" && scheme !== "bearer") return undefined;
  const params: Record<string, string> = {};
  const re = /\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  const rest = m[2]!;
  let p: RegExpExecArray | null;
  while (re.lastIndex < rest.length && (p = re.exec(rest)) !== null) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3]!;
  }
  return { scheme, params };
}

/** The scope a request needs: "repository:NAME:pull" or "repository:NAME:pull,push". */
export function repositoryScope(repository: string, push: boolean): string {
  return `repository:${repository}:${push ? "pull,push" : "pull"}`;
}

/** The token scope of a manifest deletion (distribution's `delete` action; hosted registries may want more). */
export function deleteScope(repository: string): string {
  return `repository:${repository}:pull,push,delete`;
}

export interface CachedToken {
  token: string;
  /** Date.now() after which it is not used. */
  expiresAt: number;
}

/** Tokens per key, with in-flight requests shared (two concurrent requests for one scope fetch one token). */
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<string>>();

  constructor(private readonly now: () => number = Date.now) {}

  async get(key: string, fetchToken: () => Promise<CachedToken>): Promise<string> {
    const t = this.tokens.get(key);
    if (t && t.expiresAt > this.now()) return t.token;
    let p = this.pending.get(key);
    if (!p) {
      p = fetchToken().then(
        (fresh) => {
          this.tokens.set(key, fresh);
          this.pending.delete(key);
          return fresh.token;
        },
        (e: unknown) => {
          this.pending.delete(key);
          throw e;
        },
      );
      this.pending.set(key, p);
    }
    return p;
  }

  /** Forgets a token the registry refused. */
  drop(key: string): void {
    this.tokens.delete(key);
  }

  get size(): number {
    return this.tokens.size;
  }
}

/**
 * When a token answer expires: `expires_in` seconds (default 60, as the spec says) from now, minus a margin of
 * 10% (at most 30 s) so a token is not sent just as it dies.
 */
export function tokenExpiry(now: number, expiresIn: unknown): number {
  const secs = typeof expiresIn === "number" && Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 60;
  const margin = Math.min(30, secs * 0.1);
  return now + (secs - margin) * 1000;
}
