// Source map of a rendered template: output offset → source position.
//
// The executor appends one segment per emitted piece of output. Text copied
// from the template maps character by character; the output of an action maps
// to the action's position. Lookups binary-search the segments.
import type { SourceMap, SourcePos } from "../diagnostics.js";
import type { TemplateSource } from "./node.js";

interface Segment {
  outStart: number;
  source: TemplateSource;
  srcOffset: number;
  /** Text copied verbatim: offsets inside the segment map one to one. */
  verbatim: boolean;
}

const lineStartsCache = new WeakMap<TemplateSource, number[]>();

function lineStarts(src: TemplateSource): number[] {
  let starts = lineStartsCache.get(src);
  if (!starts) {
    starts = [0];
    for (let i = 0; i < src.text.length; i++) if (src.text.charCodeAt(i) === 10) starts.push(i + 1);
    lineStartsCache.set(src, starts);
  }
  return starts;
}

/** Position of `offset` in a template source (1-based line and column). */
export function positionIn(src: TemplateSource, offset: number): SourcePos {
  const starts = lineStarts(src);
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { file: src.file, line: lo + 1, col: offset - starts[lo] + 1 };
}

export interface SourceMapData {
  length: number;
  sources: TemplateSource[];
  /** [output start, source index, source offset, verbatim] */
  segments: [number, number, number, 0 | 1][];
}

export class SegmentSourceMap implements SourceMap {
  private readonly segments: Segment[] = [];
  private length = 0;

  /** Record that the next `len` output characters came from `source` at `srcOffset`. */
  add(len: number, source: TemplateSource, srcOffset: number, verbatim: boolean): void {
    if (len <= 0) return;
    this.segments.push({ outStart: this.length, source, srcOffset, verbatim });
    this.length += len;
  }

  /** Append another map's segments (the output of a nested template) after ours. */
  append(other: SegmentSourceMap, len: number): void {
    for (const seg of other.segments) this.segments.push({ ...seg, outStart: seg.outStart + this.length });
    this.length += len;
  }

  /** The map as plain data (the persistent render cache stores it: src/cache/render.ts). */
  toData(): SourceMapData {
    const sources = new Map<TemplateSource, number>();
    const segments: [number, number, number, 0 | 1][] = [];
    for (const s of this.segments) {
      let i = sources.get(s.source);
      if (i === undefined) sources.set(s.source, (i = sources.size));
      segments.push([s.outStart, i, s.srcOffset, s.verbatim ? 1 : 0]);
    }
    return { length: this.length, sources: [...sources.keys()].map((src) => ({ ...src })), segments };
  }

  /** The map `toData` described. */
  static fromData(d: SourceMapData): SegmentSourceMap {
    const m = new SegmentSourceMap();
    const sources = d.sources.map((src) => ({ ...src }));
    for (const [outStart, i, srcOffset, verbatim] of d.segments) m.segments.push({ outStart, source: sources[i], srcOffset, verbatim: verbatim === 1 });
    m.length = d.length;
    return m;
  }

  /** Everything lookups depend on, as one string (a cache key part: src/cache/config.ts): each segment's start,
   *  source offset and kind, and each source's file name and text. */
  fingerprint(): string {
    const sources = new Map<TemplateSource, number>();
    const segs: string[] = [];
    for (const s of this.segments) {
      let i = sources.get(s.source);
      if (i === undefined) sources.set(s.source, (i = sources.size));
      segs.push(`${s.outStart},${i},${s.srcOffset},${s.verbatim ? 1 : 0}`);
    }
    return JSON.stringify([this.length, segs.join(";"), [...sources.keys()].map((src) => [src.file, src.text])]);
  }

  isVerbatim(offset: number): boolean {
    const s = this.segmentAt(offset);
    return s !== undefined && s.verbatim;
  }

  private segmentAt(offset: number): Segment | undefined {
    if (offset < 0 || this.segments.length === 0) return undefined;
    if (offset >= this.length) offset = this.length - 1;
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid].outStart <= offset) lo = mid;
      else hi = mid - 1;
    }
    return this.segments[lo];
  }

  lookup(offset: number): SourcePos | undefined {
    const s = this.segmentAt(offset);
    if (!s) return undefined;
    const clamped = Math.min(offset, this.length - 1);
    const at = s.verbatim ? s.srcOffset + (clamped - s.outStart) : s.srcOffset;
    return positionIn(s.source, at);
  }
}
