// Golden fixtures: fixtures/compile/<case>/{werf.yaml, make-repo.sh} → the expected Dockerfile and
// docker-bake.json beside them. `UPDATE_GOLDEN=1 npm test -- golden` rewrites the expected files (review
// the diff like code). Each case is also compiled twice and in a second clone: byte-identical output;
// and its Dockerfile is parsed with dockerfile-ast and its stage graph checked.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from "node:fs";
import path from "node:path";
import { tempDir } from "../git/gitFixture.js";
import { planProject } from "../../src/plan/plan.js";
import { emitProject } from "../../src/emit/index.js";
import { planForCompile } from "../../src/emit/platforms.js";
import { platformStageName } from "../../src/bake/write.js";
import type { PlanOptions } from "../../src/plan/model.js";
import { dockerfileStages, graphProblems } from "../emit/dockerfileGraph.js";
import { casesDir, compileCases, makeCaseRepo } from "./cases.js";

const update = process.env.UPDATE_GOLDEN === "1";
const assumed: PlanOptions["baseImages"] = { resolve: async () => ({ user: "", workdir: "", source: "assumed" }) };

async function compile(repo: string, out: string) {
  // as the compile command plans (images of several platforms per platform)
  const { plan, platforms } = await planForCompile({ dir: repo, baseImages: assumed, environ: {} }, planProject);
  await emitProject(plan, { out, ...(platforms.length ? { platforms } : {}) });
  return { plan, platforms };
}

function listFiles(dir: string, prefix = ""): string[] {
  return readdirSync(path.join(dir, prefix))
    .flatMap((n) => {
      const rel = prefix ? `${prefix}/${n}` : n;
      return statSync(path.join(dir, rel)).isDirectory() ? listFiles(dir, rel) : [rel];
    })
    .sort();
}

function golden(name: string, file: string, actual: string): void {
  const p = path.join(casesDir, name, file);
  if (update || !existsSync(p)) {
    writeFileSync(p, actual);
    if (!update) assert.fail(`${p} did not exist: written, review and commit it`);
    return;
  }
  assert.equal(actual, readFileSync(p, "utf8"), `${name}/${file} differs from the golden file (UPDATE_GOLDEN=1 to rewrite)`);
}

for (const name of compileCases()) {
  test(`golden: ${name}`, async (t) => {
    const tmp = tempDir(`golden-${name}`);
    t.after(() => rmSync(tmp, { recursive: true, force: true }));
    const repo = makeCaseRepo(name, tmp);
    const out = path.join(repo, ".stapel2docker");
    const { plan, platforms } = await compile(repo, out);

    const dockerfile = readFileSync(path.join(out, "Dockerfile"), "utf8");
    const bake = readFileSync(path.join(out, "docker-bake.json"), "utf8");
    golden(name, "Dockerfile", dockerfile);
    golden(name, "docker-bake.json", bake);
    // the generated Dockerfiles of Dockerfile images with imageSpec
    for (const f of listFiles(out).filter((f) => f.startsWith("dockerfile-imagespec/"))) {
      golden(name, `imagespec-${f.split("/")[1]}.Dockerfile`, readFileSync(path.join(out, f), "utf8"));
    }

    // the stage graph: every FROM / --from= resolves to an earlier stage, a named context or an image
    const stages = dockerfileStages(dockerfile);
    const bakeJson = JSON.parse(bake) as { group: { default: { targets: string[] } }; target: Record<string, { target?: string; contexts?: Record<string, string> }> };
    const contexts = Object.values(bakeJson.target).flatMap((t) => Object.keys(t.contexts ?? {}));
    assert.deepEqual(graphProblems(stages, contexts, (ref) => ref.includes("/") || ref.includes(":")), []);
    const names = new Set(stages.map((s) => s.name));
    for (const img of plan.images) {
      // an image of several platforms: each platform's stages, and its last stage picking the platform's
      const own = img.perPlatform?.platforms.map((p) => p.platform) ?? [];
      for (const s of img.stages) {
        if (own.length === 0) assert.ok(names.has(s.target), `stage ${s.target} in the Dockerfile`);
        for (const p of own) assert.ok(names.has(platformStageName(s.target, p)), `stage ${platformStageName(s.target, p)} in the Dockerfile`);
      }
      if (own.length) assert.ok(names.has(img.stages[img.stages.length - 1].target), `${img.name}'s platform-picking stage`);
    }
    for (const [tname, target] of Object.entries(bakeJson.target)) {
      if (target.target && plan.images.some((i) => i.slug === tname)) assert.ok(names.has(target.target), `bake target ${tname} → ${target.target}`);
    }
    // the final images; with images of several platforms also every stage, pushed under its stage tag
    const finals = [...plan.images.filter((i) => i.final).map((i) => i.slug), ...plan.dockerfileImages.filter((d) => d.image.final).map((d) => d.target)];
    const stageTargets = bakeJson.group.default.targets.filter((t) => !finals.includes(t));
    assert.deepEqual([...bakeJson.group.default.targets].filter((t) => finals.includes(t)).sort(), [...finals].sort());
    if (platforms.length === 0) assert.deepEqual(stageTargets, []);
    for (const t of stageTargets) assert.match(JSON.stringify(bakeJson.target[t]), /:[0-9a-f]{56}-\$\{STAPEL_STAGE_MS\}"/, `${t} pushes a stage tag`);

    // determinism: again into another directory, and from a second clone
    const out2 = path.join(tmp, "out2");
    await compile(repo, out2);
    const clone = path.join(tmp, "clone");
    execFileSync("git", ["clone", "-q", repo, clone]);
    const out3 = path.join(clone, ".stapel2docker");
    await compile(clone, out3);
    const files = listFiles(out);
    assert.deepEqual(listFiles(out3), files);
    for (const f of files) {
      assert.ok(readFileSync(path.join(out3, f)).equals(readFileSync(path.join(out, f))), `${f} is byte-identical in a second clone`);
    }
    for (const f of ["Dockerfile", ...files.filter((f) => f.startsWith("context/"))]) {
      assert.ok(readFileSync(path.join(out2, f)).equals(readFileSync(path.join(out, f))), `${f} is byte-identical when compiled twice`);
    }
  });
}
