// Files of the host-local caches outside the content store (the stage-label cache, the no-op cache): written private
// (0600, folder 0700) and read back only when they still are, never through a link. A cache folder may lie inside a
// checkout (a CI that keeps XDG_CACHE_HOME in the project directory, as GitLab's `cache:` requires), where a branch
// can commit files under the very names the cache uses: git checks files out 0644 or 0755, so a committed file is
// never taken for an entry, whatever it holds.

import { constants, type Stats } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import path from "node:path";

/** A regular file of this user with exactly the permissions `mode`. */
export function ownFile(st: Stats, mode: number): boolean {
  return st.isFile() && (st.mode & 0o777) === mode && (process.getuid === undefined || st.uid === process.getuid());
}

/** The content of `file` when it is a private file this user wrote (see writePrivateFile), else undefined. */
export async function readPrivateFile(file: string): Promise<Buffer | undefined> {
  let h;
  try {
    h = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    return ownFile(await h.stat(), 0o600) ? await h.readFile() : undefined;
  } catch {
    return undefined;
  } finally {
    await h.close();
  }
}

/** Writes `data` to `file` whole (a private temp file renamed into place), making its folder private. */
export async function writePrivateFile(file: string, data: string | Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    const h = await open(tmp, "wx", 0o600);
    try {
      await h.writeFile(data);
    } finally {
      await h.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
