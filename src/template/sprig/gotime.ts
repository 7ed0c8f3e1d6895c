// The part of Go's time package that sprig's date functions expose: instants with a
// location, zones loaded from the system's TZif files the way Go loads them,
// Format/Parse with Go reference layouts, and Duration parsing and printing.
//
// Instants are whole Unix seconds plus nanoseconds (plain numbers: exact for any
// year Go can print); durations are int64 nanoseconds as BigInt.
import { readFileSync } from "node:fs";
import path from "node:path";

// ---- locations --------------------------------------------------------------------------------

interface Zone {
  name: string;
  offset: number;
  isDST: boolean;
}

/** What Location.lookup answers: the zone in effect and the span [start, end) it covers. */
export interface ZoneInfo extends Zone {
  start: number;
  end: number;
}

const ALPHA = -Number.MAX_SAFE_INTEGER;
const OMEGA = Number.MAX_SAFE_INTEGER;

export class Location {
  constructor(
    readonly name: string,
    private readonly zones: Zone[],
    /** Transition times (Unix seconds) and the zone index in effect from each. */
    private readonly tx: { when: number; index: number }[],
    /** The POSIX TZ rule for times after the last transition (the TZif footer). */
    private readonly extend: string,
  ) {}

  /** Go's Location.lookup. */
  lookup(sec: number): ZoneInfo {
    const { zones, tx } = this;
    if (zones.length === 0) return { name: "UTC", offset: 0, isDST: false, start: ALPHA, end: OMEGA };
    if (tx.length === 0 || sec < tx[0].when) {
      const z = zones[this.firstZone()];
      return { ...z, start: ALPHA, end: tx.length > 0 ? tx[0].when : OMEGA };
    }
    let lo = 0;
    let hi = tx.length;
    let end = OMEGA;
    while (hi - lo > 1) {
      const m = lo + Math.floor((hi - lo) / 2);
      if (sec < tx[m].when) {
        end = tx[m].when;
        hi = m;
      } else lo = m;
    }
    const z = zones[tx[lo].index];
    const start = tx[lo].when;
    if (lo === tx.length - 1 && this.extend !== "") {
      const r = tzset(this.extend, start, sec);
      if (r) return r;
    }
    return { ...z, start, end };
  }

  /** Go's lookupFirstZone: the zone for times before the first transition. */
  private firstZone(): number {
    const { zones, tx } = this;
    if (!tx.some((t) => t.index === 0)) return 0;
    if (tx.length > 0 && zones[tx[0].index].isDST) {
      for (let zi = tx[0].index - 1; zi >= 0; zi--) if (!zones[zi].isDST) return zi;
    }
    const i = zones.findIndex((z) => !z.isDST);
    return i >= 0 ? i : 0;
  }

  /** Go's lookupName: the offset of a zone abbreviation in effect around `unix`. */
  lookupName(name: string, unix: number): number | undefined {
    for (const z of this.zones) {
      if (z.name === name) {
        const info = this.lookup(unix - z.offset);
        if (info.name === z.name) return info.offset;
      }
    }
    for (const z of this.zones) if (z.name === name) return z.offset;
    return undefined;
  }
}

export const UTC = new Location("UTC", [], [], "");

/** time.FixedZone. */
export function fixedZone(name: string, offset: number): Location {
  return new Location(name, [{ name, offset, isDST: false }], [{ when: ALPHA, index: 0 }], "");
}

