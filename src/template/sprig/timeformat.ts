// Go's time.Format and time.ParseInLocation with reference layouts ("2006-01-02 15:04:05 -0700 MST").
import { Instant, type Location, UTC, date, fixedZone, isLeap } from "./gotime.js";

type Std =
  | "longMonth" | "month" | "numMonth" | "zeroMonth" | "longWeekDay" | "weekDay" | "day" | "underDay" | "zeroDay"
  | "underYearDay" | "zeroYearDay" | "hour" | "hour12" | "zeroHour12" | "minute" | "zeroMinute" | "second" | "zeroSecond"
  | "longYear" | "year" | "PM" | "pm" | "tz" | "iso8601TZ" | "iso8601SecondsTZ" | "iso8601ShortTZ" | "iso8601ColonTZ"
  | "iso8601ColonSecondsTZ" | "numTZ" | "numSecondsTz" | "numShortTZ" | "numColonTZ" | "numColonSecondsTZ"
  | "fracSecond0" | "fracSecond9";

interface Chunk {
  prefix: string;
  std?: Std;
  /** Fractional seconds: number of digits and the separator ("." or ","). */
  digits?: number;
  sep?: string;
  suffix: string;
}

const ZERO_STD: Std[] = ["zeroMonth", "zeroDay", "zeroHour12", "zeroMinute", "zeroSecond", "year"];
const MINUS_TZ: [string, Std][] = [["-070000", "numSecondsTz"], ["-07:00:00", "numColonSecondsTZ"], ["-0700", "numTZ"], ["-07:00", "numColonTZ"], ["-07", "numShortTZ"]];
const Z_TZ: [string, Std][] = [["Z070000", "iso8601SecondsTZ"], ["Z07:00:00", "iso8601ColonSecondsTZ"], ["Z0700", "iso8601TZ"], ["Z07:00", "iso8601ColonTZ"], ["Z07", "iso8601ShortTZ"]];

const startsWithLower = (s: string): boolean => s.length > 0 && s[0] >= "a" && s[0] <= "z";
const isDigitAt = (s: string, i: number): boolean => i < s.length && s[i] >= "0" && s[i] <= "9";

/** Go's nextStdChunk: the literal text before the first layout element, the element, and the rest. */
function nextStdChunk(layout: string): Chunk {
  const at = (i: number, std: Std, len: number): Chunk => ({ prefix: layout.slice(0, i), std, suffix: layout.slice(i + len) });
  for (let i = 0; i < layout.length; i++) {
    const c = layout[i];
    const rest = layout.slice(i);
    switch (c) {
      case "J":
        if (rest.startsWith("Jan")) {
          if (rest.startsWith("January")) return at(i, "longMonth", 7);
          if (!startsWithLower(rest.slice(3))) return at(i, "month", 3);
        }
        break;
      case "M":
        if (rest.startsWith("Mon")) {
          if (rest.startsWith("Monday")) return at(i, "longWeekDay", 6);
          if (!startsWithLower(rest.slice(3))) return at(i, "weekDay", 3);
        }
        if (rest.startsWith("MST")) return at(i, "tz", 3);
        break;
      case "0":
        if (rest.length >= 2 && rest[1] >= "1" && rest[1] <= "6") return at(i, ZERO_STD[rest.charCodeAt(1) - 49], 2);
        if (rest.startsWith("002")) return at(i, "zeroYearDay", 3);
        break;
      case "1":
        if (rest.startsWith("15")) return at(i, "hour", 2);
        return at(i, "numMonth", 1);
      case "2":
        if (rest.startsWith("2006")) return at(i, "longYear", 4);
        return at(i, "day", 1);
      case "_":
        if (rest.length >= 2 && rest[1] === "2") {
          // "_2006" is a literal "_" followed by the long year.
          if (rest.startsWith("_2006")) return { prefix: layout.slice(0, i + 1), std: "longYear", suffix: layout.slice(i + 5) };
          return at(i, "underDay", 2);
        }
        if (rest.startsWith("__2")) return at(i, "underYearDay", 3);
        break;
      case "3":
        return at(i, "hour12", 1);
      case "4":
        return at(i, "minute", 1);
      case "5":
        return at(i, "second", 1);
      case "P":
        if (rest.startsWith("PM")) return at(i, "PM", 2);
        break;
      case "p":
        if (rest.startsWith("pm")) return at(i, "pm", 2);
        break;
      case "-":
        for (const [lit, std] of MINUS_TZ) if (rest.startsWith(lit)) return at(i, std, lit.length);
        break;
      case "Z":
        for (const [lit, std] of Z_TZ) if (rest.startsWith(lit)) return at(i, std, lit.length);
        break;
      case ".":
      case ",":
        if (i + 1 < layout.length && (layout[i + 1] === "0" || layout[i + 1] === "9")) {
          const ch = layout[i + 1];
          let j = i + 1;
          while (j < layout.length && layout[j] === ch) j++;
          if (!isDigitAt(layout, j)) {
            return { prefix: layout.slice(0, i), std: ch === "0" ? "fracSecond0" : "fracSecond9", digits: j - (i + 1), sep: c, suffix: layout.slice(j) };
          }
        }
        break;
    }
  }
  return { prefix: layout, suffix: "" };
}

