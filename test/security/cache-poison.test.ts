// The persistent cache is shared by every branch built on a machine: what one branch leaves there must never become
// another branch's output. A branch author controls file names and contents; the victim's compile, warmed by the
// attacker's, must write exactly the bytes a compile without the cache writes (archives, Dockerfile, digests).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { git, tempDir } from "../git/gitFixture.js";
import { repoRoot } from "../support/paths.js";

const cli = path.join(repoRoot, "dist", "src", "cli", "main.js");

/** Every file below `dir` (relative path → content, base64), links as their targets. */
function snapshot(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.isSymbolicLink()) m.set(r, `-> ${fs.readlinkSync(path.join(dir, r))}`);
      else m.set(r, fs.readFileSync(path.join(dir, r)).toString("base64"));
    }
  };
  walk("");
  return m;
}

function compile(dir: string, out: string, cacheDir?: string): Map<string, string> {
  const env = { ...process.env, ...(cacheDir ? { STAPEL2DOCKER_CACHE_DIR: cacheDir } : { STAPEL2DOCKER_CACHE: "off" }) };
  const r = spawnSync(process.execPath, [cli, "compile", "--dir", dir, "--out", out], { encoding: "utf8", env });
  assert.equal(r.status, 0, r.stderr);
  // the files that name the output folder differ by it; the Dockerfile and the context must not
  const snap = snapshot(out);
  for (const k of [...snap.keys()]) if (!k.startsWith("context/") && k !== "Dockerfile") snap.delete(k);
  return snap;
}

/** Writes a file by its raw name (a Buffer: not necessarily UTF-8) below `dir`; its folder exists. */
function put(dir: string, name: Buffer, content: string | Buffer): void {
  fs.writeFileSync(Buffer.concat([Buffer.from(dir + "/"), name]), content);
}

test("a branch with hostile file names cannot leave its content in another branch's cached archives", () => {
  const dir = tempDir("sec-poison");
  git(dir, "init", "-q", "-b", "main");
  fs.writeFileSync(
    path.join(dir, "werf.yaml"),
    "project: p\nconfigVersion: 1\n---\nimage: app\nfrom: stapel2docker/base-busybox:latest\ngit:\n- add: /src\n  to: /app\n  stageDependencies:\n    install: ['**/*']\nshell:\n  install: [echo hi]\n",
  );
  fs.mkdirSync(path.join(dir, "src", "a"), { recursive: true });
  for (let i = 0; i < 20; i++) put(dir, Buffer.from(`src/a/f${i}`), `f${i}\n`);
  // names that are not UTF-8, above U+FFFF, in the private use area, with line breaks, quotes, `${}` and `%{}`
  const hostile = [
    Buffer.from("src/\xff-latin", "latin1"),
    Buffer.from("src/\xfe-latin", "latin1"),
    Buffer.from("src/😀emoji"),
    Buffer.from("src/\ue000pua"),
    Buffer.from("src/nl\nname"),
    Buffer.from("src/q\"'$`${x}%{y}"),
    Buffer.from("src/" + "L".repeat(200)),
  ];
  for (const n of hostile) put(dir, n, `attacker ${n.toString("hex")}\n`);
  git(dir, "add", "-A");
  git(dir, "commit", "-qm", "attacker");
  const attacker = git(dir, "rev-parse", "HEAD").trim();
  // the victim's branch changes some of those files, adds one and removes one
  put(dir, hostile[0]!, "victim latin\n");
  put(dir, hostile[4]!, "victim nl\n");
  put(dir, Buffer.from("src/zz-new"), "new\n");
  fs.writeFileSync(path.join(dir, "src/a/f7"), "victim f7\n");
  fs.rmSync(Buffer.concat([Buffer.from(dir + "/"), hostile[1]!]));
  git(dir, "add", "-A");
  git(dir, "commit", "-qm", "victim");
  const victim = git(dir, "rev-parse", "HEAD").trim();

  const cache = tempDir("sec-poison-cache");
  const outs = tempDir("sec-poison-out");
  git(dir, "checkout", "-q", attacker);
  compile(dir, path.join(outs, "a"), cache);
  git(dir, "checkout", "-q", victim);
  const warmed = compile(dir, path.join(outs, "v1"), cache);
  const cold = compile(dir, path.join(outs, "v2"));
  assert.ok([...cold.keys()].some((k) => k.endsWith(".tar")), "the victim's output holds its git archive");
  assert.deepEqual(warmed, cold, "the victim's output with the attacker's cache entries is the output without a cache");
  // and back: the attacker's commit again, from the victim's entries
  git(dir, "checkout", "-q", attacker);
  assert.deepEqual(compile(dir, path.join(outs, "a2"), cache), compile(dir, path.join(outs, "a3")));
});
