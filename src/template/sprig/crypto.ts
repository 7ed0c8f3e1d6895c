// sprig's crypto.go without the certificates (certs.ts): bcrypt, htpasswd, derivePassword
// (Master Password), encryptAES/decryptAES (AES-256-CBC, zero-padded key, random IV), genPrivateKey.
import { createCipheriv, createDecipheriv, createHmac, generateKeyPairSync, randomBytes, scryptSync } from "node:crypto";
import { type FuncMap, type GoValue, goFunc } from "../value.js";
import { argInt, argString } from "./args.js";
import { bcrypt } from "./bcrypt.js";
import { derDecode, derEncode, pem, type Asn1 } from "./der.js";
import { fromBytes, toBytes } from "./unicode.js";

// ---- derivePassword: the Master Password algorithm (v3 templates) -------------------------------

const TEMPLATES: Record<string, string[]> = {
  maximum: ["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
  long: [
    "CvcvnoCvcvCvcv", "CvcvCvcvnoCvcv", "CvcvCvcvCvcvno", "CvccnoCvcvCvcv", "CvccCvcvnoCvcv", "CvccCvcvCvcvno", "CvcvnoCvccCvcv",
    "CvcvCvccnoCvcv", "CvcvCvccCvcvno", "CvcvnoCvcvCvcc", "CvcvCvcvnoCvcc", "CvcvCvcvCvccno", "CvccnoCvccCvcv", "CvccCvccnoCvcv",
    "CvccCvccCvcvno", "CvcvnoCvccCvcc", "CvcvCvccnoCvcc", "CvcvCvccCvccno", "CvccnoCvcvCvcc", "CvccCvcvnoCvcc", "CvccCvcvCvccno",
  ],
  medium: ["CvcnoCvc", "CvcCvcno"],
  short: ["Cvcn"],
  basic: ["aaanaaan", "aannaaan", "aaannaaa"],
  pin: ["nnnn"],
};

const CHARACTERS: Record<string, string> = {
  V: "AEIOU",
  C: "BCDFGHJKLMNPQRSTVWXYZ",
  v: "aeiou",
  c: "bcdfghjklmnpqrstvwxyz",
  A: "AEIOUBCDFGHJKLMNPQRSTVWXYZ",
  a: "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
  n: "0123456789",
  o: "@&%?,=[]_:-+*$#!'^~;()/.",
  x: "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
};

const SEED = "com.lyndir.masterpassword";

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** Go's uint32 parameter: template integers that fit, else text/template's overflow error. */
function argUint32(v: GoValue): number {
  const n = argInt(v);
  if (n < 0 || n > 0xffffffff) throw new Error(`overflow: ${n}`);
  return n;
}

function derivePassword(counter: number, type: string, password: string, user: string, site: string): string {
  const templates = TEMPLATES[type];
  if (!templates) return `cannot find password template ${type}`;
  const userBytes = Buffer.from(toBytes(user));
  const siteBytes = Buffer.from(toBytes(site));
  const salt = Buffer.concat([Buffer.from(SEED), u32(userBytes.length), userBytes]);
  const key = scryptSync(Buffer.from(toBytes(password)), salt, 64, { N: 32768, r: 8, p: 2, maxmem: 128 * 32768 * 8 * 2 + (1 << 20) });
  const seed = createHmac("sha256", key).update(Buffer.concat([Buffer.from(SEED), u32(siteBytes.length), siteBytes, u32(counter)])).digest();
  const temp = templates[seed[0] % templates.length];
  let out = "";
  for (let i = 0; i < temp.length; i++) {
    const chars = CHARACTERS[temp[i]];
    out += chars[seed[i + 1] % chars.length];
  }
  return out;
}

// ---- AES ----------------------------------------------------------------------------------------

/** The password's bytes, cut or zero-padded to a 32-byte AES-256 key. */
function aesKey(password: string): Buffer {
  const key = Buffer.alloc(32);
  Buffer.from(toBytes(password)).copy(key, 0, 0, 32);
  return key;
}

function encryptAES(password: string, plaintext: string): string {
  if (plaintext === "") return "";
  const content = Buffer.from(toBytes(plaintext));
  const padding = 16 - (content.length % 16);
  const padded = Buffer.concat([content, Buffer.alloc(padding, padding)]);
  const iv = randomBytes(16);
  const c = createCipheriv("aes-256-cbc", aesKey(password), iv);
  c.setAutoPadding(false);
  return Buffer.concat([iv, c.update(padded), c.final()]).toString("base64");
}

/** Go's base64.StdEncoding.DecodeString: padded, \r and \n ignored. */
function decodeStdBase64(s: string): Buffer {
  const clean = s.replace(/[\r\n]/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) {
    throw new Error(`illegal base64 data at input byte ${firstBadBase64(s)}`);
  }
  return Buffer.from(clean, "base64");
}

function firstBadBase64(s: string): number {
  const b = toBytes(s);
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    const c = String.fromCharCode(b[i]);
    if (c === "\r" || c === "\n") continue;
    if (!/[A-Za-z0-9+/]/.test(c)) return i;
    n++;
  }
  return Math.max(0, b.length - (n % 4));
}

