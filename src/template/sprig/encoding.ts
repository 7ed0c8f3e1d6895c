// sprig's base64/base32 functions. Decoding errors are returned as text
// ("illegal base64 data at input byte N"), exactly as sprig does.
import { createHash } from "node:crypto";
import { type FuncMap, goFunc } from "../value.js";
import { argString } from "./args.js";
import { fromBytes, toBytes } from "./unicode.js";

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Standard padded decoding with Go's rules: \r and \n are skipped, anything else wrong is reported by input byte offset. */
function decodeBase(s: string, alphabet: string, bitsPerChar: number, block: number, name: string): string {
  const input = toBytes(s);
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  let count = 0; // data+padding characters seen in the current block
  let padding = false;
  let padStart = -1;
  let blockStart = 0; // input offset where the current quantum began
  const illegal = (at: number) => `illegal ${name} data at input byte ${at}`;
  for (let i = 0; i < input.length; i++) {
    const ch = String.fromCharCode(input[i]);
    if (ch === "\r" || ch === "\n") continue;
    if (ch === "=") {
      if (count % block < 2) return illegal(i);
      if (!padding) padStart = i;
      padding = true;
      count++;
      continue;
    }
    const v = alphabet.indexOf(ch);
    if (v < 0 || padding) return illegal(padding ? padStart : i);
    if (count % block === 0) blockStart = i;
    acc = (acc << bitsPerChar) | v;
    bits += bitsPerChar;
    count++;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
      acc &= (1 << bits) - 1;
    }
  }
  if (count % block !== 0) return illegal(blockStart);
  return fromBytes(new Uint8Array(out));
}

function base32encode(s: string): string {
  const b = toBytes(s);
  let out = "";
  let acc = 0;
  let bits = 0;
  for (const byte of b) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += B32[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32[(acc << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += "=";
  return out;
}

/** hash/adler32. */
export function adler32(b: Uint8Array): number {
  let a = 1;
  let s = 0;
  for (const x of b) {
    a = (a + x) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

export function registerEncoding(fm: FuncMap): void {
  fm.set("b64enc", goFunc(1, 1, (s) => Buffer.from(toBytes(argString(s))).toString("base64")));
  fm.set("b64dec", goFunc(1, 1, (s) => decodeBase(argString(s), B64, 6, 4, "base64")));
  fm.set("b32enc", goFunc(1, 1, (s) => base32encode(argString(s))));
  fm.set("b32dec", goFunc(1, 1, (s) => decodeBase(argString(s), B32, 5, 8, "base32")));
  fm.set("sha1sum", goFunc(1, 1, (s) => createHash("sha1").update(toBytes(argString(s))).digest("hex")));
  fm.set("sha256sum", goFunc(1, 1, (s) => createHash("sha256").update(toBytes(argString(s))).digest("hex")));
  fm.set("adler32sum", goFunc(1, 1, (s) => String(adler32(toBytes(argString(s))))));
}
