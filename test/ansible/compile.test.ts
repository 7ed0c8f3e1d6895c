// Unit tests of the ansible compiler: Jinja subset, normaliser, located errors, determinism.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { renderTemplate } from "../../src/ansible/jinja.js";
import { compileAnsibleTasks } from "../../src/ansible/index.js";
import { splitFreeForm } from "../../src/ansible/compile.js";
import { shlexSplit } from "../../src/ansible/modules/command.js";
import { UserError } from "../../src/diagnostics.js";
import { asTasks } from "./equiv.js";

describe("jinja subset", () => {
  test("item, vars, filters, raw blocks", () => {
    assert.equal(renderTemplate("a {{ item }} b", { item: "x" }), "a x b");
    assert.deepEqual(renderTemplate("{{ list }}", { list: [1, 2] }), [1, 2]);
    assert.equal(renderTemplate("{{ l | join(',') }}", { l: ["a", "b"] }), "a,b");
    assert.equal(renderTemplate("{{ nope | default('d') }}", {}), "d");
    assert.equal(renderTemplate("bash -lec {{ item | quote }}", { item: "rvm use 2.3" }), "bash -lec 'rvm use 2.3'");
    assert.equal(renderTemplate("s#{% raw %}{{x}}\\ *##{% endraw %}#", {}), "s#{{x}}\\ *###");
  });
  test("unsupported Jinja is an error", () => {
    assert.throws(() => renderTemplate("{{ undefined_var }}", {}), /undefined/);
    assert.throws(() => renderTemplate("{% if x %}y{% endif %}", {}), /not supported/);
    assert.throws(() => renderTemplate("{{ x | regex_replace('a','b') }}", { x: "a" }), /filter `regex_replace`/);
  });
});

describe("normaliser", () => {
  test("free-form k=v and shlex", () => {
    assert.deepEqual(splitFreeForm("make all chdir=/src creates=/src/out"), { rest: "make all", params: { chdir: "/src", creates: "/src/out" } });
    assert.deepEqual(shlexSplit(`a 'b c' "d\\"e" f\\ g`), ["a", "b c", 'd"e', "f g"]);
  });
  test("errors name the task and its line", () => {
    const tasks = asTasks([{ name: "first", shell: "true" }, { name: "attr", xattr: { path: "/x", key: "user.a" } }]);
    tasks[1]!.pos = { file: "werf.yaml", line: 12, col: 7 };
    assert.throws(() => compileAnsibleTasks(tasks), (e: unknown) =>
      e instanceof UserError && /^werf\.yaml:12:7: ansible task "attr": module `xattr` is supported by werf but not by stapel2docker/.test(e.message) && /shell/.test(e.message));
    assert.throws(() => compileAnsibleTasks(asTasks([{ copy: { dest: "/x", content: "a", bogus: 1 } }])), /`bogus` not supported/);
    assert.throws(() => compileAnsibleTasks(asTasks([{ shell: "echo {{ foo }}" }])), /`foo` is undefined/);
  });
  test("deterministic output, one block per task, with_items expanded", () => {
    const cfg = [{ name: "dirs", file: { path: "{{ item }}", state: "directory" }, with_items: ["/a", "/b"] }];
    const a = compileAnsibleTasks(asTasks(cfg));
    assert.deepEqual(a, compileAnsibleTasks(asTasks(structuredClone(cfg))));
    assert.equal(a.length, 1);
    assert.match(a[0]!.comment, /^# task 1 "dirs" \(file\) — werf\.yaml:1$/);
    const text = a[0]!.lines.join("\n");
    assert.match(text, /mkdir -p \/a[^]*mkdir -p \/b/);
  });
});

// yarn is not in the Debian test images (and needs a registry): its generated commands are checked as text.
describe("yarn commands (not compared against ansible)", () => {
  // the task's subshell body, unindented
  const text = (cfg: Record<string, unknown>) => compileAnsibleTasks(asTasks([cfg]))[0]!.lines.slice(1, -1).map((l) => l.replace(/^  /, "")).join("\n");
  test("install / upgrade in path, add / remove a package, global, flags", () => {
    assert.equal(text({ yarn: { path: "/app" } }), "cd /app\nyarn install --non-interactive");
    assert.equal(text({ yarn: { path: "/app", state: "latest" } }), "cd /app\nyarn upgrade --non-interactive");
    assert.equal(text({ yarn: { name: "left-pad", version: "1.3.0", path: "/app", production: true } }), "cd /app\nyarn add --non-interactive --production left-pad@1.3.0");
    assert.equal(text({ yarn: { name: "left-pad", path: "/app", state: "absent" } }), "cd /app\nyarn remove --non-interactive left-pad");
    assert.equal(text({ yarn: { name: "serve", global: true, registry: "http://r.local/", ignore_scripts: true } }),
      "yarn global add --non-interactive --ignore-scripts --registry http://r.local/ serve");
    assert.throws(() => compileAnsibleTasks(asTasks([{ yarn: { name: "x" } }])), /path must be specified/);
  });
});
