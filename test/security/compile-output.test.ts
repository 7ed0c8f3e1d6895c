// compile's output folder: a compile killed at any moment leaves the previous output complete (or, killed between
// its two renames, restorable, and the next compile restores it first); temporaries of dead runs are removed;
// an output folder that cannot be written is the user's problem (exit 1 with a hint), not an internal error.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { commitAll, git, tempDir, writeFile } from "../git/gitFixture.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const cli = path.join(repoRoot, "dist", "src", "cli", "main.js");

function project(files = 1): string {
  const dir = tempDir("sec-out");
  git(dir, "init", "-q", "-b", "main");
  writeFile(dir, "werf.yaml", "project: demo\nconfigVersion: 1\n---\nimage: app\nfrom: stapel2docker/base-busybox:latest\ngit:\n- add: /src\n  to: /app\nshell:\n  install: [echo hi]\n");
  for (let i = 0; i < files; i++) writeFile(dir, `src/d${i % 50}/f${i}.txt`, `file ${i}\n`.repeat(40));
  commitAll(dir, "init");
  return dir;
}

function compile(dir: string, out: string) {
  return spawnSync(process.execPath, [cli, "compile", "--dir", dir, "--out", out], { encoding: "utf8" });
}

/** Every file of a folder with its content, for comparing two outputs. */
function snapshot(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else m.set(r, fs.readFileSync(path.join(dir, r)).toString("base64"));
    }
  };
  walk("");
  return m;
}

const litter = (parent: string) => fs.readdirSync(parent).filter((n) => /\.(tmp|old)-/.test(n));

test("killed at any moment, compile leaves the previous output (or restores it on the next run) and no litter", async () => {
  const dir = project(4000);
  const parent = tempDir("sec-out-parent");
  const out = path.join(parent, "compiled");
  const first = compile(dir, out);
  assert.equal(first.status, 0, first.stderr);
  const reference = snapshot(out);
  let killedMidway = 0;
  for (const delay of [150, 300, 450, 600, 750, 900, 1050, 1200]) {
    const child = spawn(process.execPath, [cli, "compile", "--dir", dir, "--out", out], { stdio: "ignore" });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, delay));
    if (child.kill("SIGKILL")) killedMidway++;
    await exited;
    if (fs.existsSync(out)) {
      assert.deepEqual(snapshot(out), reference, `after a kill at ${delay} ms the output is the previous one`);
    } else {
      // killed between the two renames: the previous output waits complete under its `old` name
      const old = litter(parent).filter((n) => n.includes(".old-"));
      assert.equal(old.length, 1, `after a kill at ${delay} ms: ${litter(parent).join(", ")}`);
      assert.deepEqual(snapshot(path.join(parent, old[0]!)), reference);
    }
  }
  assert.ok(killedMidway > 0, "no compile was killed while running");
  const last = compile(dir, out);
  assert.equal(last.status, 0, last.stderr);
  assert.deepEqual(snapshot(out), reference);
  assert.deepEqual(litter(parent), [], "the next compile removed every temporary of the killed ones");
});

test("the states a kill leaves are cleaned by the next compile: restored output, dead temporaries removed", async () => {
  const dir = project(3);
  const parent = tempDir("sec-out-parent2");
  const out = path.join(parent, "compiled");
  assert.equal(compile(dir, out).status, 0);
  const reference = snapshot(out);
  // a pid that no longer runs
  const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
  // killed between the renames: OUT is gone, the previous output is under the old name, the new one half-written
  fs.renameSync(out, path.join(parent, `.compiled.old-${dead}-0badc0de`));
  fs.mkdirSync(path.join(parent, `.compiled.tmp-${dead}-AbC123/context`), { recursive: true });
  fs.writeFileSync(path.join(parent, `.compiled.tmp-${dead}-AbC123/Dockerfile`), "FROM half-written");
  // names that only look alike are not compile's and stay
  fs.mkdirSync(path.join(parent, ".compiled.tmp-notapid"));
  fs.mkdirSync(path.join(parent, `.other.tmp-${dead}-AbC123`));
  const r = compile(dir, out);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(snapshot(out), reference);
  assert.deepEqual(fs.readdirSync(parent).sort(), [".compiled.tmp-notapid", `.other.tmp-${dead}-AbC123`, "compiled"]);
});

test("an output folder that cannot be written is a user error with a hint (exit 1), and leaves nothing", () => {
  const dir = project(3);
  const parent = tempDir("sec-out-parent3");
  fs.writeFileSync(path.join(parent, "a-file"), "");
  for (const [out, why] of [
    [path.join(parent, "a-file", "out"), "a file is in the way"],
    ["/proc/stapel2docker-out", "the folder cannot be created there"],
  ] as const) {
    const r = compile(dir, out);
    assert.equal(r.status, 1, r.stderr);
    assert.ok(!r.stderr.includes("internal error"), r.stderr);
    assert.match(r.stderr, new RegExp(`^cannot write the output folder ${out.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: ${why}`, "m"));
    assert.match(r.stderr, /\n {4}hint: choose a writable --out; the previous output, if any, was left as it was\n$/);
  }
  assert.deepEqual(fs.readdirSync(parent), ["a-file"]);
});