/** Go's LoadLocationFromTZData. */
function parseTZif(name: string, data: Buffer): Location {
  const bad = () => new Error("unknown time zone " + name);
  if (data.length < 44 || data.toString("latin1", 0, 4) !== "TZif") throw bad();
  const version = data[4];
  const header = (at: number) => ({
    isut: data.readUInt32BE(at + 20),
    isstd: data.readUInt32BE(at + 24),
    leap: data.readUInt32BE(at + 28),
    time: data.readUInt32BE(at + 32),
    type: data.readUInt32BE(at + 36),
    char: data.readUInt32BE(at + 40),
  });
  let h = header(0);
  let at = 44;
  let timeSize = 4;
  if (version >= 0x32) {
    // Skip the 32-bit data block; the 64-bit one follows with its own header.
    at += h.time * 4 + h.time + h.type * 6 + h.char + h.leap * 8 + h.isstd + h.isut;
    h = header(at);
    at += 44;
    timeSize = 8;
  }
  const need = at + h.time * timeSize + h.time + h.type * 6 + h.char + h.leap * (timeSize + 4) + h.isstd + h.isut;
  if (data.length < need || h.type === 0) throw bad();
  const when: number[] = [];
  for (let i = 0; i < h.time; i++) {
    when.push(timeSize === 8 ? Number(data.readBigInt64BE(at)) : data.readInt32BE(at));
    at += timeSize;
  }
  const index: number[] = [];
  for (let i = 0; i < h.time; i++) index.push(data[at++]);
  const types: { offset: number; isDST: boolean; abbr: number }[] = [];
  for (let i = 0; i < h.type; i++) {
    types.push({ offset: data.readInt32BE(at), isDST: data[at + 4] !== 0, abbr: data[at + 5] });
    at += 6;
  }
  const chars = data.subarray(at, at + h.char);
  at += h.char + h.leap * (timeSize + 4) + h.isstd + h.isut;
  const zones = types.map((t) => {
    const endAt = chars.indexOf(0, t.abbr);
    return { name: chars.toString("latin1", t.abbr, endAt < 0 ? chars.length : endAt), offset: t.offset, isDST: t.isDST };
  });
  for (const i of index) if (i >= zones.length) throw bad();
  let extend = "";
  if (version >= 0x32 && data.length > at + 2 && data[at] === 0x0a) {
    const end = data.indexOf(0x0a, at + 1);
    if (end > at) extend = data.toString("latin1", at + 1, end);
  }
  let tx = when.map((w, i) => ({ when: w, index: index[i] }));
  if (tx.length === 0) tx = [{ when: ALPHA, index: 0 }];
  return new Location(name, zones, tx, extend);
}

/** Where Go 1.19 looks for zoneinfo files on Linux (without an embedded tzdata). */
const ZONE_SOURCES = ["/usr/share/zoneinfo/", "/usr/share/lib/zoneinfo/", "/usr/lib/locale/TZ/"];

function loadFrom(name: string, sources: string[]): Location | undefined {
  for (const dir of sources) {
    try {
      return parseTZif(name, readFileSync(dir === "" ? name : path.join(dir, name)));
    } catch {
      // try the next source
    }
  }
  return undefined;
}

let local: Location | undefined;

/** time.Local, initialised like Go: $TZ (unset: /etc/localtime; empty or unknown: UTC). */
export function localLocation(): Location {
  if (local) return local;
  const tz = process.env.TZ;
  let loc: Location | undefined;
  if (tz === undefined) {
    loc = loadFrom("localtime", ["/etc"]);
    if (loc) loc = rename(loc, "Local");
  } else {
    const name = tz.startsWith(":") ? tz.slice(1) : tz;
    if (name !== "" && name.startsWith("/")) {
      loc = loadFrom(name, [""]);
      if (loc) loc = rename(loc, name === "/etc/localtime" ? "Local" : name);
    } else if (name !== "" && name !== "UTC") loc = loadFrom(name, ZONE_SOURCES);
  }
  local = loc ?? new Location("UTC", [], [], "");
  return local;
}

function rename(l: Location, name: string): Location {
  return Object.assign(Object.create(Location.prototype) as Location, l, { name });
}

const zoneCache = new Map<string, Location>();

