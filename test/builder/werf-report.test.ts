// werf's report formats (src/builder/werf-report.ts) on a fixed report: field names as werf's build_report.go,
// werf's env-file names, the format chosen by extension, and an image name that would add lines refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatWerfReportEnv, formatWerfReportJson, imageEnvPrefix, reportFormatOf, type WerfReport } from "../../src/builder/werf-report.js";
import { UserError } from "../../src/diagnostics.js";

const record = (name: string, final: boolean) => ({
  WerfImageName: name, ConfigType: "stapel", DockerRepo: "r.example/p", DockerTag: `${name || "werf-image"}-abc`, DockerImageID: "sha256:1",
  DockerImageDigest: "sha256:2", DockerImageName: `r.example/p:${name || "werf-image"}-abc`, TargetPlatform: "", Rebuilt: true, Final: final,
  Size: 10, BuildTime: "1.00", Commit: "c0ffee", Stages: [],
});

test("werf report: env file as werf writes it (prefix rules, nameless image), JSON tab-indented with werf's fields", () => {
  const w: WerfReport = { Runtime: { Backend: "docker", InContainer: false }, Images: { "": record("", true), "dev/app-front.v2": record("dev/app-front.v2", false) }, ImagesByPlatform: {} };
  assert.equal(imageEnvPrefix("dev/app-front.v2"), "WERF_DEV_APP_FRONT_V2_");
  assert.equal(imageEnvPrefix(""), "WERF_");
  const env = formatWerfReportEnv(w);
  assert.match(env, /^WERF_DOCKER_IMAGE_NAME=r\.example\/p:werf-image-abc$/m);
  assert.match(env, /^WERF_FINAL=true$/m);
  assert.match(env, /^WERF_DEV_APP_FRONT_V2_WERF_IMAGE_NAME=dev\/app-front\.v2$/m);
  assert.match(env, /^WERF_DEV_APP_FRONT_V2_FINAL=false$/m);
  assert.equal(env.split("\n").filter(Boolean).length, 14);
  const json = formatWerfReportJson(w);
  assert.match(json, /^\{\n\t"Runtime": \{/);
  assert.deepEqual(Object.keys(JSON.parse(json).Images[""]), [
    "WerfImageName", "ConfigType", "DockerRepo", "DockerTag", "DockerImageID", "DockerImageDigest", "DockerImageName", "TargetPlatform",
    "Rebuilt", "Final", "Size", "BuildTime", "Commit", "Stages",
  ]);
  assert.throws(() => formatWerfReportEnv({ ...w, Images: { "a\nEVIL=1": record("a\nEVIL=1", true) } }), (e: unknown) => e instanceof UserError && /cannot be written to an env-file report/.test(e.message));
});

test("werf report: the format from the path as werf (.env: envfile), --report-format wins", () => {
  assert.equal(reportFormatOf("r.env"), "envfile");
  assert.equal(reportFormatOf("r.json"), "json");
  assert.equal(reportFormatOf("report"), "json");
  assert.equal(reportFormatOf("r.json", "envfile"), "envfile");
});
