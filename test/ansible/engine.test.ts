// End to end: real corpus configs with ansible stages, built with build.sh (docker buildx bake) on the local
// engine. The corpus folder is copied, its `from:` images rewritten to the local Debian image (nothing can be
// pulled), its git files synthesized (test/corpus/synth-repo.ts), then planned, emitted and built; `docker run`
// checks that the tasks' effects are in the images.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { sharedDir, sharedMissing } from "../support/paths.js";
import { synthesizeRepo, type SynthRepo } from "../corpus/synth-repo.js";
import { planProject } from "../../src/plan/plan.js";
import { emitProject } from "../../src/emit/index.js";
import type { Plan } from "../../src/plan/model.js";
import { IMAGE_PLAIN, setupImages } from "./equiv.js";

const exec = promisify(execFile);
const corpus = path.join(sharedDir, "corpus");

/** Every `from:` of the config (whatever the image) becomes the local Debian image. */
export function rewriteFrom(text: string, image: string): string {
  return text.replace(/^(\s*)from:[ \t]*\S.*$/gm, (_m, indent: string) => `${indent}from: ${image}`);
}

interface Built {
  plan: Plan;
  tag(image: string): string;
  run(image: string, script: string, user?: string): Promise<string>;
}

const cleanups: (() => void)[] = [];

async function buildCorpus(folder: string, environ: Record<string, string>, edit: (text: string) => string = (t) => t): Promise<Built> {
  const src = fs.mkdtempSync(path.join(os.tmpdir(), "s2d-ansible-e2e-"));
  cleanups.push(() => fs.rmSync(src, { recursive: true, force: true }));
  const copy = path.join(src, folder);
  fs.cpSync(path.join(corpus, folder), copy, { recursive: true });
  // werf's giterminism lets `{{ env }}` read only allowed variables (its e2e suites allowed theirs): allow the
  // ones the test sets, in the project's own werf-giterminism.yaml, as a project would
  const names = Object.keys(environ);
  if (names.length > 0)
    fs.writeFileSync(
      path.join(copy, "werf-giterminism.yaml"),
      `giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowEnvVariables: [${names.join(", ")}]\n`,
    );
  const werfYaml = path.join(copy, "werf.yaml");
  const original = fs.readFileSync(werfYaml, "utf8");
  const rewritten = edit(rewriteFrom(original, IMAGE_PLAIN));
  assert.notEqual(rewritten, original, "the config names base images");
  fs.writeFileSync(werfYaml, rewritten);
  const synth: SynthRepo = await synthesizeRepo(copy, { environ });
  cleanups.push(() => synth.cleanup());
  assert.ok(synth.config, `${folder} loads: ${synth.failure?.error.message}`);
  const plan = await planProject({ dir: synth.dir, environ: { ...environ }, gitCacheDir: synth.gitCacheDir });
  const out = path.join(synth.dir, ".stapel2docker");
  await emitProject(plan, { out });
  try {
    await exec(path.join(out, "build.sh"), [], { cwd: synth.root, maxBuffer: 1 << 26, timeout: 900_000 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    assert.fail(`build.sh of ${folder} failed:\n${(err.stdout ?? "").slice(-4000)}\n${(err.stderr ?? "").slice(-4000)}`);
  }
  const tag = (image: string) => {
    const p = plan.images.find((i) => i.name === image);
    assert.ok(p, `image ${image} planned`);
    return `${plan.project}:${p.slug}-${p.digest}`;
  };
  return {
    plan,
    tag,
    run: async (image, script, user) =>
      (await exec("docker", ["run", "--rm", "--network", "none", ...(user ? ["--user", user] : []), "--entrypoint", "/bin/bash", tag(image), "-c", script])).stdout,
  };
}

describe("corpus ansible configs built on the real engine", { timeout: 1_800_000, skip: sharedMissing("corpus") }, () => {
  before(async () => {
    await setupImages();
  }, { timeout: 1_500_000 });
  after(() => {
    for (const c of cleanups.reverse()) c();
  });

  const CLEANUP = "werf__werf__test-legacy_e2e-suites-cleanup_after_converge-_fixtures-default";
  const CLEANUP_ENV = { ARTIFACT_CACHE_VERSION: "1", ARTIFACT_DATA: "artifact-data" };
  test("cleanup_after_converge fixture as written: file + copy tasks, an import from an artifact defined after the image", { timeout: 900_000 }, async () => {
    const b = await buildCorpus(CLEANUP, CLEANUP_ENV);
    assert.equal((await b.run("backend", "stat -c '%a %U:%G %F' /app")).trim(), "755 root:root directory");
    // a plain multi-line YAML scalar: its lines folded into one, written as is (no newline added)
    assert.equal(await b.run("backend", "cat /app/index.html"),
      '<!DOCTYPE html> <html> <body> <h2>Congratulations!</h2> <img src="https://flant.com/images/logo_en.png" style="max-height:100%;" height="76"> </body> </html>');
    assert.equal((await b.run("backend", "stat -c '%a %U:%G' /app/index.html")).trim(), "644 root:root");
    assert.equal(await b.run("backend", "cat /artifact"), "artifact-data\n", "the artifact's file imported before setup");
    assert.equal((await b.run("backend", "ls -A /.stapel 2>/dev/null | wc -l")).trim(), "0", "the toolchain is not left in the image");
  });

  test("become_user fixture: group, user (uid, group, comment), a shell task run as that user", { timeout: 900_000 }, async () => {
    const b = await buildCorpus("werf__werf__test-legacy_e2e-suites-ansible-become_user", {});
    const image = b.plan.images[0]!.name;
    assert.equal((await b.run(image, "id testuser")).trim(), "uid=1040(testuser) gid=1000(testgroup) groups=1000(testgroup)");
    assert.equal((await b.run(image, "getent passwd testuser | cut -d: -f5-")).trim(), "Test User:/home/testuser:/bin/sh");
    assert.equal((await b.run(image, "stat -c '%U:%G' /home/testuser")).trim(), "testuser:testgroup");
  });
});
