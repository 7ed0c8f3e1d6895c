// werf's giterminism: werf.yaml, .werf/ templates and .Files are read from the commit; uncommitted changes that
// the render depended on are reported in one line; `--dev` reads a commit made of the work tree as it is.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/diagnostics.js";
import { ignoredChangesNotice, renderWerfConfig } from "../../src/template/render.js";
import { planProject } from "../../src/plan/plan.js";
import { assumedImageConfigResolver } from "../../src/docker/image-config.js";
import { dockerfileContextFolder, writeDockerfileContexts } from "../../src/emit/dockerfile-context.js";
import { giterminismWarnings } from "../../src/config/giterminism.js";
import { loadWerfConfig } from "../../src/config/index.js";
import { tempDir } from "../git/gitFixture.js";

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@t",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@t",
  GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
  GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z",
};

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", env: GIT_ENV }).trim();
}

function write(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
}

/** A repository whose project is `sub` (werf.yaml in a subdirectory, as some real configs have it). */
function repo(files: Record<string, string>, sub = ""): { root: string; dir: string } {
  const root = tempDir("giterminism");
  git(root, "init", "-q", "-b", "main");
  const dir = path.join(root, sub);
  write(dir, files);
  git(root, "add", "-A");
  git(root, "commit", "-qm", "first");
  return { root, dir };
}

const CONFIG = [
  "configVersion: 1",
  "project: p",
  "---",
  'image: {{ .Files.Get "name.txt" | trim }}',
  "from: alpine",
  'shell: {install: [{{ include "cmd.tmpl" . }}]}',
  "# {{ range $p, $_ := .Files.Glob \"extra/*.txt\" }}{{ $p }} {{ end }}",
  "",
].join("\n");

for (const sub of ["", "deploy/app"]) {
  test(`files are read from HEAD; uncommitted changes the render used are reported (project at "${sub || "."}")`, async () => {
    const { root, dir } = repo({ "werf.yaml": CONFIG, ".werf/cmd.tmpl": "echo committed", "name.txt": "app\n", "extra/a.txt": "a", "other.txt": "x" }, sub);
    write(dir, { ".werf/cmd.tmpl": "echo edited", "name.txt": "edited\n", "extra/b.txt": "new", "other.txt": "y", "unrelated/new.txt": "z" });
    const r = await renderWerfConfig({ dir });
    assert.match(r.text, /^image: app$/m);
    assert.match(r.text, /install: \[echo committed\]/);
    assert.match(r.text, /^# extra\/a\.txt $/m, "the untracked extra/b.txt is not globbed");
    assert.deepEqual(r.ignoredChanges, [".werf/cmd.tmpl", "extra/b.txt", "name.txt"]);
    assert.equal(r.commit?.commit, git(root, "rev-parse", "HEAD"));
    assert.match(ignoredChangesNotice(r.ignoredChanges)!, /^uncommitted changes are not used \(werf reads the commit\): \.werf\/cmd\.tmpl, extra\/b\.txt, name\.txt; .*--dev$/);

    const dev = await renderWerfConfig({ dir, dev: true });
    assert.match(dev.text, /^image: edited$/m);
    assert.match(dev.text, /install: \[echo edited\]/);
    assert.match(dev.text, /^# extra\/a\.txt extra\/b\.txt $/m);
    assert.deepEqual(dev.ignoredChanges, []);
    assert.equal(dev.commit?.dev, true);
    assert.equal(git(root, "rev-parse", `${dev.commit!.commit}^`), git(root, "rev-parse", "HEAD"), "the dev commit is a child of HEAD");
    assert.equal((await renderWerfConfig({ dir, dev: true })).commit?.commit, dev.commit!.commit, "the same work tree gives the same dev commit");
    assert.equal(git(root, "status", "--porcelain").split("\n").filter(Boolean).length, 5, "the user's index is untouched");
    assert.equal(git(root, "stash", "list"), "");
  });
}

test("an uncommitted werf.yaml is refused with a hint; --dev reads it", async () => {
  const { dir } = repo({ "README": "x" });
  write(dir, { "werf.yaml": "configVersion: 1\nproject: p\n---\nimage: a\nfrom: alpine\n" });
  await assert.rejects(renderWerfConfig({ dir }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /werf\.yaml in .* is not committed: werf reads the config from the commit/);
    assert.match(e.diagnostics[0].hint ?? "", /--dev/);
    return true;
  });
  assert.match((await renderWerfConfig({ dir, dev: true })).text, /^image: a$/m);
});

test("committed symlinks are followed inside the project and refused when they lead outside", async () => {
  const { root, dir } = repo({ "werf.yaml": 'configVersion: 1\nproject: p\n---\nimage: a\nfrom: {{ .Files.Get "link" | trim }}\n', "real/base.txt": "alpine\n" }, "proj");
  fs.symlinkSync("real/base.txt", path.join(dir, "link"));
  fs.symlinkSync("../../etc/passwd", path.join(dir, "escape"));
  fs.symlinkSync("/proc/self/environ", path.join(dir, "leak"));
  fs.writeFileSync(path.join(root, "secret.txt"), "outside the project but inside the repository");
  fs.symlinkSync("../secret.txt", path.join(dir, "up"));
  git(root, "add", "-A");
  git(root, "commit", "-qm", "links");
  assert.match((await renderWerfConfig({ dir })).text, /^from: alpine$/m);
  for (const name of ["escape", "leak", "up"]) {
    fs.writeFileSync(path.join(dir, "werf.yaml"), `configVersion: 1\nproject: p\n---\nimage: a\nfrom: {{ .Files.Get "${name}" }}\n`);
    git(root, "commit", "-qam", name);
    await assert.rejects(renderWerfConfig({ dir }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, new RegExp(`"${name}" is a symbolic link .* outside the project directory`));
      assert.doesNotMatch(e.message, /root:|PATH=|outside the project but inside/);
      return true;
    });
  }
});