/** time.LoadLocation: "" and "UTC" are UTC, "Local" is time.Local, anything else a zoneinfo file. */
export function loadLocation(name: string): Location {
  if (name === "" || name === "UTC") return UTC;
  if (name === "Local") return localLocation();
  if (name.includes("..") || name.startsWith("/") || name.startsWith("\\")) throw new Error("time: invalid location name");
  let loc = zoneCache.get(name);
  if (!loc) {
    const zi = process.env.ZONEINFO;
    loc = (zi ? loadFrom(name, [zi]) : undefined) ?? loadFrom(name, ZONE_SOURCES);
    if (!loc) throw new Error(`unknown time zone ${name}`);
    zoneCache.set(name, loc);
  }
  return loc;
}

// ---- POSIX TZ rules (the TZif footer) ----------------------------------------------------------

interface Rule {
  kind: "julian" | "doy" | "mwd";
  day: number;
  week: number;
  mon: number;
  time: number;
}

function tzsetName(s: string): [string, string] | undefined {
  if (s === "") return undefined;
  if (s[0] !== "<") {
    for (let i = 0; i < s.length; i++) {
      if (/[0-9,+-]/.test(s[i])) return i < 3 ? undefined : [s.slice(0, i), s.slice(i)];
    }
    return s.length < 3 ? undefined : [s, ""];
  }
  const end = s.indexOf(">");
  return end < 0 ? undefined : [s.slice(1, end), s.slice(end + 1)];
}

function tzsetNum(s: string, min: number, max: number): [number, string] | undefined {
  const m = /^[0-9]+/.exec(s);
  if (!m) return undefined;
  const n = Number(m[0]);
  if (n < min || n > max) return undefined;
  return [n, s.slice(m[0].length)];
}

function tzsetOffset(s: string): [number, string] | undefined {
  if (s === "") return undefined;
  let neg = false;
  if (s[0] === "+") s = s.slice(1);
  else if (s[0] === "-") {
    neg = true;
    s = s.slice(1);
  }
  const h = tzsetNum(s, 0, 24 * 7);
  if (!h) return undefined;
  let off = h[0] * 3600;
  s = h[1];
  if (s[0] === ":") {
    const m = tzsetNum(s.slice(1), 0, 59);
    if (!m) return undefined;
    off += m[0] * 60;
    s = m[1];
    if (s[0] === ":") {
      const sec = tzsetNum(s.slice(1), 0, 59);
      if (!sec) return undefined;
      off += sec[0];
      s = sec[1];
    }
  }
  return [neg ? -off : off, s];
}

function tzsetRule(s: string): [Rule, string] | undefined {
  const r: Rule = { kind: "doy", day: 0, week: 0, mon: 0, time: 0 };
  if (s === "") return undefined;
  if (s[0] === "J") {
    const d = tzsetNum(s.slice(1), 1, 365);
    if (!d) return undefined;
    r.kind = "julian";
    [r.day, s] = d;
  } else if (s[0] === "M") {
    const m = tzsetNum(s.slice(1), 1, 12);
    if (!m || m[1][0] !== ".") return undefined;
    const w = tzsetNum(m[1].slice(1), 1, 5);
    if (!w || w[1][0] !== ".") return undefined;
    const d = tzsetNum(w[1].slice(1), 0, 6);
    if (!d) return undefined;
    r.kind = "mwd";
    r.mon = m[0];
    r.week = w[0];
    [r.day, s] = d;
  } else {
    const d = tzsetNum(s, 0, 365);
    if (!d) return undefined;
    [r.day, s] = d;
  }
  if (s[0] !== "/") {
    r.time = 7200;
    return [r, s];
  }
  const off = tzsetOffset(s.slice(1));
  if (!off) return undefined;
  [r.time, s] = off;
  return [r, s];
}