export const LONG_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
export const LONG_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** Go's appendInt with a minimum width (zero padded; the sign goes first). */
function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, "0");
  return n < 0 ? "-" + s : s;
}

function formatNano(nsec: number, digits: number, sep: string, trim: boolean): string {
  let s = String(nsec).padStart(9, "0");
  let n = Math.min(digits, 9);
  if (trim) {
    while (n > 0 && s[n - 1] === "0") n--;
    if (n === 0) return "";
  }
  s = s.slice(0, n);
  return sep + s;
}

/** Time.Format. */
export function formatTime(t: Instant, layout: string): string {
  const z = t.zone();
  const f = t.fields();
  let out = "";
  for (;;) {
    const ch = nextStdChunk(layout);
    out += ch.prefix;
    if (!ch.std) break;
    layout = ch.suffix;
    const hr12 = f.hour % 12 === 0 ? 12 : f.hour % 12;
    switch (ch.std) {
      case "year": out += pad(((f.year % 100) + 100) % 100, 2); break;
      case "longYear": out += pad(f.year, 4); break;
      case "month": out += LONG_MONTHS[f.month - 1].slice(0, 3); break;
      case "longMonth": out += LONG_MONTHS[f.month - 1]; break;
      case "numMonth": out += f.month; break;
      case "zeroMonth": out += pad(f.month, 2); break;
      case "weekDay": out += LONG_DAYS[f.weekday].slice(0, 3); break;
      case "longWeekDay": out += LONG_DAYS[f.weekday]; break;
      case "day": out += f.day; break;
      case "underDay": out += (f.day < 10 ? " " : "") + f.day; break;
      case "zeroDay": out += pad(f.day, 2); break;
      case "underYearDay": out += String(f.yday + 1).padStart(3, " "); break;
      case "zeroYearDay": out += pad(f.yday + 1, 3); break;
      case "hour": out += pad(f.hour, 2); break;
      case "hour12": out += hr12; break;
      case "zeroHour12": out += pad(hr12, 2); break;
      case "minute": out += f.min; break;
      case "zeroMinute": out += pad(f.min, 2); break;
      case "second": out += f.sec; break;
      case "zeroSecond": out += pad(f.sec, 2); break;
      case "PM": out += f.hour >= 12 ? "PM" : "AM"; break;
      case "pm": out += f.hour >= 12 ? "pm" : "am"; break;
      case "tz":
        if (z.name !== "") out += z.name;
        else {
          const m = Math.trunc(z.offset / 60);
          out += (m < 0 ? "-" : "+") + pad(Math.trunc(Math.abs(m) / 60), 2) + pad(Math.abs(m) % 60, 2);
        }
        break;
      case "fracSecond0": out += formatNano(t.nsec, ch.digits!, ch.sep!, false); break;
      case "fracSecond9": out += formatNano(t.nsec, ch.digits!, ch.sep!, true); break;
      default: out += formatOffset(ch.std, z.offset);
    }
  }
  return out;
}

