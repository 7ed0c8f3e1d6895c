// buildx's progress, read from its machine-readable stream: `build` always runs `docker buildx bake
// --progress=rawjson` (BuildKit's SolveStatus objects: vertices with their start, completion, cache hit and error,
// and the steps' output) and shows it as the user asked (--progress):
//   plain    buildx's plain format (`#N [target stage i/n] ...`, `#N 0.123 output`, `#N DONE 1.2s`, `#N CACHED`,
//            and on a failure the ` > [stage] RUN ...:` summary), rendered here from the objects;
//   tty      a live view on the terminal (finished steps scroll above, running steps redrawn below a header);
//   rawjson  the objects as buildx wrote them;
//   quiet    nothing (the plain text is still kept for error messages).
// Per-stage seconds are the vertices' completed − started (a cached vertex costs 0; a vertex BuildKit shares between
// targets is counted once, under the stage that names it). Lines buildx writes outside the JSON (the `Dockerfile:N`
// excerpt and `ERROR: ...` of a failure) pass through as they are.

export { PROGRESS_MODES, type ProgressMode } from "../build-options.js";

interface Vertex {
  digest: string;
  /** Our `#N` (order of first appearance, from 1). */
  n: number;
  name: string;
  started?: number;
  startedRaw?: string;
  completed?: number;
  /** The completion as BuildKit wrote it (nanoseconds: two runs may fall in one millisecond). */
  completedRaw?: string;
  cached: boolean;
  error?: string;
  /** Output lines, each with its seconds since the vertex started. */
  logs: string[];
  partial: string;
  headerPrinted: boolean;
  done: boolean;
}

/** The Dockerfile stage a vertex name belongs to: `[target stage i/n] ...` or `[stage i/n] ...`. */
export function stageOfVertex(name: string): string | undefined {
  const head = /^\[([^\]]+)\] /.exec(name);
  if (!head) return undefined;
  const words = head[1].trim().split(/\s+/);
  return words.length >= 2 && /^\d+\/\d+$/.test(words[words.length - 1]) ? words[words.length - 2] : undefined;
}

function ms(t: unknown): number | undefined {
  if (typeof t !== "string" || t.startsWith("0001-")) return undefined;
  const v = Date.parse(t);
  return Number.isFinite(v) ? v : undefined;
}

export class BuildxProgress {
  private buf = "";
  private json: string[] | undefined;
  private readonly vertices = new Map<string, Vertex>();
  private readonly order: Vertex[] = [];
  private readonly seconds = new Map<string, number>();
  private last: Vertex | undefined;
  private text = "";
  private outside = "";
  private readonly failures: string[] = [];

  /** `plain` sees the plain rendering as it is made (whole lines); `text` only the lines buildx wrote outside the
   *  JSON (a failure's `Dockerfile:N` excerpt and `ERROR: ...`). */
  constructor(private readonly sinks: { plain?: (text: string) => void; text?: (text: string) => void } = {}) {}

  /** Feeds a chunk of buildx's stderr (lines and objects may be split across chunks). */
  feed(chunk: Buffer | string): void {
    this.buf += typeof chunk === "string" ? chunk : chunk.toString("utf8");
    let nl: number;
    while ((nl = this.buf.indexOf("\n")) >= 0) {
      this.line(this.buf.slice(0, nl).replace(/\r$/, ""));
      this.buf = this.buf.slice(nl + 1);
    }
  }

  /** Flushes a last line without a newline. */
  end(): void {
    if (this.buf) this.line(this.buf);
    this.buf = "";
  }

  /** The plain rendering so far (its last 200 000 characters): what failure reports read. */
  plainText(): string {
    return this.text;
  }

  /** What tells why a build failed: the failed steps' summaries (their last output lines), then what buildx wrote
   *  outside the JSON (the `Dockerfile:N` excerpt, `ERROR: ...`); "" when nothing failed. */
  failureText(): string {
    return [...this.failures, this.outside.trimEnd()].filter(Boolean).join("\n");
  }

  /** Seconds spent in the Dockerfile stage `name` (0 when all its steps were cached or it did not run). */
  of(name: string): number {
    return Math.round((this.seconds.get(name) ?? 0) * 1000) / 1000;
  }

  /** Every stage that spent time, with its seconds. */
  all(): Map<string, number> {
    return new Map([...this.seconds.keys()].map((k) => [k, this.of(k)]));
  }

