// werf `import:` include/exclude filtering as a bash script for the import helper stage.
//
// A Dockerfile `COPY --from` cannot filter, so the emitter adds a helper stage (FROM the toolchain image:
// a static bash and busybox under /.stapel/bin, nothing else) whose RUN bind-mounts the source image's
// `add` directory and runs the script made here. The script walks that directory, keeps what werf's
// path matcher keeps (src/git/pathMatcher.ts: include AND NOT exclude, each mask = glob | glob without
// trailing `*` segments | that + "/**/*", doublestar semantics) and copies it, with relative paths,
// modes, owners, mtimes and symlinks (never followed), into the output directory.
//
// Masks become POSIX EREs for bash's `[[ $p =~ $re ]]`:
//   * The glob semantics are not re-derived here: src/git/doublestar.ts parses each glob into token sequences
//     (globTokenSequences), the same its RegExp is made of; glob-tree.ts lowers them to a code-point tree and
//     glob-ere.ts writes the tree as an ERE (a second backend). Where doublestar's RegExp uses lookaheads for
//     zero-length tails (`(?!$)X`, `(?:$|X)`), the tree has "X without the empty string" and "empty or X",
//     exact because X always runs to the end.
//   * The script runs with LC_ALL=C, so bash matches bytes. A regex here is a *byte string*: every
//     char is one byte (U+0000–U+00FF); a non-ASCII character of a mask appears as its UTF-8 bytes, and
//     `?` / `[set]` match one whole UTF-8 sequence. Test a path against it as its UTF-8 bytes read as
//     latin1 (`Buffer.from(p).toString("latin1")`). `*` and `**` match any bytes but `/`, so names
//     that are not valid UTF-8 still match `*`; `?` and classes never match an invalid byte.
//   * Only the subset that POSIX ERE and JavaScript read alike is produced: groups `( )`, `|`, `*`, `?`,
//     `^`/`$` only at the ends, backslash escapes only outside brackets, brackets without `\ ] [ ^ -`
//     (those become alternatives), never an empty group, bracket or alternative.
//   * Directories are entered only when something below them may match (like shouldGoThrough): for
//     that a second ERE accepts a directory `d` when `d/` is a prefix of a path the includes accept.
//
// Masks that cannot become an ERE (a UserError): a malformed doublestar pattern (as PathMatcher says),
// a mask holding a NUL character, and a mask whose ERE would exceed MAX_REGEX_LENGTH bytes (many
// nested `{a,b}` alternatives).
//
// The walk is done in bash itself (globbing with dotglob, sorted bytewise), so any file name works,
// including names with newlines, quotes, `$`, spaces, a leading `-` and invalid UTF-8; the selected
// entries go NUL-separated to busybox `cpio -o -H newc -0` and are unpacked with `cpio -i -d -m -u`.
// Parent directories of selected entries are copied too (mode, owner), empty directories only when a
// mask selects them. Output is deterministic: no timestamps, sorted walk.

import { bashBytesQuote } from "../shell/quote.js";
import { ANY_PATH, anchored, sized, treeOf } from "./glob-ere.js";
import { alt, dirPrefixes, globTree, type N } from "./glob-tree.js";

export interface ImportFilter {
  add: string;
  includePaths: string[];
  excludePaths: string[];
}

export { MAX_REGEX_LENGTH } from "./glob-ere.js";

// ---------------------------------------------------------------------------------------------
// Public API

/** doublestar.PathMatch(pattern, ·) as an anchored ERE over UTF-8 bytes (see the header). Throws BadPatternError. */
export function globToRegex(pattern: string): string {
  return anchored(globTree(pattern));
}

/**
 * The werf mask as a POSIX ERE (for bash `[[ $p =~ re ]]`, LC_ALL=C) matching the relative paths werf's
 * matcher accepts (WerfMask.matches): anchored, over UTF-8 bytes (one char per byte, see the header).
 * Throws UserError for a mask that cannot become an ERE (malformed, NUL, too complex).
 */
export function maskToRegex(mask: string): string {
  const t = treeOf(mask, "import mask");
  return t === "all" ? ANY_PATH : sized(t, [mask], "import mask");
}

/**
 * An ERE accepting a directory `d` (relative, no trailing slash) when some path strictly below it may
 * match the mask: `d + "/"` is a prefix of an accepted path. Exact, so never stricter than
 * WerfMask.mayMatchBelow. Throws UserError like maskToRegex.
 */
export function maskBelowRegex(mask: string): string {
  const t = treeOf(mask, "import mask");
  return t === "all" ? ANY_PATH : sized(dirPrefixes(t), [mask], "import mask");
}

/** A bash word that reads back as `s` (a byte string, one char per byte). */
export const bashQuote = bashBytesQuote;

