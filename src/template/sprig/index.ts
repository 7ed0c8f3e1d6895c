// sprig v3 functions (github.com/Masterminds/sprig/v3 TxtFuncMap without expandenv), as werf registers them,
// plus werf's own fromYaml (and toYaml for older configs). werf's include, tpl, env and required belong to the
// template engine's werf layer, not here.
//
// Every sprig 3.2.3 name is registered. Where the result cannot match Go's:
// - getHostByName refuses with a located error: no DNS lookups while compiling (network.ts).
// - Random output (rand*, shuffle, uuidv4, bcrypt salts, keys, certificate serials, now) differs per call, as in werf.
// - Template integers are all Go `int` here: sprig functions that only accept int64 (duration, durationRound)
//   treat the results of int64/add/sub/... like a literal int (0s), and typeOf/kindOf say int, not int64.
// - time.Month and time.Weekday print their names but cannot be compared with eq/lt (dates.ts).
import type { FuncMap } from "../value.js";
import { registerCerts } from "./certs.js";
import { registerConversion } from "./conversion.js";
import { registerCrypto } from "./crypto.js";
import { registerDates } from "./dates.js";
import { registerDefaults } from "./defaults.js";
import { registerDicts } from "./dicts.js";
import { registerEncoding } from "./encoding.js";
import { registerLists } from "./lists.js";
import { registerMath } from "./math.js";
import { registerNetwork } from "./network.js";
import { registerPaths } from "./paths.js";
import { registerRandom } from "./random.js";
import { registerRegex } from "./regex.js";
import { registerSemver } from "./semver.js";
import { registerStrings } from "./strings.js";
import { registerURL } from "./url.js";
import { registerYaml } from "./yaml.js";

export function sprigFuncs(): FuncMap {
  const fm: FuncMap = new Map();
  registerStrings(fm);
  registerLists(fm);
  registerDicts(fm);
  registerDefaults(fm);
  registerConversion(fm);
  registerMath(fm);
  registerRegex(fm);
  registerEncoding(fm);
  registerPaths(fm);
  registerSemver(fm);
  registerDates(fm);
  registerRandom(fm);
  registerCrypto(fm);
  registerCerts(fm);
  registerURL(fm);
  registerNetwork(fm);
  registerYaml(fm);
  return fm;
}

export { fromYaml, toYaml } from "./yaml.js";
