// The DER (ASN.1) subset the certificate functions need: encoding and decoding of tagged values,
// INTEGERs as BigInt, object identifiers, and PEM armour as Go's encoding/pem writes it.

export interface Asn1 {
  tag: number;
  /** Constructed contents (SEQUENCE, SET, explicit context tags). */
  children?: Asn1[];
  /** An INTEGER's value. */
  int?: bigint;
  /** Primitive contents. */
  bytes?: Uint8Array;
  /** The whole encoding, for decoded values. */
  raw?: Uint8Array;
}

export const SEQUENCE = 0x30;
export const SET = 0x31;

function encodeLength(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  while (n > 0) {
    out.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return [0x80 | out.length, ...out];
}

/** Minimal two's complement bytes of an integer. */
function intBytes(n: bigint): Uint8Array {
  if (n === 0n) return new Uint8Array([0]);
  const out: number[] = [];
  let v = n;
  for (;;) {
    out.unshift(Number(v & 0xffn));
    v >>= 8n;
    if ((v === 0n && (out[0] & 0x80) === 0) || (v === -1n && (out[0] & 0x80) !== 0)) break;
  }
  return new Uint8Array(out);
}

export function derEncode(v: Asn1): Buffer {
  let body: Uint8Array;
  if (v.raw && !v.children && v.int === undefined && !v.bytes) return Buffer.from(v.raw);
  if (v.children) body = Buffer.concat(v.children.map(derEncode));
  else if (v.int !== undefined) body = intBytes(v.int);
  else body = v.bytes ?? new Uint8Array(0);
  return Buffer.concat([Buffer.from([v.tag, ...encodeLength(body.length)]), body]);
}

/** Decode one DER value (and, for constructed ones, their children); throws on malformed input. */
export function derDecode(buf: Uint8Array): Asn1 {
  const [v, end] = decodeAt(buf, 0);
  if (end !== buf.length) throw new Error("asn1: trailing data");
  return v;
}

function decodeAt(buf: Uint8Array, at: number): [Asn1, number] {
  if (at + 2 > buf.length) throw new Error("asn1: truncated value");
  const tag = buf[at];
  let len = buf[at + 1];
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > buf.length) throw new Error("asn1: bad length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i];
    p += n;
  }
  const end = p + len;
  if (end > buf.length) throw new Error("asn1: truncated value");
  const body = buf.subarray(p, end);
  const v: Asn1 = { tag, raw: buf.subarray(at, end) };
  if (tag & 0x20) {
    v.children = [];
    for (let q = 0; q < body.length; ) {
      const [child, next] = decodeAt(body, q);
      v.children.push(child);
      q = next;
    }
  } else {
    v.bytes = body;
    if (tag === 0x02) {
      let n = 0n;
      for (const b of body) n = (n << 8n) | BigInt(b);
      if (body.length > 0 && body[0] & 0x80) n -= 1n << BigInt(body.length * 8);
      v.int = n;
    }
  }
  return [v, end];
}

export function oid(dotted: string): Asn1 {
  const parts = dotted.split(".").map(Number);
  const out = [parts[0] * 40 + parts[1]];
  for (const p of parts.slice(2)) {
    const enc = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) enc.unshift(0x80 | (v & 0x7f));
    out.push(...enc);
  }
  return { tag: 0x06, bytes: new Uint8Array(out) };
}

export function oidString(v: Asn1): string {
  const b = v.bytes ?? new Uint8Array(0);
  if (b.length === 0) return "";
  const out = [Math.floor(b[0] / 40), b[0] % 40];
  let acc = 0;
  for (const x of b.subarray(1)) {
    acc = acc * 128 + (x & 0x7f);
    if (!(x & 0x80)) {
      out.push(acc);
      acc = 0;
    }
  }
  return out.join(".");
}

/** encoding/pem's Encode: base64 in 64-character lines. */
export function pem(type: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64");
  let out = `-----BEGIN ${type}-----\n`;
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + "\n";
  return out + `-----END ${type}-----\n`;
}

/** encoding/pem's Decode, reduced: the first well-formed block (headers not supported). */
export function pemDecode(text: string): { type: string; der: Buffer } | undefined {
  const re = /-----BEGIN ([^-\n]*)-----\r?\n([\s\S]*?)-----END \1-----/g;
  for (const m of text.matchAll(re)) {
    const body = m[2];
    if (body.includes(":")) continue;
    const b64 = body.replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) continue;
    return { type: m[1], der: Buffer.from(b64, "base64") };
  }
  return undefined;
}
