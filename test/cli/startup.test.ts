// Start-up loads only what the command needs (issue #13): `--version` loads nothing but the entry point, `--help`
// and every command's definitions load no pipeline module, and a command loads its own modules when it runs.
// The modules a run loaded are recorded by a module-loader hook (node:module register), not timed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot } from "../support/paths.js";

const cli = path.join(repoRoot, "dist", "src", "cli", "main.js");
const dist = pathToFileURL(path.join(repoRoot, "dist")).href + "/";

/** Runs the CLI with a loader hook that appends every loaded module's URL to a log; the project-relative paths of
 *  the modules under dist/ and the package names under node_modules/ are returned. */
function loadedBy(args: string[], cwd?: string): { code: number | null; stdout: string; modules: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "s2d-startup-"));
  try {
    const log = path.join(dir, "loaded.log");
    fs.writeFileSync(
      path.join(dir, "hooks.mjs"),
      `import { appendFileSync } from "node:fs";\nexport async function load(url, context, next) {\n  appendFileSync(${JSON.stringify(log)}, url + "\\n");\n  return next(url, context);\n}\n`,
    );
    fs.writeFileSync(path.join(dir, "register.mjs"), `import { register } from "node:module";\nregister("./hooks.mjs", import.meta.url);\n`);
    const r = spawnSync(process.execPath, ["--import", pathToFileURL(path.join(dir, "register.mjs")).href, cli, ...args], {
      encoding: "utf8",
      cwd: cwd ?? dir,
      env: { PATH: process.env.PATH ?? "", HOME: dir },
    });
    const urls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter((l) => l !== "") : [];
    const modules = urls.flatMap((u) => {
      if (u.startsWith(dist)) return [u.slice(dist.length)];
      const nm = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
      return nm ? [`npm:${nm[1]}`] : [];
    });
    return { code: r.status, stdout: r.stdout, modules: [...new Set(modules)] };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Folders of the pipeline that no command definition needs. */
const HEAVY = /^src\/(template|config|git|plan\/(?!model\.js)|emit\/(?!dependencies\.js)|dockerfile|bake|storage|builder|registry|docker|project|ansible|introspect\/(?!cli\.js))/;

test("--version loads the entry point and the version, nothing else", () => {
  for (const flag of ["--version", "-V"]) {
    const r = loadedBy([flag]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
    assert.deepEqual(r.modules, ["src/cli/main.js", "src/version.js"]);
  }
});

test("--help and the command definitions load commander and no pipeline module", () => {
  for (const args of [["--help"], ["build", "--help"], ["compile", "--help"], ["toolchain", "--help"]]) {
    const r = loadedBy(args);
    assert.equal(r.code, 0, args.join(" "));
    assert.ok(r.modules.includes("npm:commander"), args.join(" "));
    const heavy = r.modules.filter((m) => HEAVY.test(m) || (m.startsWith("npm:") && m !== "npm:commander"));
    assert.deepEqual(heavy, [], `${args.join(" ")} loaded ${heavy.join(", ")}`);
  }
});

test("a command loads its own modules when it runs, not the other commands'", () => {
  const r = loadedBy(["toolchain"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^FROM /m, "toolchain prints its Dockerfile");
  assert.ok(r.modules.includes("src/toolchain/toolchain.js"));
  const others = r.modules.filter((m) => /^src\/(template|config|git|plan\/plan\.js|emit\/index\.js|builder|storage|registry)/.test(m));
  assert.deepEqual(others, [], `toolchain loaded ${others.join(", ")}`);
});

test("build arguments the no-op cache may answer before the commands load; anything else goes to the full command", async () => {
  const { parseNoopBuildArgs } = await import("../../src/cli/build-noop.js");
  assert.deepEqual(parseNoopBuildArgs(["--repo", "r/p", "--dir=x", "a", "--strict-env", "--", "--b"]), {
    opts: { dir: "x", repo: "r/p", strictEnv: true },
    images: ["a", "--b"],
  });
  // werf's report needs the images' digests from the registry: the full command writes it
  assert.equal(parseNoopBuildArgs(["--repo", "r/p", "--report", "f.json"]), undefined);
  assert.deepEqual(parseNoopBuildArgs(["--repo", "r/p", "--parallel", "2"]), { opts: { dir: ".", repo: "r/p" }, images: [] });
  // --platform is part of the entry's key, parsed as the full command parses it
  assert.deepEqual(parseNoopBuildArgs(["--repo", "r/p", "--platform", "linux/arm64, linux/amd64,linux/arm64"]), { opts: { dir: ".", repo: "r/p", platform: ["linux/arm64", "linux/amd64"] }, images: [] });
  for (const args of [
    [], // --repo is required
    ["--repo", "r/p", "--dev"],
    ["--repo", "r/p", "--add-tag", "latest"],
    ["--repo", "r/p", "--print"],
    ["--repo", "r/p", "--ssh", "default"],
    ["--repo", "r/p", "--introspect-error"],
    ["--repo", "r/p", "--help"],
    ["--repo"],
    ["--repo", "--dir"],
    ["--repo", "r/p", "--parallel", "0"],
    ["--repo", "r/p", "--platform", "amd64"],
  ]) {
    assert.equal(parseNoopBuildArgs(args), undefined, args.join(" "));
  }
});

test("build with an unknown option falls through to commander's error (not the no-op cache)", () => {
  const r = spawnSync(process.execPath, [cli, "build", "--repo", "127.0.0.1:1/x/y", "--no-such-option"], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), XDG_CACHE_HOME: process.env.XDG_CACHE_HOME ?? os.tmpdir() } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /unknown option '--no-such-option'/);
});
