#!/usr/bin/env node
// Runs a CI recipe of docs/ci/ against the local stack, step by step, as its CI would: the steps' own text, with
// the CI's variables set to local values (the registry 127.0.0.1:5000 under a repository of its own).
//   node scripts/ci/run-recipe.mjs github docs/ci/github-actions.yml [--package TGZ] [--keep]
//   node scripts/ci/run-recipe.mjs gitlab docs/ci/gitlab-ci.yml     [--package TGZ] [--keep]
// The "project" is a git repository holding examples/ (WERF_DIR=examples/basic is added, as the example sits in a
// sub-folder). stapel2docker is installed by the recipe's own step from TGZ (default: `npm pack` of a copy of this
// checkout) into a temp npm prefix; `docker login` writes to a temp DOCKER_CONFIG. GitHub: `uses:` steps are the
// runner's (checkout, setup-node: done by this script; upload-artifact: the path must exist), `${{ }}` takes
// github.*, secrets.*, vars.* and `a || 'b'`. GitLab: jobs in stage order, before_script + script in one shell,
// after_script always, a dotenv report passed to the jobs that need it.
// Afterwards every final image of the build report must be in the registry; then what the run made is removed (the
// repository's manifests in the registry, its images in the daemon, the temp folder). Exit code 0 when all passed.
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const [kind, recipeFile, ...rest] = process.argv.slice(2);
if (!["github", "gitlab"].includes(kind) || !recipeFile) {
  console.error("usage: run-recipe.mjs github|gitlab RECIPE.yml [--package TGZ] [--keep]");
  process.exit(2);
}
const opt = (name) => (rest.includes(name) ? rest[rest.indexOf(name) + 1] : undefined);
const keep = rest.includes("--keep");
const REGISTRY = "127.0.0.1:5000";
const say = (l) => process.stdout.write(`ci: ${l}\n`);
const recipe = parse(fs.readFileSync(recipeFile, "utf8"));

const work = fs.mkdtempSync(path.join(os.tmpdir(), "s2d-ci-"));
const project = `s2d-ci-${randomBytes(4).toString("hex")}/app`;
const repo = `${REGISTRY}/${project}`;
let failed = false;

try {
  // the project: a git repository holding the example
  const checkout = path.join(work, "checkout");
  fs.mkdirSync(checkout);
  fs.cpSync(path.join(root, "examples"), path.join(checkout, "examples"), { recursive: true });
  const git = (...a) => execFileSync("git", a, { cwd: checkout, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "ci", GIT_AUTHOR_EMAIL: "ci@example.org", GIT_COMMITTER_NAME: "ci", GIT_COMMITTER_EMAIL: "ci@example.org" } }).trim();
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-q", "-m", "example");
  const sha = git("rev-parse", "HEAD");

  const pkg = opt("--package") ?? packCheckout();
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(STAPEL2DOCKER_|WERF_|BUILDKIT_PROGRESS|CI_|GITHUB_)/.test(k)));
  const env = {
    ...base,
    DOCKER_CONFIG: path.join(work, "docker-config"),
    npm_config_prefix: path.join(work, "prefix"),
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    npm_config_prefer_offline: "true",
    PATH: `${path.join(work, "prefix", "bin")}:${process.env.PATH}`,
    STAPEL2DOCKER_PACKAGE: pkg,
    STAPEL2DOCKER_LOCK_DIR: path.join(work, "locks"),
    WERF_DIR: "examples/basic",
    CI: "true",
  };
  const runShell = (script, vars, label) => {
    const t0 = Date.now();
    say(`step: ${label}`);
    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], { cwd: checkout, env: vars, stdio: "inherit" });
    say(`step: ${label}: ${r.status === 0 ? "ok" : `FAILED (exit ${r.status})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return r.status === 0;
  };

  const reportFile = kind === "github" ? runGithub(checkout, env, sha, runShell) : runGitlab(checkout, env, sha, runShell);
  if (!failed) checkReport(path.join(checkout, reportFile));
} catch (e) {
  failed = true;
  say(`error: ${e instanceof Error ? e.message : String(e)}`);
} finally {
  cleanup();
}
say(failed ? "recipe FAILED" : "recipe passed");
process.exit(failed ? 1 : 0);