function tzruleTime(year: number, r: Rule, off: number): number {
  let s: number;
  if (r.kind === "julian") {
    s = (r.day - 1) * 86400;
    if (isLeap(year) && r.day >= 60) s += 86400;
  } else if (r.kind === "doy") {
    s = r.day * 86400;
  } else {
    // Zeller's congruence: the weekday of the first day of r.mon.
    const m1 = ((r.mon + 9) % 12) + 1;
    let yy0 = year;
    if (r.mon <= 2) yy0--;
    const yy1 = Math.trunc(yy0 / 100);
    const yy2 = yy0 % 100;
    let dow = (Math.trunc((26 * m1 - 2) / 10) + 1 + yy2 + Math.trunc(yy2 / 4) + Math.trunc(yy1 / 4) - 2 * yy1) % 7;
    if (dow < 0) dow += 7;
    let d = r.day - dow;
    if (d < 0) d += 7;
    for (let i = 1; i < r.week; i++) {
      if (d + 7 >= daysIn(r.mon, year)) break;
      d += 7;
    }
    d += DAYS_BEFORE[r.mon - 1];
    if (isLeap(year) && r.mon > 2) d++;
    s = d * 86400;
  }
  return s + r.time - off;
}

/** Go's tzset: the zone a POSIX TZ rule gives for `sec`, after the last TZif transition `lastTx`. */
function tzset(rule: string, lastTx: number, sec: number): ZoneInfo | undefined {
  let s = rule;
  const std = tzsetName(s);
  if (!std) return undefined;
  let stdName = std[0];
  const so = tzsetOffset(std[1]);
  if (!so) return undefined;
  let stdOffset = -so[0];
  s = so[1];
  if (s === "" || s[0] === ",") return { name: stdName, offset: stdOffset, start: lastTx, end: OMEGA, isDST: false };
  const dst = tzsetName(s);
  if (!dst) return undefined;
  let dstName = dst[0];
  s = dst[1];
  let dstOffset: number;
  if (s === "" || s[0] === ",") dstOffset = stdOffset + 3600;
  else {
    const o = tzsetOffset(s);
    if (!o) return undefined;
    dstOffset = -o[0];
    s = o[1];
  }
  if (s === "") s = ",M3.2.0,M11.1.0";
  if (s[0] !== ",") return undefined;
  const r1 = tzsetRule(s.slice(1));
  if (!r1 || r1[1][0] !== ",") return undefined;
  const r2 = tzsetRule(r1[1].slice(1));
  if (!r2 || r2[1] !== "") return undefined;
  const { year, yday } = civil(sec);
  const ysec = yday * 86400 + (((sec % 86400) + 86400) % 86400);
  const abs = daysFromCivil(year, 1, 1) * 86400;
  let startSec = tzruleTime(year, r1[0], stdOffset);
  let endSec = tzruleTime(year, r2[0], dstOffset);
  let dstIsDST = true;
  let stdIsDST = false;
  if (endSec < startSec) {
    [startSec, endSec] = [endSec, startSec];
    [stdName, dstName] = [dstName, stdName];
    [stdOffset, dstOffset] = [dstOffset, stdOffset];
    [stdIsDST, dstIsDST] = [dstIsDST, stdIsDST];
  }
  if (ysec < startSec) return { name: stdName, offset: stdOffset, start: abs, end: startSec + abs, isDST: stdIsDST };
  if (ysec >= endSec) return { name: stdName, offset: stdOffset, start: endSec + abs, end: abs + 365 * 86400, isDST: stdIsDST };
  return { name: dstName, offset: dstOffset, start: startSec + abs, end: endSec + abs, isDST: dstIsDST };
}

// ---- the calendar -----------------------------------------------------------------------------

const DAYS_BEFORE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

export function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

function daysIn(month: number, year: number): number {
  if (month === 2 && isLeap(year)) return 29;
  return DAYS_BEFORE[month] - DAYS_BEFORE[month - 1];
}

const floorDiv = (a: number, b: number): number => Math.floor(a / b);

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1..12; day may overflow). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = floorDiv(y, 400);
  const yoe = y - era * 400;
  const mp = (m + 9) % 12;
  const doy = floorDiv(153 * mp + 2, 5) + d - 1;
  const doe = yoe * 365 + floorDiv(yoe, 4) - floorDiv(yoe, 100) + doy;
  return era * 146097 + doe - 719468;
}

export interface Civil {
  year: number;
  month: number;
  day: number;
  hour: number;
  min: number;
  sec: number;
  /** 0-based day of the year. */
  yday: number;
  /** 0 = Sunday. */
  weekday: number;
}

