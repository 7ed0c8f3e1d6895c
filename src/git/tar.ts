// A small buffered tar writer for git archives: ustar headers, with a pax header for what ustar cannot hold. Byte
// for byte the format tar-stream's pack writes for the same entries where tar-stream can write them at all (the
// archives written before this writer existed are reproduced exactly; test/git/tar.test.ts compares the two),
// without a stream object per entry: headers and small bodies are encoded straight into one large buffer that is
// written to the file when full.
//
// Format details kept: a name that is pure ASCII and fits 100 bytes, or can be split at slashes into a name of at
// most 100 and a prefix of at most 155 bytes, and a link target of at most 100 bytes, get a plain ustar header;
// anything else gets a "PaxHeader" entry (type x) holding ` path=` / ` linkpath=` records, then the ustar header
// named "PaxHeader". Numbers are zero-padded octal followed by a space (7777… when too wide; sizes of 8 GiB and
// more in base-256); uname/gname are written only when given; magic "ustar\0", version "00"; the end is two
// zero blocks.
//
// Beyond tar-stream: a uid or gid above 0o777777 (the largest the 6-digit octal field holds; OpenShift-style ids
// such as 1000650000 are far above it) and a user or group name longer than the 32-byte ustar field also go into
// the pax header (` uid=`, ` gid=`, ` uname=`, ` gname=`); the id fields then hold the id as 7 octal digits or, above
// 0o7777777, in base-256 (busybox tar ignores pax ids but reads base-256), and a long name field is left empty.
// GNU tar, busybox tar, Go's archive/tar and Python's tarfile all read the real ids back. No field ever
// overflows into the next one.

import { open, type FileHandle } from "node:fs/promises";

/** The piece size of TarWriter.copyRange. */
const COPY_CHUNK = 8 << 20;

export type TarEntryType = "file" | "directory" | "symlink";

export interface TarHeader {
  /** Entry name as stored (directories end with "/"). */
  name: string;
  type: TarEntryType;
  /** Permission bits. */
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  mtime: Date;
  /** Body size (files); 0 for the others. */
  size: number;
  /** Symlink target. */
  linkname?: string;
}

const BLOCK = 512;
const TYPEFLAG: Record<TarEntryType | "pax", number> = { file: 0x30, symlink: 0x32, directory: 0x35, pax: 0x78 };
const MAGIC = Buffer.from("ustar\u000000", "latin1");

function octal(value: number, width: number): string {
  const s = value.toString(8);
  return s.length > width ? "7".repeat(width) + " " : "0".repeat(width - s.length) + s + " ";
}

function isAscii(s: string): boolean {
  return Buffer.byteLength(s) === s.length;
}

/** The ustar name/prefix split of `name`, or undefined when only pax can hold it. */
function splitName(name: string): { name: string; prefix: string } | undefined {
  if (!isAscii(name)) return undefined;
  let prefix = "";
  while (name.length > 100) {
    const i = name.indexOf("/");
    if (i === -1) return undefined;
    prefix += prefix ? "/" + name.slice(0, i) : name.slice(0, i);
    name = name.slice(i + 1);
  }
  if (prefix.length > 155) return undefined;
  return { name, prefix };
}

/** A pax record: "<length> <key>=<value>\n" where length counts itself. */
function paxRecord(text: string): string {
  return `${paxRecordLength(Buffer.byteLength(text))}${text}`;
}

/** The length of a pax record whose text (after the length) is `len` bytes. */
function paxRecordLength(len: number): number {
  let digits = Math.floor(Math.log(len) / Math.log(10)) + 1;
  if (len + digits >= Math.pow(10, digits)) digits++;
  return len + digits;
}

const PAX_NAME = Buffer.from("PaxHeader", "latin1");
const PAX_NAME_SUM = PAX_NAME.reduce((a, b) => a + b, 0);
const PAX_PATH = Buffer.from(" path=", "latin1");

