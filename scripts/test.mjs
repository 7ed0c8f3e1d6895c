#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with node's test runner.
// Node 20's `node --test DIR` would also run every helper module under test/ and it takes no globs,
// so we list the files ourselves. Optional arguments filter by path substring: `npm test -- corpus`.
//   --build   compile the TypeScript first (once; `npm test` passes it)
// The whole suite (no filter) first brings the build stack up, saying each step and its time (scripts/stack/up.sh,
// then the ansible tests' Debian images: scripts/stack/ansible-image.sh; docs/stack.md); STAPEL2DOCKER_NO_STACK=1
// leaves that to the tests that need it. Tests get a temp folder of their own (TMPDIR) for the run; what they leave
// in it is listed, then removed. XDG_CACHE_HOME points at a folder of the run, removed after it.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const testDir = path.join(root, "dist", "test");
const args = process.argv.slice(2);
const build = args.includes("--build");
const filters = args.filter((a) => a !== "--build");

const secs = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const say = (l) => process.stdout.write(`${l}\n`);

if (build) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", root], { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
  say(`test: compiled the TypeScript (tsc -p .) in ${secs(t0)}`);
}

if (filters.length === 0 && !process.env.STAPEL2DOCKER_NO_STACK) {
  say("test: bringing up the build stack (docs/stack.md; a cold machine installs Docker and builds images for some minutes)");
  for (const script of ["up.sh", "ansible-image.sh"]) {
    const t0 = Date.now();
    const r = spawnSync("bash", [path.join(root, "scripts", "stack", script)], { stdio: "inherit" });
    if (r.status !== 0) {
      say(`test: scripts/stack/${script} failed after ${secs(t0)}; the tests that need the stack will say why`);
      break;
    }
  }
}

function walk(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    // Skip stale output whose source was deleted.
    else if (e.name.endsWith(".test.js") && fs.existsSync(path.join(root, path.relative(path.join(root, "dist"), p)).replace(/\.js$/, ".ts"))) out.push(p);
  }
  return out;
}

const files = walk(testDir)
  .sort()
  .filter((f) => filters.length === 0 || filters.some((x) => path.relative(testDir, f).includes(x)));
if (files.length === 0) {
  console.error(`no test files under ${testDir}${filters.length ? ` matching ${filters.join(", ")}` : ""}`);
  process.exit(1);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "s2d-run-"));
// the caches the CLI keeps under the user's cache dir (persistent cache, labels, final tags, no-op entries) live for
// the run only: tests neither see a developer's caches nor leave theirs behind
const cacheHome = fs.mkdtempSync(path.join(os.tmpdir(), "s2d-cache-"));
const t0 = Date.now();
const r = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...files], { stdio: "inherit", env: { ...process.env, TMPDIR: tmp, XDG_CACHE_HOME: cacheHome } });
fs.rmSync(cacheHome, { recursive: true, force: true });
const left = fs.readdirSync(tmp);
if (left.length) {
  // grouped by name without its random suffix (mkdtemp's 6 characters), so the test that leaks is easy to find
  const groups = new Map();
  for (const n of left) {
    const k = n.replace(/[-.][A-Za-z0-9]{6}$/, "-*");
    groups.set(k, (groups.get(k) ?? 0) + 1);
  }
  say(`test: the tests left ${left.length} temp item(s) behind (removed now): ${[...groups].map(([k, n]) => (n > 1 ? `${k} ×${n}` : k)).join(", ")}`);
}
fs.rmSync(tmp, { recursive: true, force: true });
say(`test: ${files.length} test file(s) ran in ${secs(t0)}`);
process.exit(r.status ?? 1);
