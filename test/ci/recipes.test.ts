// docs/ci.md's recipes, run step by step against the local stack by scripts/ci/run-recipe.mjs (login, install from
// a packed tarball, build, report, cleanup); docs/ci.md shows the recipe files as they are.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { tempDir } from "../git/gitFixture.js";
import { repoRoot } from "../support/paths.js";
import { stackUp } from "../builder/support.js";

const runner = path.join(repoRoot, "scripts/ci/run-recipe.mjs");
let tgz = "";
let work = "";

before(async () => {
  await stackUp();
  work = tempDir("ci-pack");
  const src = path.join(work, "src");
  for (const f of ["src", "docs", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "README.md"]) {
    cpSync(path.join(repoRoot, f), path.join(src, f), { recursive: true });
  }
  symlinkSync(path.join(repoRoot, "node_modules"), path.join(src, "node_modules"));
  execFileSync("npm", ["pack", "--silent", "--pack-destination", work], { cwd: src, stdio: "ignore" });
  tgz = path.join(work, readdirSync(work).find((f) => f.endsWith(".tgz"))!);
});

process.on("exit", () => work && rmSync(work, { recursive: true, force: true }));

function runRecipe(kind: string, file: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [runner, kind, path.join(repoRoot, file), "--package", tgz], { encoding: "utf8", maxBuffer: 64 << 20, timeout: 600_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

test("docs/ci.md shows each recipe file verbatim", () => {
  const doc = readFileSync(path.join(repoRoot, "docs/ci.md"), "utf8");
  for (const f of ["docs/ci/github-actions.yml", "docs/ci/gitlab-ci.yml"]) {
    assert.ok(doc.includes("```yaml\n" + readFileSync(path.join(repoRoot, f), "utf8") + "```"), `${f} is in docs/ci.md as it is`);
  }
});

for (const [kind, file, report] of [["github", "docs/ci/github-actions.yml", "build-report.json"], ["gitlab", "docs/ci/gitlab-ci.yml", "build-report.env"]] as const) {
  test(`${kind} recipe: login, install, build, report, cleanup against the local stack`, (t) => {
    const r = runRecipe(kind, file);
    if (r.status !== 0 && /E(NOTCACHED|NOTFOUND|AI_AGAIN)/.test(r.out)) {
      t.skip("skipped: the npm registry is unreachable and npm's cache lacks the dependencies");
      return;
    }
    assert.equal(r.status, 0, r.out.split("\n").slice(-60).join("\n"));
    assert.match(r.out, /^Login Succeeded$/m);
    assert.match(r.out, /^stapel2docker: listed \d+ tag\(s\) of 127\.0\.0\.1:5000\/s2d-ci-[0-9a-f]+\/app /m);
    assert.match(r.out, new RegExp(`^ci: report ${report.replace(".", "\\.")}: 1 final image\\(s\\), all in the registry: 127\\.0\\.0\\.1:5000/s2d-ci-[0-9a-f]+/app:backend-[0-9a-f]{56}$`, "m"));
    // werf's %image% custom tag, from the recipe's WERF_ADD_CUSTOM_TAG_1
    assert.match(r.out, /^backend: 127\.0\.0\.1:5000\/s2d-ci-[0-9a-f]+\/app:backend-main$/m);
    assert.match(r.out, /^ci: cleanup: \d+ manifest\(s\) of .* deleted from the registry/m);
    assert.match(r.out, /^ci: recipe passed$/m);
    if (kind === "gitlab") assert.match(r.out, /^deploying 127\.0\.0\.1:5000\/s2d-ci-[0-9a-f]+\/app:backend-[0-9a-f]{56}$/m);
    // nothing of it is left in the registry
    const repo = /of 127\.0\.0\.1:5000\/(s2d-ci-[0-9a-f]+\/app) deleted/.exec(r.out)![1];
    const tags = JSON.parse(execFileSync("curl", ["-fsS", `http://127.0.0.1:5000/v2/${repo}/tags/list`], { encoding: "utf8" })) as { tags: string[] | null };
    assert.deepEqual(tags.tags ?? [], []);
  });
}
