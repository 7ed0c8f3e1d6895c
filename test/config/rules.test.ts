import assert from "node:assert/strict";
import { test } from "node:test";
import { META, diagnosticsOf, find, load, located } from "./helpers.js";
import { loadWerfConfig } from "../../src/config/index.js";

/** The werf message and its line:col, for a config with one problem. */
function only(text: string): string {
  const all = located(text);
  assert.equal(all.length, 1, all.join("\n"));
  return all[0]!;
}

test("unknown document type, with the dimg hint for v1.0 configs", () => {
  const d = find(diagnosticsOf(`${META}dimg: app\nfrom: alpine\n`), "cannot recognize type of config section");
  assert.deepEqual([d.pos?.line, d.pos?.col], [4, 1]);
  assert.match(d.hint ?? "", /rename it to `image`/);
});

test("missing meta document proposes configVersion and project", () => {
  const d = find(diagnosticsOf("image: app\nfrom: alpine\n"), "meta config section");
  assert.match(d.message, /configVersion: 1\nproject: [a-z0-9-]+\n---/);
});

test("meta errors: configVersion, empty project, bad name, duplicate meta", () => {
  assert.equal(only("configVersion: 2\nproject: a\n---\nimage: x\nfrom: y\n"), "1:16 'configVersion: 1' field required!");
  assert.equal(only("configVersion: 1\nproject: ''\n---\nimage: x\nfrom: y\n"), "2:1 'project' field cannot be empty!");
  assert.match(only("configVersion: 1\nproject: My_App\n---\nimage: x\nfrom: y\n"), /^2:10 bad project name "My_App" specified in config/);
  assert.equal(only(`${META}${META}image: x\nfrom: y\n`), "4:1 duplicate meta config section definition");
});

test("unknown keys: werf's wording, did-you-mean, position of the key", () => {
  const diags = diagnosticsOf(`${META}image: app\nfrom: alpine\nshell:\n  instal: [make]\ngit:\n- add: /\n  to: /app\n  stageDependency: {}\n`);
  const a = find(diags, "`instal`");
  assert.equal(a.message, "unknown fields: `instal`!");
  assert.equal(a.hint, "did you mean `install`?");
  assert.deepEqual([a.pos?.line, a.pos?.col], [7, 3]);
  const b = find(diags, "`stageDependency`");
  assert.equal(b.hint, "did you mean `stageDependencies`?");
  assert.deepEqual([b.pos?.line, b.pos?.col], [11, 3]);
});

test("string-or-list fields: werf's message with the value printed like Go", () => {
  assert.equal(
    only(`${META}image: app\nfrom: alpine\nshell:\n  install:\n  - make\n  - {a: 1}\n`),
    "8:3 single string or array of strings expected, got `[make map[a:1]]`!",
  );
});

test("base image: required, exclusive, not itself", () => {
  assert.match(only(`${META}image: app\nshell: {}\n`), /^4:1 `from: DOCKER_IMAGE`, `fromImage: IMAGE_NAME`, `fromArtifact: IMAGE_ARTIFACT_NAME` required!/);
  assert.equal(only(`${META}image: a\nfrom: alpine\nfromImage: b\n---\nimage: b\nfrom: alpine\n`), "6:1 conflict between `from`, `fromImage` and `fromArtifact` directives!");
  assert.equal(only(`${META}image: a\nfromImage: a\n`), "4:1 conflict between `from`, `fromImage` or `fromArtifact` and image name: image cannot reference itself!");
});

test("references to unknown images, duplicate names, nameless image with others", () => {
  const diags = diagnosticsOf(
    `${META}image: a\nfrom: alpine\nimport:\n- image: ghost\n  add: /x\n  after: install\ndependencies:\n- image: phantom\n  before: setup\n  imports: [{type: ImageName, targetEnv: X}]\n---\nimage: a\nfrom: alpine\n---\nimage: ~\nfrom: alpine\n`,
  );
  assert.deepEqual(find(diags, '"ghost" not found').pos?.line, 7);
  assert.deepEqual(find(diags, '"phantom" not found').pos?.line, 11);
  assert.equal(find(diags, "conflict between images names!").pos?.line, 15);
  assert.equal(find(diags, "nameless image").pos?.line, 18);
});

