// sprig's certificate functions: genCA, genSelfSignedCert, genSignedCert (fresh RSA 2048 keys),
// their *WithKey forms (a PEM private key), and buildCustomCert. Certificates are built the way
// Go's x509.CreateCertificate builds sprig's template: X.509 v3, a random 128-bit serial, CN-only
// subject, validity now .. now+days, key usage, server+client auth, basic constraints, subject key
// id for CAs, authority key id from the signer, DNS then IP subject alternative names, and
// signed with SHA-256 (RSA PKCS#1 v1.5, ECDSA) or Ed25519.
import {
  type KeyObject, X509Certificate, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify,
} from "node:crypto";
import { isIP } from "node:net";
import { type FuncMap, type GoFunc, type GoObject, type GoValue, NO_FIELD, goFunc, goTypeName } from "../value.js";
import { argInt, argString } from "./args.js";
import { type Asn1, SEQUENCE, SET, derDecode, derEncode, oid, oidString, pem, pemDecode } from "./der.js";
import { fromBytes } from "./unicode.js";

/** sprig's `certificate` struct: Cert and Key, both PEM text. */
export class CertificateObject implements GoObject {
  readonly goType = "sprig.certificate";
  constructor(
    readonly cert: string,
    readonly key: string,
  ) {}
  field(name: string): GoValue | typeof NO_FIELD {
    if (name === "Cert") return this.cert;
    if (name === "Key") return this.key;
    return NO_FIELD;
  }
  method(): GoFunc | undefined {
    return undefined;
  }
  /** fmt's %v of the struct. */
  string(): string {
    return `{${this.cert} ${this.key}}`;
  }
  marshalJSON(): GoValue {
    return new Map<string, GoValue>([["Cert", this.cert], ["Key", this.key]]);
  }
}

/** A parsed private key: Node's KeyObject, or a DSA key, which Go can hold but cannot sign with. */
type PrivateKey = { kind: "node"; key: KeyObject } | { kind: "dsa" };

/** sprig's parsePrivateKeyPEM. */
function parsePrivateKeyPEM(text: string): PrivateKey {
  const block = pemDecode(text);
  if (!block) throw new Error("no PEM data in input");
  if (block.type === "PRIVATE KEY") {
    try {
      return { kind: "node", key: createPrivateKey({ key: block.der, format: "der", type: "pkcs8" }) };
    } catch (e) {
      throw new Error(`decoding PEM as PKCS#8: ${(e as Error).message}`);
    }
  }
  if (!block.type.endsWith(" PRIVATE KEY")) throw new Error(`no private key data in PEM block of type ${block.type}`);
  switch (block.type.slice(0, -12)) {
    case "RSA":
      try {
        return { kind: "node", key: createPrivateKey({ key: block.der, format: "der", type: "pkcs1" }) };
      } catch (e) {
        throw new Error(`parsing RSA private key from PEM: ${(e as Error).message}`);
      }
    case "EC":
      try {
        return { kind: "node", key: createPrivateKey({ key: block.der, format: "der", type: "sec1" }) };
      } catch (e) {
        throw new Error(`parsing EC private key from PEM: ${(e as Error).message}`);
      }
    case "DSA":
      try {
        const seq = derDecode(block.der);
        if (seq.children?.length !== 6 || seq.children.some((c) => c.int === undefined)) throw new Error("asn1: structure error");
      } catch (e) {
        throw new Error(`parsing DSA private key from PEM: ${(e as Error).message}`);
      }
      return { kind: "dsa" };
    default:
      throw new Error(`invalid private key type ${block.type}`);
  }
}

/** sprig's pemBlockForKey, for the keys Node holds. */
function keyPEM(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case "rsa":
      return key.export({ type: "pkcs1", format: "pem" }) as string;
    case "ec":
      return key.export({ type: "sec1", format: "pem" }) as string;
    default:
      return key.export({ type: "pkcs8", format: "pem" }) as string;
  }
}

/** Go's signingParamsForPublicKey: the signature algorithm and hash for a signing key. */
function signatureAlgorithm(key: KeyObject): { alg: Asn1; hash: string | null } {
  switch (key.asymmetricKeyType) {
    case "rsa":
      return { alg: { tag: SEQUENCE, children: [oid("1.2.840.113549.1.1.11"), { tag: 0x05 }] }, hash: "sha256" };
    case "ec": {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === "prime256v1") return { alg: { tag: SEQUENCE, children: [oid("1.2.840.10045.4.3.2")] }, hash: "sha256" };
      if (curve === "secp384r1") return { alg: { tag: SEQUENCE, children: [oid("1.2.840.10045.4.3.3")] }, hash: "sha384" };
      if (curve === "secp521r1") return { alg: { tag: SEQUENCE, children: [oid("1.2.840.10045.4.3.4")] }, hash: "sha512" };
      throw new Error("x509: unknown elliptic curve");
    }
    case "ed25519":
      return { alg: { tag: SEQUENCE, children: [oid("1.3.101.112")] }, hash: null };
    default:
      throw new Error("x509: only RSA, ECDSA and Ed25519 keys supported");
  }
}

