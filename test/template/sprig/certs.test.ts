// Certificates cannot be compared byte for byte with Go's (random serial, the current time), so
// each case here renders the same template as a certificate Go's sprig produced with fixed keys
// (fixtures/template/sprig/certs-go.json, made with the oracle) and compares the DER structure
// with the serial number, validity and signature value masked. Subject/authority key ids,
// extensions, names and encodings must match exactly; the signature must verify.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { type Asn1, derDecode } from "../../../src/template/sprig/der.js";
import { TemplateSet } from "../../../src/template/template.js";
import { filesObject, werfFuncs } from "../../../src/template/werf.js";
import type { GoValue } from "../../../src/template/value.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const dir = path.join(repoRoot, "fixtures/template/sprig");
const cases: { name: string; tpl: string; go: string }[] = JSON.parse(readFileSync(path.join(dir, "certs-go.json"), "utf8"));

function render(tpl: string): string {
  let set: TemplateSet | undefined;
  set = new TemplateSet(werfFuncs(() => set!, { environ: {} }));
  set.parse("werfConfig", tpl);
  return set.execute("werfConfig", new Map<string, GoValue>([["Files", filesObject(dir)]])).text;
}

function pemBlocks(text: string): Buffer[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----\n([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => Buffer.from(m[1].replace(/\s+/g, ""), "base64"));
}

/** The certificate as a tree of hex strings, with the parts that differ on every run blanked. */
function shape(der: Buffer): unknown {
  const tree = (v: Asn1): unknown => (v.children ? { tag: v.tag, children: v.children.map(tree) } : { tag: v.tag, hex: Buffer.from(v.bytes ?? []).toString("hex") });
  const cert = derDecode(der);
  const tbs = cert.children![0];
  const masked: Asn1 = {
    tag: cert.tag,
    children: [
      { tag: tbs.tag, children: tbs.children!.map((c, i) => (i === 1 ? { tag: c.tag, bytes: new Uint8Array([0]) } : i === 4 ? { tag: c.tag, children: c.children!.map((t) => ({ tag: t.tag })) } : c)) },
      cert.children![1],
      { tag: 0x03 },
    ],
  };
  return tree(masked);
}

for (const c of cases) {
  test(`certificate like Go's: ${c.name}`, () => {
    const ours = pemBlocks(render(c.tpl));
    const theirs = pemBlocks(c.go);
    assert.equal(ours.length, theirs.length);
    for (let i = 0; i < ours.length; i++) {
      assert.deepEqual(shape(ours[i]), shape(theirs[i]));
      const x = new X509Certificate(ours[i]);
      const days = (Date.parse(x.validTo) - Date.parse(x.validFrom)) / 86400000;
      const goCert = new X509Certificate(theirs[i]);
      assert.equal(days, (Date.parse(goCert.validTo) - Date.parse(goCert.validFrom)) / 86400000);
      // Self-signed certificates verify with their own key; signed ones with the CA's (the first block).
      const issuer = x.checkIssued(x) ? x : new X509Certificate(ours[0]);
      assert.ok(x.verify(issuer.publicKey), "the signature verifies");
    }
  });
}
