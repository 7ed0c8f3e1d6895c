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

/** An object header of `git cat-file --batch`. */
export interface BlobHeader {
  oid: string;
  type: string;
  size: number;
}

/** How many object ids are written to git ahead of the one being read. */
const AHEAD = 2048;
/** Bytes of git's output a BlobPipeline holds unread before it stops reading git's output. */
const QUEUED_MAX = 1 << 20;
/** Bodies up to this size put together from several chunks go into the pipeline's reused buffer. */
const SCRATCH_MAX = 1 << 20;
const EMPTY = Buffer.alloc(0);

/** Object ids handed to `cat-file --batch` piece by piece: "<hex>\n" lines [from, to) as one buffer, and id i as
 *  text (for an error about it). */
export interface OidSource {
  readonly length: number;
  lines(from: number, to: number): Buffer;
  at(i: number): string;
}

/** Object ids of one length as "<hex>\n" lines in one buffer (what `cat-file --batch` reads), not a string each:
 *  300k ids are 12 MB, not 30 MB of strings. */
export class OidLines implements OidSource {
  private buf: Buffer;
  private width = 0;
  length = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(Math.max(1, capacity) * 41);
  }

  /** Adds an id; false when its length differs from the first one's (the caller then keeps strings). */
  push(oid: string): boolean {
    if (this.width === 0) {
      this.width = oid.length + 1;
      if (this.width !== 41) this.buf = Buffer.allocUnsafe((this.buf.length / 41) * this.width);
    }
    if (oid.length + 1 !== this.width) return false;
    if ((this.length + 1) * this.width > this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger);
      this.buf = bigger;
    }
    const at = this.length * this.width;
    this.buf.write(oid, at, "latin1");
    this.buf[at + this.width - 1] = 10;
    this.length++;
    return true;
  }

  /** Adds the id held in `src` from `start` to `end` (hex text); false as push. */
  pushBytes(src: Buffer, start: number, end: number): boolean {
    if (this.width === 0) return this.push(src.toString("latin1", start, end));
    if (end - start + 1 !== this.width) return false;
    if ((this.length + 1) * this.width > this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger);
      this.buf = bigger;
    }
    const at = this.length * this.width;
    // (a loop: Buffer#copy's call costs more than copying an id's 40 bytes, ~2 µs each, measured)
    const buf = this.buf;
    for (let k = start, o = at; k < end; k++) buf[o++] = src[k];
    buf[at + this.width - 1] = 10;
    this.length++;
    return true;
  }

  at(i: number): string {
    return this.buf.toString("latin1", i * this.width, (i + 1) * this.width - 1);
  }

  /** The lines of ids [from, to). */
  lines(from: number, to: number): Buffer {
    return this.buf.subarray(from * this.width, to * this.width);
  }
}

function isStrings(all: readonly string[] | OidSource): all is readonly string[] {
  return Array.isArray(all);
}

/**
 * Pipelined reads through one `git cat-file --batch`: the caller queues object ids (`request`), git is kept
 * `AHEAD` ids ahead, and the answers are taken in the same order (`next`, then `readBody` or `bodyChunks`).
 * git's output is read only as it is consumed (paused stream), so git waits when the consumer is slow.
 * A small body inside one chunk of git's output is handed out without copying.
 */
export class BlobPipeline {
  private readonly child: ChildProcess;
  private readonly stdout: Readable;
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private ended = false;
  /** git's output as it came, not yet taken by `fill` (each chunk as node read it: never joined into one). */
  private readonly chunks: Buffer[] = [];
  private chunksHead = 0;
  private chunkBytes = 0;
  private paused = false;
  /** Where a body that came in several chunks is put together (readBody), reused. */
  private scratch: Buffer | undefined;
  private failure: unknown;
  private wake: (() => void) | undefined;
  private readonly queued: string[] = [];
  /** With `all` given as an OidSource: those, instead of `queued`. */
  private readonly lines?: OidSource;
  private sent = 0;
  private answered = 0;
  /** Bytes of the current body not read yet (+1 for git's trailing newline); -1 when a header is due. */
  private bodyLeft = -1;
  /** The queue holds every object to read: input ends after it. */
  private readonly complete: boolean = false;

