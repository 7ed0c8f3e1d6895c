#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with node's test runner.
// Node 20's `node --test DIR` would also run every helper module under test/ and it takes no globs,
// so we list the files ourselves. Optional arguments filter by path substring: `npm test -- corpus`.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const testDir = path.join(root, "dist", "test");

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

const filters = process.argv.slice(2);
const files = walk(testDir)
  .sort()
  .filter((f) => filters.length === 0 || filters.some((x) => path.relative(testDir, f).includes(x)));
if (files.length === 0) {
  console.error(`no test files under ${testDir}${filters.length ? ` matching ${filters.join(", ")}` : ""}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...files], { stdio: "inherit" });
process.exit(r.status ?? 1);
