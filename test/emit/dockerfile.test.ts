// The Dockerfile printer and the bake file on hand-made Plans.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { UserError } from "../../src/diagnostics.js";
import { renderDockerfileWith } from "../../src/emit/dockerfile.js";
import { lowerPlan, renderDockerfile, renderBake } from "../../src/emit/index.js";
import { heredocTerminator, word as quoteWord, substitutedJson as substitutedJsonForm } from "../../src/dockerfile/escape.js";
import type { ImagePlan, Plan } from "../../src/plan/model.js";
import { dockerfileStages, graphProblems } from "./dockerfileGraph.js";
import {
  cmd,
  docker,
  fakeFilter,
  image,
  importDirective,
  importFrom,
  mapping,
  gitSource,
  plan,
  stage,
  userBody,
} from "./planFixture.js";

const render = (p: Plan) => renderDockerfileWith(p, { importFilterScript: fakeFilter });
const bakeOf = (p: Plan, o: Parameters<typeof renderBake>[1]) => renderBake(p, o, lowerPlan(p, { importFilterScript: fakeFilter }));

function builderArtifact(): ImagePlan {
  return image("builder", "artifact", [
    stage("builder", "builder", "from", { kind: "from", base: { kind: "external", ref: "alpine:3.20" } }, 3),
    stage("builder", "builder", "install", userBody("install", [cmd("make", 6)]), 5),
  ]);
}

function appImage(builder: ImagePlan, extra: Partial<ImagePlan> = {}): ImagePlan {
  const stages = [
    stage("app", "app", "from", { kind: "from", base: { kind: "external", ref: "debian:12" } }, 10),
    stage("app", "app", "beforeInstall", userBody("beforeInstall", [cmd("echo one", 12), cmd("echo two", 13)], {
      mounts: [
        { mount: { pos: { file: "werf.yaml", line: 14, col: 5 }, to: "/tmp", type: "tmp_dir" } },
        { mount: { pos: { file: "werf.yaml", line: 15, col: 5 }, to: "/var/cache/apt", type: "build_dir" }, cacheId: "demo-app-apt" },
        { mount: { pos: { file: "werf.yaml", line: 16, col: 5 }, to: "/src", type: "custom_dir", fromPath: "src" }, contextName: "mount-src", contextPath: "src" },
      ],
    }), 11),
    stage("app", "app", "gitArchive", {
      kind: "gitArchive",
      archives: [
        { source: gitSource("1111111111111111", mapping("/app", "/srv/app"), "/r", "c1"), file: "git/own-1111111111111111.tar" },
        { source: gitSource("2222222222222222", mapping("/etc", "/etc/app", { owner: "www-data", group: "www-data" }), "/r", "c1"), file: "git/own-2222222222222222.tar" },
      ],
    }, 20),
    stage("app", "app", "dependenciesBeforeSetup", {
      kind: "dependencies",
      imports: [
        importFrom(builder, importDirective("builder", "/out", "/usr/local/out")),
        importFrom(builder, importDirective("builder", "/out", "/filtered", { includePaths: ["*.txt"], owner: "app" })),
      ],
      dependencies: [],
    }, 30),
    stage("app", "app", "dockerInstructions", { kind: "dockerInstructions", docker: docker({ entrypoint: ["/bin/app", "--serve"] }) }, 40),
  ];
  return image("app", "image", stages, extra);
}