function packCheckout() {
  const src = path.join(work, "package-src");
  for (const f of ["src", "docs", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "README.md"]) {
    fs.cpSync(path.join(root, f), path.join(src, f), { recursive: true });
  }
  fs.symlinkSync(path.join(root, "node_modules"), path.join(src, "node_modules"));
  say("packing stapel2docker (npm pack of a copy of the checkout)");
  execFileSync("npm", ["pack", "--silent", "--pack-destination", work], { cwd: src, stdio: ["ignore", "ignore", "inherit"] });
  const tgz = fs.readdirSync(work).find((f) => /^stapel2docker-.*\.tgz$/.test(f));
  return path.join(work, tgz);
}

/** GitHub's `${{ expr }}` for the contexts a recipe here uses. */
function githubExpr(text, ctx) {
  return String(text).replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expr) => {
    for (const alt of expr.split("||").map((s) => s.trim())) {
      const lit = /^'(.*)'$/.exec(alt);
      const v = lit ? lit[1] : alt.split(".").reduce((o, k) => (o && typeof o === "object" ? o[k] : undefined), ctx);
      if (v === undefined && !lit && !(alt.split(".")[0] in ctx)) throw new Error(`unknown expression \${{ ${alt} }}`);
      if (v) return String(v);
    }
    return "";
  });
}

function runGithub(checkout, env, sha, runShell) {
  const ctx = {
    github: { repository: project, actor: "ci", ref_name: "main", sha },
    secrets: { GITHUB_TOKEN: "local-token" },
    vars: { REGISTRY },
  };
  const envOf = (o) => Object.fromEntries(Object.entries(o ?? {}).map(([k, v]) => [k, githubExpr(v, ctx)]));
  let report;
  for (const [name, job] of Object.entries(recipe.jobs)) {
    say(`job: ${name}`);
    const jobEnv = { ...env, ...envOf(recipe.env), ...envOf(job.env) };
    report = jobEnv.STAPEL2DOCKER_REPORT ?? report;
    for (const step of job.steps) {
      const always = /always\(\)/.test(step.if ?? "");
      if (failed && !always) continue;
      if (step.uses) {
        if (step.uses.startsWith("actions/upload-artifact@")) {
          const p = path.join(checkout, step.with.path);
          if (!fs.existsSync(p)) throw new Error(`upload-artifact: ${step.with.path} does not exist`);
          say(`step: ${step.uses}: ${step.with.path} is there (${fs.statSync(p).size} bytes)`);
        } else say(`step: ${step.uses}: the runner's (done by this script)`);
        continue;
      }
      if (!runShell(githubExpr(step.run, ctx), { ...jobEnv, ...envOf(step.env) }, step.name ?? step.run.split("\n")[0])) failed = true;
    }
  }
  return report;
}

