// The persistent cache: results keyed by content, under the user's cache dir (docs/cache.md).
//
// An entry is one file `<dir>/v<FORMAT>/<kind>/<sha256 of the key>`: a header naming the format, the tool version,
// the key itself and the payload's length and sha256, then the payload. A read checks all of them, so a truncated,
// garbled or foreign file is a miss (and is removed), never a result. The key is what proves the content: a git
// tree or blob id, a mask set, a config digest; an entry whose key is not the one asked for is never read.
// Writes go to a temp file in the same folder, then `rename`: another process sees the whole entry or none.
// Size: after a process has written, when the cache holds more than `maxBytes`, the least recently used entries
// (by mtime, refreshed on every hit) are removed down to 80 % of it.
//
// Environment: STAPEL2DOCKER_CACHE_DIR (default `$XDG_CACHE_HOME/stapel2docker/cache` or
// `~/.cache/stapel2docker/cache`), STAPEL2DOCKER_CACHE=off (or 0/false/no) disables it,
// STAPEL2DOCKER_CACHE_MAX_MB bounds it (default 4096).

import { createHash, randomBytes, webcrypto } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ownFile } from "./private-file.js";
import { VERSION } from "../version.js";

/** Bumped when an entry's meaning or layout changes: older entries are then never read. */
export const CACHE_FORMAT = 1;
const MAGIC = "stapel2docker-cache";
const DEFAULT_MAX_MB = 4096;

export interface CacheOptions {
  /** The cache folder (the store uses `<dir>/v<FORMAT>`). */
  dir: string;
  /** Bound on the total size of entries, bytes. */
  maxBytes?: number;
  /** Tool version in every key (tests pass another to check that a new version ignores old entries). */
  version?: string;
}

export interface CacheStats {
  hits: number;
  misses: number;
  /** Entries found but refused (truncated, garbled, another key or version). */
  rejected: number;
  writes: number;
  evicted: number;
  /** Scans of every entry for the size bound. */
  scans: number;
}

/** The default cache folder, or undefined when the environment disables the cache. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const off = (env.STAPEL2DOCKER_CACHE ?? "").toLowerCase();
  if (off === "off" || off === "0" || off === "false" || off === "no") return undefined;
  if (env.STAPEL2DOCKER_CACHE_DIR) return path.resolve(env.STAPEL2DOCKER_CACHE_DIR);
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), ".cache");
  return path.join(base, "stapel2docker", "cache");
}

/** The store the environment asks for (undefined: disabled). */
export function cacheFromEnv(env: NodeJS.ProcessEnv = process.env): CacheStore | undefined {
  const dir = defaultCacheDir(env);
  if (!dir) return undefined;
  const mb = Number(env.STAPEL2DOCKER_CACHE_MAX_MB);
  return new CacheStore({ dir, maxBytes: (Number.isFinite(mb) && mb > 0 ? mb : DEFAULT_MAX_MB) * 1048576 });
}

