// The loaded config (werf.yaml → WerfConfig) through the persistent cache (docs/cache.md).
//
// loadWerfConfig is a function of the rendered text, its source map (which template text each character came
// from: the positions of the config's values and messages), the file name and the unset/refused env names. The key
// is the sha256 of all of them, plus a stamp of the code that loads (the modules' size and mtime: a rebuilt tool
// never reads an older build's configs, even at the same version). Only a config that loaded without error is kept;
// it is stored with v8's serializer (plain data: undefined values and shared objects kept as they were).

import { createHash } from "node:crypto";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import type { SourceMap } from "../diagnostics.js";
import { loadWerfConfig, type WerfConfig } from "../config/index.js";
import { VERSION } from "../version.js";
import type { CacheStore } from "./store.js";

export interface LoadInput {
  file: string;
  text: string;
  map?: SourceMap;
  unsetEnv?: readonly string[];
  refusedEnv?: readonly string[];
}

/** Counts for tests: how configs were obtained in this process. */
export const configCounts = { cache: 0, loaded: 0 };

let stamp: string | undefined;

/** The tool's version, and the size and mtime of the files whose code makes a cached result (a few of them are enough
 *  to notice a rebuild: every build writes them all; the version tells installed releases apart where an installer
 *  sets every mtime alike). */
export function codeStamp(): string {
  if (stamp === undefined) {
    const files = ["../config/index.js", "../config/stapel-image.js", "../config/schema.js", "../template/render.js", "../emit/lower.js", "../emit/check.js", "./config.js"].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
    stamp = files
      .map((f) => {
        try {
          const st = fs.statSync(f);
          return `${st.size}:${st.mtimeMs}`;
        } catch {
          return "-";
        }
      })
      .join(",");
    stamp = `${VERSION} ${stamp}`;
  }
  return stamp;
}

/** The key of a load, or undefined when its source map cannot be fingerprinted (then nothing is cached). */
function loadKey(input: LoadInput): string | undefined {
  const map = input.map as (SourceMap & { fingerprint?: () => string }) | undefined;
  if (map && typeof map.fingerprint !== "function") return undefined;
  const h = createHash("sha256");
  h.update(JSON.stringify([codeStamp(), input.file, input.unsetEnv ?? [], input.refusedEnv ?? [], input.text.length]));
  h.update("\0").update(input.text).update("\0").update(map ? map.fingerprint!() : "-");
  return h.digest("hex");
}

/** loadWerfConfig(input), from the cache when it holds the same input's result (errors are never cached: they are
 *  made again, with their messages). */
export function loadWerfConfigCached(input: LoadInput, store: CacheStore | undefined): WerfConfig {
  const key = store ? loadKey(input) : undefined;
  if (store && key) {
    const buf = store.get("config", key);
    if (buf) {
      try {
        const config = v8.deserialize(buf) as WerfConfig;
        if (config && typeof config === "object" && Array.isArray(config.images) && Array.isArray(config.dockerfileImages) && config.file === input.file) {
          configCounts.cache++;
          return config;
        }
      } catch {
        // not ours: loaded again below
      }
    }
  }
  const config = loadWerfConfig(input);
  configCounts.loaded++;
  if (store && key) store.put("config", key, v8.serialize(config));
  return config;
}