  /** Without `all`, objects are asked for with `request` as needed (git answers each at once). With `all`, those
   *  are all the objects to read: git buffers its output (`--buffer`, much less work per object) and its input is
   *  ended after the last id; `request` may not be called. */
  constructor(repo: GitRepo, all?: readonly string[] | OidSource) {
    this.child = spawnGit(repo.root, all ? ["cat-file", "--batch", "--buffer"] : ["cat-file", "--batch"]);
    this.stdout = this.child.stdout!;
    if (all) {
      this.complete = true;
      if (isStrings(all)) for (const oid of all) this.queued.push(oid);
      else this.lines = all;
      this.sendAhead();
    }
    // (flowing, not read(): read() of a paused stream joins what it holds into a new buffer, a second copy of git's
    // whole output; paused above QUEUED_MAX bytes for the consumer to catch up)
    this.stdout.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.chunkBytes += chunk.length;
      if (this.chunkBytes > QUEUED_MAX && !this.paused) {
        this.paused = true;
        this.stdout.pause();
      }
      this.poke();
    });
    this.stdout.on("end", () => {
      this.ended = true;
      this.poke();
    });
    this.child.stderr!.resume();
    this.child.on("error", (e) => this.fail(gitMissingError(e)));
    this.child.stdin!.on("error", (e) => this.fail(e));
  }

  /** Queues objects to be read, in this order (after those queued before). */
  request(oids: readonly string[]): void {
    if (this.complete) throw new Error("BlobPipeline: all objects were given to the constructor");
    for (const oid of oids) this.queued.push(oid);
    this.sendAhead();
  }

  /** The header of the next queued object; UserError when it is missing. Its body must be read next. */
  async next(): Promise<BlobHeader> {
    this.checkNext();
    let nl: number;
    while ((nl = this.buf.indexOf(10, this.pos)) < 0) await this.fill(true);
    return this.takeHeader(nl);
  }

  /** The size of the next queued object when its header is already here (the rest as `next` gives it, which is
   *  then not to be called), else undefined. Throws as `next` does. */
  nextSync(): number | undefined {
    this.checkNext();
    const nl = this.buf.indexOf(10, this.pos);
    if (nl < 0) return undefined;
    const buf = this.buf;
    const sp = buf.lastIndexOf(32, nl);
    if (sp > this.pos && sp - 5 >= this.pos && nl - sp - 1 >= 1 && nl - sp - 1 <= 15) {
      // "<oid> blob <size>": the size's digits and the type read from the bytes (no string per object)
      let size = 0;
      for (let k = sp + 1; k < nl; k++) {
        const d = buf[k] - 0x30;
        size = d >= 0 && d <= 9 ? size * 10 + d : -1;
        if (size < 0) break;
      }
      if (size >= 0 && buf[sp - 5] === 0x20 && buf[sp - 4] === 0x62 && buf[sp - 3] === 0x6c && buf[sp - 2] === 0x6f && buf[sp - 1] === 0x62) {
        this.pos = nl + 1;
        this.answered++;
        this.sendAhead();
        this.bodyLeft = size + 1;
        return size;
      }
    }
    return this.takeHeader(nl).size;
  }

  /** The whole body of the object whose header `next` gave; valid until the next call on this pipeline (a body that
   *  came in several chunks of git's output is put together in a buffer that is reused). */
  async readBody(): Promise<Buffer> {
    const size = this.bodyLeft - 1;
    if (size < 0) throw new Error("BlobPipeline: no body to read");
    let out: Buffer;
    if (this.buf.length - this.pos >= size) {
      out = this.buf.subarray(this.pos, this.pos + size);
      this.pos += size;
    } else {
      if (size <= SCRATCH_MAX && (this.scratch === undefined || this.scratch.length < size)) this.scratch = Buffer.allocUnsafe(Math.max(size, 64 << 10));
      out = size <= SCRATCH_MAX ? this.scratch!.subarray(0, size) : Buffer.allocUnsafe(size);
      let off = 0;
      while (off < size) {
        if (this.pos >= this.buf.length) await this.fill(false);
        const n = Math.min(size - off, this.buf.length - this.pos);
        this.buf.copy(out, off, this.pos, this.pos + n);
        this.pos += n;
        off += n;
      }
    }
    this.bodyLeft = 1;
    await this.endBody();
    return out;
  }

  /** The body (as readBody) when it and its newline are already here, without copying; else undefined. */
  readBodySync(): Buffer | undefined {
    const size = this.bodyLeft - 1;
    if (size < 0) throw new Error("BlobPipeline: no body to read");
    if (this.buf.length - this.pos < size + 1) return undefined;
    const out = this.buf.subarray(this.pos, this.pos + size);
    this.pos += size + 1;
    this.bodyLeft = -1;
    return out;
  }

  private checkNext(): void {
    if (this.bodyLeft >= 0) throw new Error("BlobPipeline: the previous body was not read");
    if (this.answered >= this.sent) throw new Error("BlobPipeline: no object requested");
  }

  private takeHeader(nl: number): BlobHeader {
    const header = this.buf.toString("utf8", this.pos, nl);
    this.pos = nl + 1;
    const oid = this.lines ? this.lines.at(this.answered) : this.queued[this.answered];
    this.answered++;
    this.sendAhead();
    const [got, type, sizeText] = header.split(" ");
    if (type === "missing" || sizeText === undefined) {
      throw new UserError({ message: `git object ${oid} is missing from the repository` });
    }
    const size = Number(sizeText);
    this.bodyLeft = size + 1;
    return { oid: got, type, size };
  }

  /** The body of the object whose header `next` gave, piece by piece (for big objects). */
  async *bodyChunks(): AsyncGenerator<Buffer> {
    if (this.bodyLeft < 1) throw new Error("BlobPipeline: no body to read");
    while (this.bodyLeft > 1) {
      if (this.pos >= this.buf.length) await this.fill(false);
      const n = Math.min(this.bodyLeft - 1, this.buf.length - this.pos);
      const piece = this.buf.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.bodyLeft -= n;
      yield piece;
    }
    await this.endBody();
  }

  /** Ends the git process. */
  close(): void {
    this.child.stdin!.end();
    this.stdout.destroy();
  }

  /** Consumes the newline after a body. */
  private async endBody(): Promise<void> {
    if (this.pos >= this.buf.length) await this.fill(false);
    this.pos++;
    this.bodyLeft = -1;
  }

  private sendAhead(): void {
    const count = this.lines ? this.lines.length : this.queued.length;
    if (this.sent - this.answered > AHEAD / 2 || this.sent >= count) return;
    const end = Math.min(count, this.answered + AHEAD);
    if (end <= this.sent) return;
    const text = this.lines ? this.lines.lines(this.sent, end) : this.queued.slice(this.sent, end).join("\n") + "\n";
    this.sent = end;
    this.child.stdin!.write(text);
    if (this.complete && end === count) this.child.stdin!.end();
  }

  /** Appends the next chunk of git's output to the unread rest (`keep`) or replaces the consumed buffer. With `keep`
   *  (a header line cut by the chunk's end), only the next chunk's first line is joined to the rest when it holds one
   *  (not the whole chunk, which is taken next). */
  private async fill(keep: boolean): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.chunksHead < this.chunks.length) {
        const chunk = this.chunks[this.chunksHead];
        const rest = this.buf.length - this.pos;
        if (keep && rest > 0) {
          const nl = chunk.indexOf(10);
          if (nl >= 0 && nl + 1 < chunk.length) {
            this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk.subarray(0, nl + 1)]);
            this.pos = 0;
            this.chunks[this.chunksHead] = chunk.subarray(nl + 1);
            this.chunkBytes -= nl + 1;
            return;
          }
        }
        this.chunks[this.chunksHead++] = EMPTY;
        this.chunkBytes -= chunk.length;
        if (this.chunksHead > 64 && this.chunksHead * 2 > this.chunks.length) {
          this.chunks.splice(0, this.chunksHead);
          this.chunksHead = 0;
        }
        if (this.paused && this.chunkBytes <= QUEUED_MAX / 4) {
          this.paused = false;
          this.stdout.resume();
        }
        this.buf = keep && rest > 0 ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
        this.pos = 0;
        return;
      }
      if (this.ended) {
        throw new UserError({ message: `git cat-file exited early (code ${this.child.exitCode ?? "unknown"})` });
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private fail(e: unknown): void {
    this.failure ??= e;
    this.poke();
  }
}