test("plan: mapped files changed in the work tree are reported; --dev builds them, with digests of their own", async () => {
  const { dir } = repo({
    "werf.yaml": "configVersion: 1\nproject: p\n---\nimage: a\nfrom: alpine\ngit:\n- add: /src\n  to: /app\n  stageDependencies:\n    install: ['**/*']\nshell:\n  install: [make]\n",
    "src/main.c": "int main() {}\n",
    "docs/readme": "x",
  });
  write(dir, { "src/main.c": "int main() { return 1; }\n", "docs/readme": "y" });
  const opts = { dir, environ: {}, baseImages: assumedImageConfigResolver };
  const plan = await planProject(opts);
  assert.deepEqual(
    plan.warnings.map((w) => w.message).filter((m) => m.startsWith("uncommitted")),
    ["uncommitted changes are not used (werf reads the commit): src/main.c; commit them, or build the work tree as it is with --dev"],
  );
  const dev = await planProject({ ...opts, dev: true });
  assert.equal(dev.warnings.filter((w) => w.message.startsWith("uncommitted")).length, 0);
  const digests = (p: typeof plan) => p.images[0]!.stages.map((s) => s.digest);
  const committed = digests(plan);
  assert.equal(digests(dev).length, committed.length);
  for (const d of digests(dev)) assert.ok(!committed.includes(d), "no dev digest equals a committed one");
  assert.notEqual(dev.commit?.hash, plan.commit?.hash);
  const again = await planProject({ ...opts, dev: true });
  assert.deepEqual(digests(again), digests(dev), "the same work tree plans the same digests");
});