function formatOffset(std: Std, offset: number): string {
  const iso = std.startsWith("iso8601");
  if (iso && offset === 0) return "Z";
  const zone = Math.trunc(offset / 60);
  const abs = Math.abs(offset);
  let out = zone < 0 ? "-" : "+";
  out += pad(Math.trunc(Math.abs(zone) / 60), 2);
  const colon = std === "iso8601ColonTZ" || std === "numColonTZ" || std === "iso8601ColonSecondsTZ" || std === "numColonSecondsTZ";
  if (colon) out += ":";
  if (std !== "numShortTZ" && std !== "iso8601ShortTZ") out += pad(Math.abs(zone) % 60, 2);
  if (std === "iso8601SecondsTZ" || std === "numSecondsTz" || std === "numColonSecondsTZ" || std === "iso8601ColonSecondsTZ") {
    if (colon) out += ":";
    out += pad(abs % 60, 2);
  }
  return out;
}

// ---- parsing ----------------------------------------------------------------------------------

class ParseError extends Error {}

/** Go's quote() for parse errors: a double-quoted string with Go escapes. */
function q(s: string): string {
  return JSON.stringify(s);
}

function getnum(s: string, fixed: boolean): [number, string] | undefined {
  if (!isDigitAt(s, 0)) return undefined;
  if (!isDigitAt(s, 1)) {
    if (fixed) return undefined;
    return [s.charCodeAt(0) - 48, s.slice(1)];
  }
  return [(s.charCodeAt(0) - 48) * 10 + s.charCodeAt(1) - 48, s.slice(2)];
}

function getnum3(s: string, fixed: boolean): [number, string] | undefined {
  let n = 0;
  let i = 0;
  for (; i < 3 && isDigitAt(s, i); i++) n = n * 10 + s.charCodeAt(i) - 48;
  if (i === 0 || (fixed && i !== 3)) return undefined;
  return [n, s.slice(i)];
}

/** The time package's atoi: optional sign, decimal digits, nothing else. */
function atoi(s: string): number | undefined {
  const m = /^([+-]?)([0-9]+)$/.exec(s);
  if (!m) return undefined;
  return m[1] === "-" ? -Number(m[2]) : Number(m[2]);
}

const cutspace = (s: string): string => s.replace(/^ +/, "");

/** Go's skip: layout literals must match; a space matches any run of spaces. */
function skip(value: string, prefix: string): string | undefined {
  while (prefix.length > 0) {
    if (prefix[0] === " ") {
      if (value.length > 0 && value[0] !== " ") return undefined;
      prefix = cutspace(prefix);
      value = cutspace(value);
      continue;
    }
    if (value.length === 0 || value[0] !== prefix[0]) return undefined;
    prefix = prefix.slice(1);
    value = value.slice(1);
  }
  return value;
}

function lookupName(tab: string[], val: string): [number, string] | undefined {
  for (let i = 0; i < tab.length; i++) {
    if (val.length >= tab[i].length && val.slice(0, tab[i].length).toLowerCase() === tab[i].toLowerCase()) return [i, val.slice(tab[i].length)];
  }
  return undefined;
}

