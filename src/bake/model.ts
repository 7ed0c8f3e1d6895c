// docker buildx bake's file, as typed data (the subset stapel2docker writes). buildx 0.13 resolves a local bake
// file's `context`, named-context paths and secret `src` against the working directory, and `dockerfile` against
// the target's `context` (checked on the engine: test/emit/engine.test.ts).

export interface BakeTarget {
  context: string;
  dockerfile: string;
  /** The Dockerfile build stage to build. */
  target?: string;
  /** Named contexts: name → `docker-image://REF`, `target:TARGET` or a folder. */
  contexts?: Record<string, string>;
  args?: Record<string, string>;
  /** BuildKit secrets: `id=ID,src=FILE`. */
  secret?: string[];
  /** SSH agents forwarded to the build: `ID=PATH[,PATH]`. */
  ssh?: string[];
  /** The network mode of the build's RUN instructions (`default`, `none`, `host`); buildx 0.18+ reads it. */
  network?: string;
  /** Extra /etc/hosts entries of the build's RUN instructions, host → IP (bake's `extra-hosts`, buildx 0.25+). */
  "extra-hosts"?: Record<string, string>;
  tags: string[];
  platforms?: string[];
  /** Where the result goes (`type=docker` loads it into the daemon); absent: the tags are pushed with --push. */
  output?: string[];
}

export interface BakeFile {
  /** Bake variables, each overridden by the environment variable NAME; a target's string refers to one only through
   *  `bakeVariable(NAME)` (every other `${`/`%{` is written escaped: src/bake/write.ts). */
  variable?: Record<string, { default: string }>;
  group: { default: { targets: string[] } };
  target: Record<string, BakeTarget>;
}

/** A reference to bake variable `name` inside a target's string (`${name}` in the written file). A value that is not
 *  made by this function is never a bake template: the writer escapes `${` and `%{` everywhere else. */
export function bakeVariable(name: string): string {
  return `\u0000bake-variable:${name}\u0000`;
}
