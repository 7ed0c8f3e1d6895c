// The bash function that turns a user or group of a git mapping into a numeric id inside the image, shared by the
// archive extraction of gitArchive stages and the git patch script (busybox awk from the toolchain).

/** Lines defining `NAME FILE VALUE WHAT`: a number is printed as is, "" as 0, a name is looked up in FILE
 *  (/etc/passwd or /etc/group); an unknown name fails with a message naming WHAT. */
export function idLookupFunction(name: string): string[] {
  return [
    `${name}() {`,
    '  case "$2" in "") echo 0; return;; *[!0-9]*) ;; *) echo "$2"; return;; esac',
    '  local id; id=$(awk -F: -v n="$2" \'$1 == n { print $3; exit }\' "$1")',
    '  [ -n "$id" ] || { echo "stapel2docker: $3 \\"$2\\" of git mapping is not in $1 of the image" >&2; exit 1; }',
    '  echo "$id"',
    "}",
  ];
}