/** Go's parseTimeZone: the length of a zone abbreviation at the start of value, if it looks like one. */
function parseTimeZone(value: string): number | undefined {
  if (value.length < 3) return undefined;
  if (value.length >= 4 && (value.slice(0, 4) === "ChST" || value.slice(0, 4) === "MeST")) return 4;
  if (value.startsWith("GMT")) return parseGMT(value);
  if (value[0] === "+" || value[0] === "-") return parseSignedOffset(value) || undefined;
  let nUpper = 0;
  for (; nUpper < 6 && nUpper < value.length; nUpper++) {
    const c = value[nUpper];
    if (c < "A" || c > "Z") break;
  }
  switch (nUpper) {
    case 0: case 1: case 2: case 6: return undefined;
    case 5: return value[4] === "T" ? 5 : undefined;
    case 4: return value[3] === "T" || value.startsWith("WITA") ? 4 : undefined;
    case 3: return 3;
  }
  return undefined;
}

function parseGMT(value: string): number {
  const rest = value.slice(3);
  if (rest.length === 0) return 3;
  return 3 + parseSignedOffset(rest);
}

/** Go's parseSignedOffset: "+N" or "-N" hours in -23..23, else 0. */
function parseSignedOffset(value: string): number {
  const sign = value[0];
  if (sign !== "-" && sign !== "+") return 0;
  const m = /^[0-9]+/.exec(value.slice(1));
  if (!m) return 0;
  const x = Number(m[0]);
  if (x > 23) return 0;
  return 1 + m[0].length;
}

function parseNanoseconds(value: string, nbytes: number): number {
  if (value[0] !== "." && value[0] !== ",") throw new ParseError("bad");
  if (nbytes > 10) {
    value = value.slice(0, 10);
    nbytes = 10;
  }
  const digits = value.slice(1, nbytes);
  if (!/^[0-9]*$/.test(digits)) throw new ParseError("bad");
  return Number(digits.padEnd(9, "0"));
}

/**
 * time.ParseInLocation. Errors are Go's ParseError texts: `parsing time "V" as "L": cannot parse "R" as "E"`,
 * `parsing time "V": month out of range`, `parsing time "V": extra text: "R"`.
 */