  /** The vertices in order of appearance (for the TTY view). */
  steps(): readonly Readonly<Vertex>[] {
    return this.order;
  }

  private line(l: string): void {
    if (this.json) {
      this.json.push(l);
      if (l === "}") {
        const text = this.json.join("\n");
        this.json = undefined;
        this.object(text);
      }
      return;
    }
    if (l === "{") {
      this.json = [l];
      return;
    }
    if (l.startsWith("{") && l.endsWith("}")) {
      this.object(l);
      return;
    }
    this.emit(l, true);
  }

  private object(text: string): void {
    let o: { vertexes?: unknown[]; logs?: unknown[] };
    try {
      o = JSON.parse(text) as typeof o;
    } catch {
      for (const l of text.split("\n")) this.emit(l, true);
      return;
    }
    for (const v of Array.isArray(o.vertexes) ? o.vertexes : []) this.vertex(v as Record<string, unknown>);
    for (const g of Array.isArray(o.logs) ? o.logs : []) this.log(g as Record<string, unknown>);
  }

  private get(digest: string, name = ""): Vertex {
    let v = this.vertices.get(digest);
    if (!v) {
      v = { digest, n: this.order.length + 1, name, cached: false, logs: [], partial: "", headerPrinted: false, done: false };
      this.vertices.set(digest, v);
      this.order.push(v);
    }
    return v;
  }

  private vertex(raw: Record<string, unknown>): void {
    if (typeof raw.digest !== "string") return;
    // (a step's name holds the Dockerfile's command: werf.yaml's text; shown live by the tty view too)
    const name = typeof raw.name === "string" ? terminalSafe(raw.name) : undefined;
    const v = this.get(raw.digest, name ?? "");
    if (name !== undefined) v.name = name;
    const completed = ms(raw.completed);
    // BuildKit may run a vertex again after it completed (e.g. a FROM resolved, then found cached): the latest
    // completion is the one that counts
    const restarted = completed === undefined && ms(raw.started) !== undefined && raw.started !== v.startedRaw;
    if (v.done && (restarted || (completed !== undefined && raw.completed !== v.completedRaw))) {
      this.count(v, -1);
      v.done = false;
      v.cached = false;
    }
    v.started = ms(raw.started) ?? v.started;
    if (typeof raw.started === "string") v.startedRaw = raw.started;
    v.cached = raw.cached === true || v.cached;
    if (typeof raw.error === "string" && raw.error) v.error = terminalSafe(raw.error);
    if (v.started !== undefined && !v.headerPrinted) this.header(v);
    if (completed === undefined || v.done) return;
    v.completed = completed;
    v.completedRaw = raw.completed as string;
    v.done = true;
    if (v.partial) this.logLine(v, v.partial, completed);
    v.partial = "";
    this.count(v, 1);
    this.focus(v);
    if (v.error) {
      this.emit(`#${v.n} ERROR: ${v.error}`);
      // buildx's summary of a failed step that printed something, which failure reports read
      // (src/builder/bake-failure.ts); steps cancelled by another's failure (pushes) have none
      if (v.logs.length) {
        const summary = ["------", ` > ${v.name}:`, ...v.logs.slice(-10), "------"];
        this.failures.push(summary.join("\n"));
        for (const l of summary) this.emit(l);
      }
    } else if (v.cached) this.emit(`#${v.n} CACHED`);
    else this.emit(`#${v.n} DONE ${(v.started !== undefined ? (completed - v.started) / 1000 : 0).toFixed(1)}s`);
  }

  /** Adds (or takes back) a completed vertex's seconds to its stage's. */
  private count(v: Vertex, sign: 1 | -1): void {
    if (v.cached || v.started === undefined || v.completed === undefined) return;
    const stage = stageOfVertex(v.name);
    if (stage !== undefined) this.seconds.set(stage, (this.seconds.get(stage) ?? 0) + (sign * (v.completed - v.started)) / 1000);
  }

  private log(raw: Record<string, unknown>): void {
    if (typeof raw.vertex !== "string" || typeof raw.data !== "string") return;
    const v = this.get(raw.vertex);
    const at = ms(raw.timestamp) ?? Date.now();
    const data = v.partial + Buffer.from(raw.data, "base64").toString("utf8");
    const parts = data.split("\n");
    v.partial = parts.pop() ?? "";
    for (const p of parts) this.logLine(v, p.replace(/\r$/, ""), at);
  }

