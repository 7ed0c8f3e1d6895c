// Blob contents through one long-lived `git cat-file --batch` process.
//
// Requests are served one at a time, in order. `open` hands out a blob's size first and its content
// as a stream with backpressure (git's output is paused while the consumer is slow), so a large
// file never has to be held in memory; `read` collects a blob into a Buffer.

import { Readable } from "node:stream";
import type { ChildProcess } from "node:child_process";
import { UserError } from "../diagnostics.js";
import { gitMissingError, spawnGit, type GitRepo } from "./repo.js";

export interface OpenBlob {
  oid: string;
  type: string;
  size: number;
  /** The content; must be consumed (or destroyed) before the next blob is served. */
  body: Readable;
}

interface Waiter {
  oid: string;
  resolve(b: OpenBlob): void;
  reject(e: unknown): void;
}

export class BlobReader {
  private readonly child: ChildProcess;
  private pending: Buffer = Buffer.alloc(0);
  private current: { body: Readable; remaining: number } | undefined;
  private waiter: Waiter | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private failure: unknown;

  constructor(repo: GitRepo) {
    this.child = spawnGit(repo.root, ["cat-file", "--batch"]);
    const stdout = this.child.stdout!;
    stdout.on("data", (b: Buffer) => this.onData(b));
    this.child.on("error", (e) => this.fail(gitMissingError(e)));
    this.child.stdin!.on("error", (e) => this.fail(e));
    this.child.on("close", (code) => {
      if (this.waiter || this.current) this.fail(new UserError({ message: `git cat-file exited early (code ${code})` }));
    });
  }

  /** Starts reading blob `oid`; resolves with its size once git has answered. */
  open(oid: string): Promise<OpenBlob> {
    const turn = this.queue.then(
      () =>
        new Promise<OpenBlob>((resolve, reject) => {
          if (this.failure) return reject(this.failure);
          this.waiter = { oid, resolve, reject };
          this.child.stdin!.write(`${oid}\n`);
        }),
    );
    // the next request waits until this blob's body has been read to the end
    this.queue = turn.then(
      (b) => new Promise<void>((res) => (b.body.readableEnded || b.body.destroyed ? res() : (b.body.once("end", res), b.body.once("close", res)))),
      () => undefined,
    );
    return turn;
  }

  /** The whole content of blob `oid`. */
  async read(oid: string): Promise<Buffer> {
    const blob = await this.open(oid);
    const parts: Buffer[] = [];
    for await (const chunk of blob.body as AsyncIterable<Buffer>) parts.push(chunk);
    return Buffer.concat(parts);
  }

  /** Ends the git process. */
  close(): void {
    this.child.stdin!.end();
  }

  private fail(e: unknown): void {
    this.failure ??= e;
    this.waiter?.reject(e);
    this.waiter = undefined;
    this.current?.body.destroy(e instanceof Error ? e : new Error(String(e)));
    this.current = undefined;
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.drain();
  }

  private drain(): void {
    for (;;) {
      const cur = this.current;
      if (cur) {
        if (cur.remaining > 0) {
          if (this.pending.length === 0) return;
          const n = Math.min(cur.remaining, this.pending.length);
          const piece = this.pending.subarray(0, n);
          this.pending = this.pending.subarray(n);
          cur.remaining -= n;
          // a body destroyed by its consumer is drained and discarded
          if (!cur.body.destroyed && !cur.body.push(piece)) this.child.stdout!.pause();
          continue;
        }
        if (this.pending.length === 0) return; // wait for the trailing newline
        this.pending = this.pending.subarray(1);
        if (!cur.body.destroyed) cur.body.push(null);
        this.current = undefined;
        continue;
      }
      const nl = this.pending.indexOf(10);
      if (nl < 0) return;
      const header = this.pending.toString("utf8", 0, nl);
      this.pending = this.pending.subarray(nl + 1);
      const waiter = this.waiter;
      this.waiter = undefined;
      if (!waiter) {
        this.fail(new Error(`unexpected output from git cat-file: ${header}`));
        return;
      }
      const [oid, type, sizeText] = header.split(" ");
      if (type === "missing" || sizeText === undefined) {
        waiter.reject(new UserError({ message: `git object ${waiter.oid} is missing from the repository` }));
        continue;
      }
      const body = new Readable({ read: () => this.child.stdout!.resume() });
      body.once("close", () => this.child.stdout!.resume());
      this.current = { body, remaining: Number(sizeText) };
      waiter.resolve({ oid, type, size: Number(sizeText), body });
    }
  }
}

/** Reads the given blobs one after another, handing each to `use` as a Buffer; closes git afterwards. */
export async function forEachBlob(
  repo: GitRepo,
  oids: readonly string[],
  use: (oid: string, content: Buffer) => void | Promise<void>,
): Promise<void> {
  const reader = new BlobReader(repo);
  try {
    for (const oid of oids) await use(oid, await reader.read(oid));
  } finally {
    reader.close();
  }
}
