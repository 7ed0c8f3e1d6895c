// Where buildx's progress goes during a build, as --progress asks (src/builder/progress.ts reads the stream):
// auto (tty on a terminal, else plain), tty, plain, rawjson, quiet. The destination is stderr, or the caller's
// BuildOutput (tests, the bench): "ignore" shows nothing, a function gets the plain text (rawjson: the raw stream).

import type { BuildOutput } from "./buildx.js";
import { TtyView, type BuildxProgress, type ProgressMode } from "./progress.js";

export interface ProgressDisplay {
  /** A raw chunk of buildx's stderr (rawjson). */
  raw(b: Buffer): void;
  /** Plain lines rendered from it. */
  plain(s: string): void;
  /** Lines buildx wrote outside the JSON (a failure's excerpt). */
  text(s: string): void;
  /** Starts the live view (tty) of this progress. */
  attach(p: BuildxProgress): void;
  stop(): void;
}

/** The display mode that `auto` means here: tty when stderr is a terminal. */
export function resolveProgress(mode: ProgressMode | undefined, stream: { isTTY?: boolean } = process.stderr): Exclude<ProgressMode, "auto"> {
  const m = mode ?? "auto";
  return m === "auto" ? (stream.isTTY ? "tty" : "plain") : m;
}

export function progressDisplay(opts: { progress?: ProgressMode; buildOutput?: BuildOutput }): ProgressDisplay {
  const dest = opts.buildOutput ?? "inherit";
  let mode = resolveProgress(opts.progress);
  // a live view needs a terminal: elsewhere (a pipe, a log, a test's callback) tty is shown as plain
  const terminal = dest === "inherit" && process.stderr.isTTY === true;
  if (mode === "tty" && !terminal) mode = "plain";
  const write = (s: string | Buffer) => {
    if (typeof dest === "function") dest(typeof s === "string" ? Buffer.from(s) : s);
    else if (dest === "inherit") process.stderr.write(s);
  };
  let view: TtyView | undefined;
  return {
    raw: (b) => (mode === "rawjson" ? write(b) : undefined),
    plain: (s) => (mode === "plain" ? write(s) : undefined),
    text: (s) => {
      if (mode === "tty" && view) view.passthrough(s);
      else if (mode === "tty" || mode === "quiet") write(s);
    },
    attach: (p) => {
      if (mode !== "tty") return;
      view = new TtyView(p, process.stderr);
      view.start();
    },
    stop: () => view?.stop(),
  };
}
