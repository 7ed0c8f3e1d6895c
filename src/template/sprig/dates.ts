// sprig's date functions (date.go): now, date, dateInZone, htmlDate(InZone), dateModify,
// toDate, unixEpoch, ago, duration, durationRound and their must*/snake_case aliases,
// over Go time.Time values (the TimeObject below).
import { type FuncMap, type GoFunc, GoFloat, type GoObject, type GoValue, NO_FIELD, goFunc, goTypeName } from "../value.js";
import { argInt, argString } from "./args.js";
import {
  Instant, type Location, MAX_DURATION, MIN_DURATION, NS, UTC, date as makeDate, durationString, loadLocation, localLocation, now,
  parseDuration, roundDuration, zeroTime,
} from "./gotime.js";
import { LONG_DAYS, LONG_MONTHS, formatTime, parseTime } from "./timeformat.js";

/**
 * time.Month and time.Weekday: Go integers that print as names (fmt.Stringer). Here they are objects,
 * so they print like Go; comparing them with eq/lt is not supported (Go would compare the numbers).
 */
class NamedInt implements GoObject {
  constructor(
    readonly goType: string,
    readonly value: number,
    readonly name: string,
  ) {}
  field(): typeof NO_FIELD {
    return NO_FIELD;
  }
  method(name: string): GoFunc | undefined {
    return name === "String" ? goFunc(0, 0, () => this.name) : undefined;
  }
  string(): string {
    return this.name;
  }
  /** encoding/json writes the integer. */
  marshalJSON(): GoValue {
    return this.value;
  }
}

/** A time.Duration (Time.Sub's result): prints like "1h2m3s"; Hours/Minutes/Seconds and friends as Go has them. */
export class DurationObject implements GoObject {
  readonly goType = "time.Duration";
  constructor(readonly d: bigint) {}
  field(): typeof NO_FIELD {
    return NO_FIELD;
  }
  string(): string {
    return durationString(this.d);
  }
  /** encoding/json writes the nanoseconds. */
  marshalJSON(): GoValue {
    return Number(this.d);
  }
  method(name: string): GoFunc | undefined {
    const d = this.d;
    /** Go's Duration.Hours etc.: whole units plus the remainder as a fraction. */
    const units = (unit: bigint) => new GoFloat(Number(d / unit) + Number(d % unit) / Number(unit));
    const methods: Record<string, () => GoValue> = {
      String: () => durationString(d),
      Nanoseconds: () => Number(d),
      Microseconds: () => Number(d / 1000n),
      Milliseconds: () => Number(d / 1000000n),
      Seconds: () => units(NS),
      Minutes: () => units(60n * NS),
      Hours: () => units(3600n * NS),
    };
    if (Object.prototype.hasOwnProperty.call(methods, name)) return goFunc(0, 0, methods[name]);
    if (name === "Round") return goFunc(1, 1, (m) => new DurationObject(roundDuration(d, BigInt(argInt(m)))));
    return undefined;
  }
}

/** A Go time.Time in a template. */
export class TimeObject implements GoObject {
  readonly goType = "time.Time";
  constructor(readonly t: Instant) {}

  field(): typeof NO_FIELD {
    return NO_FIELD;
  }

  /** Time.String: with the monotonic clock reading that time.Now carries. */
  string(): string {
    let s = formatTime(this.t, "2006-01-02 15:04:05.999999999 -0700 MST");
    if (this.t.mono !== undefined) s += ` m=+${this.t.mono.toFixed(9)}`;
    return s;
  }

  /** Time.MarshalJSON: RFC 3339 with nanoseconds. */
  marshalJSON(): GoValue {
    return formatTime(this.t, "2006-01-02T15:04:05.999999999Z07:00");
  }

  method(name: string): GoFunc | undefined {
    const t = this.t;
    const f = () => t.fields();
    const wrap = (x: Instant) => new TimeObject(x);
    const methods: Record<string, () => GoFunc> = {
      String: () => goFunc(0, 0, () => this.string()),
      Format: () => goFunc(1, 1, (l) => formatTime(t, argString(l))),
      Year: () => goFunc(0, 0, () => f().year),
      Month: () => goFunc(0, 0, () => new NamedInt("time.Month", f().month, LONG_MONTHS[f().month - 1])),
      Day: () => goFunc(0, 0, () => f().day),
      Weekday: () => goFunc(0, 0, () => new NamedInt("time.Weekday", f().weekday, LONG_DAYS[f().weekday])),
      YearDay: () => goFunc(0, 0, () => f().yday + 1),
      Hour: () => goFunc(0, 0, () => f().hour),
      Minute: () => goFunc(0, 0, () => f().min),
      Second: () => goFunc(0, 0, () => f().sec),
      Nanosecond: () => goFunc(0, 0, () => t.nsec),
      Unix: () => goFunc(0, 0, () => t.unix),
      UnixMilli: () => goFunc(0, 0, () => Number((BigInt(t.unix) * NS + BigInt(t.nsec)) / 1000000n)),
      UnixMicro: () => goFunc(0, 0, () => Number((BigInt(t.unix) * NS + BigInt(t.nsec)) / 1000n)),
      UnixNano: () => goFunc(0, 0, () => Number(BigInt(t.unix) * NS + BigInt(t.nsec))),
      UTC: () => goFunc(0, 0, () => wrap(t.in(UTC))),
      Local: () => goFunc(0, 0, () => wrap(t.in(localLocation()))),
      IsZero: () => goFunc(0, 0, () => t.isZero()),
      Add: () => goFunc(1, 1, (d) => wrap(t.add(BigInt(argInt(d))))),
      AddDate: () => goFunc(3, 3, (y, m, d) => {
        const c = t.fields();
        const r = makeDate(c.year + argInt(y), c.month + argInt(m), c.day + argInt(d), c.hour, c.min, c.sec, t.nsec, t.loc);
        return wrap(r);
      }),
      Sub: () => goFunc(1, 1, (u) => new DurationObject(t.sub(argTime(u)))),
      Before: () => goFunc(1, 1, (u) => compareInstants(t, argTime(u)) < 0),
      After: () => goFunc(1, 1, (u) => compareInstants(t, argTime(u)) > 0),
      Equal: () => goFunc(1, 1, (u) => compareInstants(t, argTime(u)) === 0),
    };
    return Object.prototype.hasOwnProperty.call(methods, name) ? methods[name]() : undefined;
  }
}

