// Bash functions that compiled ansible tasks call. Only the ones a stage uses are printed, once, at the top of
// its RUN script. They use the toolchain's busybox (/.stapel/bin) for file work, as ansible used its own python:
// the image needs no coreutils for them. Package managers, useradd & co. are the image's own, as with ansible.

import { LINEINFILE_ABSENT, LINEINFILE_PRESENT } from "./modules/lineinfile.js";
import { BLOCKINFILE_AWK } from "./modules/blockinfile.js";
import { INI_FILE_AWK } from "./modules/ini_file.js";
import { YUM_REPOSITORY_AWK } from "./modules/yum_repository.js";
import { shellQuote } from "../shell/quote.js";

const S = "/.stapel/bin";

export const HELPERS: Readonly<Record<string, { needs?: string[]; lines: string[] }>> = {
  ansible_fail: {
    lines: [
      "# ansible_fail MESSAGE: the task fails, as ansible's `fatal: ... FAILED!`",
      'ansible_fail() { echo "FAILED: $*" >&2; exit 1; }',
    ],
  },
  ansible_uid: {
    needs: ["ansible_fail"],
    lines: [
      "# ansible_uid NAME|ID, ansible_gid NAME|ID: numeric ids from the image's /etc/passwd and /etc/group",
      "ansible_uid() {",
      '  case "$1" in *[!0-9]*) ;; *) echo "$1"; return;; esac',
      `  local id; id=$(${S}/awk -F: -v n="$1" '$1 == n { print $3; exit }' /etc/passwd)`,
      '  [ -n "$id" ] || ansible_fail "chown failed: failed to look up user $1"',
      '  echo "$id"',
      "}",
      "ansible_gid() {",
      '  case "$1" in *[!0-9]*) ;; *) echo "$1"; return;; esac',
      `  local id; id=$(${S}/awk -F: -v n="$1" '$1 == n { print $3; exit }' /etc/group)`,
      '  [ -n "$id" ] || ansible_fail "chgrp failed: failed to look up group $1"',
      '  echo "$id"',
      "}",
    ],
  },
  ansible_attrs: {
    needs: ["ansible_uid"],
    lines: [
      "# ansible_attrs PATH OWNER GROUP MODE [RECURSE]: ansible's owner/group/mode file attributes (empty: unchanged)",
      "ansible_attrs() {",
      '  local p="$1" o="$2" g="$3" m="$4" r="${5:+-R}"',
      `  if [ -n "$o" ]; then ${S}/chown -h $r "$(ansible_uid "$o")" "$p"; fi`,
      `  if [ -n "$g" ]; then ${S}/chgrp -h $r "$(ansible_gid "$g")" "$p"; fi`,
      `  if [ -n "$m" ] && [ ! -L "$p" ]; then ${S}/chmod $r "$m" "$p"; fi`,
      "}",
    ],
  },
  ansible_write: {
    needs: ["ansible_attrs"],
    lines: [
      "# ansible_write DEST OWNER GROUP MODE < CONTENT: the file gets exactly CONTENT; an existing file keeps its",
      "# attributes, a new one is 0644 (umask 022), as ansible's atomic move does",
      "ansible_write() {",
      '  local d="$1"',
      '  if [ -d "$d" ]; then ansible_fail "can not use content with a dir as dest"; fi',
      `  local dir; dir=$(${S}/dirname "$d")`,
      '  [ -d "$dir" ] || ansible_fail "Destination directory $dir does not exist"',
      `  local t; t=$(${S}/mktemp "$dir/.ansible_tmpXXXXXX")`,
      `  ${S}/cat > "$t"`,
      `  if [ -e "$d" ]; then ${S}/cat "$t" > "$d"; ${S}/rm -f "$t"`,
      `  else ${S}/chmod 0644 "$t"; ${S}/mv "$t" "$d"; fi`,
      '  ansible_attrs "$d" "$2" "$3" "$4"',
      "}",
    ],
  },
  ansible_set: {
    lines: [
      "# ansible_set VAR VALUE: a registered result, read back by the RUN after the task's subshell",
      'ansible_set() { printf \'%s=%q\\n\' "$1" "$2" >> "$ansible_regfile"; }',
    ],
  },
  ansible_edit: {
    needs: ["ansible_write"],
    lines: [
      "# ansible_edit FILE OWNER GROUP MODE PROG [AWK OPTIONS...]: FILE (or nothing, when missing) through the awk",
      "# program PROG, which exits 10 when it changed the text: only then is FILE written (created with its",
      "# directories), as ansible writes only changed files; owner/group/mode apply to an existing FILE either way.",
      "# The program gets nonl=1 when the last line has no newline.",
      "ansible_edit() {",
      '  local f="$1" o="$2" g="$3" m="$4" prog="$5" src="$1" nonl=0 rc=0 t; shift 5',
      '  [ -e "$f" ] || src=/dev/null',
      `  if [ -s "$src" ] && [ -n "$(${S}/tail -c 1 "$src")" ]; then nonl=1; fi`,
      `  t=$(${S}/mktemp)`,
      `  ${S}/awk -v nonl="$nonl" "$@" "$prog" "$src" > "$t" || rc=$?`,
      '  if [ "$rc" = 10 ]; then',
      `    [ -e "$f" ] || ${S}/mkdir -p "$(${S}/dirname "$f")"`,
      '    ansible_write "$f" "$o" "$g" "$m" < "$t"',
      `  elif [ "$rc" != 0 ]; then ${S}/rm -f "$t"; ansible_fail "could not edit $f"; fi`,
      `  ${S}/rm -f "$t"`,
      '  if [ -e "$f" ]; then ansible_attrs "$f" "$o" "$g" "$m"; fi',
      "}",
    ],
  },
  ansible_lineinfile: {
    lines: [
      "# lineinfile's awk programs (modules/lineinfile.ts), for ansible_edit",
      `ansible_lineinfile_present=${shellQuote(LINEINFILE_PRESENT.trim())}`,
      `ansible_lineinfile_absent=${shellQuote(LINEINFILE_ABSENT.trim())}`,
    ],
  },
  ansible_blockinfile: {
    lines: ["# blockinfile's awk program (modules/blockinfile.ts), for ansible_edit", `ansible_blockinfile=${shellQuote(BLOCKINFILE_AWK.trim())}`],
  },
  ansible_ini_file: {
    lines: ["# ini_file's awk program (modules/ini_file.ts), for ansible_edit", `ansible_ini_file=${shellQuote(INI_FILE_AWK.trim())}`],
  },
  ansible_http: {
    lines: [
      "# ansible_http URL OUT [HEADER...]: GET URL into OUT with the image's curl, else its wget, else the toolchain's",
      "# busybox wget (redirects followed; ansible_http_insecure=1: no certificate checks); sets ansible_http_status",
      "# to the last response's code, -1 when there was none (as ansible's uri)",
      "ansible_http() {",
      '  local url="$1" out="$2" err code="" x w h=(); shift 2',
      `  err=$(${S}/mktemp)`,
      "  if command -v curl >/dev/null 2>&1; then",
      '    for x in "$@"; do h+=(-H "$x"); done',
      '    code=$(curl -sS -L ${ansible_http_insecure:+-k} "${h[@]}" -o "$out" -w \'%{http_code}\' "$url" 2>"$err") || true',
      "  else",
      `    w=wget; command -v wget >/dev/null 2>&1 || w=${S}/wget`,
      '    for x in "$@"; do h+=(--header "$x"); done',
      '    "$w" -S ${ansible_http_insecure:+--no-check-certificate} -O "$out" "${h[@]}" "$url" 2>"$err" || true',
      `    code=$(${S}/sed -n 's/^ *HTTP\\/[0-9.]* \\([0-9][0-9][0-9]\\).*/\\1/p' "$err" | ${S}/tail -n 1)`,
      "  fi",
      `  ${S}/rm -f "$err"`,
      '  case "$code" in ""|000) code=-1;; esac',
      "  ansible_http_status=$code",
      "}",
    ],
  },
  ansible_yum_repository: {
    lines: ["# yum_repository's awk program (modules/yum_repository.ts)", `ansible_yum_repository=${shellQuote(YUM_REPOSITORY_AWK.trim())}`],
  },
  ansible_exists: {
    lines: [
      "# ansible_exists PATTERN: a path matches the glob (creates/removes)",
      'ansible_exists() { ( shopt -s nullglob dotglob; set -- $1; [ $# -gt 0 ] ); }',
    ],
  },
  ansible_fetch: {
    needs: ["ansible_fail"],
    lines: [
      "# ansible_fetch URL FILE: download with the image's curl or wget (file:// read directly)",
      "ansible_fetch() {",
      `  case "$1" in file://*) ${S}/cat "\${1#file://}" > "$2"; return;; esac`,
      '  if command -v curl >/dev/null 2>&1; then curl -fsSL -o "$2" "$1"',
      '  elif command -v wget >/dev/null 2>&1; then wget -q -O "$2" "$1"',
      `  else ${S}/wget -q -O "$2" "$1"; fi || ansible_fail "Request failed: $1"`,
      "}",
    ],
  },
};

/** The helper definitions for `names` and what they need, in a stable order. */
export function helperLines(names: Iterable<string>): string[] {
  const want = new Set<string>();
  const add = (n: string) => {
    if (want.has(n)) return;
    const h = HELPERS[n];
    if (!h) throw new Error(`unknown ansible helper ${n}`);
    want.add(n);
    for (const d of h.needs ?? []) add(d);
  };
  for (const n of names) add(n);
  return Object.keys(HELPERS).filter((n) => want.has(n)).flatMap((n) => HELPERS[n]!.lines);
}
