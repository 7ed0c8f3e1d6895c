// Benchmark: werf masks (compiled once) against 100k generated paths × 40 masks.
// Run: npx tsc -p . && node dist/bench/git-masks.js
import { WerfMask } from "../src/git/pathMatcher.js";

const dirs = ["src", "lib", "app", "vendor", "node_modules", "docs", "test", "assets", "cmd", "internal"];
const exts = ["go", "ts", "js", "md", "json", "php", "png", "yaml"];
let seed = 1;
const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
const paths: string[] = [];
for (let i = 0; i < 100_000; i++) {
  const depth = 1 + rand(5);
  const parts: string[] = [];
  for (let d = 0; d < depth; d++) parts.push(`${dirs[rand(dirs.length)]}${rand(3) === 0 ? rand(100) : ""}`);
  parts.push(`file${i}.${exts[rand(exts.length)]}`);
  paths.push(parts.join("/"));
}
const maskSources = [
  "src", "src/*", "lib/**/*", "**/*.go", "*.md", "app/**/*.{js,ts}", "vendor", "node_modules/**", "docs/*.md",
  "test/**/*_test.go", "assets/[a-f]*/**", "cmd/?/*.go", "internal/**/x*", "**/node_modules/**", "**/*.json",
  "src/lib/**", "**/file1*.php", "app/*/*.yaml", "{src,lib}/**/*.ts", "**/test/**",
];
const masks: WerfMask[] = [];
for (let i = 0; i < 40; i++) masks.push(new WerfMask(i < maskSources.length ? maskSources[i] : `${dirs[i % dirs.length]}/**/*.${exts[i % exts.length]}`));

const t0 = performance.now();
let hits = 0;
for (const p of paths) for (const m of masks) if (m.matches(p)) hits++;
const ms = performance.now() - t0;
console.log(`${paths.length} paths × ${masks.length} masks = ${paths.length * masks.length} matches in ${ms.toFixed(0)} ms (${hits} hits)`);
