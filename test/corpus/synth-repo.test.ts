// The repository synthesizer: derived paths really match their masks, every mapping of every corpus
// config matches files (includes and stageDependencies each at least one, excludes respected), remote
// URLs are served through insteadOf with their branch and tag, and the commits are reproducible.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PathMatcher } from "../../src/git/pathMatcher.js";
import { corpusDir, corpusMissing } from "./outcome.js";
import { mappingFiles, pathsForMask, synthesizeRepo, unmetMappings, unmetMasks, SYNTH_GIT_ENV } from "./synth-repo.js";

function lsTree(dir: string, rev = "HEAD", env: Record<string, string> = {}): string[] {
  const out = execFileSync("git", ["ls-tree", "-r", "--name-only", "-z", rev], { cwd: dir, encoding: "utf8", env: { ...process.env, ...env } });
  return out.split("\0").filter(Boolean);
}

test("pathsForMask gives a path that the mask matches (werf's matcher)", () => {
  const masks = [
    "go.mod", "*.go", "pkg", "src/*", "src/**", "**/*", "**", "*", "**/package.*", "package*.json", "*.config.[tj]s",
    "hooks/test*", ".env*", "**.sh", "apps/**/*", "bin/**/*", "static/*.css", "{a,b}/c.txt", "x/[!a-y]z", "file?.txt",
    "a\\*b", "./README.md", "docs/**", "lib/*",
  ];
  for (const mask of masks) {
    const matcher = new PathMatcher({ includeGlobs: [mask] });
    const paths = pathsForMask(mask);
    assert.ok(paths.length > 0, mask);
    assert.ok(matcher.isPathMatched(paths[0]), `${mask}: first candidate ${paths[0]} does not match`);
  }
  assert.equal(pathsForMask("*.config.[tj]s")[0], "x.config.ts");
  assert.equal(pathsForMask("**/package.*")[0], "package.x");
  assert.deepEqual(pathsForMask("pkg").slice(0, 2), ["pkg/file.txt", "pkg"]);
  assert.equal(pathsForMask("x/[!a-y]z")[0], "x/zz/file.txt");
});

test("a constructed project: add paths, includes, excludes, stageDependencies, a Dockerfile image, a remote", async (t) => {
  const src = fs.mkdtempSync(path.join(os.tmpdir(), "s2d-synth-src-"));
  t.after(() => fs.rmSync(src, { recursive: true, force: true }));
  fs.writeFileSync(
    path.join(src, "werf.yaml"),
    [
      "project: demo",
      "configVersion: 1",
      "---",
      "image: app",
      "from: alpine:3.19",
      "git:",
      "- add: /backend",
      "  to: /app",
      "  includePaths: ['**/*.go', 'go.mod', 'static/*.css']",
      "  excludePaths: ['static/script.css', 'vendor']",
      "  stageDependencies:",
      "    install: ['go.mod', '**/*.go']",
      "    setup: ['cmd/**/*.go']",
      "- add: /nginx.conf",
      "  to: /etc/nginx/nginx.conf",
      "- url: https://example.invalid/team/lib.git",
      "  branch: release",
      "  add: /pkg",
      "  to: /lib",
      "- url: https://example.invalid/team/lib.git",
      "  tag: v1.2.3",
      "  add: /",
      "  to: /lib-all",
      "  excludePaths: ['**/*']",
      "shell:",
      "  install: [echo hi]",
      "---",
      "image: web",
      "dockerfile: docker/Dockerfile",
      "context: web",
      "",
    ].join("\n"),
  );
  const s = await synthesizeRepo(src);
  t.after(() => s.cleanup());
  assert.equal(s.failure, undefined);
  const files = lsTree(s.dir);
  assert.ok(files.includes("werf.yaml"));
  assert.ok(files.includes("nginx.conf"), "a file-like add is a file");
  assert.ok(files.includes("web/docker/Dockerfile"), "the Dockerfile image's Dockerfile, under its context");
  assert.ok(!files.some((f) => f.startsWith("backend/vendor") || f === "backend/static/script.css"), "nothing excluded was made");
  const mappings = s.config!.images.flatMap((i) => i.git);
  // The last mapping excludes everything: it cannot match, and the synthesizer must not pretend it does.
  for (const m of mappings.slice(0, 3)) assert.deepEqual(unmetMasks(m, await mappingFiles(s, m)), [], `${m.url ?? "own"} ${m.add}`);
  assert.deepEqual(unmetMasks(mappings[3], await mappingFiles(s, mappings[3])), ["/: nothing matched"]);
  assert.ok(files.includes("backend/cmd/x.go") || files.some((f) => /^backend\/cmd\/.*\.go$/.test(f)), "a file for the setup dependency");

  // One bare repository for the URL, with the branch and the tag, reachable by its URL through insteadOf.
  assert.equal(s.remotes.length, 1);
  assert.deepEqual(s.remotes[0].refs, ["branch:release", "tag:v1.2.3"]);
  assert.equal(s.env.GIT_CONFIG_COUNT, "1");
  const clone = path.join(s.root, "clone");
  execFileSync("git", ["clone", "-q", "--branch", "v1.2.3", "https://example.invalid/team/lib.git", clone], { env: { ...process.env, ...s.env } });
  assert.ok(lsTree(clone).some((f) => f.startsWith("pkg/")));

  // Reproducible: the same folder gives the same commits.
  const again = await synthesizeRepo(src);
  t.after(() => again.cleanup());
  assert.equal(again.commit, s.commit);
  assert.equal(again.remotes[0].commit, s.remotes[0].commit);
  assert.equal(execFileSync("git", ["log", "-1", "--format=%an %aI"], { cwd: s.dir, encoding: "utf8", env: { ...process.env, ...SYNTH_GIT_ENV } }).trim(), "stapel2docker corpus 2024-01-02T03:04:05+00:00");
});

test("a folder that does not render still gets a repository, and says why there is no config", async (t) => {
  const src = fs.mkdtempSync(path.join(os.tmpdir(), "s2d-synth-src-"));
  t.after(() => fs.rmSync(src, { recursive: true, force: true }));
  fs.writeFileSync(path.join(src, "werf.yaml"), 'project: x\nconfigVersion: 1\n---\n{{ .Files.Get "missing.txt" }}\n');
  const s = await synthesizeRepo(src);
  t.after(() => s.cleanup());
  assert.equal(s.failure?.stage, "render");
  assert.equal(s.config, undefined);
  assert.deepEqual(lsTree(s.dir), ["werf.yaml"]);
});

// The whole corpus is checked by corpus-compile.test.ts (unmetMappings of each synthesized repository);
// here the folders with remote mappings, includePaths and stageDependencies.
test("corpus folders with remotes, includes and stageDependencies get repositories their mappings match", { skip: corpusMissing() }, async () => {
  for (const folder of ["werf__werf__test-e2e-build-_fixtures-complex-state0", "lfuuu__stattest", "deckhouse__prompp"]) {
    const s = await synthesizeRepo(path.join(corpusDir, folder));
    try {
      assert.ok(s.config, folder);
      assert.ok(s.config.images.some((i) => i.git.length > 0), folder);
      assert.deepEqual(await unmetMappings(s), [], folder);
    } finally {
      s.cleanup();
    }
  }
});
