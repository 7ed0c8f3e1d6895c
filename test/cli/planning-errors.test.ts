// Planning errors: a value no Dockerfile can hold is reported by validate, plan and compile alike, at the value's
// own werf.yaml line and column (not at the `docker:` key), all problems at once, before anything is written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "../support/paths.js";

const cli = path.join(repoRoot, "dist", "src", "cli", "main.js");

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), XDG_CACHE_HOME: process.env.XDG_CACHE_HOME ?? os.tmpdir() } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const WERF_YAML = `project: planerr
configVersion: 1
---
image: app
from: stapel2docker/base-busybox:latest
mount:
- from: tmp_dir
  to: /tmp/caché
docker:
  WORKDIR: /app
  ENV:
    GOOD: fine
    BAD: "a\\nRUN evil"
  LABEL:
    "a=b": x
  ONBUILD:
  - RUN echo ok
  - RUN <<X
import:
- artifact: builder
  add: /out dir
  to: /dst
  after: install
  includePaths:
  - "*.txt"
  owner: bad owner
shell:
  install:
  - echo hi
---
artifact: builder
from: stapel2docker/base-busybox:latest
shell:
  install:
  - mkdir -p "/out dir"
`;

/** "werf.yaml:LINE:COL" of the value on the line that starts with `prefix` (the column after it). */
function at(prefix: string): string {
  const lines = WERF_YAML.split("\n");
  const n = lines.findIndex((l) => l.startsWith(prefix));
  return `werf\\.yaml:${n + 1}:${prefix.length + 1}`;
}

test("validate, plan and compile report the same located problems; compile writes nothing", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "s2d-planerr-"));
  try {
    fs.writeFileSync(path.join(dir, "werf.yaml"), WERF_YAML);
    const expected = [
      /^werf\.yaml:8:7: mount `to`: mount target "\/tmp\/caché" contains a blank, a non-ASCII character/m,
      /^werf\.yaml:13:10: docker\.ENV BAD: value contains a line break/m,
      /^werf\.yaml:15:12: docker\.LABEL: label name "a=b" contains '='/m,
      /^werf\.yaml:18:5: docker\.ONBUILD: ONBUILD "RUN <<X" holds "<<"/m,
      // an import: the filtering helper's mount of `add`, and the owner, each at its own value
      new RegExp(`^${at("  add: ")}: import \`add\`: mount source "/out dir" contains a blank`, "m"),
      new RegExp(`^${at("  owner: ")}: import owner: owner "bad owner" has characters a Dockerfile flag cannot hold`, "m"),
    ];
    const outputs: string[] = [];
    for (const args of [["validate"], ["plan"], ["compile"]]) {
      const r = run([...args, "--dir", dir]);
      assert.equal(r.code, 1, `${args[0]}: exit 1\n${r.stderr}`);
      for (const e of expected) assert.match(r.stderr, e, `${args[0]} reports ${e}`);
      assert.doesNotMatch(r.stderr, /werf\.yaml:9:1: /, `${args[0]}: not at the docker: key`);
      outputs.push(r.stderr.split("\n").filter((l) => /^werf\.yaml:/.test(l)).join("\n"));
    }
    assert.equal(outputs[1], outputs[2], "plan reports exactly what compile reports");
    assert.ok(!fs.existsSync(path.join(dir, ".stapel2docker", "Dockerfile")), "compile wrote no Dockerfile");
    // the good values stay quiet
    assert.doesNotMatch(outputs[2], /GOOD|WORKDIR|echo ok/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
