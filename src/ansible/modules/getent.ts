// getent: look a key up in a database; fails when the key is missing (fail_key, default yes). The facts it
// sets are not available to later tasks (no templating of run-time values).
import { Args, q, type ModuleContext } from "../types.js";

export const getent = (args: Args, ctx: ModuleContext): string[] => {
  const db = args.need("database");
  const key = args.str("key");
  const failKey = args.bool("fail_key", true);
  args.str("split");
  args.str("service");
  args.checkUnused();
  ctx.helper("ansible_fail");
  const run = `getent ${q(db)}${key !== undefined ? ` ${q(key)}` : ""}`;
  if (key === undefined) return [`${run} >/dev/null`];
  return failKey
    ? [`${run} || ansible_fail ${q(`One or more supplied key could not be found in the database.`)}`]
    : [`${run} || true`];
};