function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export class CacheStore {
  readonly root: string;
  readonly maxBytes: number;
  private readonly version: string;
  private wrote = false;
  /** Bytes this process stored since its last eviction check (the tars beside archive entries included). */
  private written = 0;
  private broken = false;
  /** Entries put with putSoon and not yet on disk (by file): what get and has see meanwhile, and their writes. */
  private readonly pending = new Map<string, { pieces: readonly Buffer[]; joined?: Buffer; done: Promise<void> }>();
  /** Entries read by this process: their mtime (the LRU order) is set now, in the background; evict counts them as
   *  used now whether or not that is done. */
  private readonly touched = new Set<string>();
  readonly stats: CacheStats = { hits: 0, misses: 0, rejected: 0, writes: 0, evicted: 0, scans: 0 };

  constructor(opts: CacheOptions) {
    this.root = path.join(opts.dir, `v${CACHE_FORMAT}`);
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_MB * 1048576;
    this.version = opts.version ?? VERSION;
  }

  /** The key as stored in the header: the caller's parts plus format and tool version. */
  private fullKey(kind: string, key: string): string {
    return JSON.stringify([MAGIC, CACHE_FORMAT, this.version, kind, key]);
  }

  /** A path in the cache's private folder where no file is ever written (for git's GIT_INDEX_FILE: an absent
   *  index is an empty one). */
  absentFile(): string {
    return path.join(this.root, "absent", "none");
  }

  /** Where the entry of `kind`/`key` lives. */
  file(kind: string, key: string): string {
    if (!/^[a-z][a-z0-9-]*$/.test(kind)) throw new Error(`cache kind ${JSON.stringify(kind)}`);
    return path.join(this.root, kind, sha256(this.fullKey(kind, key)));
  }

  /** Whether an entry is there (not read, not checked: `get` does that). */
  has(kind: string, key: string): boolean {
    if (this.broken || !this.folderOk(kind)) return false;
    const file = this.file(kind, key);
    return this.pending.has(file) || fs.existsSync(file);
  }

  /** Kinds whose folder was checked: each is a real folder of ours, or absent (made by `put`). */
  private readonly folders = new Map<string, boolean>();

  /**
   * Whether the cache's folder and `kind`'s are usable: absent, or real directories (no symbolic link) of this
   * user. A cache folder inside a checkout (a CI that keeps its cache in the project directory) may hold what a
   * branch committed: a link `v1/archive -> /usr/lib` would let the size bound remove the host's files, and a link
   * would carry writes elsewhere. Such a folder is not used (the cache is off for that kind).
   */
  private folderOk(kind: string): boolean {
    let ok = this.folders.get(kind);
    if (ok === undefined) {
      ok = ownFolder(this.root) && ownFolder(path.join(this.root, kind));
      this.folders.set(kind, ok);
    }
    return ok;
  }

  /** The payload stored for `kind`/`key`, or undefined (absent, unreadable, or failing any check). */
  get(kind: string, key: string): Buffer | undefined {
    if (this.broken || !this.folderOk(kind)) return undefined;
    const file = this.file(kind, key);
    const soon = this.pending.get(file);
    if (soon) {
      this.stats.hits++;
      return (soon.joined ??= soon.pieces.length === 1 ? soon.pieces[0] : Buffer.concat(soon.pieces));
    }
    let data: Buffer;
    let written: boolean;
    try {
      // never through a link; only a file this user wrote as the store writes it (0600): a file checked out by git
      // (0644 or 0755) or restored from a shared CI cache with other modes is not an entry, whatever its header says
      const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      try {
        written = ownFile(fs.fstatSync(fd), 0o600);
        data = written ? fs.readFileSync(fd) : Buffer.alloc(0);
      } finally {
        fs.closeSync(fd);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ELOOP") fs.rmSync(file, { force: true });
      this.stats.misses++;
      return undefined;
    }
    const payload = written ? this.check(data, this.fullKey(kind, key)) : undefined;
    if (!payload) {
      this.stats.rejected++;
      this.stats.misses++;
      fs.rmSync(file, { force: true });
      return undefined;
    }
    this.stats.hits++;
    // least recently used = oldest mtime; set in the background (a metadata write: slow on a busy disk), and counted
    // as now by this process's evict meanwhile
    this.touched.add(file);
    touchSoon(file);
    return payload;
  }

  /** The payload when the header of `data` is ours and proves it; else undefined. */
  private check(data: Buffer, fullKey: string): Buffer | undefined {
    const nl = data.indexOf(10);
    if (nl < 0 || nl > 1 << 20) return undefined;
    let header: { key?: unknown; length?: unknown; sha256?: unknown };
    try {
      header = JSON.parse(data.toString("utf8", 0, nl)) as typeof header;
    } catch {
      return undefined;
    }
    if (header.key !== fullKey || typeof header.length !== "number" || typeof header.sha256 !== "string") return undefined;
    const payload = data.subarray(nl + 1);
    if (payload.length !== header.length || sha256(payload) !== header.sha256) return undefined;
    return payload;
  }

  /** Stores `payload` for `kind`/`key` (temp file + rename); `payloadSha256`: its sha256 (hex) when the caller
   *  already has it. Failures (read-only or full disk) turn the cache off
   *  for this process: a cache never fails the command. */
  put(kind: string, key: string, payload: Buffer | string | readonly Buffer[], payloadSha256?: string): void {
    if (this.broken || !this.folderOk(kind)) return;
    // pieces are hashed and written one after another: a big payload is never copied into one buffer
    const pieces = typeof payload === "string" ? [Buffer.from(payload, "utf8")] : Buffer.isBuffer(payload) ? [payload] : payload;
    const file = this.file(kind, key);
    // a background write of the same entry is still under way: this one goes after it (else the older could land last)
    if (this.pending.has(file)) return this.putSoon(kind, key, pieces);
    // the payload's sha256 may come with it (a listing hashed as git wrote it)
    const hash = payloadSha256 === undefined ? createHash("sha256") : undefined;
    let length = 0;
    for (const piece of pieces) {
      hash?.update(piece);
      length += piece.length;
    }
    const header = JSON.stringify({ key: this.fullKey(kind, key), length, sha256: hash ? hash.digest("hex") : payloadSha256 }) + "\n";
    const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 }); // private: entries hold the repositories' files
      const fd = fs.openSync(tmp, "wx", 0o600);
      try {
        fs.writeSync(fd, header);
        for (const piece of pieces) for (let off = 0; off < piece.length; ) off += fs.writeSync(fd, piece, off);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, file);
      this.stats.writes++;
      this.wrote = true;
      this.written += header.length + length;
      if (kind === "archive") {
        try {
          this.written += fs.statSync(`${file}.tar`).size;
        } catch {
          // no tar beside it
        }
      }
    } catch {
      fs.rmSync(tmp, { force: true });
      this.broken = true;
    }
  }

  /**
   * put, written in the background (libuv's threads): the caller goes on at once, `get` and `has` of this process see
   * the entry meanwhile, other processes once it is renamed into place (whole, as with put). `flush()` waits for every
   * such write; a failed one turns the cache off for the process, as with put. For the small entries a re-plan writes
   * (a checksum's update or alias, a check's witness, a render record, the tree's changes and the pointer): each is a
   * file created and renamed, whose wait for the disk the plan need not share.
   */
  putSoon(kind: string, key: string, payload: Buffer | string | readonly Buffer[]): void {
    if (this.broken || !this.folderOk(kind)) return;
    const pieces = typeof payload === "string" ? [Buffer.from(payload, "utf8")] : Buffer.isBuffer(payload) ? [payload] : payload;
    const file = this.file(kind, key);
    const length = pieces.reduce((n, p) => n + p.length, 0);
    const fullKey = this.fullKey(kind, key);
    const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    const before = this.pending.get(file)?.done ?? Promise.resolve();
    const write = async () => {
      let fd: fs.promises.FileHandle | undefined;
      try {
        // hashed by libuv's threads too (WebCrypto), over the payload made one buffer (what `get` gives meanwhile)
        const joined = (entry.joined ??= pieces.length === 1 ? pieces[0] : Buffer.concat(pieces));
        const sha = Buffer.from(await webcrypto.subtle.digest("SHA-256", joined)).toString("hex");
        const header = Buffer.from(JSON.stringify({ key: fullKey, length, sha256: sha }) + "\n", "utf8");
        await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
        fd = await fs.promises.open(tmp, "wx", 0o600);
        await fd.writev([header, ...pieces]);
        await fd.close();
        fd = undefined;
        await fs.promises.rename(tmp, file);
      } catch {
        await fd?.close().catch(() => {});
        await fs.promises.rm(tmp, { force: true }).catch(() => {});
        this.broken = true;
      }
    };
    const entry: { pieces: readonly Buffer[]; joined?: Buffer; done: Promise<void> } = { pieces, done: Promise.resolve() };
    entry.done = before.then(write);
    this.pending.set(file, entry);
    void entry.done.then(() => {
      if (this.pending.get(file) === entry) this.pending.delete(file);
    });
    this.stats.writes++;
    this.wrote = true;
    // the header's size is known before its sha256 (64 hex digits)
    this.written += Buffer.byteLength(JSON.stringify({ key: fullKey, length, sha256: "0".repeat(64) })) + 1 + length;
  }

  /** Waits for the writes putSoon started. */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending.values()].map((p) => p.done));
  }

  /** Removes the least recently used entries while the cache is over its bound (only after this process wrote).
   *  Temp files of other processes younger than an hour are left alone. */
  evict(): void {
    if (!this.wrote || this.broken) return;
    this.wrote = false;
    // the total found by the last scan plus what was written since: no scan of every entry while that stays under
    // the bound and the scan is recent (other processes' removals only make the sum too high; their writes are
    // counted by them, and a lost update is corrected by the next scan)
    const usageFile = path.join(this.root, USAGE, "total");
    const written = this.written;
    this.written = 0;
    const usage = readUsage(usageFile);
    if (usage && Date.now() - usage.at < RESCAN_MS && usage.total + written <= this.maxBytes) {
      writeUsage(usageFile, { total: usage.total + written, at: usage.at });
      return;
    }
    this.stats.scans++;
    // an entry and its companion files (`<entry>.tar`) live and go together; the entry's mtime is its last use
    const groups = new Map<string, { files: string[]; size: number; mtime: number }>();
    let total = 0;
    let kinds: string[];
    try {
      kinds = fs.readdirSync(this.root);
    } catch {
      return;
    }
    const now = Date.now();
    for (const kind of kinds) {
      if (kind === USAGE) continue;
      // only folders of ours: never a link (its target's files would count, and go)
      if (!ownFolder(path.join(this.root, kind))) continue;
      let names: string[];
      try {
        names = fs.readdirSync(path.join(this.root, kind));
      } catch {
        continue;
      }
      for (const name of names) {
        const file = path.join(this.root, kind, name);
        try {
          const st = fs.lstatSync(file); // a link is removed (when it is its turn), never followed
          if (st.isDirectory()) continue;
          if (name.includes(".tmp-")) {
            if (now - st.mtimeMs > 3600_000) fs.rmSync(file, { force: true });
            continue;
          }
          const id = file.replace(/\.tar$/, "");
          let g = groups.get(id);
          if (!g) groups.set(id, (g = { files: [], size: 0, mtime: 0 }));
          g.files.push(file);
          g.size += st.size;
          g.mtime = Math.max(g.mtime, this.touched.has(file) ? now : st.mtimeMs);
          total += st.size;
        } catch {
          // removed by another process meanwhile
        }
      }
    }
    if (total <= this.maxBytes) return writeUsage(usageFile, { total, at: now });
    const order = [...groups.entries()].sort((a, b) => a[1].mtime - b[1].mtime || (a[0] < b[0] ? -1 : 1));
    const goal = this.maxBytes * 0.8;
    for (const [, g] of order) {
      if (total <= goal) break;
      // the entry first: its companion is never used without it
      for (const f of [...g.files].sort((a, b) => a.length - b.length)) fs.rmSync(f, { force: true });
      total -= g.size;
      this.stats.evicted++;
    }
    writeUsage(usageFile, { total, at: now });
  }
}