test("fromImage naming no image of werf.yaml is an external reference, as werf v2.47+", () => {
  const config = load(`${META}image: a\nfromImage: registry.example/base:1.2\n---\nimage: b\nfromImage: a\n---\nimage: c\nfromImage: scratch\n`);
  const byName = new Map(config.images.map((i) => [i.name, i]));
  assert.equal(byName.get("a")?.from, "registry.example/base:1.2");
  assert.equal(byName.get("a")?.fromImage, undefined);
  assert.equal(byName.get("b")?.fromImage, "a");
  assert.equal(byName.get("c")?.from, "scratch");
});

test("dependency cycles over fromImage, import and dependencies", () => {
  const d = find(
    diagnosticsOf(`${META}image: a\nfromImage: b\n---\nimage: b\nfrom: alpine\nimport:\n- image: c\n  add: /x\n  before: install\n---\nimage: c\nfrom: alpine\ndependencies:\n- image: a\n  after: setup\n`),
    "infinite loop",
  );
  assert.equal(d.message, "infinite loop detected: a -> b -> c -> a");
});

test("git: absolute add/to, relative masks, refs only for remote, one ref", () => {
  const diags = diagnosticsOf(
    `${META}image: app\nfrom: alpine\ngit:\n- add: src\n  to: app\n  branch: main\n  includePaths: /abs\n  stageDependencies:\n    install: ../up\n- url: https://x/y.git\n  tag: v1\n  commit: abc\n  to: /opt\n`,
  );
  assert.equal(find(diags, "`add: PATH`").pos?.line, 7);
  assert.equal(find(diags, "`to: PATH`").pos?.line, 8);
  assert.equal(find(diags, "only for remote git").pos?.line, 9);
  assert.equal(find(diags, "`includePaths: [PATH, ...]|PATH` should be relative paths!").pos?.line, 10);
  assert.equal(find(diags, "`install: [PATH, ...]|PATH` should be relative paths!").pos?.line, 12);
  assert.equal(find(diags, "specify only `branch: BRANCH`, `tag: TAG` or `commit: COMMIT` for remote git!").pos?.line, 15);
});

test("shell and ansible together; docker with imageSpec; artifact restrictions", () => {
  const diags = diagnosticsOf(
    `${META}image: app\nfrom: alpine\nshell: {install: make}\nansible: {install: [{shell: make}]}\ndocker: {WORKDIR: /app}\nimageSpec: {author: me}\n---\nartifact: build\nfrom: alpine\nfinal: false\ndisableGitAfterPatch: true\ndocker: {USER: app}\n`,
  );
  assert.equal(find(diags, "can not use shell and ansible builders at the same time!").pos?.line, 7);
  assert.equal(find(diags, "can't be used along with `imageSpec`").pos?.line, 8);
  assert.equal(find(diags, "`final` directive is not supported for artifact!").pos?.line, 13);
  assert.equal(find(diags, "`disableGitAfterPatch` directive is not supported for artifact!").pos?.line, 14);
  assert.equal(find(diags, "`docker` section is not supported for artifact!").pos?.line, 15);
});

test("mount rules", () => {
  const diags = diagnosticsOf(
    `${META}image: app\nfrom: alpine\nmount:\n- from: tmp_dir\n  fromPath: /host\n  to: /a\n- from: cache_dir\n  to: /b\n- from: build_dir\n  to: relative\n- to: /c\n- from: tmp_dir\n  to: /b\n`,
  );
  assert.equal(find(diags, "cannot use `from: tmp_dir` and `fromPath: /host` at the same time for mount!").pos?.line, 7);
  assert.equal(find(diags, "invalid `from: cache_dir` for mount: expected `tmp_dir` or `build_dir`!").pos?.line, 10);
  assert.equal(find(diags, "`to: PATH` absolute path required for mount!").pos?.line, 13);
  assert.equal(find(diags, "`fromPath: PATH` absolute or relative path required for mount!").pos?.line, 14);
  assert.equal(find(diags, "conflict between mounts!").pos?.line, 16);
});

