// The registry side of the base-image seam (src/docker/image-config.ts): a BaseImageResolver that reads USER,
// WORKDIR and the config id from the image config blob through the registry API, nothing pulled. Like the other
// resolvers it never throws: a failure (no such image, registry down, no credentials) is an "assumed" config with
// the reason, so `chainResolvers(daemon, registry)` can fall through. One lookup per reference per resolver.

import { UserError } from "../diagnostics.js";
import type { ExplainingResolver, ResolvedImageConfig } from "../docker/image-config.js";
import type { RegistryClient } from "./client.js";
import { formatImageRef, parseImageRef } from "./ref.js";

export function registryImageConfigResolver(client: RegistryClient, opts: { platform?: string } = {}): ExplainingResolver {
  const cache = new Map<string, Promise<ResolvedImageConfig>>();
  const lookup = async (ref: string): Promise<ResolvedImageConfig> => {
    try {
      const r = parseImageRef(ref);
      // Docker's default tag.
      const full = formatImageRef(r.tag === undefined && r.digest === undefined ? { ...r, tag: "latest" } : r);
      const { digest, config } = await client.getImageConfig(full, opts.platform);
      const c = (config?.config ?? {}) as { User?: unknown; WorkingDir?: unknown };
      return {
        user: typeof c.User === "string" ? c.User : "",
        workdir: typeof c.WorkingDir === "string" ? c.WorkingDir : "",
        source: "registry",
        id: digest,
      };
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      return { user: "", workdir: "", source: "assumed", reason: e.diagnostics.map((d) => d.message).join("; ") };
    }
  };
  return {
    resolve(ref: string) {
      let p = cache.get(ref);
      if (!p) cache.set(ref, (p = lookup(ref)));
      return p.then((c) => ({ ...c }));
    },
  };
}
