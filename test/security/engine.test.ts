// On the real engine: a git archive with an OpenShift-style numeric owner (uid/gid above what the 6-digit tar field
// holds) and names longer than ustar holds is extracted by BuildKit with the real ids and names.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../support/paths.js";
import { commitAll, git, tempDir, writeFile } from "../git/gitFixture.js";
import { planProject } from "../../src/plan/plan.js";
import { emitProject } from "../../src/emit/index.js";

function run(file: string, args: string[], cwd?: string, timeoutMs = 300_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout: timeoutMs, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(" ")} failed: ${String(error.code)}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

before(async () => {
  await run("bash", [path.join(repoRoot, "scripts/stack/up.sh")], undefined, 900_000);
});

test("BuildKit extracts a git archive owned by uid 1000650000 with that uid, long and non-ASCII names intact", async (t) => {
  const dir = tempDir("sec-engine");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  git(dir, "init", "-q", "-b", "main");
  const long = `${"d".repeat(80)}/${"e".repeat(80)}/${"f".repeat(120)}.txt`;
  writeFile(dir, "werf.yaml", "project: sec-engine\nconfigVersion: 1\n---\nimage: app\nfrom: stapel2docker/base-busybox:latest\ngit:\n- add: /src\n  to: /app\n  owner: 1000650000\n  group: 1000650001\n");
  writeFile(dir, "src/a.txt", "a\n");
  writeFile(dir, `src/${long}`, "long\n");
  writeFile(dir, "src/ünï/日本.txt", "unicode\n");
  commitAll(dir, "init");
  const plan = await planProject({ dir, environ: {} });
  const out = path.join(dir, ".stapel2docker");
  await emitProject(plan, { out });
  await run(path.join(out, "build.sh"), [], dir);
  const image = `${plan.project}:${plan.images[0]!.slug}-${plan.images[0]!.digest}`;
  const listing = await run("docker", ["run", "--rm", "--entrypoint", "/bin/sh", image, "-c", "cd /app && find . -exec stat -c '%u:%g %n' {} + | sort"]);
  const [d1, d2] = long.split("/");
  assert.deepEqual(
    listing.trim().split("\n"),
    [".", "./a.txt", `./${d1}`, `./${d1}/${d2}`, `./${long}`, "./ünï", "./ünï/日本.txt"].map((p) => `1000650000:1000650001 ${p}`).sort(),
  );
});

test("a mount of a project folder named like a git reference is read from that folder, never cloned (bake named contexts)", async (t) => {
  const dir = tempDir("sec-engine-ctx");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  git(dir, "init", "-q", "-b", "main");
  const salt = `${process.pid}-${Date.now()}`;
  // buildx reads `git@host:repo.git` as a git source (cloned with the build's forwarded ssh agent) and refuses
  // `github.com/x/y` and `dir/x.git` as context specifiers, unless the value says it is a local folder
  const folders = ["git@github.com:x/y.git", "github.com/x/y", "vendor/lib.git"];
  writeFile(
    dir,
    "werf.yaml",
    `project: sec-engine-ctx\nconfigVersion: 1\n---\nimage: app\nfrom: stapel2docker/base-busybox:latest\nmount:\n` +
      folders.map((f, i) => `- fromPath: ${JSON.stringify(f)}\n  to: /m${i}\n`).join("") +
      `shell:\n  install:\n  - cat /m0/f /m1/f /m2/f > /read.txt; true ${salt}\n`,
  );
  folders.forEach((f, i) => writeFile(dir, `${f}/f`, `folder ${i}\n`));
  commitAll(dir, "init");
  const plan = await planProject({ dir, environ: {} });
  const out = path.join(dir, ".stapel2docker");
  await emitProject(plan, { out });
  await run(path.join(out, "build.sh"), [], dir);
  const image = `${plan.project}:${plan.images[0]!.slug}-${plan.images[0]!.digest}`;
  assert.equal(await run("docker", ["run", "--rm", "--entrypoint", "/bin/cat", image, "/read.txt"]), "folder 0\nfolder 1\nfolder 2\n");
});
