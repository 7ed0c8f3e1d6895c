// A Dockerfile as typed data: build stages holding instructions, each carrying the werf.yaml position it came
// from. Made by lowering (src/emit/lower.ts) from the stage plan, printed by print.ts, the only code that knows
// Dockerfile syntax. Values are plain strings, never pre-quoted.

import type { SourcePos } from "../diagnostics.js";

/** Where an instruction or value comes from: its werf.yaml position and the key a message names. */
export interface Origin {
  pos?: SourcePos;
  /** The werf.yaml key or what the value is (`docker.WORKDIR`, "mount `to`"), for error messages. */
  key?: string;
  /** The werf.yaml position of each value, in the instruction's order (VOLUME paths, EXPOSE ports, CMD/ENTRYPOINT
   *  items, an ENV or LABEL value); errors about value i point there. */
  values?: (SourcePos | undefined)[];
}

export interface Dockerfile {
  /** Comment lines at the top of the file. */
  header: string[];
  stages: Stage[];
  /** Files the build context must hold for the Dockerfile (RUN scripts too long for a Dockerfile line). */
  files?: ContextFile[];
}

/** A file of the build context, by its context-relative "/" path. */
export interface ContextFile {
  path: string;
  content: string;
}

/** Lines before a build stage's FROM (section banners, the stage's description). */
export type Trivia = { kind: "blank" } | { kind: "comment"; text: string } | { kind: "rule" };

export type StageBase =
  /** Another build stage of this file. */
  | { kind: "stage"; name: string }
  /** A bake named context (the toolchain, a Dockerfile image). */
  | { kind: "context"; name: string }
  | { kind: "image"; ref: string }
  | { kind: "scratch" }
  /** The build stage `<prefix>--<os>-<arch>[-<variant>]` of the platform being built (BuildKit's TARGETOS,
   *  TARGETARCH, TARGETVARIANT): one of `platforms`' (src/emit/platforms.ts). */
  | { kind: "platform"; prefix: string; platforms: string[] };

export interface Stage extends Origin {
  name: string;
  base: StageBase;
  /** The bake named contexts this stage reads (name → source), for the bake file; the printer ignores them. */
  contexts?: Record<string, string>;
  before: Trivia[];
  instructions: Instruction[];
}

export type Mount =
  | { type: "bind"; from?: string; source?: string; target: string; rw?: boolean; origin?: Origin }
  | { type: "cache"; id: string; target: string; origin?: Origin }
  | { type: "tmpfs"; target: string; origin?: Origin }
  | { type: "secret"; id: string; origin?: Origin };

export interface Run extends Origin {
  kind: "run";
  mounts: Mount[];
  /** SSH agent ids forwarded to this RUN (`default` first: BuildKit sets SSH_AUTH_SOCK to the first). */
  ssh?: string[];
  network?: "none" | "host" | "default";
  /** The script's lines (a quoted heredoc: written as they are, no substitution). */
  script: string[];
  /** Set when a line of the script is too long for a Dockerfile line: the script is this file of the build
   *  context (Dockerfile.files), bind-mounted and run by its shebang's interpreter instead of a heredoc. */
  scriptFile?: string;
  /** The werf.yaml position of each user command (or ansible task) the script runs, in order. */
  commands?: SourcePos[];
}

export interface Copy extends Origin {
  kind: "copy";
  /** A build stage, named context or image reference. */
  from?: string;
  chown?: { user: string; group: string };
  sources: string[];
  dest: string;
}

export interface Add extends Origin {
  kind: "add";
  sources: string[];
  dest: string;
}

/** A word made of text and build-argument references (`"${STAPEL_REPO}:tag"`). */
export type WordPart = string | { arg: string };

export interface Env extends Origin {
  kind: "env";
  name: string;
  value: WordPart[];
}

export interface Arg extends Origin {
  kind: "arg";
  name: string;
  default?: string;
}

export interface Label extends Origin {
  kind: "label";
  pairs: { key: string; value: string }[];
}

export interface User extends Origin {
  kind: "user";
  user: string;
}

export interface Workdir extends Origin {
  kind: "workdir";
  path: string;
}

export interface Expose extends Origin {
  kind: "expose";
  ports: string[];
}

export interface Volume extends Origin {
  kind: "volume";
  paths: string[];
}

/** A list is exec form; a string is shell form (written as `["/bin/sh", "-c", it]` when a line cannot hold it). */
export interface Cmd extends Origin {
  kind: "cmd";
  command: string | string[];
}

export interface Entrypoint extends Origin {
  kind: "entrypoint";
  command: string | string[];
}

export type Healthcheck = Origin & { kind: "healthcheck" } & (
    | { check: "none" }
    | { check: "cmd"; interval?: number; timeout?: number; startPeriod?: number; retries?: number; command: string | string[] }
    /** werf's `docker.HEALTHCHECK`: the instruction's arguments as written. */
    | { check: "raw"; text: string }
  );

export interface StopSignal extends Origin {
  kind: "stopsignal";
  signal: string;
}

export interface Onbuild extends Origin {
  kind: "onbuild";
  instruction: string;
}

export interface Shell extends Origin {
  kind: "shell";
  argv: string[];
}

export interface Comment extends Origin {
  kind: "comment";
  text: string;
}

export type Instruction =
  | Run
  | Copy
  | Add
  | Env
  | Arg
  | Label
  | User
  | Workdir
  | Expose
  | Volume
  | Cmd
  | Entrypoint
  | Healthcheck
  | StopSignal
  | Onbuild
  | Shell
  | Comment;

/** What one printed line is: its build stage, and the werf.yaml position of the instruction it belongs to. */
export interface LineInfo {
  stage?: string;
  kind?: Instruction["kind"] | "from";
  pos?: SourcePos;
  /** A RUN's user commands (see Run.commands). */
  commands?: SourcePos[];
}

export interface PrintedDockerfile {
  text: string;
  /** lines[n - 1] describes line n of `text`. */
  lines: LineInfo[];
}
