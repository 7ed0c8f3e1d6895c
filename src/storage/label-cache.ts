// A host-local cache of stored stages' labels. Stage tags are immutable (`<digest>-<unix-millis>`, never
// re-pushed), so the labels read from a tag's image config (the git commits it holds) never change: a no-op
// build then needs no config read at all, only the one tag listing. Files:
// `<dir>/<sha256(repo \0 tag)[0:40]>.json`, default dir `$XDG_CACHE_HOME/stapel2docker/stage-labels` (else
// `~/.cache/...`); STAPEL2DOCKER_NO_LABEL_CACHE=1 turns it off. A broken or unwritable cache is ignored.

import { createHash } from "node:crypto";
import { readPrivateFile, writePrivateFile } from "../cache/private-file.js";
import os from "node:os";
import path from "node:path";

export function defaultLabelCacheDir(env: Record<string, string | undefined> = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), ".cache");
  return path.join(base, "stapel2docker", "stage-labels");
}

export class LabelCache {
  constructor(readonly dir: string) {}

  private file(repo: string, tag: string): string {
    return path.join(this.dir, `${createHash("sha256").update(`${repo}\0${tag}`).digest("hex").slice(0, 40)}.json`);
  }

  async get(repo: string, tag: string): Promise<Record<string, string> | undefined> {
    try {
      const buf = await readPrivateFile(this.file(repo, tag));
      if (!buf) return undefined;
      const v = JSON.parse(buf.toString("utf8")) as { repo?: string; tag?: string; labels?: Record<string, string> };
      return v.repo === repo && v.tag === tag && v.labels && typeof v.labels === "object" ? v.labels : undefined;
    } catch {
      return undefined;
    }
  }

  async set(repo: string, tag: string, labels: Record<string, string>): Promise<void> {
    try {
      await writePrivateFile(this.file(repo, tag), JSON.stringify({ repo, tag, labels }) + "\n");
    } catch {
      // a cache only
    }
  }
}
