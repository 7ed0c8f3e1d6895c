// werf.yaml and .werf/*.tmpl are read as UTF-8 only, and not beyond 16 MiB: invalid bytes and
// oversized files are located errors, never silent U+FFFD; NUL and other control characters that
// reach the YAML are located too.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { UserError } from "../../src/diagnostics.js";
import { loadWerfConfig } from "../../src/config/index.js";
import { renderWerfConfig } from "../../src/template/render.js";
import { MAX_TEMPLATE_FILE_BYTES, findInvalidUtf8 } from "../../src/template/read.js";
import { tempDir } from "../git/gitFixture.js";

function project(files: Record<string, string | Buffer>): string {
  const dir = tempDir("read");
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

async function renderError(dir: string): Promise<UserError> {
  try {
    await renderWerfConfig({ dir });
  } catch (e) {
    assert.ok(e instanceof UserError, String(e));
    return e;
  }
  assert.fail("expected the render to fail");
}

const META = "configVersion: 1\nproject: demo\n---\n";

test("invalid UTF-8 in werf.yaml is located at the first bad byte", async () => {
  const dir = project({ "werf.yaml": Buffer.concat([Buffer.from(`${META}image: app\nfrom: alpine # café `), Buffer.from([0xe9, 0x20]), Buffer.from("\n")]) });
  const e = await renderError(dir);
  assert.equal(e.message.split("\n")[0], "werf.yaml:5:21: invalid UTF-8: invalid trailing UTF-8 octet 0x20");
  assert.match(e.diagnostics[0]!.hint ?? "", /iconv/);
});

test("invalid UTF-8 in a .werf partial is located in that file", async () => {
  const dir = project({
    "werf.yaml": `${META}{{ include "base.tmpl" . }}\n`,
    ".werf/base.tmpl": Buffer.concat([Buffer.from("image: app\nfrom: "), Buffer.from([0xff]), Buffer.from("alpine\n")]),
  });
  const e = await renderError(dir);
  assert.deepEqual(e.diagnostics[0]!.pos, { file: ".werf/base.tmpl", line: 2, col: 7 });
  assert.equal(e.diagnostics[0]!.message, "invalid UTF-8: invalid leading UTF-8 octet 0xff");
});

test("findInvalidUtf8 names the problem as yaml.v2's reader does", () => {
  const cases: Array<[number[], string | undefined]> = [
    [[0x61, 0xc3, 0xa9], undefined],
    [[0xf0, 0x9f, 0x99, 0x82], undefined],
    [[0x61, 0x80], "invalid leading UTF-8 octet 0x80"],
    [[0xc3], "incomplete UTF-8 octet sequence"],
    [[0xc0, 0xaf], "invalid length of a UTF-8 sequence"],
    [[0xed, 0xa0, 0x80], "invalid Unicode character"],
    [[0xf4, 0x90, 0x80, 0x80], "invalid Unicode character"],
  ];
  for (const [bytes, want] of cases) assert.equal(findInvalidUtf8(Uint8Array.from(bytes))?.problem, want, bytes.join(","));
  assert.equal(findInvalidUtf8(Uint8Array.from([0x61, 0x62, 0xff]))?.offset, 2);
});

test("a werf.yaml over 16 MiB is refused at once, before reading it", async () => {
  const dir = project({ "werf.yaml": "" });
  fs.truncateSync(path.join(dir, "werf.yaml"), 50 * 1000 * 1000);
  const t0 = Date.now();
  const e = await renderError(dir);
  assert.ok(Date.now() - t0 < 2000);
  assert.equal(e.message.split("\n")[0], `werf.yaml:1:1: the file is 50000000 bytes, over the limit of ${MAX_TEMPLATE_FILE_BYTES} (16 MiB)`);
});

test("a NUL byte reaching the YAML is located in werf.yaml, as yaml.v2 refuses it", async () => {
  const dir = project({ "werf.yaml": `${META}image: app\nfrom: alp\u0000ine\n` });
  const rendered = await renderWerfConfig({ dir });
  assert.throws(
    () => loadWerfConfig(rendered),
    (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.equal(e.message.split("\n")[0], "werf.yaml:5:10: invalid YAML: control characters are not allowed");
      return true;
    },
  );
});