/** The calendar fields of Unix second `t` (already shifted by the zone offset). */
export function civil(t: number): Civil {
  const days = floorDiv(t, 86400);
  const secs = t - days * 86400;
  const z = days + 719468;
  const era = floorDiv(z, 146097);
  const doe = z - era * 146097;
  const yoe = floorDiv(doe - floorDiv(doe, 1460) + floorDiv(doe, 36524) - floorDiv(doe, 146096), 365);
  const doy = doe - (365 * yoe + floorDiv(yoe, 4) - floorDiv(yoe, 100));
  const mp = floorDiv(5 * doy + 2, 153);
  const day = doy - floorDiv(153 * mp + 2, 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const yday = days - daysFromCivil(year, 1, 1);
  return {
    year, month, day, yday,
    hour: floorDiv(secs, 3600), min: floorDiv(secs % 3600, 60), sec: secs % 60,
    weekday: (((days + 4) % 7) + 7) % 7,
  };
}

// ---- instants ---------------------------------------------------------------------------------

/** A time.Time: Unix seconds, nanoseconds and location (plus, for time.Now, a monotonic reading). */
export class Instant {
  constructor(
    readonly unix: number,
    readonly nsec: number,
    readonly loc: Location,
    /** Seconds since the process started, as Go's String prints "m=+0.001"; only time.Now has it. */
    readonly mono?: number,
  ) {}

  zone(): ZoneInfo {
    return this.loc.lookup(this.unix);
  }

  fields(): Civil {
    return civil(this.unix + this.zone().offset);
  }

  in(loc: Location): Instant {
    return new Instant(this.unix, this.nsec, loc, this.mono);
  }

  /** Add a Duration (nanoseconds). */
  add(d: bigint): Instant {
    const total = BigInt(this.unix) * NS + BigInt(this.nsec) + d;
    const sec = total / NS - (total % NS < 0n ? 1n : 0n);
    return new Instant(Number(sec), Number(total - sec * NS), this.loc);
  }

  /** t.Sub(u), saturating like Go. */
  sub(u: Instant): bigint {
    const d = (BigInt(this.unix) - BigInt(u.unix)) * NS + BigInt(this.nsec - u.nsec);
    return d > MAX_DURATION ? MAX_DURATION : d < MIN_DURATION ? MIN_DURATION : d;
  }

  isZero(): boolean {
    return this.unix === ZERO_UNIX && this.nsec === 0;
  }
}

/** Unix seconds of Go's zero Time, January 1, year 1, 00:00:00 UTC. */
export const ZERO_UNIX = -62135596800;
export const zeroTime = (): Instant => new Instant(ZERO_UNIX, 0, UTC);

const processStart = process.hrtime.bigint();

/** time.Now (in time.Local). */
export function now(): Instant {
  const ns = BigInt(Date.now()) * 1000000n + (process.hrtime.bigint() % 1000000n);
  return new Instant(Number(ns / NS), Number(ns % NS), localLocation(), Number(process.hrtime.bigint() - processStart) / 1e9);
}

/** time.Date: normalises overflowing fields, then finds the offset in effect (Go's two-step lookup near transitions). */
export function date(year: number, month: number, day: number, hour: number, min: number, sec: number, nsec: number, loc: Location): Instant {
  // Normalise month, then carry nsec into sec; days may overflow freely.
  const m0 = month - 1;
  year += floorDiv(m0, 12);
  month = m0 - floorDiv(m0, 12) * 12 + 1;
  sec += floorDiv(nsec, 1e9);
  nsec -= floorDiv(nsec, 1e9) * 1e9;
  let unix = daysFromCivil(year, month, 1) * 86400 + (day - 1) * 86400 + hour * 3600 + min * 60 + sec;
  const z = loc.lookup(unix);
  if (z.offset !== 0) {
    const utc = unix - z.offset;
    const offset = utc < z.start || utc >= z.end ? loc.lookup(utc).offset : z.offset;
    unix -= offset;
  }
  return new Instant(unix, nsec, loc);
}

// ---- durations --------------------------------------------------------------------------------

export const NS = 1000000000n;
export const MAX_DURATION = (1n << 63n) - 1n;
export const MIN_DURATION = -(1n << 63n);

/** Duration.String: "1h2m3.5s", "1.5ms", "0s". */
export function durationString(d: bigint): string {
  const neg = d < 0n;
  let u = neg ? -d : d;
  const frac = (v: bigint, prec: number): [string, bigint] => {
    let digits = "";
    let print = false;
    for (let i = 0; i < prec; i++) {
      const digit = v % 10n;
      print = print || digit !== 0n;
      if (print) digits = digit.toString() + digits;
      v /= 10n;
    }
    return [print ? "." + digits : "", v];
  };
  let out: string;
  if (u < NS) {
    if (u === 0n) return "0s";
    let prec: number;
    let unit: string;
    if (u < 1000n) [prec, unit] = [0, "ns"];
    else if (u < 1000000n) [prec, unit] = [3, "µs"];
    else [prec, unit] = [6, "ms"];
    const [f, rest] = frac(u, prec);
    out = rest.toString() + f + unit;
  } else {
    const [f, secs] = frac(u, 9);
    u = secs;
    out = (u % 60n).toString() + f + "s";
    u /= 60n;
    if (u > 0n) {
      out = (u % 60n).toString() + "m" + out;
      u /= 60n;
      if (u > 0n) out = u.toString() + "h" + out;
    }
  }
  return (neg ? "-" : "") + out;
}

const UNITS: Record<string, bigint> = {
  ns: 1n, us: 1000n, "µs": 1000n, "μs": 1000n, ms: 1000000n, s: NS, m: 60n * NS, h: 3600n * NS,
};

/** time.ParseDuration. */
export function parseDuration(s: string): bigint {
  const orig = s;
  const quoted = JSON.stringify(orig);
  const invalid = () => new Error(`time: invalid duration ${quoted}`);
  let neg = false;
  if (s !== "" && (s[0] === "-" || s[0] === "+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0n;
  if (s === "") throw invalid();
  let d = 0n;
  const LIMIT = 1n << 63n;
  while (s !== "") {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(s)!;
    const intPart = m[1];
    const fracPart = m[2];
    if (intPart === "" && (fracPart === undefined || fracPart === "")) throw invalid();
    s = s.slice(m[0].length);
    const u = /^[^0-9.]*/.exec(s)![0];
    if (u === "") throw new Error(`time: missing unit in duration ${quoted}`);
    s = s.slice(u.length);
    const unit = UNITS[u];
    if (unit === undefined) throw new Error(`time: unknown unit ${JSON.stringify(u)} in duration ${quoted}`);
    const v = intPart === "" ? 0n : BigInt(intPart);
    if (v > LIMIT / unit) throw invalid();
    let part = v * unit;
    if (fracPart) {
      // Go's leadingFraction keeps the digits that fit an int64 and scales them in float64.
      let f = 0n;
      let scale = 1;
      for (const c of fracPart) {
        if (f > (LIMIT - 1n) / 10n || f * 10n + BigInt(c) > LIMIT) break;
        f = f * 10n + BigInt(c);
        scale *= 10;
      }
      if (f > 0n) part += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (part > LIMIT) throw invalid();
    }
    d += part;
    if (d > LIMIT) throw invalid();
  }
  if (neg) return -d;
  if (d > LIMIT - 1n) throw invalid();
  return d;
}

/** Duration.Round. */
export function roundDuration(d: bigint, m: bigint): bigint {
  if (m <= 0n) return d;
  let r = d % m;
  if (d < 0n) {
    r = -r;
    if (r + r < m) return d + r;
    const d1 = d - m + r;
    return d1 < d ? d1 : MIN_DURATION;
  }
  if (r + r < m) return d - r;
  const d1 = d + m - r;
  return d1 > d ? d1 : MAX_DURATION;
}
