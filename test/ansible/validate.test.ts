// validate refuses, located at the task or the option, every task that compile would refuse: the config layer
// asks the ansible compiler itself (checkAnsibleTasks), so the two can never disagree.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { loadWerfConfig } from "../../src/config/index.js";
import { SUPPORTED_ANSIBLE_MODULES } from "../../src/config/ansible.js";
import { checkAnsibleTasks, compileAnsibleTasks } from "../../src/ansible/compile.js";
import { MODULES } from "../../src/ansible/modules/index.js";
import { UserError, type Diagnostic } from "../../src/diagnostics.js";
import { asTasks } from "./equiv.js";
import fs from "node:fs";
import path from "node:path";
import { repoRoot } from "../support/paths.js";

const META = "configVersion: 1\nproject: demo\n---\n";
/** Modules the task compiler handles itself (not in modules/). */
const IN_COMPILER = ["set_fact", "assert"];

function diagnostics(yaml: string): Diagnostic[] {
  try {
    loadWerfConfig({ file: "werf.yaml", text: META + yaml });
  } catch (e) {
    assert.ok(e instanceof UserError, String(e));
    return e.diagnostics;
  }
  return [];
}

const located = (yaml: string) => diagnostics(yaml).map((d) => `${d.pos!.line}:${d.pos!.col} ${d.message} | ${d.hint ?? ""}`);