/** A value for a bash comment line: printable ASCII, other characters as \u{…}. */
function commentText(s: string): string {
  return s.replace(/[^\x20-\x7e]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

interface Compiled {
  /** undefined: every path is included. */
  include?: string;
  includeBelow?: string;
  /** undefined: nothing is excluded; "all": everything is. */
  exclude?: string | "all";
}

function compileFilter(f: ImportFilter): Compiled {
  const inc = f.includePaths.map((m, i) => treeOf(m, `import includePaths[${i}]`));
  const exc = f.excludePaths.map((m, i) => treeOf(m, `import excludePaths[${i}]`));
  const out: Compiled = {};
  const incTrees = inc.filter((t): t is N => t !== "all");
  if (inc.length > 0 && incTrees.length === inc.length) {
    out.include = sized(alt(incTrees), f.includePaths, "import includePaths");
    out.includeBelow = sized(dirPrefixes(alt(incTrees)), f.includePaths, "import includePaths");
  }
  const excTrees = exc.filter((t): t is N => t !== "all");
  if (excTrees.length < exc.length) out.exclude = "all";
  else if (exc.length > 0) out.exclude = sized(alt(excTrees), f.excludePaths, "import excludePaths");
  return out;
}

/**
 * A bash script body (no shebang; run by /.stapel/bin/bash -e; it exports PATH=/.stapel/bin itself) that
 * copies the files of `src` matched by the filter to `out`, keeping relative paths, modes, owners,
 * mtimes, symlinks (not followed), and empty directories only when a mask matches them. `out` is
 * created (with the mode and owner of `src`). When `src` is not a directory (an `add` naming one file),
 * `out` becomes a copy of it if the filter keeps it (the path "" relative to `add`), else an empty
 * directory. Deterministic text, printable ASCII only. Throws UserError for a mask that cannot be used.
 */
export function importFilterScript(f: ImportFilter, src: string, out: string): string {
  const c = compileFilter(f);
  const lines: string[] = [];
  lines.push(
    `# werf import filter: add ${commentText(f.add)}`,
    `#   includePaths: ${commentText(JSON.stringify(f.includePaths))}`,
    `#   excludePaths: ${commentText(JSON.stringify(f.excludePaths))}`,
    "export PATH=/.stapel/bin LC_ALL=C",
    "set -o pipefail",
    "shopt -s dotglob nullglob",
    `S2D_SRC=${bashQuote(src)}`,
    `S2D_OUT=${bashQuote(out)}`,
  );
  if (c.include !== undefined) {
    lines.push(`S2D_INC=${bashQuote(c.include)}`, `S2D_BELOW=${bashQuote(c.includeBelow!)}`);
  }
  if (c.exclude !== undefined && c.exclude !== "all") lines.push(`S2D_EXC=${bashQuote(c.exclude)}`);
  // s2d_keep PATH: include AND NOT exclude
  lines.push("s2d_keep() {");
  if (c.exclude === "all") lines.push("  return 1");
  else {
    if (c.include !== undefined) lines.push("  [[ $1 =~ $S2D_INC ]] || return 1");
    if (c.exclude !== undefined) lines.push("  [[ $1 =~ $S2D_EXC ]] && return 1");
    lines.push("  return 0");
  }
  lines.push("}");
  // s2d_enter DIR: the walk goes into DIR (werf's shouldGoThrough)
  lines.push("s2d_enter() {");
  if (c.exclude === "all") lines.push("  return 1");
  else {
    if (c.exclude !== undefined) lines.push("  [[ $1 =~ $S2D_EXC ]] && return 1");
    if (c.include !== undefined) lines.push("  [[ $1 =~ $S2D_INC || $1 =~ $S2D_BELOW ]] || return 1");
    lines.push("  return 0");
  }
  lines.push("}");
  lines.push(
    "# directories entered but not listed yet: listed (for their mode and owner) before the first entry below them",
    "S2D_PENDING=()",
    "s2d_list() {",
    "  local d",
    "  for d in \"${S2D_PENDING[@]}\"; do printf '%s\\0' \"$d\"; done",
    "  S2D_PENDING=()",
    "  printf '%s\\0' \"$1\"",
    "}",
    "s2d_walk() {",
    "  local e p",
    "  for e in \"$S2D_SRC/$1\"*; do",
    "    p=$1${e##*/}",
    "    if [[ -d $e && ! -L $e ]]; then",
    "      if ! s2d_enter \"$p\"; then continue; fi",
    "      if s2d_keep \"$p\"; then",
    "        s2d_list \"$p\"",
    "        s2d_walk \"$p/\"",
    "      else",
    "        S2D_PENDING+=(\"$p\")",
    "        s2d_walk \"$p/\"",
    "        if (( ${#S2D_PENDING[@]} > 0 )); then unset 'S2D_PENDING[-1]'; fi",
    "      fi",
    "    elif s2d_keep \"$p\"; then",
    "      s2d_list \"$p\"",
    "    fi",
    "  done",
    "  return 0",
    "}",
    "if [[ -d $S2D_SRC ]]; then",
    "  mkdir -p \"$S2D_OUT\"",
    "  chmod \"$(stat -c %a \"$S2D_SRC\")\" \"$S2D_OUT\"",
    "  chown \"$(stat -c %u:%g \"$S2D_SRC\")\" \"$S2D_OUT\"",
    "  s2d_walk '' | (cd \"$S2D_SRC\" && cpio -o -H newc -0) | (cd \"$S2D_OUT\" && cpio -i -d -m -u)",
    "elif s2d_keep ''; then",
    "  cp -a \"$S2D_SRC\" \"$S2D_OUT\"",
    "else",
    "  mkdir -p \"$S2D_OUT\"",
    "fi",
  );
  return lines.join("\n") + "\n";
}