/** decryptAES as sprig has it: the last byte says how much padding to drop, unchecked. */
function decryptAES(password: string, crypt64: string): string {
  if (crypt64 === "") return "";
  const data = decodeStdBase64(crypt64);
  // Go slices the buffer base64 decoded into, whose capacity is DecodedLen of the input.
  if (data.length < 16) throw new Error(`runtime error: slice bounds out of range [:16] with capacity ${Math.floor(toBytes(crypt64).length / 4) * 3}`);
  const body = data.subarray(16);
  if (body.length % 16 !== 0) throw new Error("crypto/cipher: input not full blocks");
  if (body.length === 0) throw new Error("runtime error: index out of range [-1]");
  const d = createDecipheriv("aes-256-cbc", aesKey(password), data.subarray(0, 16));
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(body), d.final()]);
  const cut = plain.length - plain[plain.length - 1];
  if (cut < 0) throw new Error(`runtime error: slice bounds out of range [:${cut}]`);
  return fromBytes(plain.subarray(0, cut));
}

// ---- private keys -------------------------------------------------------------------------------

/** The DSA key in OpenSSL's "DSA PRIVATE KEY" layout (what Go's sprig writes): version, p, q, g, y, x. */
function dsaPrivateKeyPEM(): string {
  const { privateKey } = generateKeyPairSync("dsa", { modulusLength: 2048, divisorLength: 256 });
  // PKCS#8: SEQUENCE { version, SEQUENCE { oid, SEQUENCE { p, q, g } }, OCTET STRING { INTEGER x } }
  const pkcs8 = derDecode(privateKey.export({ type: "pkcs8", format: "der" }));
  const params = (pkcs8.children![1].children![1]).children!;
  const [p, q, g] = params.map((n) => n.int!);
  const x = derDecode(pkcs8.children![2].bytes!).int!;
  const y = modPow(g, x, p);
  const int = (n: bigint): Asn1 => ({ tag: 0x02, int: n });
  return pem("DSA PRIVATE KEY", derEncode({ tag: 0x30, children: [int(0n), int(p), int(q), int(g), int(y), int(x)] }));
}

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

/** genPrivateKey: RSA 4096 (PKCS#1), DSA 2048/256, ECDSA P-256 (SEC 1) or Ed25519 (PKCS#8), PEM encoded. */
export function generatePrivateKey(type: string): string {
  switch (type) {
    case "":
    case "rsa":
      return generateKeyPairSync("rsa", { modulusLength: 4096 }).privateKey.export({ type: "pkcs1", format: "pem" }) as string;
    case "dsa":
      return dsaPrivateKeyPEM();
    case "ecdsa":
      return generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "sec1", format: "pem" }) as string;
    case "ed25519":
      return generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    default:
      return "Unknown type " + type;
  }
}

export function registerCrypto(fm: FuncMap): void {
  fm.set("bcrypt", goFunc(1, 1, (s) => bcrypt(toBytes(argString(s)))));
  fm.set("htpasswd", goFunc(2, 2, (u, p) => {
    const user = argString(u);
    const password = argString(p);
    if (user.includes(":")) return `invalid username: ${user}`;
    return `${user}:${bcrypt(toBytes(password))}`;
  }));
  fm.set("derivePassword", goFunc(5, 5, (c, t, p, u, s) => {
    const counter = argUint32(c);
    return derivePassword(counter, argString(t), argString(p), argString(u), argString(s));
  }));
  fm.set("encryptAES", goFunc(2, 2, (p, s) => {
    const password = argString(p);
    return encryptAES(password, argString(s));
  }));
  fm.set("decryptAES", goFunc(2, 2, (p, s) => {
    const password = argString(p);
    return decryptAES(password, argString(s));
  }));
  fm.set("genPrivateKey", goFunc(1, 1, (t) => generatePrivateKey(argString(t))));
}
