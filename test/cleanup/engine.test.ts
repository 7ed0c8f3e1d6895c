// (BuildKit leaves cache mount ids out of a RUN's cache key: each project's RUN text is its own, so that every
// project's build_dir cache is really written.)
// cleanup, purge and host cleanup on the real engine and the local registry (127.0.0.1:5000, delete enabled), with a
// real git history: 6 commits on two branches, a tag, the branch deleted. Each test has its own repository path
// and project name, so other tests' tags and images are never seen.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { buildProject, type BuildReport } from "../../src/builder/index.js";
import { RegistryClient } from "../../src/registry/index.js";
import { lockFile } from "../../src/storage/lock.js";
import { tempDir, writeFile } from "../git/gitFixture.js";
import { run, sh, stackUp, uniqueRepo } from "../builder/support.js";
import { repoRoot } from "../support/paths.js";

before(async () => {
  await stackUp();
});

const cli = path.join(repoRoot, "dist/src/cli/main.js");
const T0 = 1_780_000_000; // commit times: increasing, in the past

function werfYaml(project: string, cleanup = true, remote?: string): string {
  return `project: ${project}
configVersion: 1
${cleanup ? `cleanup:
  keepImagesBuiltWithinLastNHours: 0
  keepPolicies:
  - references:
      branch: /.*/
    imagesPerReference:
      last: 2
  - references:
      tag: /.*/
` : ""}---
image: app
from: stapel2docker/base-busybox:latest
git:
- add: /src
  to: /app
  stageDependencies:
    install: ["**/*"]
${remote ? `- url: ${remote}\n  add: /\n  to: /lib\n` : ""}mount:
- from: build_dir
  to: /var/cache/runs
shell:
  install:
  - cat /app/version.txt > /built.txt
  - echo run ${project} >> /var/cache/runs/log
`;
}

/** A git repository whose commits have increasing committer times. */
function gitRepo(dir: string) {
  let n = 0;
  const g = (...args: string[]) => {
    const t = `${T0 + n * 3600} +0000`;
    return execFileSync("git", args, {
      cwd: dir,
      encoding: "utf8",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com",
        GIT_AUTHOR_DATE: t, GIT_COMMITTER_DATE: t, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1",
      },
    }).trim();
  };
  return {
    g,
    commit(version: string, cwd = dir): string {
      n++;
      writeFile(cwd, "src/version.txt", `${version}\n`);
      const t = `${T0 + n * 3600} +0000`;
      const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com", GIT_AUTHOR_DATE: t, GIT_COMMITTER_DATE: t, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
      execFileSync("git", ["add", "-A"], { cwd, env });
      execFileSync("git", ["commit", "-q", "-m", version], { cwd, env });
      return execFileSync("git", ["rev-parse", "HEAD"], { cwd, env, encoding: "utf8" }).trim();
    },
  };
}

async function tagsOverHttp(repo: string): Promise<string[]> {
  const p = repo.slice("127.0.0.1:5000/".length);
  const out = await run("curl", ["-s", `http://127.0.0.1:5000/v2/${p}/tags/list`]);
  return ((JSON.parse(out) as { tags?: string[] | null }).tags ?? []).sort();
}

interface Env {
  labels: string;
  locks: string;
  tmp: string;
}

function envOf(e: Env): NodeJS.ProcessEnv {
  return { ...process.env, XDG_CACHE_HOME: e.labels, STAPEL2DOCKER_LOCK_DIR: e.locks, TMPDIR: e.tmp };
}

async function build(dir: string, repo: string, e: Env): Promise<BuildReport> {
  return buildProject({ dir, repo, environ: {}, lockDir: e.locks, labelCacheDir: path.join(e.labels, "stapel2docker", "stage-labels"), gitCacheDir: path.join(e.labels, "stapel2docker", "git"), buildOutput: "ignore", log: () => {} });
}

interface CleanupJson {
  dryRun: boolean;
  tags: { tag: string; action: string; reason: string; kind: string }[];
  delete: { digest: string; tags: string[] }[];
  deleted: string[];
  totals: { deleteTags: number; bytes: number; manifests: number };
  references: { ref: string; kind: string }[];
}

async function cleanup(dir: string, repo: string, e: Env, ...args: string[]): Promise<CleanupJson> {
  return JSON.parse(await run(process.execPath, [cli, "cleanup", "--dir", dir, "--repo", repo, "--json", ...args], { env: envOf(e) })) as CleanupJson;
}

