// planArchiveLazy (the archive planned as listing references and front-coded directory names) gives exactly the
// entries, in exactly the order, of a plain sort by name, for listings given as arrays and as raw `ls-tree` bytes,
// in git's order and out of it (names past U+E000 and names that are not UTF-8 decode out of git's order).

import { test } from "node:test";
import assert from "node:assert/strict";
import { ArchivePlan, checkEntryPath, planArchiveLazy, planArchivesTogether, type PlannedEntry } from "../../src/git/archive.js";
import { ListingRange, RawListing, type TreeEntry } from "../../src/git/tree.js";
import type { GitMappingSpec } from "../../src/git/mapping.js";

const OID = "0123456789abcdef0123456789abcdef01234567";

/** The reference: every matched file and each of its parents down to `to`, sorted by name. */
function reference(paths: string[], scope: string, target: string, keep: (p: string) => boolean): string[] {
  const names = new Set<string>();
  for (const p of paths) {
    if (!(scope === "" || p.startsWith(`${scope}/`)) || !keep(p)) continue;
    const rel = scope === "" ? p : p.slice(scope.length + 1);
    const name = target === "" ? rel : `${target}/${rel}`;
    names.add(`${name}\0f`);
    for (let s = name.lastIndexOf("/"); s > 0 && s >= target.length; s = name.lastIndexOf("/", s - 1)) names.add(`${name.slice(0, s)}\0d`);
  }
  return [...names].map((n) => n.split("\0")).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([n, k]) => (k === "d" ? `${n}/` : n));
}

/** The names ArchivePlan.eachName gives (directories with a "/"), or undefined when it declines. */
function byteNames(planned: Iterable<PlannedEntry>): string[] | undefined {
  assert.ok(planned instanceof ArchivePlan);
  const out: string[] = [];
  const ok = planned.eachName(
    (name, len) => out.push(`${name.toString("utf8", 0, len)}/`),
    (head, buf, start, end) => out.push(head.toString("utf8") + buf.toString("utf8", start, end)),
  );
  return ok ? out : undefined;
}

const shown = (planned: Iterable<PlannedEntry>) => [...planned].map((p) => (p.kind === "dir" ? `${p.name}/` : p.name));

function rawListing(records: Buffer[]): RawListing {
  const l = RawListing.parse(Buffer.concat(records));
  assert.ok(l);
  return l;
}

const record = (p: Buffer | string) => Buffer.concat([Buffer.from(`100644 blob ${OID}\t`), Buffer.from(p), Buffer.from([0])]);

test("the lazy plan equals a sorted plan: git order, deep and sibling names that sort around their directory", () => {
  // "a/b" (a directory) sorts before "a/b-x" and "a/b.txt" by name, after them in git's order
  // the same with a name from U+D000 up (한: UTF-8 lead byte 0xED), whose directories are then sorted as strings
  const paths = ["a/b-x", "a/b.txt", "a/b/c/d.go", "a/b/c0.go", "a/b0", "app/x/y/z.md", "app/x/y/z.txt", "b.go", "k/한-x/b.go", "k/한.go", "k/한/a.go", "z/z/z/z"].sort();
  const entries: TreeEntry[] = paths.map((p) => ({ path: p, mode: "100644", type: "blob", oid: OID }));
  const listing = rawListing(paths.map(record));
  for (const [add, to, excludes] of [["/", "/repo", []], ["/a", "/", []], ["/a", "/srv/a", ["**/*.txt"]], ["/", "/", ["**/*.md"]]] as const) {
    const mapping: GitMappingSpec = { add, to, includePaths: [], excludePaths: excludes };
    const scope = add.slice(1);
    const keep = (p: string) => !(excludes.length && (p.endsWith(".txt") ? excludes[0] === "**/*.txt" : p.endsWith(".md") && excludes[0] === "**/*.md"));
    const expected = reference(paths, scope, to.slice(1), keep);
    const fromArray = planArchiveLazy(entries.filter((e) => scope === "" || e.path.startsWith(`${scope}/`)), mapping).planned;
    const fromRange = planArchiveLazy(new ListingRange(listing, 0, listing.length, scope), mapping).planned;
    assert.deepEqual(shown(fromArray), expected, `${add} → ${to} (array)`);
    assert.deepEqual(shown(fromRange), expected, `${add} → ${to} (listing range)`);
    assert.deepEqual(shown(fromRange), shown(fromRange), "iterable again");
    // a directory name from U+D000 up (한, in every `add: /`): its byte order may not be the names', declined
    assert.deepEqual(byteNames(fromRange), add === "/" ? undefined : expected, `${add} → ${to} (names as bytes)`);
    assert.equal(fromRange.length, expected.length);
  }
});

