// Options from the environment (src/cli/env.ts): STAPEL2DOCKER_* and werf's variables, flag > env, werf's tag
// shortcuts, werf's report variables, bad values named after their variable; --help lists them.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Command } from "commander";
import { buildProgram } from "../../src/cli/program.js";
import { UserError } from "../../src/diagnostics.js";
import { reportPath } from "../../src/cli/build.js";

/** Parses `build ARGS` with `environ` as the environment; returns the options the action would get. */
async function buildOpts(args: string[], environ: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (/^(STAPEL2DOCKER_|WERF_|BUILDKIT_PROGRESS)/.test(k)) delete process.env[k];
  Object.assign(process.env, environ);
  try {
    const program = buildProgram();
    const build = program.commands.find((c: Command) => c.name() === "build")!;
    let got: Record<string, unknown> = {};
    build.action((_images: string[], opts: Record<string, unknown>) => {
      got = opts;
    });
    await program.parseAsync(["node", "stapel2docker", "build", ...args]);
    return got;
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

test("env: STAPEL2DOCKER_* and werf's variables set build's options; a flag wins over both", async () => {
  const o = await buildOpts([], {
    WERF_REPO: "127.0.0.1:5000/werf/app",
    WERF_ENV: "staging",
    WERF_DIR: "/tmp/x",
    WERF_DEV: "true",
    STAPEL2DOCKER_PARALLEL: "2",
    STAPEL2DOCKER_PROGRESS: "plain",
    WERF_LOG_QUIET: "1",
    STAPEL2DOCKER_SSH_KEY_B: "/k/b",
    STAPEL2DOCKER_SSH_KEY_A: "/k/a",
  });
  assert.equal(o.repo, "127.0.0.1:5000/werf/app");
  assert.equal(o.env, "staging");
  assert.equal(o.dir, "/tmp/x");
  assert.equal(o.dev, true);
  assert.equal(o.parallel, 2);
  assert.equal(o.progress, "plain");
  assert.equal(o.quiet, true);
  assert.deepEqual(o.sshKey, ["/k/a", "/k/b"]);
  // STAPEL2DOCKER_ beats WERF_; the flag beats both
  assert.equal((await buildOpts([], { WERF_REPO: "r/werf", STAPEL2DOCKER_REPO: "r/ours" })).repo, "r/ours");
  const f = await buildOpts(["--repo", "r/flag", "--env", "prod", "--add-tag", "x"], { WERF_REPO: "r/werf", WERF_ENV: "staging", WERF_ADD_CUSTOM_TAG_1: "y" });
  assert.equal(f.repo, "r/flag");
  assert.equal(f.env, "prod");
  assert.deepEqual(f.addTag, ["x"]);
  // werf's repository variables (--cache-repo, --secondary-repo, --final-repo, --platform)
  const r = await buildOpts([], { WERF_CACHE_REPO_2: "c/two", WERF_CACHE_REPO_1: "c/one", WERF_SECONDARY_REPO_A: "s/a", WERF_FINAL_REPO: "f/x", WERF_PLATFORM: "linux/amd64,linux/arm64" });
  assert.deepEqual(r.cacheRepo, ["c/one", "c/two"]);
  assert.deepEqual(r.secondaryRepo, ["s/a"]);
  assert.equal(r.finalRepo, "f/x");
  assert.deepEqual(r.platform, ["linux/amd64", "linux/arm64"]);
  // nothing set: the defaults
  const d = await buildOpts([], {});
  assert.equal(d.repo, undefined);
  assert.equal(d.dir, ".");
  assert.deepEqual(d.addTag, []);
});

test("env: werf's WERF_ADD_CUSTOM_TAG_* in name order, %image% shortcuts become {image}; the content-based tag is refused", async () => {
  const o = await buildOpts([], { WERF_ADD_CUSTOM_TAG_2: "%image_slug%-two", WERF_ADD_CUSTOM_TAG_1: "%image%-one", WERF_ADD_CUSTOM_TAG_3: "latest" });
  assert.deepEqual(o.addTag, ["{image}-one", "{image}-two", "latest"]);
  assert.deepEqual((await buildOpts([], { STAPEL2DOCKER_ADD_TAG: "a {image}-b" })).addTag, ["a", "{image}-b"]);
  await assert.rejects(buildOpts([], { WERF_ADD_CUSTOM_TAG_1: "%image_content_based_tag%" }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /WERF_ADD_CUSTOM_TAG_1=.*%image_content_based_tag% has no equivalent/);
    return true;
  });
});

test("env: werf's WERF_SAVE_BUILD_REPORT / WERF_BUILD_REPORT_PATH (and flags) give the report's path; WERF_PARALLEL_TASKS_LIMIT=-1 is no limit", async () => {
  const report = async (args: string[], env: NodeJS.ProcessEnv) => reportPath(await buildOpts(args, env));
  assert.equal(await report([], { WERF_SAVE_BUILD_REPORT: "1" }), ".werf-build-report.json");
  assert.equal(await report([], { WERF_SAVE_BUILD_REPORT: "true", WERF_BUILD_REPORT_PATH: "out/r.env" }), "out/r.env");
  assert.equal(await report([], { WERF_BUILD_REPORT_PATH: "out/r.env" }), undefined);
  assert.equal(await report([], { STAPEL2DOCKER_REPORT: "mine.json", WERF_SAVE_BUILD_REPORT: "1" }), "mine.json");
  // werf's flags, as a script written for `werf build` passes them
  assert.equal(await report(["--save-build-report", "--build-report-path", "r.env"], {}), "r.env");
  assert.equal(await report(["--save-build-report"], {}), ".werf-build-report.json");
  assert.equal((await buildOpts([], { WERF_PARALLEL_TASKS_LIMIT: "-1" })).parallel, undefined);
  assert.equal((await buildOpts([], { WERF_PARALLEL_TASKS_LIMIT: "3" })).parallel, 3);
});

test("env: a bad value is an error naming its variable (choices, numbers, booleans)", async () => {
  const bad = async (env: NodeJS.ProcessEnv, re: RegExp) =>
    assert.rejects(buildOpts([], env), (e: unknown) => {
      assert.ok(e instanceof UserError, String(e));
      assert.match(e.message, re);
      return true;
    });
  await bad({ STAPEL2DOCKER_PARALLEL: "many" }, /^STAPEL2DOCKER_PARALLEL="many" \(--parallel\): --parallel "many": expected a whole number/);
  await bad({ BUILDKIT_PROGRESS: "fancy" }, /^BUILDKIT_PROGRESS="fancy" \(--progress\): .*Allowed choices are auto, tty, plain, rawjson, quiet/);
  await bad({ WERF_DEV: "maybe" }, /^WERF_DEV="maybe": expected true or false/);
});

test("env: build --help lists every option's variables", () => {
  const build = buildProgram().commands.find((c: Command) => c.name() === "build")!;
  let help = "";
  build.configureOutput({ writeOut: (s) => (help += s) });
  build.outputHelp();
  assert.match(help, /^Environment \(a flag on the command line wins/m);
  for (const re of [/--repo +STAPEL2DOCKER_REPO, WERF_REPO$/m, /--add-tag +.*WERF_ADD_CUSTOM_TAG_\*/m, /--env +STAPEL2DOCKER_ENV, WERF_ENV$/m, /--progress +STAPEL2DOCKER_PROGRESS, BUILDKIT_PROGRESS$/m]) {
    assert.match(help, re);
  }
  // every long option of build has a line
  for (const o of build.options) if (o.long && o.long !== "--help") assert.match(help, new RegExp(`^  ${o.long} `, "m"), o.long);
});

test("env: envSetsOptions tells the no-op fast path (which reads only the command line) to leave the build to the full command", async () => {
  const { envSetsOptions } = await import("../../src/cli/env.js");
  assert.equal(envSetsOptions({ PATH: "/bin", HOME: "/root" }), false);
  assert.equal(envSetsOptions({ WERF_ENV: "" }), false);
  assert.equal(envSetsOptions({ WERF_ENV: "production" }), true);
  assert.equal(envSetsOptions({ WERF_ADD_CUSTOM_TAG_1: "%image%-x" }), true);
  assert.equal(envSetsOptions({ STAPEL2DOCKER_QUIET: "1" }), true);
  // how a bake would be shown does not matter to a no-op build
  assert.equal(envSetsOptions({ BUILDKIT_PROGRESS: "plain" }), false);
  // a bad value: the full command reports it
  assert.equal(envSetsOptions({ WERF_ADD_CUSTOM_TAG_1: "%image_content_based_tag%" }), true);
});