test("cleanup keeps the images of the commits the policies keep (and their chains), deletes the rest; builds during cleanup succeed", async (t) => {
  const root = tempDir("cleanup");
  const dir = path.join(root, "project");
  mkdirSync(dir);
  const e: Env = { labels: path.join(root, "cache"), locks: path.join(root, "locks"), tmp: path.join(root, "tmp") };
  mkdirSync(e.tmp);
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const project = `cl-${randomBytes(4).toString("hex")}`;
  const repo = uniqueRepo("app");
  const r = gitRepo(dir);
  r.g("init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", werfYaml(project));
  writeFile(dir, "src/readme.txt", "hello\n");

  // main: m1 (tag v1) - m2 - m3 - m4; feature from m2: f1 - f2, then deleted
  const built = new Map<string, BuildReport>();
  const at = async (name: string, version: string) => {
    r.commit(version);
    built.set(name, await build(dir, repo, e));
  };
  await at("m1", "m1");
  r.g("tag", "v1");
  await at("m2", "m2");
  r.g("checkout", "-q", "-b", "feature");
  await at("f1", "f1");
  await at("f2", "f2");
  r.g("checkout", "-q", "main");
  await at("m3", "m3");
  await at("m4", "m4");
  r.g("branch", "-q", "-D", "feature");
  const finalOf = (n: string) => built.get(n)!.images[0].tags[0];
  const stagesOf = (n: string) => built.get(n)!.images[0].stages.map((s) => s.tag.split(":").pop()!);
  const before = await tagsOverHttp(repo);
  assert.equal(before.filter((x) => x.startsWith("meta-")).length, 6, "one build record per commit");

  // --dry-run: the plan, nothing deleted
  const dry = await cleanup(dir, repo, e, "--dry-run");
  assert.equal(dry.dryRun, true);
  assert.deepEqual(await tagsOverHttp(repo), before, "a dry run deletes nothing");
  const text = await run(process.execPath, [cli, "cleanup", "--dir", dir, "--repo", repo, "--dry-run"], { env: envOf(e) });
  assert.match(text, /branch \/\.\*\/ \(images per reference last 2\)/);
  assert.match(text, /delete\? .*: no kept image needs it/);
  assert.match(text, /keep   .*part of image app of commit [0-9a-f]{12}, kept by tag v1/);
  assert.match(text, /dry run: would delete [0-9]+ tag\(s\) in [0-9]+ manifest\(s\)/);
  const kept = ["m1", "m3", "m4"];
  const gone = ["m2", "f1", "f2"];
  const doomed = new Set(dry.tags.filter((x) => x.action === "delete").map((x) => x.tag));
  for (const n of kept) for (const tag of [...stagesOf(n), finalOf(n).split(":").pop()!]) assert.ok(!doomed.has(tag), `${n}: ${tag} kept`);
  for (const n of gone) assert.ok(doomed.has(finalOf(n).split(":").pop()!), `${n}: final tag deleted`);
  assert.deepEqual(dry.references.map((x) => `${x.kind}:${x.ref}`), ["branch:main", "tag:v1"]);

  // cleanup while another build runs (a new branch, in its own worktree): both succeed
  const wt = path.join(root, "hotfix");
  r.g("worktree", "add", "-q", "-b", "hotfix", wt, "main");
  r.commit("h1", wt);
  const [first, hot] = await Promise.all([cleanup(dir, repo, e), build(wt, repo, e)]);
  assert.equal(first.dryRun, false);
  assert.ok(first.deleted.length > 0);
  assert.equal(await sh(hot.images[0].tags[0], "cat /built.txt"), "h1\n");

  const after = new Set(await tagsOverHttp(repo));
  for (const n of kept) {
    for (const tag of stagesOf(n)) assert.ok(after.has(tag), `${n}: stage ${tag} still there`);
    assert.equal(await sh(finalOf(n), "cat /built.txt"), `${n}\n`, `${n} still pulls and runs`);
  }
  for (const n of gone) {
    assert.ok(!after.has(finalOf(n).split(":").pop()!), `${n}: final tag deleted`);
    const last = stagesOf(n).pop()!;
    assert.ok(!after.has(last), `${n}: its own stage deleted`);
  }
  assert.equal([...after].filter((x) => x.startsWith("meta-")).length, 4, "records of m1, m3, m4 and h1 left");

  // a second cleanup deletes nothing
  const second = await cleanup(dir, repo, e);
  assert.deepEqual(second.delete, []);
  assert.deepEqual(second.deleted, []);
  assert.deepEqual(new Set(await tagsOverHttp(repo)), after);
});