test("the lazy plan equals a sorted plan when decoded names are out of git's order", () => {
  // git's byte order: C0 (not UTF-8) < C3 BC (ü) < E6 (日) < EF BC A1 (Ａ) < F0 (😀); decoded, U+FFFD and the
  // surrogates of 😀 sort elsewhere
  const raw = [Buffer.from("web/\xc0a.txt", "latin1"), "web/ü.txt", "web/ü0.txt", "web/日本/語.txt", "web/Ａ.txt", "web/😀.txt", "web/😀/x"];
  const listing = rawListing(raw.map(record));
  const paths = Array.from({ length: listing.length }, (_, i) => listing.path(i));
  const mapping: GitMappingSpec = { add: "/", to: "/src", includePaths: [], excludePaths: [] };
  const expected = reference(paths, "", "src", () => true);
  assert.deepEqual(shown(planArchiveLazy(new ListingRange(listing, 0, listing.length, ""), mapping).planned), expected);
  assert.deepEqual(shown(planArchiveLazy(listing.all(), mapping).planned), expected);
});

test("the lazy plan equals a sorted plan on random trees (siblings, deep and shallow files after one another)", () => {
  // a seeded PRNG: the same trees every run
  let seed = 13;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const parts = ["a", "b", "a-x", "a.txt", "b0", "ab", "z"];
  for (let round = 0; round < 40; round++) {
    const set = new Set<string>();
    const dirs = new Set<string>();
    for (let k = 0; k < 60; k++) {
      const depth = 1 + rnd(4);
      const segs = Array.from({ length: depth }, () => parts[rnd(parts.length)]);
      const p = segs.join("/");
      // a path is a file or a directory, never both (as in git); no file inside a file
      const prefixes = segs.slice(0, -1).map((_, i) => segs.slice(0, i + 1).join("/"));
      if (dirs.has(p) || prefixes.some((d) => set.has(d))) continue;
      set.add(p);
      for (const d of prefixes) dirs.add(d);
    }
    const paths = [...set].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    const listing = rawListing(paths.map(record));
    const entries: TreeEntry[] = paths.map((p) => ({ path: p, mode: "100644", type: "blob", oid: OID }));
    for (const [add, to] of [["/", "/"], ["/", "/srv/app"], ["/a", "/"], ["/a", "/x"], ["/a/b", "/deep/er"]] as const) {
      const scope = add.slice(1);
      const inScope = paths.filter((p) => scope === "" || p.startsWith(`${scope}/`));
      if (inScope.length === 0) continue;
      const mapping: GitMappingSpec = { add, to, includePaths: [], excludePaths: ["**/b0"] };
      const expected = reference(paths, scope, to.slice(1), (p) => !/(^|\/)b0$/.test(p));
      if (!expected.some((n) => !n.endsWith("/"))) continue;
      const fromRange = planArchiveLazy(new ListingRange(listing, 0, listing.length, scope), mapping).planned;
      const fromArray = planArchiveLazy(entries.filter((e) => inScope.includes(e.path)), mapping).planned;
      assert.deepEqual(shown(fromRange), expected, `round ${round}: ${add} → ${to} (listing range)`);
      assert.deepEqual(byteNames(fromRange), expected, `round ${round}: ${add} → ${to} (names as bytes)`);
      assert.deepEqual(shown(fromArray), expected, `round ${round}: ${add} → ${to} (array)`);
    }
  }
});

