// bake reads docker-bake.json as HCL JSON: its strings (and map keys) are templates. Values from werf.yaml must reach
// BuildKit as written: the writer escapes `${` and `%{`, and only bakeVariable() references become `${NAME}`.
// Checked with the real `docker buildx bake --print` (no build).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { bakeVariable } from "../../src/bake/model.js";
import { bakeFile, bakeJson } from "../../src/bake/write.js";

const HOSTILE = ['${STAPEL_STAGE_MS}', '${upper("x")}', '%{ if true }z%{ endif }', '$${kept}', 'a$b%c{d}', '${HOME}'];

test("bake file strings are literal for bake: werf.yaml values with ${...} and %{...} are not evaluated; the declared variable is", (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "s2d-bake-escape-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, "Dockerfile"), "FROM scratch\n");
  const args = Object.fromEntries(HOSTILE.map((v, i) => [`A${i}`, v]));
  const file = bakeFile(
    {
      app: {
        context: dir,
        dockerfile: "Dockerfile",
        target: "t-${upper(\"x\")}",
        args: { ...args, "K${upper(\"k\")}": "key" },
        tags: [`r.example/p:d-${bakeVariable("STAPEL_STAGE_MS")}`, "r.example/p:v-${HOME}"],
      },
    },
    undefined,
    { STAPEL_STAGE_MS: "" },
  );
  const f = path.join(dir, "docker-bake.json");
  writeFileSync(f, bakeJson(file));
  const printed = JSON.parse(
    execFileSync("docker", ["buildx", "bake", "--print", "-f", f], { encoding: "utf8", env: { ...process.env, STAPEL_STAGE_MS: "1700000000123" }, stdio: ["ignore", "pipe", "pipe"] }),
  ) as { target: Record<string, { args: Record<string, string>; target: string; tags: string[] }> };
  const app = printed.target.app;
  for (const [k, v] of Object.entries(args)) assert.equal(app.args[k], v, k);
  assert.equal(app.args['K${upper("k")}'], "key");
  assert.equal(app.target, 't-${upper("x")}');
  assert.deepEqual(app.tags, ["r.example/p:d-1700000000123", "r.example/p:v-${HOME}"]);
});
