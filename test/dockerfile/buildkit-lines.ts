// How BuildKit's Dockerfile parser (moby/buildkit frontend/dockerfile/parser/parser.go `Parse`) cuts a file into
// instructions, ported line for line for the tests: physical lines end at "\n" (a trailing "\r" is dropped),
// comment lines are skipped (also inside a continued instruction), an instruction continues while its line ends
// with an unescaped "\" followed by blanks, and a RUN/COPY/ADD (also under ONBUILD) holding "<<WORD" takes the
// following lines up to WORD as heredoc content. Lines longer than 65535 bytes fail as in bufio.Scanner.

export interface ParsedInstruction {
  /** The instruction name, lower case. */
  name: string;
  /** The joined logical line. */
  line: string;
  startLine: number;
  heredocs: { name: string; content: string }[];
}

const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
const CONTINUATION = /([^\\])\\[ \t]*$|^\\[ \t]*$/;
const HEREDOC_WORD = /^(\d*)<<(-?)\s*([^<]*)$/;

function trimNewline(l: string): string {
  return l.replace(/[\r\n]+$/, "");
}
function trimLeft(l: string): string {
  return l.replace(GO_SPACE, "");
}
function isComment(l: string): boolean {
  return trimLeft(l).startsWith("#");
}

/** Heredoc names of a line: words (blank-separated, quotes kept) of the form `<<WORD`, quotes removed. */
function heredocNames(line: string): { name: string; chomp: boolean }[] {
  const out: { name: string; chomp: boolean }[] = [];
  for (const w of line.split(/[ \t]+/)) {
    const m = HEREDOC_WORD.exec(w);
    if (!m || m[3] === "") continue;
    out.push({ name: m[3].replace(/['"]/g, ""), chomp: m[2] === "-" });
  }
  return out;
}

export function parseLines(text: string): ParsedInstruction[] {
  const physical: string[] = [];
  let rest = text;
  while (rest.length) {
    const i = rest.indexOf("\n");
    const l = i >= 0 ? rest.slice(0, i + 1) : rest;
    rest = i >= 0 ? rest.slice(i + 1) : "";
    if (Buffer.byteLength(l, "utf8") > 65536 || (i < 0 && Buffer.byteLength(l, "utf8") > 65535)) throw new Error("dockerfile line greater than max allowed size of 65535");
    physical.push(l);
  }
  const out: ParsedInstruction[] = [];
  let n = 0;
  while (n < physical.length) {
    let l = trimLeft(trimNewline(physical[n++]));
    if (isComment(l)) l = "";
    const start = n;
    let cont = CONTINUATION.test(l);
    if (cont) l = l.replace(CONTINUATION, "$1");
    if (!cont && l === "") continue;
    let buf = l;
    while (cont && n < physical.length) {
      const raw = physical[n++];
      if (isComment(raw)) continue;
      let p = trimNewline(raw);
      if (trimLeft(p) === "") continue;
      cont = CONTINUATION.test(p);
      if (cont) p = p.replace(CONTINUATION, "$1");
      buf += p;
    }
    const words = buf.trim().split(/[\t\v\f\r ]+/);
    const name = (words[0] ?? "").toLowerCase();
    const sub = name === "onbuild" ? (words[1] ?? "").toLowerCase() : name;
    // the arguments after the name (and ONBUILD's instruction name) and the flags: JSON form holds no heredoc
    const args = words.slice(name === "onbuild" ? 2 : 1);
    while (args.length && args[0].startsWith("--")) args.shift();
    const json = args.join(" ").startsWith("[");
    const heredocs: ParsedInstruction["heredocs"] = [];
    if ((sub === "run" || sub === "copy" || sub === "add") && !json && buf.includes("<<")) {
      for (const h of heredocNames(buf)) {
        let content = "";
        let done = false;
        while (n < physical.length) {
          const raw = physical[n++];
          let t = trimNewline(raw);
          if (h.chomp) t = t.replace(/^\t+/, "");
          if (t === h.name) {
            done = true;
            break;
          }
          content += raw;
        }
        if (!done) throw new Error(`unterminated heredoc ${h.name}`);
        heredocs.push({ name: h.name, content });
      }
    }
    out.push({ name, line: buf, startLine: start, heredocs });
  }
  return out;
}