test("archives planned together over one listing are the plans (or the errors) of each planned alone", () => {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const parts = ["a", "b", "a-x", "a.txt", "b0", "ab", "z", "é"];
  const MAPPINGS: GitMappingSpec[] = [
    { add: "/", to: "/", includePaths: [], excludePaths: [] },
    { add: "/", to: "/srv/app", includePaths: [], excludePaths: ["**/b0"] },
    { add: "/a", to: "/x", includePaths: ["**/*.txt", "b"], excludePaths: [] },
    { add: "/a/b", to: "/deep/er", includePaths: [], excludePaths: [] },
    { add: "/a", to: "/", includePaths: ["nothing-matches"], excludePaths: [] }, // an error: no file after the masks
    { add: "/z", to: "/z", includePaths: [], excludePaths: [] },
  ];
  const errors = new Set<string>();
  let planned = 0;
  for (let round = 0; round < 30; round++) {
    const set = new Set<string>();
    const dirs = new Set<string>();
    for (let k = 0; k < 80; k++) {
      const segs = Array.from({ length: 1 + rnd(4) }, () => parts[rnd(parts.length)]);
      const p = segs.join("/");
      const prefixes = segs.slice(0, -1).map((_, i) => segs.slice(0, i + 1).join("/"));
      if (dirs.has(p) || prefixes.some((d) => set.has(d))) continue;
      set.add(p);
      for (const d of prefixes) dirs.add(d);
    }
    // a record whose path leaves `to` (a crafted tree) in some rounds: an error for the mappings that take it only
    if (round % 3 === 0) set.add("a/../escape");
    const paths = [...set].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    const listing = rawListing(paths.map(record));
    const items = MAPPINGS.map((mapping) => {
      const scope = mapping.add.slice(1);
      // the scope's range, as the planner cuts it (a prefix range; the range's own scope check drops "a-x" from "a")
      let from = 0;
      while (from < listing.length && scope !== "" && listing.path(from) < scope) from++;
      let to = from;
      while (to < listing.length && (scope === "" || listing.path(to).startsWith(scope))) to++;
      return { entries: new ListingRange(listing, from, to, scope), mapping };
    });
    const together = planArchivesTogether(items);
    items.forEach((item, k) => {
      let alone: { names: string[]; skipped: string[] } | { error: string };
      try {
        const r = planArchiveLazy(item.entries, item.mapping);
        alone = { names: shown(r.planned), skipped: r.skippedSubmodules };
      } catch (e) {
        alone = { error: String(e) };
      }
      const t = together[k];
      const got = "error" in t ? { error: String(t.error) } : { names: shown(t.planned), skipped: t.skippedSubmodules };
      assert.deepEqual(got, alone, `round ${round}: ${item.mapping.add} → ${item.mapping.to}`);
      if ("error" in got) errors.add(String(got.error).includes("outside") ? "path" : "other");
      else planned++;
    });
  }
  // both kinds of error were met, and plans
  assert.deepEqual([...errors].sort(), ["other", "path"]);
  assert.ok(planned > 30, `${planned} plans`);
});

test("names as bytes: non-ASCII names below U+D000 and a file name past it, in the names' order", () => {
  const paths = ["a/b-x", "a/b/c.txt", "a/日本/語 file.txt", "a/日本0", "a/\uFF21.txt", "a/é/x", "a/é.txt", "z"].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  const listing = rawListing(paths.map(record));
  for (const [add, to] of [["/", "/"], ["/a", "/srv/日本"], ["/a", "/"]] as const) {
    const mapping: GitMappingSpec = { add, to, includePaths: [], excludePaths: [] };
    const scope = add.slice(1);
    const planned = planArchiveLazy(new ListingRange(listing, 0, listing.length, scope), mapping).planned;
    assert.deepEqual(byteNames(planned), reference(paths, scope, to.slice(1), () => true), `${add} → ${to}`);
  }
  // a single-file mapping and a listing with a character above U+FFFF are declined
  assert.equal(byteNames(planArchiveLazy(new ListingRange(listing, 0, listing.length, "z"), { add: "/z", to: "/z", includePaths: [], excludePaths: [] }).planned), undefined);
  const astral = rawListing(["a/x", "a/\u{1F600}"].map(record));
  assert.equal(byteNames(planArchiveLazy(new ListingRange(astral, 0, astral.length, ""), { add: "/", to: "/", includePaths: [], excludePaths: [] }).planned), undefined);
});

test("checkEntryPath refuses every path with an empty, . or .. component, and only those", () => {
  for (const bad of ["", "/a", "a/", "a//b", ".", "..", "./a", "../a", "a/.", "a/..", "a/./b", "a/../b", "/"]) {
    assert.throws(() => checkEntryPath(bad), /outside the mapping/, JSON.stringify(bad));
  }
  for (const good of ["a", "a/b", ".a", "a/.b", "..a/b", "a/..b", "a/b.", "a./b", "a/...", "日本/.x"]) checkEntryPath(good);
});
