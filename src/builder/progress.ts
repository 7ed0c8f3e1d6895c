// Per-stage build seconds from buildx's plain progress (the stream the build already passes through, and that
// src/introspect reads for failures): every vertex is announced as `#N [<bake target> <stage> i/n] ...` (the
// target prefix only when the bake has several targets) and finished with `#N DONE 1.2s`; `#N CACHED` costs 0.
// A stage's seconds are the sum of its vertices' times (vertices BuildKit shares between targets are counted
// once, under the stage that names them). Export and push vertices (`[<target>] exporting to image`) belong to
// no Dockerfile stage and are not counted.

export class StageTimes {
  private buf = "";
  private readonly stageOf = new Map<string, string>();
  private readonly seconds = new Map<string, number>();

  /** Feeds a chunk of buildx's output (lines may be split across chunks). */
  feed(chunk: Buffer | string): void {
    this.buf += typeof chunk === "string" ? chunk : chunk.toString("utf8");
    let nl: number;
    while ((nl = this.buf.indexOf("\n")) >= 0) {
      this.line(this.buf.slice(0, nl).replace(/\r$/, ""));
      this.buf = this.buf.slice(nl + 1);
    }
  }

  private line(l: string): void {
    const head = /^#(\d+) \[([^\]]+)\] /.exec(l);
    if (head) {
      const words = head[2].trim().split(/\s+/);
      if (words.length >= 2 && /^\d+\/\d+$/.test(words[words.length - 1])) this.stageOf.set(head[1], words[words.length - 2]);
      return;
    }
    const done = /^#(\d+) DONE (\d+(?:\.\d+)?)s\s*$/.exec(l);
    if (done) {
      const stage = this.stageOf.get(done[1]);
      if (stage !== undefined) this.seconds.set(stage, (this.seconds.get(stage) ?? 0) + Number(done[2]));
    }
  }

  /** Seconds spent in the Dockerfile stage `name` (0 when all its steps were cached or it did not run). */
  of(name: string): number {
    return Math.round((this.seconds.get(name) ?? 0) * 1000) / 1000;
  }

  /** Every stage seen, with its seconds. */
  all(): Map<string, number> {
    return new Map(this.seconds);
  }
}
