// werf's build secrets (`secrets: [{id, env | src | value}]`) as plan data: ids and where each value comes from,
// never the value itself. A `value:` secret's text is kept beside the plan for this process only (the emitter
// and `build` write it to a private file for BuildKit), so `plan --json`, the Dockerfile, the bake file, build.sh
// and the images never hold it. In the build every Stapel user-stage RUN mounts the image's secrets at
// /run/secrets/<id> (as werf does); Dockerfile images get them as bake `secret` entries.

import { secretId, type Secret } from "../config/model.js";

export interface SecretPlan {
  /** The BuildKit secret id: `/run/secrets/<id>` in the RUNs. */
  id: string;
  source: "env" | "src" | "value";
  /** The environment variable (source "env"). */
  env?: string;
  /** The file, as written in werf.yaml: relative to the project directory, or absolute (source "src"). */
  src?: string;
  pos: Secret["pos"];
}

/** Runtime-only: the text of each `value:` secret of this process's plans (never serialised). */
const values = new WeakMap<SecretPlan, string>();

/** The text of a `value:` secret planned in this process. */
export function secretValue(s: SecretPlan): string | undefined {
  return values.get(s);
}

/** The secrets of one image as plan data (the config checked ids, names and paths: config/shared-directives.ts). */
export function planSecrets(secrets: readonly Secret[]): SecretPlan[] {
  const out: SecretPlan[] = [];
  for (const s of secrets) {
    const id = secretId(s);
    if (id === undefined) continue;
    const plan: SecretPlan =
      s.env !== undefined ? { id, source: "env", env: s.env, pos: s.pos } : s.src !== undefined ? { id, source: "src", src: s.src, pos: s.pos } : { id, source: "value", pos: s.pos };
    if (s.value !== undefined) values.set(plan, s.value);
    out.push(plan);
  }
  return out;
}