function compareInstants(a: Instant, b: Instant): number {
  return a.unix !== b.unix ? a.unix - b.unix : a.nsec - b.nsec;
}

/** A Go time.Time parameter. */
function argTime(v: GoValue): Instant {
  if (v instanceof TimeObject) return v.t;
  if (v === null || v === undefined) throw new Error("invalid value; expected time.Time");
  throw new Error(`wrong type for value; expected time.Time; got ${goTypeName(v)}`);
}

/**
 * sprig's date argument: a time.Time or integer Unix seconds; any other value means "now".
 * Template integers are Go ints here, which every date function accepts.
 */
function dateArg(v: GoValue): Instant {
  if (v instanceof TimeObject) return v.t;
  if (typeof v === "number") return new Instant(v, 0, localLocation());
  return now();
}

/** sprig's dateInZone: an unknown zone silently means UTC. */
function dateInZone(layout: string, v: GoValue, zone: string): string {
  let loc: Location;
  try {
    loc = loadLocation(zone);
  } catch {
    loc = UTC;
  }
  return formatTime(dateArg(v).in(loc), layout);
}


export function registerDates(fm: FuncMap): void {
  fm.set("now", goFunc(0, 0, () => new TimeObject(now())));
  fm.set("date", goFunc(2, 2, (l, d) => dateInZone(argString(l), d, "Local")));
  const inZone = goFunc(3, 3, (l, d, z) => {
    const layout = argString(l);
    return dateInZone(layout, d, argString(z));
  });
  fm.set("dateInZone", inZone);
  fm.set("date_in_zone", inZone);
  fm.set("htmlDate", goFunc(1, 1, (d) => dateInZone("2006-01-02", d, "Local")));
  fm.set("htmlDateInZone", goFunc(2, 2, (d, z) => dateInZone("2006-01-02", d, argString(z))));

  const modify = goFunc(2, 2, (s, d) => {
    const spec = argString(s);
    const t = argTime(d);
    try {
      return new TimeObject(t.add(parseDuration(spec)));
    } catch {
      return new TimeObject(t);
    }
  });
  fm.set("dateModify", modify);
  fm.set("date_modify", modify);
  const mustModify = goFunc(2, 2, (s, d) => {
    const spec = argString(s);
    const t = argTime(d);
    return new TimeObject(t.add(parseDuration(spec)));
  });
  fm.set("mustDateModify", mustModify);
  fm.set("must_date_modify", mustModify);

  fm.set("toDate", goFunc(2, 2, (l, s) => {
    const layout = argString(l);
    const value = argString(s);
    try {
      return new TimeObject(parseTime(layout, value, localLocation()));
    } catch {
      return new TimeObject(zeroTime());
    }
  }));
  fm.set("mustToDate", goFunc(2, 2, (l, s) => {
    const layout = argString(l);
    return new TimeObject(parseTime(layout, argString(s), localLocation()));
  }));
  fm.set("unixEpoch", goFunc(1, 1, (d) => String(argTime(d).unix)));

  fm.set("ago", goFunc(1, 1, (d) => {
    const t = d instanceof TimeObject ? d.t : typeof d === "number" ? new Instant(d, 0, localLocation()) : now();
    return durationString(roundDuration(now().sub(t), NS));
  }));

  // duration takes a string of seconds or an int64; a template integer is a Go int, which sprig ignores (0s).
  fm.set("duration", goFunc(1, 1, (v) => {
    let n = 0n;
    if (typeof v === "string") n = parseInt64(v);
    return durationString(BigInt.asIntN(64, n * NS));
  }));
  fm.set("durationRound", goFunc(1, 1, (v) => {
    let d = 0n;
    if (typeof v === "string") {
      try {
        d = parseDuration(v);
      } catch {
        d = 0n;
      }
    } else if (v instanceof TimeObject) d = now().sub(v.t);
    return durationRound(d);
  }));
}

/** strconv.ParseInt(s, 10, 64) with sprig's ignored error: out of range saturates, bad syntax is 0. */
function parseInt64(s: string): bigint {
  if (!/^[+-]?[0-9]+$/.test(s)) return 0n;
  const n = BigInt(s);
  if (n > MAX_DURATION) return MAX_DURATION;
  if (n < MIN_DURATION) return MIN_DURATION;
  return n;
}

/** sprig's durationRound: the largest whole unit (y = 365d, mo = 30d), truncated. */
function durationRound(d: bigint): string {
  let u = BigInt.asUintN(64, d);
  if (d < 0n) u = BigInt.asUintN(64, -u);
  const hour = 3600n * NS;
  const units: [bigint, string][] = [[hour * 24n * 365n, "y"], [hour * 24n * 30n, "mo"], [hour * 24n, "d"], [hour, "h"], [60n * NS, "m"], [NS, "s"]];
  for (const [size, suffix] of units) if (u > size) return (u / size).toString() + suffix;
  return "0s";
}
