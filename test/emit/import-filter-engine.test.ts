// The import filter script run for real: the toolchain image (static bash + busybox only) on the engine,
// over a rootfs with tricky names, symlinks, empty dirs, modes and owners; the result must be exactly
// what werf's PathMatcher selects (files tested one by one, directories entered per shouldGoThrough).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { importFilterScript, type ImportFilter } from "../../src/emit/import-filter.js";
import { PathMatcher } from "../../src/git/pathMatcher.js";
import { repoRoot } from "../support/paths.js";

const TOOLCHAIN = "stapel2docker/toolchain:latest";
let work = "";
let src = "";

function buildRootfs(root: string): void {
  const file = (rel: string, content: string, mode = 0o644) => {
    const p = path.join(root, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, content);
    chmodSync(p, mode);
    utimesSync(p, 1_600_000_000, 1_600_000_000);
  };
  const dir = (rel: string, mode = 0o755) => {
    mkdirSync(path.join(root, rel), { recursive: true });
    chmodSync(path.join(root, rel), mode);
  };
  file("app/main.js", "main");
  file("app/lib/util.js", "util");
  file("app/cache/big.bin", "cache");
  file("app/run.sh", "#!/bin/sh\necho hi\n", 0o755);
  file("app/secret.key", "k", 0o600);
  file("README.txt", "readme");
  file("notes.txt", "notes");
  file("dir with space/file name.txt", "spaces");
  file("dir with space/it's \"quoted\".txt", "quotes");
  file("dollar/$HOME and $(id).txt", "dollar");
  file("été/café.txt", "unicode");
  file("日本/語.sh", "#!/bin/sh\n", 0o750);
  file("-rf", "dash");
  file("[x]", "bracket");
  file("a*b", "star");
  file("back\\slash", "backslash");
  file("new\nline.txt", "a newline in a name");
  file("tools/deep/er/tool.sh", "tool", 0o755);
  file("tools/deep/er/tool.log", "log");
  file(".hidden/.env", "env");
  dir("empty");
  dir("emptier/inner", 0o700);
  dir("locked", 0o555);
  file("owned/by-1234.txt", "owned");
  chownSync(path.join(root, "owned"), 1234, 5678);
  chownSync(path.join(root, "owned/by-1234.txt"), 1234, 5678);
  symlinkSync("main.js", path.join(root, "app/link-to-main"));
  symlinkSync("/nonexistent/target", path.join(root, "dangling"));
  symlinkSync("app", path.join(root, "link-to-app")); // a symlink to a directory is copied as a symlink
  symlinkSync("../app/lib", path.join(root, "tools/lib-link"));
}

interface Entry {
  type: "f" | "d" | "l";
  mode: number;
  uid: number;
  gid: number;
  content?: string;
  target?: string;
  mtime?: number;
}

function describe(root: string, rel: string): Entry {
  const p = path.join(root, rel);
  const st = lstatSync(p);
  const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  if (st.isSymbolicLink()) return { type: "l", uid: st.uid, gid: st.gid, mode: 0, target: readlinkSync(p) };
  if (st.isDirectory()) return { type: "d", ...base };
  return { type: "f", ...base, content: readFileSync(p, "utf8"), mtime: Math.floor(st.mtimeMs / 1000) };
}

/** Every entry below `root` (relative paths), not following symlinks. */
function listAll(root: string, rel = ""): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, rel)).sort()) {
    const p = rel === "" ? name : `${rel}/${name}`;
    out.push(p);
    if (lstatSync(path.join(root, p)).isDirectory()) out.push(...listAll(root, p));
  }
  return out;
}

/** What werf's matcher selects: entries kept by isPathMatched under directories shouldGoThrough enters, plus their parents. */
function expected(root: string, f: ImportFilter): Map<string, Entry> {
  const m = new PathMatcher({ includeGlobs: f.includePaths, excludeGlobs: f.excludePaths });
  const picked = new Set<string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      const p = rel === "" ? name : `${rel}/${name}`;
      const isDir = lstatSync(path.join(root, p)).isDirectory();
      if (isDir && !m.shouldGoThrough(p)) continue;
      if (m.isPathMatched(p)) {
        const parts = p.split("/");
        for (let i = 1; i <= parts.length; i++) picked.add(parts.slice(0, i).join("/"));
      }
      if (isDir) walk(p);
    }
  };
  walk("");
  return new Map([...picked].sort().map((p) => [p, describe(root, p)]));
}

function runScript(f: ImportFilter, out: string): void {
  const script = importFilterScript(f, "/.stapel-src", "/.stapel-out");
  const r = spawnSync("docker", ["run", "--rm", "--network=none", "-v", `${src}:/.stapel-src:ro`, "-v", `${out}:/.stapel-out`, TOOLCHAIN, "/.stapel/bin/bash", "-ec", script], { encoding: "utf8" });
  assert.equal(r.status, 0, `script failed: ${r.stderr}\n${script}`);
}

function actual(out: string): Map<string, Entry> {
  return new Map(listAll(out).map((p) => [p, describe(out, p)]));
}

/** Directory mtimes are not compared (they change while entries are unpacked into them); all else is. */
function strip(m: Map<string, Entry>): Record<string, Entry> {
  return Object.fromEntries(m);
}