/** A client that deletes `victim` (a full reference) right after the `at`-th tag listing. */
class Racing extends RegistryClient {
  calls = 0;
  constructor(readonly victim: () => string, readonly at = 1) {
    super();
  }
  override async listTags(repo: string, opts?: { pageSize?: number }): Promise<string[]> {
    const tags = await super.listTags(repo, opts);
    if (++this.calls === this.at) {
      const h = await this.headManifest(this.victim());
      await this.deleteManifest(`${repo}@${h!.digest}`);
      // and from the daemon's store, where buildx's docker driver would find it first
      execFileSync("docker", ["rmi", this.victim()], { stdio: "ignore" });
    }
    return tags;
  }
}

test("a stage deleted between the build's listing and its use is built again", async (t) => {
  const root = tempDir("cleanup-vanish");
  const e: Env = { labels: path.join(root, "cache"), locks: path.join(root, "locks"), tmp: root };
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = path.join(root, "p");
  mkdirSync(dir);
  const r = gitRepo(dir);
  r.g("init", "-q", "-b", "main");
  const project = `cv-${randomBytes(4).toString("hex")}`;
  writeFile(dir, "werf.yaml", werfYaml(project, false));
  r.commit("one");
  const repo = uniqueRepo("app");
  const first = await build(dir, repo, e);
  const opts = { dir, repo, environ: {}, lockDir: e.locks, labelCacheDir: null, buildOutput: "ignore" as const };

  // a stage whose git commits are read from its labels: found gone while choosing, so built
  const install = first.images[0].stages.find((s) => s.stage === "install")!.tag;
  const again = await buildProject({ ...opts, log: () => {}, client: new Racing(() => install) });
  assert.equal(again.images[0].stages.find((s) => s.stage === "install")!.status, "built");
  assert.equal(await sh(again.images[0].tags[0], "cat /built.txt"), "one\n");

  // a plain stage under a stage to build: buildx fails to pull it, the build starts over and builds it
  writeFile(dir, "werf.yaml", `project: ${project}
configVersion: 1
---
image: app
from: stapel2docker/base-busybox:latest
shell:
  beforeInstall:
  - echo before > /before.txt
  install:
  - echo one > /built.txt
`);
  r.commit("plain");
  const plain = await build(dir, repo, e);
  const before = plain.images[0].stages.find((s) => s.stage === "beforeInstall")!.tag;
  writeFile(dir, "werf.yaml", readFileSync(path.join(dir, "werf.yaml"), "utf8").replace("echo one", "echo two"));
  r.commit("two");
  const logs: string[] = [];
  const raced = await buildProject({ ...opts, log: (l) => logs.push(l), client: new Racing(() => before, 2) }); // after the listing made under the lock
  assert.ok(logs.some((l) => /disappeared from the registry after it was listed .*: building again/.test(l)), logs.join("\n"));
  assert.deepEqual(raced.images[0].stages.map((s) => [s.stage, s.status]), [["from", "reused"], ["beforeInstall", "built"], ["install", "built"]]);
  assert.equal(await sh(raced.images[0].tags[0], "cat /before.txt /built.txt"), "before\ntwo\n");
});

