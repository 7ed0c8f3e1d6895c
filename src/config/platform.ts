// `platform` lists (an image's, a Dockerfile image's, meta `build.platform`): each entry "os/arch[/variant]", as
// BuildKit and werf name platforms; anything else is reported at the entry (it would fail the bake otherwise).
import type { DocContext } from "./context.js";

export const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;

/** `ctx.list(container, key)`, with every entry that is not a platform reported at its value. */
export function platformList(ctx: DocContext, container: object, key: string): string[] {
  const list = ctx.list(container, key);
  const v = (container as Record<string, unknown>)[key];
  list.forEach((p, i) => {
    if (PLATFORM.test(p)) return;
    const [where, at] = Array.isArray(v) ? [v as object, i] : [container, key];
    ctx.error(where, at, `${JSON.stringify(p)} is not a platform`, "write os/arch or os/arch/variant, e.g. linux/amd64, linux/arm64, linux/arm/v7");
  });
  return list;
}
