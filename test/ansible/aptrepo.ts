// A tiny local apt repository for the equivalence cases (no network): .deb packages built with dpkg-deb on the
// host, indexed by hand (Packages + Release, flat layout), mounted into both containers at /.t/repo and used as
// `deb [trusted=yes] file:/.t/repo ./`.
//   s2d-base 1.0   a data file and a conffile (/etc/s2d-base.conf)
//   s2d-extra 1.0  a data file (recommended by s2d-app)
//   s2d-app 1.0    Depends: s2d-base, Recommends: s2d-extra; /usr/bin/s2d-app; a postinst writing a file
//   s2d-app 1.1    the same, newer (for state=latest)
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

interface Pkg {
  name: string;
  version: string;
  depends?: string;
  recommends?: string;
  files: Record<string, { text: string; mode?: number }>;
  conffiles?: string[];
  postinst?: string;
}

const PKGS: Pkg[] = [
  { name: "s2d-base", version: "1.0", files: { "usr/share/s2d-base/README": { text: "base 1.0\n" }, "etc/s2d-base.conf": { text: "setting=1\n" } }, conffiles: ["/etc/s2d-base.conf"] },
  { name: "s2d-extra", version: "1.0", files: { "usr/share/s2d-extra/README": { text: "extra 1.0\n" } } },
  ...["1.0", "1.1"].map((version): Pkg => ({
    name: "s2d-app",
    version,
    depends: "s2d-base",
    recommends: "s2d-extra",
    files: { "usr/bin/s2d-app": { text: `#!/bin/sh\necho s2d-app ${version}\n`, mode: 0o755 } },
    postinst: `#!/bin/sh\nset -e\nif [ "$1" = configure ]; then\n  mkdir -p /var/lib/s2d-app\n  echo "configured ${version} (from '$2')" > /var/lib/s2d-app/postinst\nfi\n`,
  })),
];

/** The public key of fixtures/ansible/test-key.asc (apt_key cases). */
export const TEST_KEY_ID = "9453B47C10035469";

async function buildDeb(pkg: Pkg, out: string, scratch: string): Promise<string> {
  const root = path.join(scratch, `${pkg.name}_${pkg.version}`);
  fs.mkdirSync(path.join(root, "DEBIAN"), { recursive: true });
  const control = [
    `Package: ${pkg.name}`, `Version: ${pkg.version}`, "Architecture: all", "Maintainer: stapel2docker tests <tests@stapel2docker.invalid>",
    ...(pkg.depends ? [`Depends: ${pkg.depends}`] : []), ...(pkg.recommends ? [`Recommends: ${pkg.recommends}`] : []),
    "Section: misc", "Priority: optional", `Description: stapel2docker test package ${pkg.name}`, "",
  ].join("\n");
  fs.writeFileSync(path.join(root, "DEBIAN/control"), control);
  if (pkg.conffiles) fs.writeFileSync(path.join(root, "DEBIAN/conffiles"), pkg.conffiles.join("\n") + "\n");
  if (pkg.postinst) fs.writeFileSync(path.join(root, "DEBIAN/postinst"), pkg.postinst, { mode: 0o755 });
  for (const [f, { text, mode }] of Object.entries(pkg.files)) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), text, { mode: mode ?? 0o644 });
    fs.chmodSync(path.join(root, f), mode ?? 0o644);
  }
  const deb = path.join(out, `${pkg.name}_${pkg.version}_all.deb`);
  await exec("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", root, deb], { env: { ...process.env, SOURCE_DATE_EPOCH: "0" } });
  return deb;
}

/** Builds the repository into `dir` (made if missing): the .debs, Packages and Release. */
export async function makeAptRepo(dir: string, scratch: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const stanzas: string[] = [];
  for (const pkg of PKGS) {
    const deb = await buildDeb(pkg, dir, scratch);
    const data = fs.readFileSync(deb);
    const { stdout } = await exec("dpkg-deb", ["-f", deb]);
    const hash = (alg: string) => crypto.createHash(alg).update(data).digest("hex");
    stanzas.push(`${stdout.trimEnd()}\nFilename: ./${path.basename(deb)}\nSize: ${data.length}\nMD5sum: ${hash("md5")}\nSHA256: ${hash("sha256")}\n`);
  }
  const packages = stanzas.join("\n");
  fs.writeFileSync(path.join(dir, "Packages"), packages);
  const sha = crypto.createHash("sha256").update(packages).digest("hex");
  fs.writeFileSync(path.join(dir, "Release"), [
    "Origin: stapel2docker", "Label: stapel2docker tests", "Suite: local", "Codename: local", "Date: Thu, 01 Jan 1970 00:00:00 UTC",
    "SHA256:", ` ${sha} ${Buffer.byteLength(packages)} Packages`, "",
  ].join("\n"));
  for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o644);
  fs.chmodSync(dir, 0o755);
}