/** encoding/asn1's choice for an untagged Go string: PrintableString when it can be one, else UTF8String. */
function asn1String(s: string): Asn1 {
  const printable = /^[a-zA-Z0-9 '()+,\-./:=?]*$/.test(s);
  return { tag: printable ? 0x13 : 0x0c, bytes: Buffer.from(s, "utf8") };
}

/** pkix.Name{CommonName: cn} as an RDN sequence (empty when cn is empty). */
function subjectName(cn: string): Buffer {
  const rdns: Asn1[] = cn === "" ? [] : [{ tag: SET, children: [{ tag: SEQUENCE, children: [oid("2.5.4.3"), asn1String(cn)] }] }];
  return derEncode({ tag: SEQUENCE, children: rdns });
}

/** Go's asn1 time: UTCTime for 1950..2049, GeneralizedTime otherwise, in UTC to the second. */
function asn1Time(ms: number): Asn1 {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const two = (n: number) => String(n).padStart(2, "0");
  const rest = two(d.getUTCMonth() + 1) + two(d.getUTCDate()) + two(d.getUTCHours()) + two(d.getUTCMinutes()) + two(d.getUTCSeconds()) + "Z";
  if (y >= 1950 && y < 2050) return { tag: 0x17, bytes: Buffer.from(two(y % 100) + rest) };
  return { tag: 0x18, bytes: Buffer.from(String(y).padStart(4, "0") + rest) };
}

function extension(id: string, critical: boolean, value: Uint8Array): Asn1 {
  const parts: Asn1[] = [oid(id)];
  if (critical) parts.push({ tag: 0x01, bytes: new Uint8Array([0xff]) });
  parts.push({ tag: 0x04, bytes: value });
  return { tag: SEQUENCE, children: parts };
}

/** An IP address's bytes as Go's x509 writes them: 4 bytes for IPv4 (also IPv4-mapped IPv6), else 16. */
function ipBytes(ip: string): Uint8Array {
  if (isIP(ip) === 4) return new Uint8Array(ip.split(".").map(Number));
  /** 16-bit groups of one side of "::"; a trailing dotted quad counts as two groups. */
  const words = (side: string): number[] =>
    side === ""
      ? []
      : side.split(":").flatMap((g) => {
          if (!g.includes(".")) return [parseInt(g, 16)];
          const b = g.split(".").map(Number);
          return [(b[0] << 8) | b[1], (b[2] << 8) | b[3]];
        });
  const [head, tail] = ip.split("::");
  const hw = words(head);
  const tw = tail === undefined ? [] : words(tail);
  const all = tail === undefined ? hw : [...hw, ...new Array<number>(8 - hw.length - tw.length).fill(0), ...tw];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  if (out.subarray(0, 10).every((x) => x === 0) && out[10] === 0xff && out[11] === 0xff) return out.subarray(12);
  return out;
}

/** net.ParseIP's acceptance, for sprig's "error parsing ip" check. */
function validIP(s: string): boolean {
  if (isIP(s) === 4) return !/(^|\.)0\d/.test(s);
  return isIP(s) === 6 && !s.includes("%");
}

interface Template {
  cn: string;
  ips: string[];
  dns: string[];
  days: number;
  isCA: boolean;
}

/** sprig's getNetIPs and getAlternateDNSStrs over the []interface{} parameters. */
function stringList(v: GoValue, what: "ip" | "dns"): string[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new Error(`wrong type for value; expected []interface {}; got ${goTypeName(v)}`);
  return v.map((x) => {
    if (typeof x !== "string") {
      const shown = x === null || x === undefined ? "<nil>" : String(x instanceof Map || Array.isArray(x) ? goTypeName(x) : x);
      throw new Error(what === "ip" ? `error parsing ip: ${shown} is not a string` : `error processing alternate dns name: ${shown} is not a string`);
    }
    if (what === "ip" && !validIP(x)) throw new Error(`error parsing ip: ${x}`);
    return x;
  });
}

interface Signer {
  key: KeyObject;
  /** The issuer name's DER and the signer's subject key id (absent when self-signing). */
  issuer?: Buffer;
  keyId?: Uint8Array;
  /** The CA certificate's public key (SPKI DER), which the signing key must match. */
  spki?: Buffer;
}

/** x509.CreateCertificate for sprig's templates; returns the Cert/Key pair as PEM. */
function createCertificate(t: Template, subjectKey: PrivateKey, signer: Signer | "self"): CertificateObject {
  // Go holds DSA keys but cannot sign with them, nor put their public half in a certificate.
  if (subjectKey.kind === "dsa") {
    const why = signer === "self" ? "certificate private key does not implement crypto.Signer" : "unsupported public key type: *dsa.PublicKey";
    throw new Error(`error creating certificate: x509: ${why}`);
  }
  const signingKey = signer === "self" ? subjectKey.key : signer.key;
  const { alg, hash } = signatureAlgorithm(signingKey);
  const spki = createPublicKey(subjectKey.key).export({ type: "spki", format: "der" });
  const spkiNode = derDecode(spki);
  const publicKeyBytes = spkiNode.children![1].bytes!.subarray(1);
  const subject = subjectName(t.cn);
  const issuer = signer === "self" ? subject : signer.issuer!;
  if (signer !== "self" && signer.spki && !createPublicKey(signer.key).export({ type: "spki", format: "der" }).equals(signer.spki)) {
    throw new Error("error creating certificate: x509: provided PrivateKey doesn't match parent's PublicKey");
  }

  const exts: Asn1[] = [];
  const usage = t.isCA ? new Uint8Array([0x02, 0xa4]) : new Uint8Array([0x05, 0xa0]);
  exts.push(extension("2.5.29.15", true, derEncode({ tag: 0x03, bytes: usage })));
  exts.push(extension("2.5.29.37", false, derEncode({ tag: SEQUENCE, children: [oid("1.3.6.1.5.5.7.3.1"), oid("1.3.6.1.5.5.7.3.2")] })));
  const basic: Asn1[] = t.isCA ? [{ tag: 0x01, bytes: new Uint8Array([0xff]) }] : [];
  exts.push(extension("2.5.29.19", true, derEncode({ tag: SEQUENCE, children: basic })));
  if (t.isCA) exts.push(extension("2.5.29.14", false, derEncode({ tag: 0x04, bytes: createHash("sha1").update(publicKeyBytes).digest() })));
  if (signer !== "self" && !issuer.equals(subject) && signer.keyId && signer.keyId.length > 0) {
    exts.push(extension("2.5.29.35", false, derEncode({ tag: SEQUENCE, children: [{ tag: 0x80, bytes: signer.keyId }] })));
  }
  if (t.dns.length > 0 || t.ips.length > 0) {
    const names: Asn1[] = [
      ...t.dns.map((d) => ({ tag: 0x82, bytes: Buffer.from(d, "utf8") })),
      ...t.ips.map((ip) => ({ tag: 0x87, bytes: ipBytes(ip) })),
    ];
    exts.push(extension("2.5.29.17", subject.equals(subjectName("")), derEncode({ tag: SEQUENCE, children: names })));
  }

  const now = Date.now();
  const serial = BigInt("0x" + randomBytes(16).toString("hex"));
  const tbs = derEncode({
    tag: SEQUENCE,
    children: [
      { tag: 0xa0, children: [{ tag: 0x02, int: 2n }] },
      { tag: 0x02, int: serial },
      alg,
      { tag: SEQUENCE, raw: issuer },
      { tag: SEQUENCE, children: [asn1Time(now), asn1Time(now + t.days * 86400000)] },
      { tag: SEQUENCE, raw: subject },
      { tag: SEQUENCE, raw: spki },
      { tag: 0xa3, children: [{ tag: SEQUENCE, children: exts }] },
    ],
  });
  const signature = sign(hash, tbs, signingKey);
  if (!verify(hash, tbs, createPublicKey(signingKey), signature)) {
    throw new Error("error creating certificate: x509: signature over certificate returned by signer is invalid");
  }
  const cert = derEncode({
    tag: SEQUENCE,
    children: [{ tag: SEQUENCE, raw: tbs }, alg, { tag: 0x03, bytes: Buffer.concat([Buffer.from([0]), signature]) }],
  });
  return new CertificateObject(pem("CERTIFICATE", cert), keyPEM(subjectKey.key));
}

/** The parts of a CA certificate that signing needs: its subject, public key and subject key id. */
function signerFrom(ca: CertificateObject): Signer {
  const block = pemDecode(ca.cert);
  if (!block) throw new Error("unable to decode certificate");
  let tbsParts: Asn1[];
  try {
    new X509Certificate(block.der);
    tbsParts = derDecode(block.der).children![0].children!;
  } catch (e) {
    throw new Error(`error parsing certificate: decodedSignerCert.Bytes: x509: malformed certificate (${(e as Error).message})`);
  }
  const hasVersion = tbsParts[0].tag === 0xa0;
  const at = (i: number) => tbsParts[hasVersion ? i : i - 1];
  const issuerSubject = Buffer.from(at(5).raw!);
  const spki = Buffer.from(at(6).raw!);
  let keyId: Uint8Array | undefined;
  const extWrapper = tbsParts.find((p) => p.tag === 0xa3);
  for (const ext of extWrapper?.children?.[0]?.children ?? []) {
    if (ext.children && oidString(ext.children[0]) === "2.5.29.14") {
      const value = ext.children[ext.children.length - 1].bytes!;
      keyId = derDecode(value).bytes;
    }
  }
  let key: PrivateKey;
  try {
    key = parsePrivateKeyPEM(ca.key);
  } catch (e) {
    throw new Error(`error parsing private key: ${(e as Error).message}`);
  }
  if (key.kind === "dsa") throw new Error("error creating certificate: x509: certificate private key does not implement crypto.Signer");
  return { key: key.key, issuer: issuerSubject, keyId, spki };
}

function rsaKey(): PrivateKey {
  return { kind: "node", key: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey };
}

function keyFromPEM(text: string): PrivateKey {
  try {
    return parsePrivateKeyPEM(text);
  } catch (e) {
    throw new Error(`parsing private key: ${(e as Error).message}`);
  }
}

function argCertificate(v: GoValue): CertificateObject {
  if (v instanceof CertificateObject) return v;
  if (v === null || v === undefined) throw new Error("invalid value; expected sprig.certificate");
  throw new Error(`wrong type for value; expected sprig.certificate; got ${goTypeName(v)}`);
}

/** sprig's buildCustomCert: checks that both halves parse and returns them as they are. */
function buildCustomCert(b64cert: string, b64key: string): CertificateObject {
  const strict = (s: string): Buffer | undefined => {
    const clean = s.replace(/[\r\n]/g, "");
    return /^[A-Za-z0-9+/]*={0,2}$/.test(clean) && clean.length % 4 === 0 ? Buffer.from(clean, "base64") : undefined;
  };
  const cert = strict(b64cert);
  if (!cert) throw new Error("unable to decode base64 certificate");
  const key = strict(b64key);
  if (!key) throw new Error("unable to decode base64 private key");
  const block = pemDecode(fromBytes(cert));
  if (!block) throw new Error("unable to decode certificate");
  try {
    new X509Certificate(block.der);
  } catch (e) {
    throw new Error(`error parsing certificate: decodedCert.Bytes: x509: malformed certificate (${(e as Error).message})`);
  }
  try {
    parsePrivateKeyPEM(fromBytes(key));
  } catch (e) {
    throw new Error(`error parsing private key: ${(e as Error).message}`);
  }
  return new CertificateObject(fromBytes(cert), fromBytes(key));
}

export function registerCerts(fm: FuncMap): void {
  const tpl = (cn: GoValue, ips: GoValue, dns: GoValue, days: GoValue, isCA: boolean): Template => {
    const t: Template = { cn: argString(cn), ips: [], dns: [], days: argInt(days), isCA };
    t.ips = stringList(ips, "ip");
    t.dns = stringList(dns, "dns");
    return t;
  };
  fm.set("genCA", goFunc(2, 2, (cn, days) => createCertificate(tpl(cn, null, null, days, true), rsaKey(), "self")));
  fm.set("genCAWithKey", goFunc(3, 3, (cn, days, key) => {
    const t = tpl(cn, null, null, days, true);
    return createCertificate(t, keyFromPEM(argString(key)), "self");
  }));
  fm.set("genSelfSignedCert", goFunc(4, 4, (cn, ips, dns, days) => createCertificate(tpl(cn, ips, dns, days, false), rsaKey(), "self")));
  fm.set("genSelfSignedCertWithKey", goFunc(5, 5, (cn, ips, dns, days, key) => {
    const t = tpl(cn, ips, dns, days, false);
    return createCertificate(t, keyFromPEM(argString(key)), "self");
  }));
  fm.set("genSignedCert", goFunc(5, 5, (cn, ips, dns, days, ca) => {
    const signer = signerFrom(argCertificate(ca));
    const t = tpl(cn, ips, dns, days, false);
    return createCertificate(t, rsaKey(), signer);
  }));
  fm.set("genSignedCertWithKey", goFunc(6, 6, (cn, ips, dns, days, ca, key) => {
    const c = argCertificate(ca);
    const k = keyFromPEM(argString(key));
    const signer = signerFrom(c);
    return createCertificate(tpl(cn, ips, dns, days, false), k, signer);
  }));
  fm.set("buildCustomCert", goFunc(2, 2, (c, k) => {
    const cert = argString(c);
    return buildCustomCert(cert, argString(k));
  }));
}