export function parseTime(layout: string, value: string, local: Location): Instant {
  const alayout = layout;
  const avalue = value;
  let rangeErr = "";
  let amSet = false;
  let pmSet = false;
  let year = 0;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nsec = 0;
  let z: Location | undefined;
  let zoneOffset = -1;
  let zoneName = "";
  const cannot = (rest: string, elem: string) => new Error(`parsing time ${q(avalue)} as ${q(alayout)}: cannot parse ${q(rest)} as ${q(elem)}`);
  for (;;) {
    const ch = nextStdChunk(layout);
    const stdstr = layout.slice(ch.prefix.length, layout.length - ch.suffix.length);
    const after = skip(value, ch.prefix);
    if (after === undefined) throw cannot(value, ch.prefix);
    value = after;
    if (!ch.std) {
      if (value.length !== 0) throw new Error(`parsing time ${q(avalue)}: extra text: ${q(value)}`);
      break;
    }
    layout = ch.suffix;
    const hold = value;
    let ok = true;
    const num = (r: [number, string] | undefined): number => {
      if (!r) {
        ok = false;
        return 0;
      }
      value = r[1];
      return r[0];
    };
    switch (ch.std) {
      case "year": {
        const y = value.length < 2 ? undefined : atoi(value.slice(0, 2));
        if (y === undefined) { ok = false; break; }
        value = value.slice(2);
        year = y + (y >= 69 ? 1900 : 2000);
        break;
      }
      case "longYear": {
        const y = value.length < 4 || !isDigitAt(value, 0) ? undefined : atoi(value.slice(0, 4));
        if (y === undefined) { ok = false; break; }
        year = y;
        value = value.slice(4);
        break;
      }
      case "month":
      case "longMonth": {
        const tab = ch.std === "month" ? LONG_MONTHS.map((m) => m.slice(0, 3)) : LONG_MONTHS;
        const r = lookupName(tab, value);
        if (!r) { ok = false; break; }
        month = r[0] + 1;
        value = r[1];
        break;
      }
      case "numMonth":
      case "zeroMonth":
        month = num(getnum(value, ch.std === "zeroMonth"));
        if (ok && (month <= 0 || month > 12)) rangeErr = "month";
        break;
      case "weekDay":
      case "longWeekDay": {
        const tab = ch.std === "weekDay" ? LONG_DAYS.map((d) => d.slice(0, 3)) : LONG_DAYS;
        const r = lookupName(tab, value);
        if (!r) { ok = false; break; }
        value = r[1];
        break;
      }
      case "day":
      case "underDay":
      case "zeroDay":
        if (ch.std === "underDay" && value.length > 0 && value[0] === " ") value = value.slice(1);
        day = num(getnum(value, ch.std === "zeroDay"));
        // The day's range is checked against the month below.
        break;
      case "underYearDay":
      case "zeroYearDay":
        for (let i = 0; i < 2; i++) if (ch.std === "underYearDay" && value.length > 0 && value[0] === " ") value = value.slice(1);
        yday = num(getnum3(value, ch.std === "zeroYearDay"));
        if (ok && (yday < 1 || yday > 366)) rangeErr = "day-of-year";
        break;
      case "hour":
        hour = num(getnum(value, false));
        if (ok && (hour < 0 || hour >= 24)) rangeErr = "hour";
        break;
      case "hour12":
      case "zeroHour12":
        hour = num(getnum(value, ch.std === "zeroHour12"));
        if (ok && (hour < 0 || hour > 12)) rangeErr = "hour";
        break;
      case "minute":
      case "zeroMinute":
        min = num(getnum(value, ch.std === "zeroMinute"));
        if (ok && (min < 0 || min >= 60)) rangeErr = "minute";
        break;
      case "second":
      case "zeroSecond": {
        sec = num(getnum(value, ch.std === "zeroSecond"));
        if (!ok) break;
        if (sec < 0 || sec >= 60) {
          rangeErr = "second";
          break;
        }
        // A fractional second in the value without one in the layout is accepted.
        if (value.length >= 2 && (value[0] === "." || value[0] === ",") && isDigitAt(value, 1)) {
          const next = nextStdChunk(layout);
          if (next.std === "fracSecond0" || next.std === "fracSecond9") break;
          let n = 2;
          while (n < value.length && isDigitAt(value, n)) n++;
          nsec = parseNanoseconds(value, n);
          value = value.slice(n);
        }
        break;
      }
      case "PM":
      case "pm": {
        if (value.length < 2) { ok = false; break; }
        const p = value.slice(0, 2);
        const [am, pm] = ch.std === "PM" ? ["AM", "PM"] : ["am", "pm"];
        if (p === pm) pmSet = true;
        else if (p === am) amSet = true;
        else { ok = false; break; }
        value = value.slice(2);
        break;
      }
      case "tz": {
        if (value.length >= 3 && value.startsWith("UTC")) {
          z = UTC;
          value = value.slice(3);
          break;
        }
        const n = parseTimeZone(value);
        if (n === undefined) { ok = false; break; }
        zoneName = value.slice(0, n);
        value = value.slice(n);
        break;
      }
      case "fracSecond0": {
        const ndigit = 1 + ch.digits!;
        if (value.length < ndigit) { ok = false; break; }
        try {
          nsec = parseNanoseconds(value, ndigit);
        } catch {
          ok = false;
          break;
        }
        value = value.slice(ndigit);
        break;
      }
      case "fracSecond9": {
        if (value.length < 2 || (value[0] !== "." && value[0] !== ",") || !isDigitAt(value, 1)) break;
        let i = 0;
        while (i < 9 && i + 1 < value.length && isDigitAt(value, i + 1)) i++;
        nsec = parseNanoseconds(value, 1 + i);
        value = value.slice(1 + i);
        break;
      }
      default: {
        const std = ch.std;
        if ((std === "iso8601TZ" || std === "iso8601ShortTZ" || std === "iso8601ColonTZ") && value.length >= 1 && value[0] === "Z") {
          value = value.slice(1);
          z = UTC;
          break;
        }
        let parts: [string, string, string, string, number] | undefined;
        if (std === "iso8601ColonTZ" || std === "numColonTZ") {
          if (value.length >= 6 && value[3] === ":") parts = [value[0], value.slice(1, 3), value.slice(4, 6), "00", 6];
        } else if (std === "numShortTZ" || std === "iso8601ShortTZ") {
          if (value.length >= 3) parts = [value[0], value.slice(1, 3), "00", "00", 3];
        } else if (std === "iso8601ColonSecondsTZ" || std === "numColonSecondsTZ") {
          if (value.length >= 9 && value[3] === ":" && value[6] === ":") parts = [value[0], value.slice(1, 3), value.slice(4, 6), value.slice(7, 9), 9];
        } else if (std === "iso8601SecondsTZ" || std === "numSecondsTz") {
          if (value.length >= 7) parts = [value[0], value.slice(1, 3), value.slice(3, 5), value.slice(5, 7), 7];
        } else if (value.length >= 5) parts = [value[0], value.slice(1, 3), value.slice(3, 5), "00", 5];
        if (!parts) { ok = false; break; }
        value = value.slice(parts[4]);
        const hr = atoi(parts[1]);
        const mm = atoi(parts[2]);
        const ss = atoi(parts[3]);
        if (hr === undefined || mm === undefined || ss === undefined || (parts[0] !== "+" && parts[0] !== "-")) { ok = false; break; }
        zoneOffset = (hr * 60 + mm) * 60 + ss;
        if (parts[0] === "-") zoneOffset = -zoneOffset;
        break;
      }
    }
    if (rangeErr !== "") throw new Error(`parsing time ${q(avalue)}: ${rangeErr} out of range`);
    if (!ok) throw cannot(hold, stdstr);
  }
  if (pmSet && hour < 12) hour += 12;
  else if (amSet && hour === 12) hour = 0;

  if (yday >= 0) {
    let d = 0;
    let m = 0;
    if (isLeap(year)) {
      if (yday === 31 + 29) {
        m = 2;
        d = 29;
      } else if (yday > 31 + 29) yday--;
    }
    if (yday > 365) throw new Error(`parsing time ${q(avalue)}: day-of-year out of range`);
    if (m === 0) {
      const before = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
      m = Math.trunc((yday - 1) / 31) + 1;
      if (before[m] < yday) m++;
      d = yday - before[m - 1];
    }
    if (month >= 0 && month !== m) throw new Error(`parsing time ${q(avalue)}: day-of-year does not match month`);
    month = m;
    if (day >= 0 && day !== d) throw new Error(`parsing time ${q(avalue)}: day-of-year does not match day`);
    day = d;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  const dim = month === 2 && isLeap(year) ? 29 : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (day < 1 || day > dim) throw new Error(`parsing time ${q(avalue)}: day out of range`);

  if (z) return date(year, month, day, hour, min, sec, nsec, z);
  if (zoneOffset !== -1) {
    const t = date(year, month, day, hour, min, sec, nsec, UTC);
    const unix = t.unix - zoneOffset;
    const info = local.lookup(unix);
    if (info.offset === zoneOffset && (zoneName === "" || info.name === zoneName)) return new Instant(unix, nsec, local);
    return new Instant(unix, nsec, fixedZone(zoneName, zoneOffset));
  }
  if (zoneName !== "") {
    const t = date(year, month, day, hour, min, sec, nsec, UTC);
    const offset = local.lookupName(zoneName, t.unix);
    if (offset !== undefined) return new Instant(t.unix - offset, nsec, local);
    let off = 0;
    if (zoneName.length > 3 && zoneName.startsWith("GMT")) off = Number(zoneName.slice(3)) * 3600;
    return new Instant(t.unix, nsec, fixedZone(zoneName, off));
  }
  return date(year, month, day, hour, min, sec, nsec, local);
}
