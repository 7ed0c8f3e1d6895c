// A command longer than BuildKit reads in one Dockerfile line (64 KiB, heredoc lines included) still builds: the
// RUN's script becomes a file of the build context, bind-mounted and run by the toolchain's bash.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { planProject } from "../../src/plan/plan.js";
import { emitProject } from "../../src/emit/index.js";
import { git, tempDir, writeFile } from "../git/gitFixture.js";
import { run, stackUp } from "../builder/support.js";

before(async () => {
  await stackUp();
});

test("a 200 KB command: no Dockerfile line over 64 KiB, the script in the context, the command runs whole", async (t) => {
  const dir = tempDir("long-script");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const payload = "x".repeat(200_000);
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", [
    "project: longscript",
    "configVersion: 1",
    "---",
    "image: app",
    "from: stapel2docker/base-busybox:latest",
    "shell:",
    "  install:",
    `  - printf %s "${payload}" | wc -c > /len.txt; echo ${process.pid}-${Date.now()} > /salt.txt`,
    "  - echo second >> /len.txt",
    "",
  ].join("\n"));
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "long");
  const plan = await planProject({ dir, environ: {} });
  const out = path.join(dir, ".stapel2docker");
  await emitProject(plan, { out, repo: "longscript" });
  const dockerfile = readFileSync(path.join(out, "Dockerfile"), "utf8");
  for (const l of dockerfile.split("\n")) assert.ok(Buffer.byteLength(l) <= 65535, `a line of ${Buffer.byteLength(l)} bytes`);
  assert.match(dockerfile, /--mount=type=bind,source=scripts\/[0-9a-f]{16}\.sh,target=\/\.stapel-script/);
  assert.match(dockerfile, /\["\/\.stapel\/bin\/bash","-e","\/\.stapel-script"\]/);
  const scripts = readdirSync(path.join(out, "context", "scripts"));
  assert.equal(scripts.length, 1);
  const script = readFileSync(path.join(out, "context", "scripts", scripts[0]!), "utf8");
  assert.equal(scripts[0], `${createHash("sha256").update(script).digest("hex").slice(0, 16)}.sh`, "named by its content");
  assert.ok(script.includes(payload));
  await run(path.join(out, "build.sh"), [], { cwd: dir });
  const tag = `longscript:app-${plan.images[0]!.digest}`;
  assert.equal(await run("docker", ["run", "--rm", tag, "cat", "/len.txt"]), "200000\nsecond\n");
});