before(() => {
  const up = spawnSync("bash", [path.join(repoRoot, "scripts/stack/up.sh")], { encoding: "utf8" });
  assert.equal(up.status, 0, `the stack did not come up:\n${up.stdout}\n${up.stderr}`);
  work = mkdtempSync(path.join(tmpdir(), "s2d-import-filter-"));
  src = path.join(work, "src");
  mkdirSync(src);
  buildRootfs(src);
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const CASES: { name: string; filter: ImportFilter; mustHave: string[]; mustLack: string[] }[] = [
  { name: "no masks: everything", filter: { add: "/", includePaths: [], excludePaths: [] }, mustHave: ["empty", "emptier/inner", "locked", "dangling", "link-to-app", "-rf", "a*b", "back\\slash", "new\nline.txt", "owned/by-1234.txt"], mustLack: [] },
  {
    name: "directory include with an excluded subdirectory and a top-level glob",
    filter: { add: "/", includePaths: ["app", "*.txt"], excludePaths: ["app/cache"] },
    mustHave: ["app/main.js", "app/lib/util.js", "app/link-to-main", "app/run.sh", "README.txt", "notes.txt"],
    mustLack: ["app/cache", "dir with space/file name.txt", "été/café.txt"],
  },
  {
    name: "recursive globs; excluded names with a leading dash",
    filter: { add: "/", includePaths: ["**/*.sh", "**/-*", "*"], excludePaths: ["**/-*", "**/*.log", ".hidden"] },
    mustHave: ["app/run.sh", "日本/語.sh", "tools/deep/er/tool.sh", "README.txt"],
    mustLack: ["-rf", "tools/deep/er/tool.log", ".hidden/.env"],
  },
  {
    name: "names with spaces, quotes, dollars, unicode, escapes",
    filter: { add: "/", includePaths: ["dir with space/*", "dollar/$HOME*", "été/*", "[[]x]", "a\\*b", "back\\\\slash"], excludePaths: ["**/*\"*"] },
    mustHave: ["dir with space/file name.txt", "dollar/$HOME and $(id).txt", "été/café.txt", "[x]", "a*b", "back\\slash"],
    mustLack: ["dir with space/it's \"quoted\".txt", "notes.txt"],
  },
  {
    name: "empty directories only when a mask selects them; symlinks not followed",
    filter: { add: "/", includePaths: ["emp*", "link-to-app", "tools/lib-link", "owned", "locked"], excludePaths: [] },
    mustHave: ["empty", "emptier", "emptier/inner", "link-to-app", "tools/lib-link", "owned/by-1234.txt", "locked"],
    mustLack: ["app", "tools/deep", "app/lib/util.js"],
  },
  { name: "exclude * takes everything away", filter: { add: "/", includePaths: [], excludePaths: ["*"] }, mustHave: [], mustLack: ["README.txt", "app"] },
];

for (const c of CASES) {
  test(`import filter on the engine: ${c.name}`, () => {
    const out = mkdtempSync(path.join(work, "out-"));
    runScript(c.filter, out);
    const want = expected(src, c.filter);
    const got = actual(out);
    for (const p of c.mustHave) assert.ok(want.has(p), `the matcher should select ${p} (test premise)`);
    for (const p of c.mustLack) assert.ok(!want.has(p), `the matcher should not select ${p} (test premise)`);
    assert.deepEqual(strip(got), strip(want));
  });
}

test("import filter on the engine: the output directory takes the source root's mode and owner", () => {
  const out = mkdtempSync(path.join(work, "out-"));
  chmodSync(src, 0o751);
  try {
    runScript({ add: "/", includePaths: ["notes.txt"], excludePaths: [] }, out);
    assert.equal(lstatSync(out).mode & 0o7777, 0o751);
    assert.deepEqual(listAll(out), ["notes.txt"]);
  } finally {
    chmodSync(src, 0o755);
  }
});

test("import filter in a real helper stage (docker buildx build, toolchain named context)", () => {
  const ctx = mkdtempSync(path.join(work, "ctx-"));
  const f: ImportFilter = { add: "/app", includePaths: ["**/*.js", "run.sh"], excludePaths: ["lib"] };
  const script = importFilterScript(f, "/.stapel-src", "/.stapel-out");
  writeFileSync(path.join(ctx, "Dockerfile"), [
    "FROM stapel2docker/base-busybox:latest AS source",
    "RUN mkdir -p /app/lib /app/x && echo m > /app/main.js && echo u > /app/lib/u.js && echo y > /app/x/y.js && echo r > /app/run.sh && chmod 755 /app/run.sh && echo n > /app/notes.md",
    "FROM stapel-toolchain AS helper",
    // the toolchain image has no /bin/sh: a heredoc RUN, even with a shebang, is started through the SHELL
    'SHELL ["/.stapel/bin/bash", "-ec"]',
    "RUN --mount=type=bind,from=source,source=/app,target=/.stapel-src --mount=type=bind,from=stapel-toolchain,source=/.stapel,target=/.stapel <<'EOF'",
    "#!/.stapel/bin/bash -e",
    script.trimEnd(),
    "EOF",
    "FROM scratch",
    "COPY --from=helper /.stapel-out/ /imported/",
    "",
  ].join("\n"));
  const tarFile = path.join(work, "out.tar");
  const r = spawnSync("docker", ["buildx", "build", "--build-context", `stapel-toolchain=docker-image://${TOOLCHAIN}`, "--output", `type=tar,dest=${tarFile}`, ctx], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const listing = execFileSync("tar", ["-tvf", tarFile], { encoding: "utf8" });
  const names = listing.trim().split("\n").map((l) => l.split(/\s+/).slice(5).join(" ")).filter((n) => n.startsWith("imported/") && !n.endsWith("/")).sort();
  assert.deepEqual(names, ["imported/main.js", "imported/run.sh", "imported/x/y.js"]);
  assert.match(listing, /-rwxr-xr-x\s.*imported\/run\.sh/);
});