describe("renderDockerfile", () => {
  test("one build stage per werf stage, chained, in order, with a stage graph that resolves", () => {
    const b = builderArtifact();
    const p = plan([b, appImage(b)]);
    const text = render(p);
    const stages = dockerfileStages(text);
    assert.deepEqual(stages.map((s) => s.name), [
      "builder--from",
      "builder--install",
      "app--from",
      "app--beforeinstall",
      "app--gitarchive",
      "app--dependenciesbeforesetup--import-1",
      "app--dependenciesbeforesetup",
      "app--dockerinstructions",
    ]);
    assert.equal(stages[1].from, "builder--from");
    assert.equal(stages[4].from, "app--beforeinstall");
    assert.equal(stages[5].from, "stapel-toolchain");
    assert.equal(stages[6].from, "app--gitarchive");
    assert.deepEqual(graphProblems(stages, ["stapel-toolchain", "mount-src"], (r) => r === "alpine:3.20" || r === "debian:12"), []);
    // the graph check does catch a forward reference
    assert.equal(graphProblems([{ name: "a", from: "b", refs: [], keywords: [] }, { name: "b", from: "scratch", refs: [], keywords: [] }], []).length, 1);
  });

  test("every stage ends with one LABEL of its labels, sorted keys", () => {
    const b = builderArtifact();
    const text = render(plan([b]));
    const labelLines = text.split("\n").filter((l) => l.startsWith("LABEL "));
    assert.equal(labelLines.length, 2);
    assert.match(labelLines[0], /^LABEL "io\.stapel2docker\.image"="builder" \\$/);
    const stages = dockerfileStages(text);
    for (const s of stages) assert.equal(s.keywords[s.keywords.length - 1], "LABEL", s.name);
  });

  test("comments say image, stage and werf.yaml line; user commands carry their lines", () => {
    const b = builderArtifact();
    const text = render(plan([b, appImage(b)]));
    assert.match(text, /^# app \/ beforeInstall — werf\.yaml:11 \(shell, 2 command\(s\)\)$/m);
    assert.match(text, /^# builder \/ from — werf\.yaml:3 \(from alpine:3\.20\)$/m);
    assert.match(text, /^# werf\.yaml:12, 13\necho one\necho two$/m);
  });

  test("user stage: one RUN with toolchain, tmpfs, cache and bind mounts, quoted heredoc, LANG, cd /", () => {
    const b = builderArtifact();
    const text = render(plan([b, appImage(b)]));
    const run = text.slice(text.indexOf("FROM app--from AS app--beforeinstall"));
    const block = run.slice(0, run.indexOf("\nLABEL"));
    assert.equal(block.match(/^RUN /gm)?.length, 1);
    assert.match(block, /--mount=type=bind,from=stapel-toolchain,source=\/\.stapel,target=\/\.stapel/);
    assert.match(block, /--mount=type=tmpfs,target=\/tmp/);
    assert.match(block, /--mount=type=cache,id=demo-app-apt,target=\/var\/cache\/apt/);
    assert.match(block, /--mount=type=bind,from=mount-src,target=\/src,rw/);
    assert.match(block, /<<'STAPEL_EOF'\n#!\/\.stapel\/bin\/bash -e\nexport LANG=C\.UTF-8 LC_ALL=C\.UTF-8 2>\/dev\/null\ncd \//);
    assert.doesNotMatch(block, /secret/, "no commit → no commit secret");
  });

  test("commit env: secret mount and sourcing only when the project is in git", () => {
    const b = builderArtifact();
    const text = render(plan([b], { commit: { hash: "abc", timeUnix: 1, timeHuman: "x" } }));
    assert.match(text, /--mount=type=secret,id=stapel-commit/);
    assert.match(text, /if \[ -f \/run\/secrets\/stapel-commit \]; then \. \/run\/secrets\/stapel-commit; fi/);
    assert.doesNotMatch(text, /abc/, "the commit hash is not in the Dockerfile (no cache bust)");
  });

  test("asLayers: one RUN per command", () => {
    const img = image("a", "image", [
      stage("a", "a", "from", { kind: "from", base: { kind: "scratch" } }, 1),
      stage("a", "a", "install", userBody("install", [cmd("echo 1", 2), cmd("echo 2", 3), cmd("echo 3", 4)], { asLayers: true }), 2),
    ]);
    const text = render(plan([img]));
    assert.equal(text.match(/^RUN /gm)?.length, 3);
    assert.match(text, /^FROM scratch AS a--from$/m);
  });

  test("heredoc terminator differs from every body line", () => {
    assert.equal(heredocTerminator("a\nb"), "STAPEL_EOF");
    assert.equal(heredocTerminator("STAPEL_EOF\n  STAPEL_EOF_1 \nx"), "STAPEL_EOF_2");
    const img = image("a", "image", [
      stage("a", "a", "from", { kind: "from", base: { kind: "scratch" } }, 1),
      stage("a", "a", "install", userBody("install", [cmd("cat <<'STAPEL_EOF'\nhi\nSTAPEL_EOF", 2)]), 2),
    ]);
    const text = render(plan([img]));
    assert.match(text, /<<'STAPEL_EOF_1'\n/);
    assert.match(text, /\nSTAPEL_EOF\nSTAPEL_EOF_1\n/);
  });

  test("commands are joined as werf joins them: one per line, nothing between (a trailing \\ or an open heredoc goes on)", () => {
    const img = image("a", "image", [
      stage("a", "a", "from", { kind: "from", base: { kind: "scratch" } }, 1),
      stage("a", "a", "install", userBody("install", [cmd("echo one \\", 2), cmd("two", 3), cmd("cat <<'X'", 4), cmd("in the heredoc", 5), cmd("X", 6)]), 2),
    ]);
    const text = render(plan([img]));
    const script = /<<'STAPEL_EOF'\n([\s\S]*?)\nSTAPEL_EOF\n/.exec(text)![1]!;
    assert.match(script, /\n# werf\.yaml:2, 3, 4, 5, 6\necho one \\\ntwo\ncat <<'X'\nin the heredoc\nX$/);
    // bash reads it as werf's script: the continuation joins the first two items, the heredoc spans three
    const body = script.split("\n").filter((l) => !l.startsWith("if [ -f /run/secrets") && !l.startsWith("#!"));
    assert.equal(execFileSync("bash", ["-ec", body.join("\n")], { encoding: "utf8" }), "one two\nin the heredoc\n");
  });

  test("non-root base USER: USER 0:0 before the RUN and restored after", () => {
    const img = image("a", "image", [
      stage("a", "a", "from", { kind: "from", base: { kind: "external", ref: "x:1" } }, 1),
      stage("a", "a", "install", userBody("install", [cmd("id", 2)]), 2),
    ], { base: { user: "app:staff", workdir: "", source: "daemon" } });
    const text = render(plan([img]));
    assert.match(text, /^USER 0:0\nRUN [^]*\nUSER app:staff\nLABEL/m);
    for (const root of ["", "root", "0", "0:0", "root:root"]) {
      const t = render(plan([{ ...img, base: { ...img.base, user: root } }]));
      assert.doesNotMatch(t, /^USER /m, root);
    }
  });

  test("ansible stages: task blocks in one RUN; a module not compiled yet is a located UserError", () => {
    const task = (config: Record<string, unknown>, line: number) => ({ module: Object.keys(config).find((k) => k !== "name")!, config, pos: { file: "werf.yaml", line, col: 5 } });
    const img = (tasks: ReturnType<typeof task>[]) => image("a", "image", [
      stage("a", "a", "from", { kind: "from", base: { kind: "scratch" } }, 1),
      stage("a", "a", "install", userBody("install", [], { builder: "ansible", tasks }), 7),
    ]);
    const text = render(plan([img([task({ name: "hi", shell: "echo hi" }, 8), task({ file: { path: "/x", state: "directory" } }, 9)])]));
    assert.match(text, /# task 1 "hi" \(shell\) — werf\.yaml:8\n\(\n {2}\/bin\/sh -c 'echo hi'\n\)\n# task 2 \(file\) — werf\.yaml:9/);
    assert.equal(text.match(/^RUN /gm)?.length, 1);
    assert.throws(() => render(plan([img([task({ xattr: { path: "/x", key: "user.a", value: "b" } }, 9)])])), (e: unknown) =>
      e instanceof UserError && /^werf\.yaml:9:5: ansible task 1: module `xattr` is supported by werf but not by stapel2docker/.test(e.message));
  });

  test("gitArchive: ADD for numeric/no owner, extract + chown by name otherwise", () => {
    const b = builderArtifact();
    const text = render(plan([b, appImage(b)]));
    assert.match(text, /^ADD \["git\/own-1111111111111111\.tar","\/"\]$/m);
    assert.match(text, /--mount=type=bind,source=git\/own-2222222222222222\.tar,target=\/\.stapel-git\/archive\.tar/);
    assert.match(text, /--mount=type=bind,source=git\/own-2222222222222222\.tar\.entries,target=\/\.stapel-git\/entries/);
    assert.match(text, /uid=\$\(stapel_id \/etc\/passwd www-data owner\)/);
    assert.match(text, /xargs -0 chown -h "\$uid:\$gid" < \/\.stapel-git\/entries/);
  });

  test("imports: COPY --from the source's last stage; filtered ones through a toolchain helper", () => {
    const b = builderArtifact();
    const text = render(plan([b, appImage(b)]));
    assert.match(text, /^COPY --from=builder--install \["\/out","\/usr\/local\/out"\]$/m);
    assert.match(text, /^FROM stapel-toolchain AS app--dependenciesbeforesetup--import-1$/m);
    assert.match(text, /--mount=type=bind,from=builder--install,source=\/out,target=\/\.stapel-src/);
    assert.match(text, /# FAKE FILTER \["\*\.txt"\] \[\]/);
    assert.match(text, /^COPY --from=app--dependenciesbeforesetup--import-1 --chown=app:0 \["\/\.stapel-out\/","\/filtered"\]$/m);
  });

  test("dependencies: ImageName/ImageRepo/ImageTag as ENV from the final tags; ImageID/ImageDigest from build arguments", () => {
    const b = builderArtifact();
    const dep = image("dep", "image", [stage("dep", "dep", "from", { kind: "from", base: { kind: "scratch" } }, 50)]);
    const mk = (type: string) =>
      image("a", "image", [
        stage("a", "a", "from", { kind: "from", base: { kind: "scratch" } }, 1),
        stage("a", "a", "dependenciesAfterInstall", {
          kind: "dependencies",
          imports: [],
          dependencies: [{ image: "dep", digest: dep.digest, imports: [{ type, targetEnv: `DEP_${type.toUpperCase()}` }], pos: { file: "werf.yaml", line: 9, col: 5 } }],
        }, 9),
      ]);
    const t = render(plan([b, dep, mk("ImageName")]));
    assert.match(t, new RegExp(`^ARG STAPEL_REPO="demo"\\n# dependency dep ImageName — werf.yaml:9\\nENV DEP_IMAGENAME="\\$\\{STAPEL_REPO\\}:dep-${dep.digest}"$`, "m"));
    assert.match(render(plan([dep, mk("ImageTag")])), new RegExp(`^ENV DEP_IMAGETAG="dep-${dep.digest}"$`, "m"));
    assert.match(render(plan([dep, mk("ImageRepo")])), /^ENV DEP_IMAGEREPO="\$\{STAPEL_REPO\}"$/m);
    assert.match(render(plan([dep, mk("ImageID")])), /^ARG STAPEL_DEP_DEP_IMAGE_ID\n# dependency dep ImageID — werf\.yaml:9\nENV DEP_IMAGEID="\$\{STAPEL_DEP_DEP_IMAGE_ID\}"$/m);
    assert.match(render(plan([dep, mk("ImageDigest")])), /^ARG STAPEL_DEP_DEP_IMAGE_DIGEST\n# dependency dep ImageDigest — werf\.yaml:9\nENV DEP_IMAGEDIGEST="\$\{STAPEL_DEP_DEP_IMAGE_DIGEST\}"$/m);
  });

  test("docker directives: ENTRYPOINT without CMD → CMD []; exec and shell forms; hostile values escaped", () => {
    const mk = (d: Parameters<typeof docker>[0]) =>
      render(plan([image("a", "image", [
        stage("a", "a", "from", { kind: "from", base: { kind: "scratch" } }, 1),
        stage("a", "a", "dockerInstructions", { kind: "dockerInstructions", docker: docker(d) }, 2),
      ])]));
    const t = mk({ entrypoint: ["/bin/sh", "-c", "echo \"$1\" \\ 'x'\nnext"], env: { B: "a \"q\" $HOME \\x\\" , A: "é 日本" }, label: { "x.y": "v" }, volume: ["/data $x"], workdir: "/w d/$x", user: "1000", expose: ["80/tcp", "53/udp"], stopSignal: "SIGTERM" });
    assert.ok(t.includes(`ENTRYPOINT ${JSON.stringify(["/bin/sh", "-c", "echo \"$1\" \\ 'x'\nnext"])}\n`));
    assert.match(t, /^# werf resets CMD when ENTRYPOINT is given without CMD\nCMD \[\]$/m);
    assert.match(t, /^ENV A="é 日本"\nENV B="a \\"q\\" \\\$HOME \\\\x\\\\"$/m);
    assert.match(t, /^VOLUME \["\/data \\\\\$x"\]$/m);
    assert.match(t, /^WORKDIR \/w d\/\\\$x$/m);
    assert.match(t, /^EXPOSE 80\/tcp 53\/udp$/m);
    const withCmd = mk({ entrypoint: "run it", cmd: "serve --port 1" });
    assert.match(withCmd, /^ENTRYPOINT run it\nCMD serve --port 1$/m);
    assert.doesNotMatch(withCmd, /CMD \[\]/);
    assert.match(mk({ cmd: "echo a\\" }), /^CMD \["\/bin\/sh","-c","echo a\\\\"\]$/m, "a trailing backslash goes to exec form");
    assert.throws(() => mk({ env: { X: "a\nb" } }), /werf\.yaml:40:3: docker\.ENV X: value contains a line break/);
    assert.throws(() => mk({ workdir: "/a\nb" }), UserError);
    assert.throws(() => mk({ healthcheck: "CMD x \\" }), /line continuation/);
  });

  test("quoting helpers", () => {
    assert.equal(quoteWord(`a"b\\c$d`), `"a\\"b\\\\c\\$d"`);
    assert.equal(substitutedJsonForm(["/a $b\\c"]), `["/a \\\\$b\\\\\\\\c"]`);
  });

  test("image bases: another image's last stage, a Dockerfile image's named context", () => {
    const b = builderArtifact();
    const child = image("child", "image", [
      stage("child", "child", "from", { kind: "from", base: { kind: "image", image: "builder", target: "builder--install", digest: b.digest } }, 60),
    ]);
    const onDf = image("ondf", "image", [
      stage("ondf", "ondf", "from", { kind: "from", base: { kind: "image", image: "backend", target: "backend", digest: "d" } }, 70),
    ]);
    const p = plan([b, child, onDf], {
      dockerfileImages: [{
        image: { name: "backend", pos: { file: "werf.yaml", line: 80, col: 1 }, dockerfile: "Dockerfile", context: "docker", contextAddFiles: [], target: "prod", args: { B: "2", A: "1" }, addHost: [], staged: false, platform: [], dependencies: [], secrets: [], final: true },
        target: "backend",
        context: "docker",
        dockerfile: "Dockerfile",
        digest: "dfdigest",
        platform: [],
        worktreeFiles: [],
      }],
    });
    const text = render(p);
    assert.match(text, /^FROM builder--install AS child--from$/m);
    assert.match(text, /^FROM dockerfile-image--backend AS ondf--from$/m);
    const bake = bakeOf(p, { out: "/nonexistent/project/.stapel2docker", tags: ["{image}-latest"] });
    assert.deepEqual(bake.group.default.targets, ["child", "ondf", "backend"]);
    assert.deepEqual(bake.target.backend, {
      context: "docker",
      dockerfile: "Dockerfile",
      target: "prod",
      args: { A: "1", B: "2" },
      tags: ["demo:backend-dfdigest", "demo:backend-latest"],
    });
    assert.deepEqual(bake.target.ondf.contexts, { "dockerfile-image--backend": "target:backend" });
    assert.equal(bake.target.child.target, "child--from");
    assert.equal(bake.target.child.context, ".stapel2docker/context");
    assert.equal(bake.target.child.dockerfile, "../Dockerfile");
    assert.deepEqual(bake.target.child.tags, [`demo:child-${child.digest}`, "demo:child-latest"]);
    assert.equal(bake.target.builder, undefined, "artifacts are never bake targets");
  });

  test("bake: toolchain and custom_dir contexts, commit secret, --repo, bad tags rejected", () => {
    const b = builderArtifact();
    const p = plan([b, appImage(b)], { commit: { hash: "h", timeUnix: 1, timeHuman: "t" } });
    const bake = bakeOf(p, { out: "/elsewhere/out", repo: "127.0.0.1:5000/team/demo", tags: ["v1"] });
    const t = bake.target.app;
    assert.deepEqual(t.contexts, { "mount-src": "./src", "stapel-toolchain": "docker-image://stapel2docker/toolchain:latest" });
    assert.deepEqual(t.secret, ["id=stapel-commit,src=../../elsewhere/out/commit.env"]);
    assert.deepEqual(t.tags, [`127.0.0.1:5000/team/demo:app-${p.images[1].digest}`, "127.0.0.1:5000/team/demo:v1"]);
    assert.throws(() => bakeOf(p, { out: "o", tags: ["bad tag"] }), UserError);
    assert.throws(() => bakeOf(p, { out: "o", repo: "Upper/Case" }), UserError);
  });

  test("deterministic: the same plan renders byte-identical text", () => {
    const b = builderArtifact();
    const p = plan([b, appImage(b)]);
    assert.equal(render(p), render(structuredClone(p)));
    assert.equal(JSON.stringify(bakeOf(p, { out: "o" })), JSON.stringify(bakeOf(structuredClone(p), { out: "o" })));
  });

  test("renderDockerfile uses the real import filter", () => {
    const b = builderArtifact();
    const text = renderDockerfile(plan([b, appImage(b)]));
    assert.doesNotMatch(text, /FAKE FILTER/);
    assert.match(text, /# werf import filter: add \/out/);
  });
});
