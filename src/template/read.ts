// Reading werf.yaml and the .werf/*.tmpl partials: UTF-8 only, and not beyond a size no werf.yaml
// reaches. werf passes the bytes through text/template to yaml.v2, whose reader refuses invalid
// UTF-8 ("invalid leading UTF-8 octet", ...); we refuse it when reading, located at the first bad
// byte, instead of decoding it silently as U+FFFD. (werf would accept bad bytes that only occur
// inside a template comment or string; we do not.)
import * as fs from "node:fs";
import { UserError, lineCol } from "../diagnostics.js";

/** Bytes one template file may have (16 MiB, as much as the template output may have). */
export const MAX_TEMPLATE_FILE_BYTES = 16 * 1024 * 1024;

/** Where the first invalid UTF-8 sequence of `buf` starts, and yaml.v2's (readerc.go) word for the problem. */
export function findInvalidUtf8(buf: Uint8Array): { offset: number; problem: string } | undefined {
  for (let i = 0; i < buf.length; ) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const width = (b & 0xe0) === 0xc0 ? 2 : (b & 0xf0) === 0xe0 ? 3 : (b & 0xf8) === 0xf0 ? 4 : 0;
    if (width === 0) return { offset: i, problem: `invalid leading UTF-8 octet 0x${hex(b)}` };
    if (i + width > buf.length) return { offset: i, problem: "incomplete UTF-8 octet sequence" };
    let value = b & (width === 2 ? 0x1f : width === 3 ? 0x0f : 0x07);
    for (let k = 1; k < width; k++) {
      const c = buf[i + k]!;
      if ((c & 0xc0) !== 0x80) return { offset: i, problem: `invalid trailing UTF-8 octet 0x${hex(c)}` };
      value = (value << 6) | (c & 0x3f);
    }
    if ((width === 2 && value < 0x80) || (width === 3 && value < 0x800) || (width === 4 && value < 0x10000)) {
      return { offset: i, problem: "invalid length of a UTF-8 sequence" };
    }
    if ((value >= 0xd800 && value <= 0xdfff) || value > 0x10ffff) return { offset: i, problem: "invalid Unicode character" };
    i += width;
  }
  return undefined;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0");
}

/** The text of a template file, or a UserError located in it (`display` is the name users know). */
export async function readTemplateFile(abs: string, display: string): Promise<string> {
  const size = (await fs.promises.stat(abs)).size;
  if (size > MAX_TEMPLATE_FILE_BYTES) {
    throw new UserError({
      pos: { file: display, line: 1, col: 1 },
      message: `the file is ${size} bytes, over the limit of ${MAX_TEMPLATE_FILE_BYTES} (16 MiB)`,
      hint: "a werf config is far smaller; check that this is the file you meant (stapel2docker's limit)",
    });
  }
  return templateText(await fs.promises.readFile(abs), display);
}

/** The text of a template file's bytes (however read: the work tree or a commit), or a located UserError. */
export function templateText(buf: Buffer, display: string): string {
  if (buf.length > MAX_TEMPLATE_FILE_BYTES) {
    throw new UserError({
      pos: { file: display, line: 1, col: 1 },
      message: `the file is ${buf.length} bytes, over the limit of ${MAX_TEMPLATE_FILE_BYTES} (16 MiB)`,
      hint: "a werf config is far smaller; check that this is the file you meant (stapel2docker's limit)",
    });
  }
  const bad = findInvalidUtf8(buf);
  if (bad) {
    const before = buf.subarray(0, bad.offset).toString("utf8");
    throw new UserError({
      pos: { file: display, ...lineCol(before, before.length) },
      message: `invalid UTF-8: ${bad.problem}`,
      hint: "werf reads werf.yaml and its templates as UTF-8 (yaml.v2 refuses anything else); convert the file, e.g. `iconv -f LATIN1 -t UTF-8`",
    });
  }
  return buf.toString("utf8");
}