/** Absent, or a real directory (not a link) of this user. */
function ownFolder(dir: string): boolean {
  try {
    const st = fs.lstatSync(dir);
    return st.isDirectory() && (process.getuid === undefined || st.uid === process.getuid());
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT";
  }
}


/** Sets a file's mtime in the background (libuv's threads; node completes the queued work even on process.exit). */
function touchSoon(file: string): void {
  const now = new Date();
  // removed meanwhile by another process's eviction: the payload read is whole anyway
  fs.utimes(file, now, now, () => {});
}

/** The folder of the usage record (not an entry kind). */
const USAGE = "usage";
/** A scan at least this often, whatever the sum says. */
const RESCAN_MS = 10 * 60_000;

function readUsage(file: string): { total: number; at: number } | undefined {
  try {
    const u = JSON.parse(fs.readFileSync(file, "utf8")) as { total?: unknown; at?: unknown };
    return typeof u.total === "number" && typeof u.at === "number" && u.total >= 0 ? { total: u.total, at: u.at } : undefined;
  } catch {
    return undefined;
  }
}

function writeUsage(file: string, u: { total: number; at: number }): void {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(tmp, JSON.stringify(u), { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

/** A key part for structured values (stable JSON). */
export function keyOf(...parts: unknown[]): string {
  return JSON.stringify(parts);
}
