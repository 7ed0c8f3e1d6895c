// The --platform option's value (build, plan, compile): kept apart so that command definitions load nothing heavy.
import { UserError } from "../diagnostics.js";

/** `--platform a,b`: each "os/arch[/variant]" as BuildKit names platforms. */
export function parsePlatforms(v: string): string[] {
  const list = v.split(",").map((p) => p.trim()).filter(Boolean);
  const bad = list.find((p) => !/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(p));
  if (bad !== undefined || list.length === 0) {
    throw new UserError({ message: `--platform ${JSON.stringify(v)}: ${bad !== undefined ? `${JSON.stringify(bad)} is not a platform` : "no platform"}`, hint: "give os/arch[/variant], comma-separated: --platform linux/amd64,linux/arm64" });
  }
  return [...new Set(list)];
}
