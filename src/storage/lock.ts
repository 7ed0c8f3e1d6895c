// Host-local locks per (repository, stage digest), held while a missing stage is built (reference §8; the seed
// "each stage is built by one process only; the others wait and use its result").
//
// Each lock is a kernel flock(2) on a file under the lock directory, taken and held by a child `flock(1)` process
// that waits on its stdin: when we release the lock (or die, even by SIGKILL) the pipe closes, the child exits and
// the kernel drops the lock. A killed holder therefore never blocks the others, and no stale lock file matters.

import type { ChildProcess } from "node:child_process";
import { start } from "../process/run.js";
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { UserError } from "../diagnostics.js";

/** Default lock directory: $STAPEL2DOCKER_LOCK_DIR, else `<tmpdir>/stapel2docker-locks`. */
export function defaultLockDir(): string {
  return process.env.STAPEL2DOCKER_LOCK_DIR || path.join(os.tmpdir(), "stapel2docker-locks");
}

/** The lock file of one stage of one repository. */
export function lockFile(dir: string, repo: string, digest: string): string {
  return path.join(dir, `${createHash("sha256").update(`${repo}\0${digest}`).digest("hex").slice(0, 32)}.lock`);
}

export interface HeldLock {
  key: string;
  release(): Promise<void>;
}

/** Takes the lock of `key` (a file path), waiting as long as another process holds it. `onWait` is called
 *  once when the lock is busy. */
export function acquireLock(file: string, onWait?: () => void): Promise<HeldLock> {
  mkdirSync(path.dirname(file), { recursive: true });
  return new Promise((resolve, reject) => {
    // -n first would tell "busy" apart; one process: try without waiting, then wait, reporting once.
    const script = 'if ! flock -n 9; then echo busy; flock 9; fi; echo locked; exec cat >/dev/null';
    let child: ChildProcess;
    try {
      child = start("bash", ["-c", `exec 9>>"$1"; ${script}`, "stapel2docker-lock", file], { stderr: "inherit" });
    } catch (e) {
      reject(lockError(file, e));
      return;
    }
    let out = "";
    let done = false;
    child.on("error", (e) => {
      if (!done) {
        done = true;
        reject(lockError(file, e));
      }
    });
    child.on("exit", (code) => {
      if (!done) {
        done = true;
        reject(lockError(file, `the flock process exited with code ${code}`));
      }
    });
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString("utf8");
      if (out.includes("busy\n") && !out.includes("locked\n")) {
        out = out.replace("busy\n", "");
        onWait?.();
      }
      if (out.includes("locked\n") && !done) {
        done = true;
        const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once("exit", () => r())));
        resolve({
          key: file,
          release: async () => {
            child.stdin!.end();
            await exited;
          },
        });
      }
    });
    child.stdin!.on("error", () => {});
  });
}

function lockError(file: string, e: unknown): UserError {
  return new UserError({
    message: `cannot take the build lock ${file}: ${e instanceof Error ? e.message : String(e)}`,
    hint: "stapel2docker needs bash and flock(1) (util-linux); set STAPEL2DOCKER_LOCK_DIR to a writable folder",
  });
}

/** Takes several locks in a fixed (sorted) order, so two builds never wait on each other in a cycle. */
export async function acquireLocks(files: string[], onWait?: (file: string) => void): Promise<HeldLock[]> {
  const held: HeldLock[] = [];
  try {
    for (const f of [...new Set(files)].sort()) held.push(await acquireLock(f, () => onWait?.(f)));
  } catch (e) {
    await releaseLocks(held);
    throw e;
  }
  return held;
}

export async function releaseLocks(locks: HeldLock[]): Promise<void> {
  await Promise.all(locks.map((l) => l.release()));
}