/** The pax records of `h`: its path, link target, and the owner fields ustar cannot hold. */
function paxText(h: TarHeader): string {
  let text = "";
  if (h.name) text += paxRecord(` path=${h.name}\n`);
  if (h.linkname) text += paxRecord(` linkpath=${h.linkname}\n`);
  if (h.uid > MAX_ID) text += paxRecord(` uid=${h.uid}\n`);
  if (h.gid > MAX_ID) text += paxRecord(` gid=${h.gid}\n`);
  if (h.uname && Buffer.byteLength(h.uname) > 32) text += paxRecord(` uname=${h.uname}\n`);
  if (h.gname && Buffer.byteLength(h.gname) > 32) text += paxRecord(` gname=${h.gname}\n`);
  return text;
}

/** Encodes one ustar header block into `buf` at `off` (the block must be zero-filled); mode, ids, names and mtime
 *  come from `h`, the rest from the arguments. */
function encodeHeader(
  buf: Buffer,
  off: number,
  name: string,
  prefix: string,
  h: TarHeader,
  size: number,
  typeflag: number,
  linkname: string | undefined,
): void {
  // `end`: where the written bytes end (the rest of the zero-filled block adds nothing to the checksum)
  let end = 0;
  // `width`: the field's size; text longer than it is never written (callers put such text in pax records)
  const put = (text: string, at: number, width: number) => {
    if (Buffer.byteLength(text) > width) return;
    const n = buf.write(text, off + at, width, "utf8");
    if (at + n > end) end = at + n;
  };
  put(name, 0, 100);
  putOctal(buf, off + 100, h.mode & 0o7777, 6);
  putId(buf, off + 108, h.uid);
  putId(buf, off + 116, h.gid);
  if (size.toString(8).length > 11) {
    let n = size;
    buf[off + 124] = 0x80;
    for (let i = 11; i > 0; i--) {
      buf[off + 124 + i] = n & 0xff;
      n = Math.floor(n / 0x100);
    }
  } else {
    putOctal(buf, off + 124, size, 11);
  }
  putOctal(buf, off + 136, (h.mtime.getTime() / 1000) | 0, 11);
  buf[off + 156] = typeflag;
  if (linkname) put(linkname, 157, 100);
  MAGIC.copy(buf, off + 257);
  if (h.uname) put(h.uname, 265, 32);
  if (h.gname) put(h.gname, 297, 32);
  putOctal(buf, off + 329, 0, 6);
  putOctal(buf, off + 337, 0, 6);
  if (end < 345) end = 345;
  if (prefix) put(prefix, 345, 155);
  let sum = 8 * 32;
  for (let i = off, e = off + 148; i < e; i++) sum += buf[i];
  for (let i = off + 156, e = off + end; i < e; i++) sum += buf[i];
  putOctal(buf, off + 148, sum, 6);
}

/** A uid/gid field: 6 octal digits and a space as tar-stream while they fit; then 7 digits and a NUL (ustar); then
 *  base-256 (GNU), which GNU tar, busybox tar, Go's archive/tar and Python's tarfile all read. The pax record
 *  written alongside (MAX_ID) carries the same value for readers that prefer it. */
function putId(buf: Buffer, at: number, value: number): void {
  if (value <= MAX_ID || !Number.isSafeInteger(value)) {
    putOctal(buf, at, value, 6);
  } else if (value <= 0o7777777) {
    buf.write(value.toString(8).padStart(7, "0"), at, 7, "latin1");
    buf[at + 7] = 0;
  } else {
    let n = value;
    for (let i = 7; i > 0; i--) {
      buf[at + i] = n & 0xff;
      n = Math.floor(n / 0x100);
    }
    buf[at] = 0x80;
  }
}