  private logLine(v: Vertex, l: string, at: number): void {
    const line = `${(((at - (v.started ?? at)) / 1000) || 0).toFixed(3)} ${terminalSafe(l)}`;
    v.logs.push(line);
    if (v.logs.length > 50) v.logs.shift();
    this.focus(v);
    this.emit(`#${v.n} ${line}`);
  }

  private header(v: Vertex): void {
    v.headerPrinted = true;
    this.last = v;
    this.emit(`#${v.n} ${v.name}`);
  }

  /** As buildx: a vertex's lines after another's are preceded by its `#N [name]` line again. */
  private focus(v: Vertex): void {
    if (this.last !== v) this.header(v);
  }

  private emit(l: string, outside = false): void {
    const s = terminalSafe(l) + "\n";
    this.text = (this.text + s).slice(-200_000);
    this.sinks.plain?.(s);
    if (outside) {
      this.outside = (this.outside + s).slice(-4000);
      this.sinks.text?.(s);
    }
  }
}

/** A live view of the steps on a terminal: finished steps are printed once (they scroll), the running ones are
 *  redrawn under a `[+] Building Ns (done/total)` header every 100 ms. */
export class TtyView {
  private timer: NodeJS.Timeout | undefined;
  private drawn = 0;
  private printed = new Set<string>();
  private readonly t0 = Date.now();

  constructor(
    private readonly progress: BuildxProgress,
    private readonly out: NodeJS.WriteStream,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.draw(false), 100);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.draw(true);
  }

  /** Text outside the progress (buildx's error lines) goes above the live area. */
  passthrough(text: string): void {
    this.clear();
    this.out.write(text);
  }

  private clear(): void {
    if (this.drawn) this.out.write(`\x1b[${this.drawn}F\x1b[J`);
    this.drawn = 0;
  }

  private draw(final: boolean): void {
    const width = Math.max(40, this.out.columns ?? 100);
    // ` => NAME  1.2s`: a long name is cut so that the time stays on the line
    const fit = (head: string, time: string) => {
      const room = width - 1 - (time ? time.length + 2 : 0);
      return (head.length > room ? head.slice(0, room - 1) + "…" : head) + (time ? `  ${time}` : "");
    };
    const steps = this.progress.steps().filter((s) => s.name && s.started !== undefined);
    const now = Date.now();
    const secs = (s: Readonly<Vertex>) => `${(((s.completed ?? now) - (s.started ?? now)) / 1000).toFixed(1)}s`;
    let text = "";
    for (const s of steps) {
      if (!s.done || this.printed.has(s.digest)) continue;
      this.printed.add(s.digest);
      const state = s.error ? "ERROR " : s.cached ? "CACHED " : "";
      text += fit(` => ${state}${s.name}`, s.cached ? "" : secs(s)) + "\n";
    }
    const running = steps.filter((s) => !s.done);
    const done = steps.length - running.length;
    const head = `[+] Building ${((now - this.t0) / 1000).toFixed(1)}s (${done}/${steps.length})${final ? " FINISHED" : ""}`;
    const live = [head, ...running.slice(-Math.max(1, (this.out.rows ?? 24) - 3)).map((s) => fit(` => ${s.name}`, secs(s)))];
    this.clear();
    this.out.write(text + live.join("\n") + "\n");
    this.drawn = final ? 0 : live.length;
  }
}

/**
 * A line of the build's output as it may be shown on a terminal or in a CI log: what a RUN printed comes from the
 * branch being built, and a control sequence in it could rewrite the log's earlier lines, hide text, retitle the
 * terminal or set its clipboard. A carriage return keeps what a terminal would show (the text after the last one,
 * as a progress bar ends); SGR colour sequences (`ESC [ … m`) stay; every other control character is shown escaped
 * (`\x1b`), C1 controls and DEL included.
 */
export function terminalSafe(line: string): string {
  let l = line;
  if (l.includes("\r")) {
    const parts = l.split("\r").filter((p) => p !== "");
    l = parts.length ? parts[parts.length - 1] : "";
  }
  // eslint-disable-next-line no-control-regex
  return l.replace(/\x1b\[[0-9;]*m|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (m) => (m.length > 1 ? m : `\\x${m.charCodeAt(0).toString(16).padStart(2, "0")}`));
}
