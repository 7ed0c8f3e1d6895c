// `platform` lists (an image's, a Dockerfile image's, meta `build.platform`): each entry "os/arch[/variant]", as
// BuildKit and werf name platforms; anything else is reported at the entry (it would fail the bake otherwise).
import type { DocContext } from "./context.js";
import { platformListProblems } from "../platform-name.js";

/** `ctx.list(container, key)`, with every entry that is not a platform as BuildKit names it (or one listed twice)
 *  reported at its value (src/platform-name.ts). */
export function platformList(ctx: DocContext, container: object, key: string): string[] {
  const list = ctx.list(container, key);
  const v = (container as Record<string, unknown>)[key];
  for (const p of platformListProblems(list)) {
    const [where, at] = Array.isArray(v) ? [v as object, p.index] : [container, key];
    ctx.error(where, at, p.message, p.hint);
  }
  return list;
}
