// sprig's getHostByName. In werf it resolves the name with the machine's DNS while rendering
// werf.yaml and returns one of the addresses at random (and panics when there is none).
// stapel2docker compiles configurations that may come from anyone: it makes no network lookups,
// and a build description that depends on the compiling machine's DNS would not be reproducible,
// so the function exists (a config that calls it gets a located error, not "not defined").
import { FuncError } from "../errors.js";
import { type FuncMap, goFunc } from "../value.js";
import { argString } from "./args.js";

export function registerNetwork(fm: FuncMap): void {
  fm.set("getHostByName", goFunc(1, 1, (n) => {
    const name = argString(n);
    throw new FuncError(
      `getHostByName ${JSON.stringify(name)}: DNS lookups while rendering werf.yaml are not supported by stapel2docker`,
      "werf resolves the name on the machine that renders the config; put the address in the config (or pass it with env) instead",
    );
  }));
}