/** `value` as `width` zero-padded octal digits and a space at `at` (width 7s and a space when too wide). */
function putOctal(buf: Buffer, at: number, value: number, width: number): void {
  if (value >= 0 && value <= 0x7fffffff && (value | 0) === value && (width >= 11 || value < 1 << (3 * width))) {
    // (the common case, sizes and checksums: integer operations only)
    let v = value;
    for (let i = width - 1; i >= 0; i--) {
      buf[at + i] = 0x30 + (v & 7);
      v >>>= 3;
    }
    buf[at + width] = 0x20;
    return;
  }
  if (value < 0 || !Number.isSafeInteger(value)) {
    buf.write(octal(value, width), at, width + 1, "latin1");
    return;
  }
  let v = value;
  for (let i = width - 1; i >= 0; i--) {
    buf[at + i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
  if (v > 0) buf.fill(0x37, at, at + width);
  buf[at + width] = 0x20;
}

/** The largest id the uid/gid fields hold as written here (6 octal digits, a space and a NUL, as tar-stream). */
const MAX_ID = 0o777777;

/** True when the owner fields need pax records (an id above MAX_ID, a name over 32 bytes). */
function needsPaxOwner(h: TarHeader): boolean {
  return h.uid > MAX_ID || h.gid > MAX_ID || (h.uname !== undefined && Buffer.byteLength(h.uname) > 32) || (h.gname !== undefined && Buffer.byteLength(h.gname) > 32);
}

/** A header block with every field but the name, size and checksum, and the sum of its bytes (the checksum field
 *  counted as spaces), for the entries of these fields. */
export interface HeaderTemplate {
  typeflag: number;
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  mtime: number;
  block: Buffer;
  sum: number;
}

/** Writes a tar file entry by entry through one buffer of `bufferSize` bytes. */
export class TarWriter {
  private readonly buf: Buffer;
  private used = 0;
  /** Bytes already written to the file. */
  private written = 0;
  private copyBuffer: Buffer | undefined;
  /** Header blocks of the kinds of entries written lately (fromTemplate). */
  private readonly templates: HeaderTemplate[] = [];

  private constructor(
    private readonly file: FileHandle,
    bufferSize: number,
  ) {
    this.buf = Buffer.alloc(Math.max(bufferSize, 4 * BLOCK));
  }

  /** Creates (or truncates) `path`. */
  static async create(path: string, bufferSize = 1 << 20): Promise<TarWriter> {
    return new TarWriter(await open(path, "w"), bufferSize);
  }

  /** Adds an entry; `body` is the whole content of a file (its length is the size). The header object is not
   *  kept (a caller may reuse one). Returns a promise only when the buffer had to be written out first. */
  add(header: TarHeader, body?: Buffer): Promise<void> | undefined {
    const size = header.type === "file" ? (body?.length ?? 0) : 0;
    const padded = size + ((BLOCK - (size % BLOCK)) % BLOCK);
    if (this.buf.length - this.used >= BLOCK + padded && (this.headerSync(header, size) || this.paxSync(header, size, padded))) {
      if (size > 0) {
        body!.copy(this.buf, this.used);
        this.buf.fill(0, this.used + size, this.used + padded);
        this.used += padded;
      }
      return undefined;
    }
    return this.addSlow(header, size, body);
  }

  private async addSlow(header: TarHeader, size: number, body?: Buffer): Promise<void> {
    await this.header(header, size);
    if (body && size > 0) await this.bytes(body, true);
  }

  /** Adds a file entry of `header.size` bytes whose content comes in pieces. */
  async addStream(header: TarHeader, body: AsyncIterable<Buffer>): Promise<void> {
    await this.startEntry(header);
    let n = 0;
    for await (const piece of body) {
      n += piece.length;
      if (n > header.size) throw new Error(`tar entry ${header.name}: more than ${header.size} bytes`);
      await this.append(piece);
    }
    if (n !== header.size) throw new Error(`tar entry ${header.name}: ${n} bytes instead of ${header.size}`);
    await this.endEntry(n);
  }

  /** Starts a file entry of `header.size` bytes: its content is then given in pieces (`append`, exactly
   *  `header.size` bytes in all, which the caller checks) and ended with `endEntry`. */
  async startEntry(header: TarHeader): Promise<void> {
    await this.header(header, header.size);
  }

  /** A piece of the entry started by startEntry. */
  append(piece: Buffer): Promise<void> {
    return this.bytes(piece, false);
  }

  /** Ends the entry started by startEntry, whose content was `size` bytes (the padding). */
  endEntry(size: number): Promise<void> {
    return this.pad(size);
  }

  /** How many bytes of the archive have been added so far (an entry's start or end offset). */
  get position(): number {
    return this.written + this.used;
  }

  /** Appends `length` bytes of `source` read from `offset` as they are: whole entries of another archive of
   *  this writer (headers, bodies and padding), so block alignment is kept. Fails when the source is shorter.
   *  Copied in COPY_CHUNK pieces (measured: 3× faster than 1 MiB pieces, and than blocking calls). */
  async copyRange(source: FileHandle, offset: number, length: number): Promise<void> {
    await this.flush();
    this.copyBuffer ??= Buffer.allocUnsafe(COPY_CHUNK);
    const buf = this.copyBuffer;
    let left = length;
    let at = offset;
    while (left > 0) {
      const { bytesRead: n } = await source.read(buf, 0, Math.min(left, COPY_CHUNK), at);
      if (n <= 0) throw new Error(`archive to reuse ended at byte ${at} (${left} bytes missing)`);
      await this.write(buf.subarray(0, n));
      at += n;
      left -= n;
    }
  }

  /** Writes the end-of-archive blocks and the rest of the buffer, and closes the file. */
  async finish(): Promise<void> {
    try {
      await this.room(2 * BLOCK);
      this.buf.fill(0, this.used, this.used + 2 * BLOCK);
      this.used += 2 * BLOCK;
      await this.flush();
    } finally {
      await this.file.close();
    }
  }

  /** Closes the file without finishing the archive (after an error). */
  async abort(): Promise<void> {
    await this.file.close().catch(() => {});
  }

  /** Encodes a plain ustar header when the name allows one and a block is free; false otherwise. */
  private headerSync(h: TarHeader, size: number): boolean {
    if (this.buf.length - this.used < BLOCK) return false;
    if (!h.linkname && h.name.length <= 100 && size < 0o100000000000 && this.fromTemplate(h, size)) return true;
    if (h.linkname && Buffer.byteLength(h.linkname) > 100) return false;
    if (needsPaxOwner(h)) return false;
    let name = h.name;
    let prefix = "";
    if (name.length > 100 || !isAscii(name)) {
      const split = splitName(name);
      if (!split) return false;
      ({ name, prefix } = split);
    }
    this.buf.fill(0, this.used, this.used + BLOCK);
    encodeHeader(this.buf, this.used, name, prefix, h, size, TYPEFLAG[h.type], h.linkname);
    this.used += BLOCK;
    return true;
  }

  /** The header of an entry with an ASCII name of at most 100 bytes, no link target and a size in 11 octal digits,
   *  from a block made once per kind of entry (the fields every such entry of an archive shares: type, mode, owner,
   *  group, mtime, magic) and its byte sum: only the name, the size and the checksum are written per entry. The
   *  bytes encodeHeader writes. False (nothing written) for a name that is not ASCII or owner fields that need pax. */
  private fromTemplate(h: TarHeader, size: number): boolean {
    const t = this.template(h);
    if (!t) return false;
    const name = h.name;
    let sum = t.sum;
    for (let k = 0; k < name.length; k++) {
      const c = name.charCodeAt(k);
      if (c >= 0x80) return false;
      sum += c;
    }
    const buf = this.buf;
    const off = this.used;
    t.block.copy(buf, off);
    for (let k = 0; k < name.length; k++) buf[off + k] = name.charCodeAt(k);
    putOctal(buf, off + 124, size, 11);
    for (let i = off + 124; i < off + 136; i++) sum += buf[i];
    putOctal(buf, off + 148, sum, 6);
    this.used += BLOCK;
    return true;
  }

  /** The header block of `h`'s kind of entry (its type, mode, owner, group and mtime; name and size left out) for
   *  addNamed, made once per kind; undefined when the owner fields need pax records. */
  template(h: TarHeader): HeaderTemplate | undefined {
    const typeflag = TYPEFLAG[h.type];
    const mtime = h.mtime.getTime();
    for (const x of this.templates) {
      if (x.typeflag === typeflag && x.mode === h.mode && x.uid === h.uid && x.gid === h.gid && x.uname === h.uname && x.gname === h.gname && x.mtime === mtime) {
        return x;
      }
    }
    if (needsPaxOwner(h)) return undefined;
    const block = Buffer.alloc(BLOCK);
    encodeHeader(block, 0, "", "", h, 0, typeflag, undefined);
    block.fill(0, 124, 136); // the size, written per entry
    let sum = 8 * 32; // the checksum field counts as spaces
    for (let i = 0; i < 148; i++) sum += block[i];
    for (let i = 156; i < BLOCK; i++) sum += block[i];
    const t = { typeflag, mode: h.mode, uid: h.uid, gid: h.gid, uname: h.uname, gname: h.gname, mtime, block, sum };
    if (this.templates.length === 8) this.templates.shift();
    this.templates.push(t);
    return t;
  }

  /**
   * add() of an entry of template `t`'s kind (no link target) whose name is given as UTF-8 bytes: `head`, then
   * `src[start, end)`, then a "/" when `slash`; `body` its whole content (none for a directory). Done synchronously,
   * true, when the buffer has room for the entry: a name that is ASCII of at most 100 bytes is copied and summed in
   * one loop, no string made; a longer one is split into a ustar prefix, one that is not ASCII or too long for that
   * gets a pax header (addSplit, addPax). False when the buffer has no room, nothing written (the
   * caller then calls add with the name as a string, which writes the same bytes).
   */
  addNamed(t: HeaderTemplate, head: Buffer, src: Buffer, start: number, end: number, slash: boolean, body?: Buffer): boolean {
    const hl = head.length;
    const len = hl + end - start + (slash ? 1 : 0);
    if (len > 100) return len <= 256 ? this.addSplit(t, head, src, start, end, slash, len, body) : this.addPax(t, head, src, start, end, slash, len, body);
    const size = body === undefined ? 0 : body.length;
    const padded = size + ((BLOCK - (size % BLOCK)) % BLOCK);
    const buf = this.buf;
    const off = this.used;
    if (buf.length - off < BLOCK + padded) return false;
    t.block.copy(buf, off);
    let sum = t.sum;
    // any byte from 0x80 up: not ASCII (then the block is left as it is, unused: a header is always rewritten whole)
    let high = 0;
    let o = off;
    for (let k = 0; k < hl; k++) {
      const c = head[k];
      high |= c;
      sum += c;
      buf[o++] = c;
    }
    for (let k = start; k < end; k++) {
      const c = src[k];
      high |= c;
      sum += c;
      buf[o++] = c;
    }
    if (high >= 0x80) return this.addPax(t, head, src, start, end, slash, len, body);
    if (slash) {
      buf[o] = 0x2f;
      sum += 0x2f;
    }
    this.finishHeader(off, sum, size, padded, body);
    return true;
  }

  /** addNamed of a name of 101–256 bytes: split at a slash into a name of at most 100 bytes and a prefix of at most
   *  155 (splitName's split: the first slash after which at most 100 bytes are left), when it is ASCII. */
  private addSplit(t: HeaderTemplate, head: Buffer, src: Buffer, start: number, end: number, slash: boolean, len: number, body?: Buffer): boolean {
    const size = body === undefined ? 0 : body.length;
    const padded = size + ((BLOCK - (size % BLOCK)) % BLOCK);
    const buf = this.buf;
    const off = this.used;
    if (buf.length - off < BLOCK + padded) return false;
    const name = (this.scratch ??= Buffer.allocUnsafe(256));
    let sum = 0;
    let high = 0;
    let o = 0;
    for (let k = 0; k < head.length; k++) {
      const c = head[k];
      high |= c;
      sum += c;
      name[o++] = c;
    }
    for (let k = start; k < end; k++) {
      const c = src[k];
      high |= c;
      sum += c;
      name[o++] = c;
    }
    if (slash) {
      name[o] = 0x2f;
      sum += 0x2f;
    }
    if (high >= 0x80) return this.addPax(t, head, src, start, end, slash, len, body);
    let cut = -1;
    for (let k = 0; k < len; k++) {
      if (name[k] === 0x2f && len - k - 1 <= 100) {
        cut = k;
        break;
      }
    }
    if (cut < 0 || cut > 155) return this.addPax(t, head, src, start, end, slash, len, body);
    t.block.copy(buf, off);
    for (let k = cut + 1, at = off; k < len; k++) buf[at++] = name[k];
    for (let k = 0, at = off + 345; k < cut; k++) buf[at++] = name[k];
    sum += t.sum - 0x2f; // the slash cut is in neither field
    this.finishHeader(off, sum, size, padded, body);
    return true;
  }

  /** The header at `off` (its name fields written, `sum` their byte sum with the template's): size and checksum
   *  written, then the body and its padding. */
  private finishHeader(off: number, sum: number, size: number, padded: number, body?: Buffer): void {
    const buf = this.buf;
    putOctal(buf, off + 124, size, 11);
    for (let i = off + 124; i < off + 136; i++) sum += buf[i];
    putOctal(buf, off + 148, sum, 6);
    this.used = off + BLOCK;
    if (size > 0) {
      body!.copy(buf, this.used);
      if (padded > size) buf.fill(0, this.used + size, this.used + padded);
      this.used += padded;
    }
  }

  private scratch: Buffer | undefined;

  /** addNamed of a name only a pax header can hold (not ASCII, or too long for a ustar split), `len` bytes: the
   *  bytes `header` writes for it (a "PaxHeader" entry of type x holding its ` path=` record, then the ustar header
   *  named "PaxHeader"), both blocks from the template (the pax one with its type byte changed). */
  private addPax(t: HeaderTemplate, head: Buffer, src: Buffer, start: number, end: number, slash: boolean, len: number, body?: Buffer): boolean {
    const size = body === undefined ? 0 : body.length;
    const padded = size + ((BLOCK - (size % BLOCK)) % BLOCK);
    const paxLen = paxRecordLength(PAX_PATH.length + len + 1);
    const paxPadded = paxLen + ((BLOCK - (paxLen % BLOCK)) % BLOCK);
    const buf = this.buf;
    let off = this.used;
    if (buf.length - off < 2 * BLOCK + paxPadded + padded) return false;
    // the pax header block
    t.block.copy(buf, off);
    for (let k = 0; k < PAX_NAME.length; k++) buf[off + k] = PAX_NAME[k];
    buf[off + 156] = TYPEFLAG.pax;
    let sum = t.sum - t.typeflag + TYPEFLAG.pax + PAX_NAME_SUM;
    putOctal(buf, off + 124, paxLen, 11);
    for (let i = off + 124; i < off + 136; i++) sum += buf[i];
    putOctal(buf, off + 148, sum, 6);
    off += BLOCK;
    // its record: "<length> path=<name>\n"
    let o = off + buf.write(String(paxLen), off, "latin1");
    for (let k = 0; k < PAX_PATH.length; k++) buf[o++] = PAX_PATH[k];
    for (let k = 0; k < head.length; k++) buf[o++] = head[k];
    for (let k = start; k < end; k++) buf[o++] = src[k];
    if (slash) buf[o++] = 0x2f;
    buf[o++] = 0x0a;
    if (o - off !== paxLen) throw new Error(`internal: pax record of ${o - off} bytes, ${paxLen} expected`);
    buf.fill(0, o, off + paxPadded);
    off += paxPadded;
    // the entry's own header, named "PaxHeader"
    t.block.copy(buf, off);
    for (let k = 0; k < PAX_NAME.length; k++) buf[off + k] = PAX_NAME[k];
    sum = t.sum + PAX_NAME_SUM;
    putOctal(buf, off + 124, size, 11);
    for (let i = off + 124; i < off + 136; i++) sum += buf[i];
    putOctal(buf, off + 148, sum, 6);
    off += BLOCK;
    if (size > 0) {
      body!.copy(buf, off);
      if (padded > size) buf.fill(0, off + size, off + padded);
      off += padded;
    }
    this.used = off;
    return true;
  }

  /** The pax header entry and the ustar header of `h` (what `header` writes when headerSync cannot), synchronously
   *  when the buffer has room for them and `after` more bytes; false otherwise (nothing written). */
  private paxSync(h: TarHeader, size: number, after: number): boolean {
    const pax = Buffer.from(paxText(h));
    const paxPadded = pax.length + ((BLOCK - (pax.length % BLOCK)) % BLOCK);
    if (this.buf.length - this.used < 2 * BLOCK + paxPadded + after) return false;
    const linkname = h.linkname ? "PaxHeader" : undefined;
    const buf = this.buf;
    buf.fill(0, this.used, this.used + BLOCK);
    encodeHeader(buf, this.used, "PaxHeader", "", h, pax.length, TYPEFLAG.pax, linkname);
    this.used += BLOCK;
    pax.copy(buf, this.used);
    buf.fill(0, this.used + pax.length, this.used + paxPadded);
    this.used += paxPadded;
    buf.fill(0, this.used, this.used + BLOCK);
    encodeHeader(buf, this.used, "PaxHeader", "", h, size, TYPEFLAG[h.type], linkname);
    this.used += BLOCK;
    return true;
  }

  private async header(h: TarHeader, size: number): Promise<void> {
    await this.room(BLOCK);
    if (this.headerSync(h, size)) return;
    const typeflag = TYPEFLAG[h.type];
    const pax = Buffer.from(paxText(h));
    const linkname = h.linkname ? "PaxHeader" : undefined;
    await this.room(BLOCK);
    this.buf.fill(0, this.used, this.used + BLOCK);
    encodeHeader(this.buf, this.used, "PaxHeader", "", h, pax.length, TYPEFLAG.pax, linkname);
    this.used += BLOCK;
    await this.bytes(pax, true);
    await this.room(BLOCK);
    this.buf.fill(0, this.used, this.used + BLOCK);
    encodeHeader(this.buf, this.used, "PaxHeader", "", h, size, typeflag, linkname);
    this.used += BLOCK;
  }

  /** Appends `data` (then zero padding to a block boundary when `padded`). */
  private async bytes(data: Buffer, padded: boolean): Promise<void> {
    if (data.length > this.buf.length - this.used) {
      await this.flush();
      if (data.length >= this.buf.length) {
        await this.write(data);
        if (padded) await this.pad(data.length);
        return;
      }
    }
    data.copy(this.buf, this.used);
    this.used += data.length;
    if (padded) await this.pad(data.length);
  }

  /** Zero padding after a body of `size` bytes. */
  private async pad(size: number): Promise<void> {
    const rest = size % BLOCK;
    if (rest === 0) return;
    await this.room(BLOCK - rest);
    this.buf.fill(0, this.used, this.used + BLOCK - rest);
    this.used += BLOCK - rest;
  }

  private async room(n: number): Promise<void> {
    if (this.buf.length - this.used < n) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.used === 0) return;
    await this.write(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  private async write(data: Buffer): Promise<void> {
    for (let off = 0; off < data.length; ) {
      const { bytesWritten } = await this.file.write(data, off, data.length - off);
      off += bytesWritten;
    }
    this.written += data.length;
  }
}
