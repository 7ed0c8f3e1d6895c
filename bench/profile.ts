// Hot spots of a V8 .cpuprofile (node --cpu-prof): self time by function and by file, and the total
// (inclusive) time of the project's own functions.
//
// Run: node dist/bench/profile.js FILE.cpuprofile [--top 15]

import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface HotSpot {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  selfByFunction: HotSpot[];
  selfByFile: HotSpot[];
  /** Inclusive time of functions in this project's files (dist/src, dist/bench), recursion counted once. */
  totalByProjectFunction: HotSpot[];
}

/** "file:///…/dist/src/git/tree.js" → "src/git/tree.js"; node internals keep their name. */
function shortFile(url: string): string {
  if (url === "") return "(native)";
  const m = /\/dist\/((?:src|bench|test)\/.*)$/.exec(url);
  if (m) return m[1];
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `npm:${nm[1]}`;
  return url.replace(/^file:\/\//, "");
}

function frameName(f: CallFrame): string {
  const file = shortFile(f.url);
  const fn = f.functionName || "(anonymous)";
  return f.url ? `${fn} ${file}:${f.lineNumber + 1}` : fn;
}

export function analyzeProfile(profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const selfFn = new Map<string, number>();
  const selfFile = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    // the delta after a sample is the time spent in it
    const dt = (i + 1 < timeDeltas.length ? timeDeltas[i + 1] : 0) / 1000;
    total += dt;
    const node = byId.get(samples[i]);
    if (!node) continue;
    const name = frameName(node.callFrame);
    selfFn.set(name, (selfFn.get(name) ?? 0) + dt);
    const file = shortFile(node.callFrame.url);
    selfFile.set(file, (selfFile.get(file) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      if (!/\/dist\/(src|bench)\//.test(f.url)) continue;
      const key = frameName(f);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    }
  }
  const rank = (m: Map<string, number>): HotSpot[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms, share: total > 0 ? ms / total : 0 }));
  return { totalMs: total, selfByFunction: rank(selfFn), selfByFile: rank(selfFile), totalByProjectFunction: rank(inclusive) };
}

export function formatSummary(s: ProfileSummary): string {
  const section = (title: string, xs: HotSpot[]) =>
    [`  ${title}:`, ...xs.map((h) => `    ${h.ms.toFixed(0).padStart(6)} ms ${(h.share * 100).toFixed(1).padStart(5)}%  ${h.name}`)].join("\n");
  return [
    `  sampled ${s.totalMs.toFixed(0)} ms`,
    section("self time by function", s.selfByFunction),
    section("self time by file", s.selfByFile),
    section("total time of project functions", s.totalByProjectFunction),
  ].join("\n") + "\n";
}

export function summarizeProfile(file: string, top = 15): string {
  return formatSummary(analyzeProfile(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, top));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const t = args.indexOf("--top");
  const top = t >= 0 ? Number(args[t + 1]) : 15;
  const files = args.filter((a, i) => !a.startsWith("--") && (t < 0 || i !== t + 1));
  for (const f of files) process.stdout.write(`${f}:\n${summarizeProfile(f, top)}`);
}
