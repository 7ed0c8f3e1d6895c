import assert from "node:assert/strict";
import { test } from "node:test";
import { splitDocuments } from "../../src/config/documents.js";

test("splits on --- lines, keeps offsets, drops empty and comment-only documents", () => {
  const text = "# header\n---\na: 1\n--- # second\n\n# only a comment\n---   \nb: 2\n---\n";
  const docs = splitDocuments(text);
  assert.deepEqual(
    docs.map((d) => d.text),
    ["a: 1\n", "b: 2\n"],
  );
  assert.equal(text.slice(docs[0]!.offset, docs[0]!.offset + 4), "a: 1");
  assert.equal(text.slice(docs[1]!.offset, docs[1]!.offset + 4), "b: 2");
  assert.deepEqual(docs.map((d) => d.index), [0, 1]);
});

test("--- inside a line, or followed by content, does not split", () => {
  const docs = splitDocuments("a: '---'\nb: |\n  x\n  ---\n--- x\nc: 1\n");
  assert.equal(docs.length, 1);
});

test("CRLF separators split too", () => {
  const docs = splitDocuments("a: 1\r\n---\r\nb: 2\r\n");
  assert.deepEqual(docs.map((d) => d.text), ["a: 1\r\n", "b: 2\r\n"]);
});

test("a text without separators is one document; an empty text is none", () => {
  assert.equal(splitDocuments("image: x\nfrom: y").length, 1);
  assert.equal(splitDocuments("").length, 0);
  assert.equal(splitDocuments("\n\n# c\n---\n---\n").length, 0);
});
