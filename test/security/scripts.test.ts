// Generated scripts: nothing from a path, a name or werf.yaml reaches build.sh (or a patch RUN's comment) unquoted.
// build.sh is run for real with a `docker` that prints its arguments: the arguments arrive intact and nothing
// hidden in the output folder's name runs.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/diagnostics.js";
import { emitProject } from "../../src/emit/index.js";
import { shellComment } from "../../src/shell/quote.js";
import { planProject } from "../../src/plan/plan.js";
import type { PlanOptions } from "../../src/plan/model.js";
import { commitAll, git, tempDir, writeFile } from "../git/gitFixture.js";

const assumed: PlanOptions["baseImages"] = { resolve: async () => ({ user: "", workdir: "", source: "assumed" }) };

test("shellComment keeps one line whatever the text holds", () => {
  assert.equal(shellComment("# a\nb\r\u0085c\u2028d\u0000e\u007f"), "# a?b??c?d?e?");
  assert.equal(shellComment("# ünïcødé → /app"), "# ünïcødé → /app");
});

test("build.sh quotes the output path everywhere, comments included, and runs bake with it intact", async () => {
  const dir = tempDir("sec-script");
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", "project: demo\nconfigVersion: 1\n---\nimage: app\nfrom: stapel2docker/base-busybox:latest\nshell:\n  install: [echo hi]\n");
  commitAll(dir, "init");
  const plan = await planProject({ dir, baseImages: assumed, environ: {} });
  const evil = "out dir; touch PWNED1 # $(touch PWNED2)`touch PWNED3`'; touch PWNED4; '\"";
  const res = await emitProject(plan, { out: evil });
  const script = fs.readFileSync(path.join(res.out, "build.sh"), "utf8");
  // every line is a comment, a fixed command, or holds the path only inside single quotes
  for (const line of script.split("\n")) {
    if (line === "" || line.startsWith("#") || line === "#!/bin/sh" || line === "set -e") continue;
    assert.ok(line.startsWith("cd ") || line.startsWith("exec docker buildx bake -f '"), `unexpected line: ${JSON.stringify(line)}`);
  }
  // a line break cannot be written on one line: refused before anything is written
  await assert.rejects(emitProject(plan, { out: "out\ntouch PWNED1" }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.message, 'output folder "out\\ntouch PWNED1" contains a line break or another control character\n    hint: choose an --out path without control characters');
    return true;
  });
  assert.ok(!fs.existsSync(path.join(dir, "out\ntouch PWNED1")));
  // run it with a docker that records its arguments, from another directory
  const bin = tempDir("sec-bin");
  const record = path.join(bin, "args");
  fs.writeFileSync(path.join(bin, "docker"), `#!/bin/sh\npwd > '${record}'\nfor a in "$@"; do printf '%s\\0' "$a" >> '${record}'; done\n`, { mode: 0o755 });
  execFileSync(path.join(res.out, "build.sh"), ["--print", "x y"], { cwd: bin, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
  const [cwdLine, ...args] = fs.readFileSync(record, "utf8").split("\n");
  assert.equal(fs.realpathSync(cwdLine!), fs.realpathSync(dir));
  assert.deepEqual(args.join("\n").split("\0").slice(0, -1), ["buildx", "bake", "-f", `${evil}/docker-bake.json`, "--print", "x y"]);
  for (const d of [dir, bin, res.out]) for (const n of [1, 2, 3, 4]) assert.ok(!fs.existsSync(path.join(d, `PWNED${n}`)), `PWNED${n} in ${d}`);
});

test("build.sh finds the project from an --out outside it, whatever the current directory", async () => {
  const dir = tempDir("sec-script2");
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", "project: demo\nconfigVersion: 1\n---\nimage: app\nfrom: stapel2docker/base-busybox:latest\n");
  commitAll(dir, "init");
  const plan = await planProject({ dir, baseImages: assumed, environ: {} });
  const out = path.join(tempDir("sec-out"), "compiled");
  await emitProject(plan, { out });
  const bin = tempDir("sec-bin2");
  fs.writeFileSync(path.join(bin, "docker"), `#!/bin/sh\npwd\n`, { mode: 0o755 });
  const pwd = execFileSync(path.join(out, "build.sh"), [], { cwd: "/", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: "utf8" }).trim();
  assert.equal(fs.realpathSync(pwd), fs.realpathSync(dir));
});
