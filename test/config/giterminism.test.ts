// werf-giterminism.yaml parsing: every key of werf's schema (pkg/giterminism_manager/config), werf's required
// version, wrong types located, unknown keys (werf ignores them) a located warning.
import assert from "node:assert/strict";
import { test } from "node:test";
import { UserError } from "../../src/diagnostics.js";
import { giterminismPathAccepted, isEnvAllowed, parseGiterminism } from "../../src/config/giterminism.js";

const FULL = `giterminismConfigVersion: "1"
cli:
  allowCustomTags: true
config:
  allowUncommitted: yes
  allowUncommittedTemplates: [.werf/**/*.tmpl]
  goTemplateRendering:
    allowEnvVariables: [A, /CI_.+/]
    allowUncommittedFiles: [base_images.yml]
  stapel:
    allowFromLatest: true
    git:
      allowBranch: true
    mount:
      allowBuildDir: true
      allowFromPaths: [~/cache]
  dockerfile:
    allowUncommitted: [docker/Dockerfile]
    allowUncommittedDockerignoreFiles: [docker/.dockerignore]
    allowContextAddFiles: [docker/generated]
  secrets:
    allowEnvVariables: [TOKEN]
    allowFiles: [~/.npmrc]
    allowValueIds: [sid]
helm:
  allowUncommittedFiles: [.helm/**]
includes:
  allowIncludesUpdate: true
`;

test("every key of werf's giterminism config is read (YAML 1.1 booleans, as werf's yaml.v2)", () => {
  const g = parseGiterminism(FULL, "werf-giterminism.yaml");
  assert.equal(g.allowUncommitted, true);
  assert.deepEqual(g.allowUncommittedTemplates, [".werf/**/*.tmpl"]);
  assert.deepEqual(g.allowEnvVariables, ["A", "/CI_.+/"]);
  assert.deepEqual(g.allowUncommittedFiles, ["base_images.yml"]);
  assert.equal(g.allowFromLatest, true);
  assert.equal(g.allowGitBranch, true);
  assert.equal(g.allowBuildDir, true);
  assert.deepEqual(g.allowFromPaths, ["~/cache"]);
  assert.deepEqual(g.dockerfileAllowUncommitted, ["docker/Dockerfile"]);
  assert.deepEqual(g.dockerfileAllowUncommittedDockerignoreFiles, ["docker/.dockerignore"]);
  assert.deepEqual(g.dockerfileAllowContextAddFiles, ["docker/generated"]);
  assert.deepEqual(g.secretsAllowEnvVariables, ["TOKEN"]);
  assert.deepEqual(g.secretsAllowFiles, ["~/.npmrc"]);
  assert.deepEqual(g.secretsAllowValueIds, ["sid"]);
  assert.equal(g.allowCustomTags, true);
  assert.deepEqual(g.warnings, []);
});

test("unknown keys are located warnings (werf ignores them); wrong types and a missing version are located errors", () => {
  const g = parseGiterminism("giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowEnvVariable: [A]\n  stapl: {}\n", "g.yaml");
  assert.deepEqual(
    g.warnings.map((w) => [w.pos?.line, w.pos?.col, w.message]),
    [
      [4, 5, "config.goTemplateRendering.allowEnvVariable: unknown key in g.yaml; werf ignores it, and so does stapel2docker"],
      [5, 3, "config.stapl: unknown key in g.yaml; werf ignores it, and so does stapel2docker"],
    ],
  );
  assert.match(g.warnings[0]!.hint ?? "", /allowEnvVariables, allowUncommittedFiles/);
  const bad = (text: string) => {
    try {
      parseGiterminism(text, "g.yaml");
    } catch (e) {
      assert.ok(e instanceof UserError);
      return e.diagnostics.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.message}`);
    }
    assert.fail("accepted");
  };
  assert.deepEqual(bad("config:\n  allowUncommitted: true\n"), ["1:1 giterminismConfigVersion is required"]);
  assert.deepEqual(bad("giterminismConfigVersion: 2\n"), ["1:27 giterminismConfigVersion must be 1"]);
  assert.deepEqual(
    bad("giterminismConfigVersion: 1\nconfig:\n  allowUncommitted: [x]\n  dockerfile:\n    allowUncommitted: true\n  stapel: []\n"),
    ["3:21 config.allowUncommitted must be true or false", "5:23 config.dockerfile.allowUncommitted must be a list of strings", "6:11 config.stapel must be a mapping"],
  );
});

test("werf's path matching of the lists: a glob, or a directory above the path", () => {
  const cases: [string[], string, boolean][] = [
    [["base_images.yml"], "base_images.yml", true],
    [["tools/build_includes/*"], "tools/build_includes/a.yaml", true],
    [["tools/build_includes/*"], "tools/build_includes/sub/a.yaml", true],
    [["tools"], "tools/x/y", true],
    [[".werf/**/*.tmpl"], ".werf/a/b.tmpl", true],
    [[".werf/*.tmpl"], ".werf/a/b.tmpl", false],
    [["tools"], "toolsx", false],
    [[], "anything", false],
  ];
  for (const [globs, p, want] of cases) assert.equal(giterminismPathAccepted(globs, p), want, `${globs} ${p}`);
});

test("allowEnvVariables /regexps/ are Go's (RE2): linear time, RE2 syntax, whole name, Go's errors located", () => {
  const g = parseGiterminism(
    "giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowEnvVariables: ['/(A+)+/', '/(?i)ci_\\pL+/', '/X[[:digit:]]\\z/']\n",
    "werf-giterminism.yaml",
  );
  // Exponential for a backtracking engine; RE2 answers at once.
  assert.equal(isEnvAllowed(g, "A".repeat(5000) + "!"), false);
  assert.equal(isEnvAllowed(g, "A".repeat(5000)), true);
  assert.equal(isEnvAllowed(g, "CI_Jöb"), true);
  assert.equal(isEnvAllowed(g, "CI_JOB_1"), false);
  assert.equal(isEnvAllowed(g, "X1"), true);
  assert.equal(isEnvAllowed(g, "aX1"), false);
  for (const [pattern, error] of [
    ["/(a)\\1/", "invalid escape sequence: `\\1`"],
    ["/a(?=b)/", "invalid or unsupported Perl syntax: `(?=`"],
    ["/(?<!a)b/", "invalid named capture: `(?<!a)b`"],
  ]) {
    assert.throws(
      () => parseGiterminism(`giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowEnvVariables: [A, '${pattern}']\n`, "g.yaml"),
      (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.deepEqual(
          e.diagnostics.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.message}`),
          [`4:28 config.goTemplateRendering.allowEnvVariables: invalid regexp ${pattern}: error parsing regexp: ${error}`],
        );
        return true;
      },
    );
  }
});
