// The --platform option's value (build, plan, compile): kept apart so that command definitions load nothing heavy.
import { UserError } from "../diagnostics.js";
import { platformListProblems } from "../platform-name.js";

/** `--platform a,b`: each "os/arch[/variant]" as BuildKit names platforms (src/platform-name.ts). */
export function parsePlatforms(v: string): string[] {
  const list = v.split(",").map((p) => p.trim()).filter(Boolean);
  if (list.length === 0) throw new UserError({ message: `--platform ${JSON.stringify(v)}: no platform`, hint: "give os/arch[/variant], comma-separated: --platform linux/amd64,linux/arm64" });
  const [bad] = platformListProblems([...new Set(list)]);
  if (bad) throw new UserError({ message: `--platform ${JSON.stringify(v)}: ${bad.message}`, hint: bad.hint });
  return [...new Set(list)];
}
