// bcrypt ($2a$, as golang.org/x/crypto/bcrypt writes it) on a Blowfish written for it: Node's
// crypto has no bcrypt and OpenSSL 3 no longer ships Blowfish by default.
//
// Blowfish's initial P-array and S-boxes are the hexadecimal digits of pi's fractional part;
// they are computed once here (Machin's formula in BigInt) instead of being pasted as tables.
import { randomBytes } from "node:crypto";

const WORDS = 18 + 4 * 256;

let piWords: Uint32Array | undefined;

/** The first `WORDS` 32-bit words of the fractional part of pi. */
function piFraction(): Uint32Array {
  if (piWords) return piWords;
  const bits = BigInt(WORDS * 32 + 64);
  const one = 1n << bits;
  /** arctan(1/x) * 2^bits by its Taylor series. */
  const arctanInv = (x: bigint): bigint => {
    const x2 = x * x;
    let term = one / x;
    let sum = term;
    for (let n = 3n, sign = -1n; term !== 0n; n += 2n, sign = -sign) {
      term /= x2;
      sum += (sign * term) / n;
    }
    return sum;
  };
  const pi = 16n * arctanInv(5n) - 4n * arctanInv(239n);
  // Drop the integer part (3) and the guard bits.
  const frac = (pi - (3n << bits)) >> 64n;
  const words = new Uint32Array(WORDS);
  for (let i = 0; i < WORDS; i++) words[i] = Number((frac >> BigInt((WORDS - 1 - i) * 32)) & 0xffffffffn);
  piWords = words;
  return words;
}

class Blowfish {
  readonly p: Uint32Array;
  readonly s: Uint32Array; // the four S-boxes, 256 words each

  constructor() {
    const init = piFraction();
    this.p = init.slice(0, 18);
    this.s = init.slice(18);
  }

  private f(x: number): number {
    const s = this.s;
    return ((((s[x >>> 24] + s[256 + ((x >>> 16) & 0xff)]) >>> 0) ^ s[512 + ((x >>> 8) & 0xff)]) + s[768 + (x & 0xff)]) >>> 0;
  }

  encrypt(l: number, r: number): [number, number] {
    const p = this.p;
    let xl = (l ^ p[0]) >>> 0;
    let xr = r >>> 0;
    for (let i = 1; i <= 16; i += 2) {
      xr = (xr ^ this.f(xl) ^ p[i]) >>> 0;
      xl = (xl ^ this.f(xr) ^ p[i + 1]) >>> 0;
    }
    xr = (xr ^ p[17]) >>> 0;
    return [xr, xl];
  }

  /** Blowfish's key schedule with an optional salt mixed into each block (bcrypt's "expandKeyWithSalt"). */
  expand(key: Uint8Array, salt?: Uint8Array): void {
    let pos = 0;
    const next = (b: Uint8Array, at: { j: number }): number => {
      let w = 0;
      for (let i = 0; i < 4; i++) {
        w = ((w << 8) | b[at.j]) >>> 0;
        at.j = at.j + 1 >= b.length ? 0 : at.j + 1;
      }
      return w;
    };
    const k = { j: pos };
    for (let i = 0; i < 18; i++) this.p[i] = (this.p[i] ^ next(key, k)) >>> 0;
    pos = 0;
    const sj = { j: pos };
    let l = 0;
    let r = 0;
    const fill = (arr: Uint32Array) => {
      for (let i = 0; i < arr.length; i += 2) {
        if (salt) {
          l = (l ^ next(salt, sj)) >>> 0;
          r = (r ^ next(salt, sj)) >>> 0;
        }
        [l, r] = this.encrypt(l, r);
        arr[i] = l;
        arr[i + 1] = r;
      }
    };
    fill(this.p);
    fill(this.s);
  }
}

const ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** bcrypt's base64: its own alphabet, no padding. */
function b64(b: Uint8Array): string {
  const std = Buffer.from(b).toString("base64").replace(/=+$/, "");
  const STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let out = "";
  for (const c of std) out += ALPHABET[STD.indexOf(c)];
  return out;
}

const MAGIC = Buffer.from("OrpheanBeholderScryDoubt", "latin1");

/** The bcrypt hash of `password` with a 16-byte salt and cost (log2 rounds), as "$2a$CC$salthash". */
export function bcryptHash(password: Uint8Array, cost: number, salt: Uint8Array): string {
  // C implementations hash the key with its terminating NUL; x/crypto keeps that.
  const key = new Uint8Array(password.length + 1);
  key.set(password);
  const c = new Blowfish();
  c.expand(key, salt);
  for (let i = 0; i < 2 ** cost; i++) {
    c.expand(key);
    c.expand(salt);
  }
  const data = new Uint32Array(6);
  for (let i = 0; i < 6; i++) data[i] = MAGIC.readUInt32BE(i * 4);
  for (let round = 0; round < 64; round++) {
    for (let i = 0; i < 6; i += 2) [data[i], data[i + 1]] = c.encrypt(data[i], data[i + 1]);
  }
  const out = Buffer.alloc(24);
  for (let i = 0; i < 6; i++) out.writeUInt32BE(data[i], i * 4);
  return `$2a$${String(cost).padStart(2, "0")}$${b64(salt)}${b64(out.subarray(0, 23))}`;
}

/** bcrypt.GenerateFromPassword(password, bcrypt.DefaultCost) with a fresh salt. */
export function bcrypt(password: Uint8Array): string {
  return bcryptHash(password, 10, randomBytes(16));
}
