// The installable CLI: `npm pack` of a copy of the project (its prepack builds dist/src only) gives a package with
// the compiled CLI and no tests; `npm install -g` of it into a temp prefix gives a `stapel2docker` whose --version is
// package.json's and which validates the example. The dependencies come from the npm registry (or npm's cache):
// when neither answers, the install step skips with one line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { VERSION } from "../../src/version.js";
import { tempDir } from "../git/gitFixture.js";
import { repoRoot } from "../support/paths.js";

const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string; bin: Record<string, string>; files: string[] };

test("--version is package.json's version", () => {
  assert.equal(VERSION, pkg.version);
  const out = execFileSync(process.execPath, [path.join(repoRoot, "dist/src/cli/main.js"), "--version"], { encoding: "utf8" });
  assert.equal(out, `${pkg.version}\n`);
});

test("npm pack, then npm install -g of the tarball: a working stapel2docker", (t) => {
  const tmp = tempDir("install");
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  // a copy of what the package is made of, so the checkout's dist/ (which running tests load) is not touched
  const src = path.join(tmp, "src");
  for (const f of ["src", "docs", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "README.md"]) {
    cpSync(path.join(repoRoot, f), path.join(src, f), { recursive: true });
  }
  symlinkSync(path.join(repoRoot, "node_modules"), path.join(src, "node_modules"));
  const npmEnv = { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };
  const pack = spawnSync("npm", ["pack", "--pack-destination", tmp], { cwd: src, env: npmEnv, encoding: "utf8" });
  assert.equal(pack.status, 0, pack.stderr);
  const tgz = path.join(tmp, `stapel2docker-${pkg.version}.tgz`);
  const files = execFileSync("tar", ["tzf", tgz], { encoding: "utf8" }).trim().split("\n");
  assert.ok(files.includes(`package/${pkg.bin.stapel2docker}`), "the bin is in the package");
  assert.ok(files.includes("package/README.md"));
  assert.deepEqual(files.filter((f) => /^package\/dist\/(?!src\/)|\.test\.js$|\.map$|^package\/(test|fixtures|bench|scripts)\//.test(f)), [], "no tests, maps or dev folders");
  assert.deepEqual(files.filter((f) => f.startsWith("package/dist/src/") && !f.endsWith(".js")), []);

  const prefix = path.join(tmp, "prefix");
  const inst = spawnSync("npm", ["install", "-g", "--prefix", prefix, "--prefer-offline", tgz], { env: npmEnv, encoding: "utf8", timeout: 240_000 });
  if (inst.status !== 0 && /E(NOTCACHED|NOTFOUND|AI_AGAIN|TIMEDOUT|CONNREFUSED|CONNRESET)|network/i.test(inst.stderr)) {
    t.skip("skipped: the npm registry is unreachable and npm's cache lacks the dependencies");
    return;
  }
  assert.equal(inst.status, 0, inst.stderr);
  const bin = path.join(prefix, "bin", "stapel2docker");
  assert.equal(execFileSync(bin, ["--version"], { encoding: "utf8" }), `${pkg.version}\n`);
  const v = spawnSync(bin, ["validate", "--dir", path.join(repoRoot, "examples/basic")], { encoding: "utf8" });
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout, /^werf\.yaml: ok \(project example: 1 image, 1 artifact\)$/m);
});