test("import rules", () => {
  const diags = diagnosticsOf(
    `${META}image: src\nfrom: alpine\n---\nimage: app\nfrom: alpine\nimport:\n- image: src\n  from: src\n  add: /a\n  before: install\n- image: src\n  add: /\n  before: install\n  after: setup\n- artifact: src\n  add: /b\n  before: build\n  stage: compile\n- add: /c\n`,
  );
  assert.equal(find(diags, "specify only `image: NAME` or `from: NAME` for import!").pos?.line, 11);
  assert.equal(find(diags, "`add: '/'` requires not empty includePaths").pos?.line, 15);
  assert.equal(find(diags, "specify only one artifact stage").pos?.line, 17);
  assert.equal(find(diags, "invalid artifact stage `before: build` for import: expected install or setup!").pos?.line, 20);
  assert.equal(find(diags, "invalid stage `stage: compile` for import").pos?.line, 21);
  assert.equal(find(diags, "artifact name `artifact: NAME` or image name `image: NAME` required for import!").pos?.line, 22);
  assert.equal(find(diags, "artifact stage is not specified").pos?.line, 22);
});

test("ansible tasks: one supported module, keywords allowed, blocks checked inside", () => {
  const diags = diagnosticsOf(
    `${META}image: app\nfrom: alpine\nansible:\n  install:\n  - name: ok\n    apt: {name: curl}\n    become: yes\n    with_items: [a]\n  - name: two modules\n    shell: a\n    command: b\n  - name: unsupported\n    template: {src: a, dest: b}\n  - block:\n    - name: inner\n      docker_container: {}\n`,
  );
  const invalid = find(diags, "invalid ansible task!");
  assert.deepEqual([invalid.pos?.line, invalid.pos?.col], [14, 5]);
  const unsupported = diags.filter((d) => d.message === "unsupported ansible task!");
  assert.deepEqual(unsupported.map((d) => d.pos?.line), [16, 19]);
  assert.match(unsupported[0]!.hint ?? "", /`template`.*supported modules: command, shell, raw/);
});

test("many problems in one config are reported at once, in order", () => {
  const lines = located(`${META}image: app\nfrom: alpine\nfinall: true\ngit:\n- to: app\nshell:\n  install: 42\n  instal: x\n`);
  assert.ok(lines.length >= 3, lines.join("\n"));
  assert.ok(lines.some((l) => l.startsWith("6:1 unknown fields: `finall`!")));
  assert.ok(lines.some((l) => l.startsWith("11:3 unknown fields: `instal`!")));
});

test("werf v1.0/v1.1 keys still found in real configs are accepted", () => {
  const config = loadWerfConfig({
    file: "werf.yaml",
    text: [
      "project: p",
      "configVersion: 1",
      "---",
      "image: a",
      "from: alpine",
      "fromLatest:",
      "git:",
      "- url: https://example.invalid/r.git",
      "  branch: main",
      "  to: /r",
      "  herebyIAdmitThatBranchMightBreakReproducibility: true",
      "docker:",
      "  STOPSIGNAL: SIGTERM",
      "  ONBUILD: [RUN echo hi]",
      "",
    ].join("\n"),
  });
  const image = config.images[0];
  assert.equal(image.fromLatest, false, "a null bool is false, as yaml.v2 reads it");
  assert.equal(image.docker?.stopSignal, "SIGTERM");
  assert.deepEqual(image.docker?.onBuild, ["RUN echo hi"]);
});