// werf-giterminism.yaml's allowUncommitted* keys (werf's pkg/giterminism_manager/config): an accepted path is read
// from the work tree as it is, untracked files included, and is not reported; everything else stays at the commit.
test("allowUncommitted, allowUncommittedTemplates, goTemplateRendering.allowUncommittedFiles read the work tree", async () => {
  const GITERMINISM = [
    "giterminismConfigVersion: 1",
    "config:",
    "  allowUncommitted: true",
    "  allowUncommittedTemplates: [.werf/live/*.tmpl]",
    "  goTemplateRendering:",
    "    allowUncommittedFiles: [base_images.yml, tools/includes]",
    "",
  ].join("\n");
  const CFG = [
    "configVersion: 1",
    "project: p",
    "---",
    'image: {{ .Files.Get "base_images.yml" | trim }}',
    "from: alpine",
    'shell: {install: [{{ include "live/a.tmpl" . }}, {{ include "fixed.tmpl" . }}]}',
    '# {{ range $p, $_ := .Files.Glob "tools/**/*.txt" }}{{ $p }} {{ end }}',
    '# {{ range $p, $_ := .Files.Glob "other/*.txt" }}{{ $p }} {{ end }}',
    '# exists {{ .Files.Exists "tools/includes/new.txt" }} {{ .Files.Exists "other/new.txt" }} {{ .Files.Get "other/a.txt" }}',
    "",
  ].join("\n");
  const { root, dir } = repo({
    "werf-giterminism.yaml": GITERMINISM,
    "werf.yaml": CFG,
    ".werf/live/a.tmpl": "echo live-committed",
    ".werf/fixed.tmpl": "echo fixed-committed",
    "base_images.yml": "committed\n",
    "tools/includes/a.txt": "a",
    "other/a.txt": "committed-a",
  }, "proj");
  write(dir, {
    "werf.yaml": CFG + "# edited werf.yaml\n",
    ".werf/live/a.tmpl": "echo live-edited",
    ".werf/fixed.tmpl": "echo fixed-edited",
    "base_images.yml": "generated\n",
    "tools/includes/new.txt": "untracked",
    "other/a.txt": "edited-a",
    "other/new.txt": "untracked",
  });
  fs.rmSync(path.join(dir, "tools/includes/a.txt"));
  const r = await renderWerfConfig({ dir });
  assert.match(r.text, /^# edited werf\.yaml$/m, "config.allowUncommitted: werf.yaml from the work tree");
  assert.match(r.text, /^image: generated$/m, "an accepted .Files.Get reads the work tree");
  assert.match(r.text, /install: \[echo live-edited, echo fixed-committed\]/, "only accepted templates come from the work tree");
  assert.match(r.text, /^# tools\/includes\/new\.txt $/m, "an accepted glob lists the work tree (untracked in, deleted out)");
  assert.match(r.text, /^# other\/a\.txt $/m, "other globs list the commit");
  assert.match(r.text, /^# exists true false committed-a$/m);
  assert.deepEqual(r.ignoredChanges, [".werf/fixed.tmpl", "other/a.txt", "other/new.txt"], "what was read from the work tree is not reported");
  assert.equal(r.giterminism.warnings.length, 0);

  // without the giterminism file (committed removal), everything is the commit's again
  git(root, "rm", "-q", "proj/werf-giterminism.yaml");
  git(root, "commit", "-qm", "no giterminism");
  const plain = await renderWerfConfig({ dir });
  assert.match(plain.text, /^image: committed$/m);
  assert.doesNotMatch(plain.text, /edited werf\.yaml/);
  assert.match(plain.text, /install: \[echo live-committed, echo fixed-committed\]/);
  assert.ok(plain.ignoredChanges.includes("werf.yaml") && plain.ignoredChanges.includes("base_images.yml"));
});

test("an accepted link must lead to an accepted path, as in werf", async () => {
  const { dir } = repo({
    "werf-giterminism.yaml": "giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowUncommittedFiles: [live/*]\n",
    "werf.yaml": 'configVersion: 1\nproject: p\n---\nimage: a\nfrom: {{ .Files.Get "live/link" | trim }}\n',
    "live/base": "alpine\n",
    "fixed/base": "busybox\n",
  });
  fs.symlinkSync("base", path.join(dir, "live/link"));
  assert.match((await renderWerfConfig({ dir })).text, /^from: alpine$/m, "an untracked accepted link to an accepted file");
  // an untracked link leading out of the project where nothing accepted lies is not read (the commit has none)
  fs.symlinkSync("/etc/passwd", path.join(dir, "outside.txt"));
  fs.writeFileSync(path.join(dir, "werf.yaml"), 'configVersion: 1\nproject: p\n---\nimage: a\nfrom: {{ .Files.Get "live/link" | trim }}\n# {{ range $p, $_ := .Files.Glob "**/*" }}{{ $p }} {{ end }}\n');
  git(dir, "add", "werf.yaml");
  git(dir, "commit", "-qm", "glob");
  assert.match((await renderWerfConfig({ dir })).text, /^# fixed\/base live\/base live\/link werf-giterminism\.yaml werf\.yaml $/m);
  fs.rmSync(path.join(dir, "outside.txt"));
  fs.rmSync(path.join(dir, "live/link"));
  fs.symlinkSync("../fixed/base", path.join(dir, "live/link"));
  await assert.rejects(renderWerfConfig({ dir }), /"live\/link" is a link to "fixed\/base", which config\.goTemplateRendering\.allowUncommittedFiles does not accept/);
});

test("Dockerfile images: contextAddFiles and what config.dockerfile accepts come from the work tree, in the digest, unreported", async () => {
  const CFG = "configVersion: 1\nproject: p\n---\nimage: web\ncontext: docker\ndockerfile: Dockerfile\ncontextAddFiles: [gen]\n";
  const { root, dir } = repo({
    "werf.yaml": CFG,
    "docker/Dockerfile": "FROM scratch\nCOPY . /\n",
    "docker/.dockerignore": "committed\n",
    "docker/app.txt": "committed\n",
  }, "proj");
  write(dir, { "docker/gen/a.txt": "generated\n", "docker/Dockerfile": "FROM scratch\nCOPY . /ctx\n", "docker/.dockerignore": "edited\n", "docker/app.txt": "edited\n" });
  const opts = { dir, environ: {}, baseImages: assumedImageConfigResolver };
  const contexts = async (plan: Awaited<ReturnType<typeof planProject>>) => {
    const out = tempDir("ctx");
    await writeDockerfileContexts(plan, out);
    const ctx = path.join(out, dockerfileContextFolder(plan.dockerfileImages[0]!));
    const read = (f: string) => fs.readFileSync(path.join(ctx, f), "utf8");
    return { Dockerfile: read("Dockerfile"), ignore: read(".dockerignore"), app: read("app.txt"), gen: read("gen/a.txt") };
  };
  const uncommitted = (p: Awaited<ReturnType<typeof planProject>>) => p.warnings.map((w) => w.message).filter((m) => m.startsWith("uncommitted"));
  const plain = await planProject(opts);
  assert.deepEqual(plain.dockerfileImages[0]!.worktreeFiles, ["gen"]);
  assert.deepEqual(await contexts(plain), { Dockerfile: "FROM scratch\nCOPY . /\n", ignore: "committed\n", app: "committed\n", gen: "generated\n" });
  assert.deepEqual(uncommitted(plain), ["uncommitted changes are not used (werf reads the commit): docker/.dockerignore, docker/Dockerfile, docker/app.txt; commit them, or build the work tree as it is with --dev"]);
  assert.ok(plain.warnings.some((w) => /^contextAddFile "docker\/gen" not allowed by giterminism: werf refuses it unless werf-giterminism\.yaml sets config\.dockerfile\.allowContextAddFiles/.test(w.message)));

  write(dir, { "docker/gen/a.txt": "generated again\n" });
  const regenerated = await planProject(opts);
  assert.notEqual(regenerated.dockerfileImages[0]!.digest, plain.dockerfileImages[0]!.digest, "a contextAddFiles edit changes the digest");

  write(dir, {
    "werf-giterminism.yaml": "giterminismConfigVersion: 1\nconfig:\n  dockerfile:\n    allowUncommitted: [docker/Dockerfile]\n    allowUncommittedDockerignoreFiles: [docker/.dockerignore]\n    allowContextAddFiles: [docker/gen]\n",
  });
  git(root, "add", "proj/werf-giterminism.yaml");
  git(root, "commit", "-qm", "giterminism");
  const allowed = await planProject(opts);
  assert.deepEqual(allowed.dockerfileImages[0]!.worktreeFiles, ["gen", "Dockerfile", ".dockerignore"]);
  assert.deepEqual(await contexts(allowed), { Dockerfile: "FROM scratch\nCOPY . /ctx\n", ignore: "edited\n", app: "committed\n", gen: "generated again\n" });
  assert.deepEqual(uncommitted(allowed), ["uncommitted changes are not used (werf reads the commit): docker/app.txt; commit them, or build the work tree as it is with --dev"]);
  assert.ok(!allowed.warnings.some((w) => /not allowed by giterminism/.test(w.message)));
  write(dir, { "docker/Dockerfile": "FROM scratch\nCOPY . /other\n" });
  assert.notEqual((await planProject(opts)).dockerfileImages[0]!.digest, allowed.dockerfileImages[0]!.digest, "an accepted Dockerfile's edit changes the digest");
  fs.rmSync(path.join(dir, "docker/.dockerignore"));
  const noIgnore = await planProject(opts);
  assert.notEqual(noIgnore.dockerfileImages[0]!.digest, allowed.dockerfileImages[0]!.digest);
  await assert.rejects(contexts(noIgnore), /ENOENT.*\.dockerignore/, "an accepted .dockerignore deleted in the work tree: the commit's copy is not used");
});

test("what werf's giterminism refuses for reproducibility is a warning naming the key; allowed, nothing", async () => {
  const CFG = [
    "configVersion: 1",
    "project: p",
    "---",
    "image: a",
    "from: alpine",
    "fromLatest: true",
    "git:",
    "- url: https://example.com/x.git",
    "  add: /",
    "  to: /x",
    "mount:",
    "- from: build_dir",
    "  to: /cache",
    "secrets:",
    "- id: sid",
    "  value: v",
    "",
  ].join("\n");
  const { root, dir } = repo({ "werf.yaml": CFG });
  const rendered = async () => {
    const r = await renderWerfConfig({ dir, environ: {} });
    return giterminismWarnings(loadWerfConfig(r), r.giterminism).map((w) => `${w.pos?.line}: ${w.message.split(":")[0]}`);
  };
  assert.deepEqual(await rendered(), [
    "4: fromLatest not allowed by giterminism",
    "8: git https",
    "12: \"mount { from",
    "15: secret \"sid\" (value) not allowed by giterminism",
  ]);
  write(dir, { "werf-giterminism.yaml": "giterminismConfigVersion: 1\nconfig:\n  stapel:\n    allowFromLatest: true\n    git: {allowBranch: true}\n    mount: {allowBuildDir: true}\n  secrets:\n    allowValueIds: [sid]\n" });
  git(root, "add", "-A");
  git(root, "commit", "-qm", "allow");
  assert.deepEqual(await rendered(), []);
});
