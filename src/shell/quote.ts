// Quoting for POSIX shell scripts that stapel2docker writes (RUN scripts, build.sh, commit.env, ansible blocks).

/** A POSIX shell single-quoted word (bare when it holds only characters no shell treats specially). */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