function runGitlab(checkout, env, sha, runShell) {
  const predefined = {
    CI_REGISTRY: REGISTRY,
    CI_REGISTRY_IMAGE: repo,
    CI_REGISTRY_USER: "gitlab-ci-token",
    CI_REGISTRY_PASSWORD: "local-token",
    CI_COMMIT_SHA: sha,
    CI_COMMIT_REF_SLUG: "main",
    CI_PROJECT_DIR: checkout,
  };
  const expand = (v, vars) => String(v).replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, n) => vars[n] ?? "");
  const jobs = Object.entries(recipe).filter(([k, v]) => v && typeof v === "object" && !Array.isArray(v) && (v.script || v.stage));
  const dotenv = new Map();
  let report;
  for (const stage of recipe.stages ?? ["build", "test", "deploy"]) {
    for (const [name, job] of jobs.filter(([, j]) => (j.stage ?? "test") === stage)) {
      if (failed) break;
      say(`job: ${name} (stage ${stage})`);
      const vars = { ...env, ...predefined };
      for (const [k, v] of Object.entries({ ...(recipe.variables ?? {}), ...(job.variables ?? {}) })) vars[k] = expand(v, vars);
      for (const need of job.needs ?? []) Object.assign(vars, dotenv.get(need) ?? {});
      if (vars.STAPEL2DOCKER_REPORT) report = vars.STAPEL2DOCKER_REPORT;
      const main = [...(job.before_script ?? []), ...(job.script ?? [])].join("\n");
      if (!runShell(main, vars, `${name}: before_script + script`)) failed = true;
      if (job.after_script && !runShell(job.after_script.join("\n"), vars, `${name}: after_script`)) failed = true;
      const de = job.artifacts?.reports?.dotenv;
      if (de && !failed) {
        const text = fs.readFileSync(path.join(checkout, de), "utf8");
        dotenv.set(name, Object.fromEntries(text.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])));
        say(`job: ${name}: dotenv report ${de} (${dotenv.get(name) ? Object.keys(dotenv.get(name)).length : 0} variables) for the jobs that need it`);
      }
    }
  }
  return report;
}

/** Every final image the report names is in the registry. */
function checkReport(file) {
  if (!file || !fs.existsSync(file)) throw new Error(`the build report ${file} was not written`);
  const text = fs.readFileSync(file, "utf8");
  let refs;
  if (file.endsWith(".env")) {
    const vars = Object.fromEntries(text.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    refs = Object.keys(vars).filter((k) => k.endsWith("_DOCKER_IMAGE_NAME") && vars[k.replace(/DOCKER_IMAGE_NAME$/, "FINAL")] === "true").map((k) => vars[k]);
  } else {
    refs = Object.values(JSON.parse(text).Images).filter((i) => i.Final).map((i) => i.DockerImageName);
  }
  if (!refs.length) throw new Error(`the build report ${file} names no final image`);
  for (const ref of refs) {
    const [name, tag] = [ref.slice(REGISTRY.length + 1, ref.lastIndexOf(":")), ref.slice(ref.lastIndexOf(":") + 1)];
    const r = spawnSync("curl", ["-fsS", "-o", "/dev/null", "-I", "-H", "Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json", `http://${REGISTRY}/v2/${name}/manifests/${tag}`]);
    if (r.status !== 0) throw new Error(`${ref} (from the report) is not in the registry`);
  }
  say(`report ${path.basename(file)}: ${refs.length} final image(s), all in the registry: ${refs.join(", ")}`);
}

/** Removes what the run made: the repository's manifests in the registry, its images in the daemon, the temp folder. */
function cleanup() {
  try {
    const accept = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json";
    const list = spawnSync("curl", ["-fsS", `http://${REGISTRY}/v2/${project}/tags/list`], { encoding: "utf8" });
    const tags = list.status === 0 ? JSON.parse(list.stdout).tags ?? [] : [];
    const digests = new Set();
    for (const tag of tags) {
      const h = spawnSync("curl", ["-fsSI", "-H", `Accept: ${accept}`, `http://${REGISTRY}/v2/${project}/manifests/${tag}`], { encoding: "utf8" });
      const d = /^docker-content-digest:\s*(\S+)/im.exec(h.stdout ?? "");
      if (d) digests.add(d[1]);
    }
    for (const d of digests) spawnSync("curl", ["-fsS", "-X", "DELETE", `http://${REGISTRY}/v2/${project}/manifests/${d}`]);
    const images = spawnSync("docker", ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repo], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
    if (images.length) spawnSync("docker", ["image", "rm", "-f", ...images], { stdio: "ignore" });
    say(`cleanup: ${digests.size} manifest(s) of ${repo} deleted from the registry (${tags.length} tag(s)), ${images.length} local image(s) removed`);
  } finally {
    if (keep) say(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}