test("purge needs --yes and deletes the project's tags only; a registry without delete gets a clear error", async (t) => {
  const root = tempDir("purge");
  const e: Env = { labels: path.join(root, "cache"), locks: path.join(root, "locks"), tmp: root };
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = path.join(root, "p");
  mkdirSync(dir);
  const r = gitRepo(dir);
  r.g("init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", werfYaml(`cp-${randomBytes(4).toString("hex")}`, false));
  r.commit("one");
  const repo = uniqueRepo("app");
  await build(dir, repo, e);
  const c = new RegistryClient();
  await c.copyTag(`${repo}:${(await c.listTags(repo)).find((x) => x.startsWith("app-"))!}`, "someone-elses");
  await assert.rejects(run(process.execPath, [cli, "purge", "--dir", dir, "--repo", repo], { env: envOf(e) }), /add --yes to confirm/);
  // a repository with an old stage of the project but no build record: cleanup refuses, deletes nothing
  const bare = uniqueRepo("app");
  const stage = (await c.listTags(repo)).find((x) => /^[0-9a-f]{56}-[0-9]+$/.test(x))!;
  await c.copyTag(`${repo}:${stage}`, `${bare}:${stage.slice(0, 56)}-1000`);
  await assert.rejects(run(process.execPath, [cli, "cleanup", "--dir", dir, "--repo", bare], { env: envOf(e) }), /no build record of this project.*nothing was deleted/s);
  assert.deepEqual(await tagsOverHttp(bare), [`${stage.slice(0, 56)}-1000`]);
  const out = JSON.parse(await run(process.execPath, [cli, "purge", "--dir", dir, "--repo", repo, "--yes", "--json"], { env: envOf(e) })) as CleanupJson;
  assert.ok(out.deleted.length > 0);
  // the foreign tag shares the final stage's manifest: that manifest stays, everything else goes
  // (the toolchain image the build pushed, `toolchain-<hex>`, stays: docs/builders.md)
  const left = (await tagsOverHttp(repo)).filter((x) => !x.startsWith("toolchain-"));
  assert.ok(left.includes("someone-elses"));
  assert.ok(left.every((x) => !x.startsWith("meta-")));
  assert.ok(left.length <= 3, left.join(" "));

  // a registry with deletion disabled: a second docker-registry on a free port
  const reg = await startRegistry(root, false);
  t.after(() => reg.stop());
  const repo2 = `127.0.0.1:${reg.port}/p/app`;
  await c.pushBlob(repo2, Buffer.from("{}"));
  const { recordManifest, recordTag } = await import("../../src/cleanup/records.js");
  const rec = { project: "p", image: "app", commit: "a".repeat(40), commitTime: 1, finalStage: "x-1", stages: [], tags: [] };
  const digest = await c.putManifest(`${repo2}:${recordTag(rec)}`, { mediaType: "application/vnd.oci.image.manifest.v1+json", body: recordManifest(rec) });
  await assert.rejects(c.deleteManifest(`${repo2}@${digest}`), (err: Error) =>
    /refuses to delete manifests \(405/.test(err.message) && /127\.0\.0\.1:[0-9]+/.test(err.message) && /delete: enabled: true/.test((err as { diagnostics?: { hint?: string }[] }).diagnostics?.[0]?.hint ?? ""));
});

/** A docker-registry process of our own (the stack's binary and config style), deletion on or off. */
async function startRegistry(root: string, del: boolean): Promise<{ port: number; stop(): void }> {
  const { spawn } = await import("node:child_process");
  const net = await import("node:net");
  const port: number = await new Promise((res) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
  const d = path.join(root, `registry-${port}`);
  mkdirSync(d, { recursive: true });
  const cfg = path.join(d, "config.yml");
  writeFileSync(cfg, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${d}/data\n  delete:\n    enabled: ${del}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const bin = existsSync("/usr/bin/docker-registry") ? "/usr/bin/docker-registry" : "registry";
  const child = spawn(bin, ["serve", cfg], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    try {
      await run("curl", ["-sf", `http://127.0.0.1:${port}/v2/`]);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { port, stop: () => child.kill() };
}

test("host cleanup removes this project's local data and leaves another project's untouched", async (t) => {
  const root = tempDir("host-cleanup");
  const e: Env = { labels: path.join(root, "cache"), locks: path.join(root, "locks"), tmp: path.join(root, "tmp") };
  mkdirSync(e.tmp);
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const mk = async (name: string) => {
    const dir = path.join(root, name);
    mkdirSync(dir);
    const r = gitRepo(dir);
    r.g("init", "-q", "-b", "main");
    const project = `ch-${name}-${randomBytes(4).toString("hex")}`;
    // a remote git mapping of its own (a bare repository served through file://)
    const remote = path.join(root, `${name}-remote.git`);
    const src = path.join(root, `${name}-remote-src`);
    mkdirSync(src);
    const rr = gitRepo(src);
    rr.g("init", "-q", "-b", "main");
    rr.commit(`lib of ${name}`);
    rr.g("clone", "-q", "--bare", src, remote);
    // werf.yaml may name network URLs only (a local path is refused): the operator's url.<base>.insteadOf serves
    // the URL from the bare repository, as docs/remote-git.md describes
    const url = `https://git.example/${project}.git`;
    const n = Number(process.env.GIT_CONFIG_COUNT ?? "0");
    process.env[`GIT_CONFIG_KEY_${n}`] = `url.file://${remote}.insteadOf`;
    process.env[`GIT_CONFIG_VALUE_${n}`] = url;
    process.env.GIT_CONFIG_COUNT = String(n + 1);
    writeFile(dir, "werf.yaml", werfYaml(project, false, url));
    r.commit(name);
    const repo = uniqueRepo(name);
    const report = await build(dir, repo, e);
    await build(dir, repo, e); // a no-op build reads the stored stages' labels: the label cache has entries
    // a build folder left by a killed build, a day old
    const tmp = path.join(e.tmp, `stapel2docker-build-${name}`);
    writeFile(tmp, "Dockerfile", `LABEL "io.stapel2docker.project"=${JSON.stringify(project)}\n`);
    utimesSync(tmp, new Date(Date.now() - 48 * 3600_000), new Date(Date.now() - 48 * 3600_000));
    // the stage locks, unused for two hours
    for (const s of report.images[0].stages) {
      const f = lockFile(e.locks, repo, s.digest);
      if (!existsSync(f)) writeFileSync(f, "");
      utimesSync(f, new Date(Date.now() - 2 * 3600_000), new Date(Date.now() - 2 * 3600_000));
    }
    return { dir, project, repo, report, tmp };
  };
  const a = await mk("a");
  const b = await mk("b");
  const images = (project: string) => execFileSync("docker", ["images", "-q", "--filter", `label=io.stapel2docker.project=${project}`], { encoding: "utf8" }).split("\n").filter(Boolean);
  assert.ok(images(a.project).length > 0 && images(b.project).length > 0, "builds leave local images");
  // BuildKit's cache records of each project's build_dir mount (docker buildx du names the mount id)
  const cacheRecords = (project: string) =>
    execFileSync("docker", ["buildx", "du", "--verbose"], { encoding: "utf8", maxBuffer: 256 << 20 }).split(/\n(?=ID:\s)/).filter((b) => b.includes(`with id "/stapel2docker-${project}-build-dir-`)).length;
  assert.equal(cacheRecords(a.project), 1, "a's build_dir cache exists");
  assert.equal(cacheRecords(b.project), 1, "b's build_dir cache exists");
  const labelFiles = (repo: string) => {
    const d = path.join(e.labels, "stapel2docker", "stage-labels");
    return existsSync(d) ? readdirSync(d).filter((f) => readFileSync(path.join(d, f), "utf8").includes(`"repo":${JSON.stringify(repo)}`)) : [];
  };
  assert.ok(labelFiles(b.repo).length > 0, "label cache entries exist");
  const host = (...args: string[]) => run(process.execPath, [cli, "host", "cleanup", "--dir", a.dir, "--repo", a.repo, ...args], { env: envOf(e) });

  const dry = JSON.parse(await host("--dry-run", "--json")) as { items: { kind: string; name: string; action: string }[] };
  assert.ok(dry.items.some((i) => i.kind === "image" && i.action === "remove"));
  assert.ok(dry.items.some((i) => i.kind === "build-cache" && i.action === "remove"));
  assert.ok(dry.items.some((i) => i.kind === "temporary" && i.name === a.tmp && i.action === "remove"));
  assert.ok(dry.items.some((i) => i.kind === "lock" && i.action === "remove"));
  const clones = () => readdirSync(path.join(e.labels, "stapel2docker", "git")).filter((f) => f.endsWith(".git")).sort();
  assert.equal(clones().length, 2, "each project's remote mapping is cloned");
  assert.equal(dry.items.filter((i) => i.kind === "remote-git" && i.action === "remove").length, 1);
  assert.ok(!JSON.stringify(dry).includes(b.project) && !JSON.stringify(dry).includes(b.repo), "nothing of b is listed");
  assert.ok(images(a.project).length > 0 && existsSync(a.tmp), "a dry run removes nothing");

  const text = await host();
  assert.match(text, /removed [0-9]+ item\(s\)/);
  assert.deepEqual(images(a.project), [], "a's local images removed");
  assert.ok(images(b.project).length > 0, "b's local images untouched");
  assert.equal(cacheRecords(a.project), 0, "a's build_dir cache removed");
  assert.equal(cacheRecords(b.project), 1, "b's build_dir cache untouched");
  assert.ok(!existsSync(a.tmp) && existsSync(b.tmp));
  for (const s of a.report.images[0].stages) assert.ok(!existsSync(lockFile(e.locks, a.repo, s.digest)));
  for (const s of b.report.images[0].stages) assert.ok(existsSync(lockFile(e.locks, b.repo, s.digest)));
  assert.equal(labelFiles(a.repo).length, 0);
  assert.equal(clones().length, 1, "a's clone removed, b's kept");
  assert.ok(!dry.items.some((i) => i.kind === "remote-git" && clones().includes(path.basename(i.name))));
  assert.ok(labelFiles(b.repo).length > 0);
  // the images still come from the registry: a's build is a no-op again
  const again = await build(a.dir, a.repo, e);
  assert.equal(again.bake, false);
});