describe("validate reports what compile refuses", () => {
  test("every whitelisted module either compiles or is refused at validate, at the module key", () => {
    const refused: string[] = [];
    for (const m of SUPPORTED_ANSIBLE_MODULES) {
      if (MODULES[m] !== undefined || IN_COMPILER.includes(m)) continue;
      const d = located(`image: app\nfrom: alpine\nansible:\n  install:\n  - name: t\n    ${m}:\n      path: /x\n`);
      assert.deepEqual(d, [`9:5 ansible task "t": module \`${m}\` is supported by werf but not by stapel2docker | write the step as a \`shell\` task (docs/ansible.md lists the compiled modules)`]);
      refused.push(m);
    }
    assert.ok(refused.includes("xattr") && !refused.includes("lineinfile"), refused.join(" "));
  });

  test("docs/ansible.md lists exactly the modules refused at validate", () => {
    const doc = fs.readFileSync(path.join(repoRoot, "docs", "ansible.md"), "utf8");
    const para = /Refused at validate \([^)]*\)[^:]*:([^.]*)\./.exec(doc);
    assert.ok(para, "the `Refused at validate` paragraph");
    const listed = para[1]!.split(",").map((m) => m.trim()).filter((m) => m !== "").sort();
    const refused = SUPPORTED_ANSIBLE_MODULES.filter((m) => MODULES[m] === undefined && !IN_COMPILER.includes(m)).sort();
    assert.deepEqual(listed, refused);
  });

  test("an unsupported option is refused at the option, in the module's mapping or in args", () => {
    const d = located(
      "image: app\nfrom: alpine\nansible:\n  install:\n  - name: a\n    copy:\n      dest: /x\n      content: y\n      backupz: yes\n" +
        "  - name: b\n    lineinfile:\n      path: /x\n      line: y\n    args:\n      validate: visudo -cf %s\n" +
        "  - block:\n    - name: c\n      shell: ls\n      until: done\n",
    );
    assert.deepEqual(d, [
      "12:7 ansible task \"a\": copy: option `backupz` not supported by stapel2docker | remove the option, or write the step as a `shell` task",
      "18:7 ansible task \"b\": lineinfile: validate is not supported by stapel2docker | remove `validate`, or write the step as a `shell` task",
      "22:7 ansible task 3 / block \"c\": task keyword `until` is not supported by stapel2docker | write the step as a `shell` task",
    ]);
  });

  test("options that would change the image are refused unless left at a harmless value, never ignored", () => {
    const d = located(
      "image: app\nfrom: alpine\nansible:\n  install:\n" +
        "  - user: {name: app, generate_ssh_key: yes}\n" +
        "  - user: {name: app, generate_ssh_key: no, local: yes}\n" +
        "  - apt: {name: curl, clean: yes}\n" +
        "  - file: {path: /x, state: touch, modification_time: '202401010000'}\n" +
        "  - file: {path: /x, state: touch, modification_time: preserve}\n" +
        "  - lineinfile: {path: /x, line: a, attributes: '+i'}\n" +
        "  - shell: ls\n    check_mode: yes\n  - shell: ls\n    check_mode: no\n",
    );
    assert.deepEqual(d.map((x) => x.split(" | ")[0]), [
      "8:23 ansible task 1: user: `generate_ssh_key: true` is not supported by stapel2docker",
      "10:23 ansible task 3: apt: `clean: true` is not supported by stapel2docker",
      "11:36 ansible task 4: file: `modification_time: 202401010000` is not supported by stapel2docker",
      "13:37 ansible task 6: lineinfile: `attributes: +i` is not supported by stapel2docker",
      "15:5 ansible task 7: `check_mode: yes` is not supported by stapel2docker (the task would change nothing)",
    ]);
  });

  test("a `when` reading a result the module does not register is refused at `when`", () => {
    const d = located(
      "image: app\nfrom: alpine\nansible:\n  install:\n  - stat: {path: /x}\n    register: st\n  - name: use\n    shell: ls\n    when: st.stat.mimetype == 'x'\n",
    );
    assert.equal(d.length, 1);
    assert.match(d[0]!, /^12:5 ansible task "use": when `st\.stat\.mimetype == 'x'`: `st\.stat\.mimetype`: of this registered task only rc, stdout, failed, skipped, stat\.exists/);
  });

  test("with asLayers, a `when` reading what an earlier task registered is refused (its RUN is gone)", () => {
    const tasks = [{ stat: { path: "/x" }, register: "st" }, { shell: "ls", when: "st.stat.exists" }];
    assert.deepEqual(checkAnsibleTasks(tasks), []);
    const p = checkAnsibleTasks(tasks, { asLayers: true });
    assert.equal(p.length, 1);
    assert.equal(p[0]!.key, "when");
    assert.match(p[0]!.message, /registered by an earlier task: with asLayers/);
  });

  test("with asLayers, set_fact values do not reach the next task: validate refuses what each layer's compile refuses", () => {
    const tasks = [{ set_fact: { v: "x" } }, { shell: "echo {{ v }}" }];
    assert.deepEqual(checkAnsibleTasks(tasks), []);
    const p = checkAnsibleTasks(tasks, { asLayers: true });
    assert.equal(p.length, 1);
    assert.match(p[0]!.message, /`v` is undefined/);
    // emit compiles each layer's task alone
    assert.throws(() => compileAnsibleTasks(asTasks([tasks[1]!]), { asLayers: true }), /`v` is undefined/);
  });

  test("werf's own errors come alone (the compiler is not asked about a stage werf refuses)", () => {
    const d = diagnostics("image: app\nfrom: alpine\nansible:\n  install:\n  - template: {src: a, dest: b}\n  - xattr: {path: /x}\n");
    assert.deepEqual(d.map((x) => x.message), ["unsupported ansible task!"]);
  });

  test("validate ok ⇔ compile ok, on accepted and refused samples", () => {
    const samples: Record<string, unknown>[][] = [
      [{ shell: "ls" }],
      [{ lineinfile: { path: "/x", line: "a", regexp: "^a(?=b)" } }],
      [{ lineinfile: { path: "/x", line: "a", insertafter: "^b" } }],
      [{ blockinfile: { path: "/x", block: "a", marker_begin: "B" } }],
      [{ ini_file: { path: "/x", section: "s", option: "o", value: "v", allow_no_value: true } }],
      [{ uri: { url: "http://localhost/", method: "POST" } }],
      [{ uri: { url: "http://localhost/", dest: "/x", status_code: [200, 404] } }],
      [{ stat: { path: "/x" }, register: "st" }, { shell: "ls", when: "st.stat.isdir" }],
      [{ shell: "ls", when: "st.stat.isdir" }],
      [{ copy: { dest: "/x", content: "a", backup: true } }],
      [{ xattr: { path: "/x" } }],
      [{ command: "ls", register: "r", loop: [1, 2] }],
    ];
    for (const s of samples) {
      const problems = checkAnsibleTasks(s);
      let compiled = true;
      try {
        compileAnsibleTasks(asTasks(s));
      } catch (e) {
        assert.ok(e instanceof UserError, String(e));
        compiled = false;
        assert.equal(e.diagnostics[0]!.message, problems[0]?.message, JSON.stringify(s));
      }
      assert.equal(problems.length === 0, compiled, `${JSON.stringify(s)}: ${problems.map((p) => p.message).join("; ")}`);
    }
  });
});
