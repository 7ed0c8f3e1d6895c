// sprig's semver and semverCompare: github.com/Masterminds/semver v3 (3.2.x) versions and constraints.
//
// Masterminds' rules differ from npm's: a missing minor/patch (or x, X, *) makes a
// constraint "dirty" with its own per-operator meaning, a prerelease version only
// satisfies a constraint that itself has a prerelease, "1.2 - 1.4" becomes
// ">= 1.2, <= 1.4", a comma or spaces mean AND, "||" means OR. The regular
// expressions below are Masterminds' own, with Go's ASCII-only \s spelled out;
// they are leftmost-first like Go's, so they match the same text in JavaScript.
import { type FuncMap, type GoFunc, type GoObject, type GoValue, NO_FIELD, goFunc, goTypeName } from "../value.js";
import { argString } from "./args.js";
import { type CompiledRegexp, compileGoRegexp, findAll, matchString } from "./goregexp.js";

const S = "[\\t\\n\\f\\r ]";
const SEMVER = "v?([0-9]+)(\\.[0-9]+)?(\\.[0-9]+)?(-([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?(\\+([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?";
const versionRegex = goRegexp(`^${SEMVER}$`);
// Masterminds' character class also admits "|" in a segment (a quirk kept for the same parse errors).
const CV = "v?([0-9|xX*]+)(\\.[0-9|xX*]+)?(\\.[0-9|xX*]+)?(-([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?(\\+([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?";
const OPS = "=||!=|>|<|>=|=>|<=|=<|~|~>|\\^";
const constraintRegex = goRegexp(`^${S}*(${OPS})${S}*(${CV})${S}*$`);
const constraintRangeRegex = goRegexp(`${S}*(${CV})${S}+-${S}+(${CV})${S}*`);
const findConstraintRegex = goRegexp(`(${OPS})${S}*(${CV})`);
const validConstraintRegex = goRegexp(`^(${S}*(${OPS})${S}*(${CV})${S}*)((?:${S}+|,${S}*)(${OPS})${S}*(${CV})${S}*)*$`);

/**
 * One of Masterminds' expressions, run as Go runs it (RE2, linear time): as JavaScript regexps they backtrack, and
 * `semverCompare` on "1", 3000 blanks and "!" took 13 s (polynomial). Compiled on first use (re2js loads lazily).
 */
// exec's groups are typed as RegExpExecArray's are: an unmatched group is undefined.
function goRegexp(expr: string): { exec(s: string): string[] | null; all(s: string): (string | undefined)[][]; test(s: string): boolean } {
  let c: CompiledRegexp | undefined;
  const get = () => (c ??= compileGoRegexp(expr));
  return {
    exec: (s) => (findAll(get(), s, 1)[0]?.groups as string[] | undefined) ?? null,
    all: (s) => findAll(get(), s, -1).map((m) => m.groups),
    test: (s) => matchString(get(), s),
  };
}

const UINT64_MAX = (1n << 64n) - 1n;

/** strconv.ParseUint(s, 10, 64), or undefined on a syntax or range error. */
function parseUint(s: string): bigint | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n > UINT64_MAX ? undefined : n;
}

function segment(s: string): bigint {
  const n = parseUint(s);
  if (n === undefined) throw new Error(`Error parsing version segment: strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

const NUM = /^[0-9]*$/;
const ALLOWED = /^[0-9A-Za-z-]*$/;

function validatePrerelease(p: string): void {
  for (const part of p.split(".")) {
    if (NUM.test(part)) {
      if (part.length > 1 && part[0] === "0") throw new Error("Version segment starts with 0");
    } else if (!ALLOWED.test(part)) throw new Error("Invalid Prerelease string");
  }
}

function validateMetadata(m: string): void {
  for (const part of m.split(".")) if (!ALLOWED.test(part)) throw new Error("Invalid Metadata string");
}

export interface Version {
  major: bigint;
  minor: bigint;
  patch: bigint;
  pre: string;
  metadata: string;
  original: string;
}

/** semver.NewVersion: the lenient parser ("v" prefix, missing minor/patch). */
export function parseVersion(v: string): Version {
  const m = versionRegex.exec(v);
  if (!m) throw new Error("Invalid Semantic Version");
  const ver: Version = {
    major: segment(m[1]),
    minor: m[2] ? segment(m[2].slice(1)) : 0n,
    patch: m[3] ? segment(m[3].slice(1)) : 0n,
    pre: m[5] ?? "",
    metadata: m[8] ?? "",
    original: v,
  };
  if (ver.pre !== "") validatePrerelease(ver.pre);
  if (ver.metadata !== "") validateMetadata(ver.metadata);
  return ver;
}

export function versionString(v: Version): string {
  return `${v.major}.${v.minor}.${v.patch}${v.pre ? "-" + v.pre : ""}${v.metadata ? "+" + v.metadata : ""}`;
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Masterminds' comparePrePart: numeric parts compare as numbers and sort before alphanumeric ones; an absent part sorts first. */
function comparePrePart(s: string, o: string): number {
  if (s === o) return 0;
  if (s === "") return -1;
  if (o === "") return 1;
  const oi = parseUint(o);
  const si = parseUint(s);
  if (oi === undefined && si === undefined) return s > o ? 1 : -1;
  if (oi === undefined) return -1;
  if (si === undefined) return 1;
  return si > oi ? 1 : -1;
}

function comparePrerelease(v: string, o: string): number {
  const a = v.split(".");
  const b = o.split(".");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = comparePrePart(a[i] ?? "", b[i] ?? "");
    if (d !== 0) return d;
  }
  return 0;
}

/** Version.Compare: metadata is ignored; a release sorts after its prereleases. */
export function compareVersions(v: Version, o: Version): number {
  const d = cmp(v.major, o.major) || cmp(v.minor, o.minor) || cmp(v.patch, o.patch);
  if (d !== 0) return d;
  if (v.pre === "" && o.pre === "") return 0;
  if (v.pre === "") return 1;
  if (o.pre === "") return -1;
  return comparePrerelease(v.pre, o.pre);
}

interface Constraint {
  con: Version;
  /** The version text as written, for messages. */
  orig: string;
  op: string;
  minorDirty: boolean;
  patchDirty: boolean;
  dirty: boolean;
}

const isX = (x: string): boolean => x === "x" || x === "X" || x === "*";

function parseConstraint(c: string): Constraint {
  const m = constraintRegex.exec(c);
  if (!m) throw new Error(`improper constraint: ${c}`);
  const [, op, orig, major, minorDot = "", patchDot = "", pre = ""] = m;
  let ver = orig;
  let minorDirty = false;
  let patchDirty = false;
  let dirty = false;
  if (isX(major)) {
    ver = `0.0.0${pre}`;
    dirty = true;
  } else if (isX(minorDot.slice(1)) || minorDot === "") {
    minorDirty = true;
    dirty = true;
    ver = `${major}.0.0${pre}`;
  } else if (isX(patchDot.slice(1)) || patchDot === "") {
    dirty = true;
    patchDirty = true;
    ver = `${major}${minorDot}.0${pre}`;
  }
  let con: Version;
  try {
    con = parseVersion(ver);
  } catch {
    throw new Error("constraint Parser Error");
  }
  return { con, orig, op, minorDirty, patchDirty, dirty };
}

/** A prerelease version only matches constraints that name a prerelease themselves. */
function preGate(v: Version, c: Constraint): boolean {
  return !(v.pre !== "" && c.con.pre === "");
}

function tilde(v: Version, c: Constraint): boolean {
  if (!preGate(v, c)) return false;
  if (compareVersions(v, c.con) < 0) return false;
  if (c.con.major === 0n && c.con.minor === 0n && c.con.patch === 0n && !c.minorDirty && !c.patchDirty) return true;
  if (v.major !== c.con.major) return false;
  if (v.minor !== c.con.minor && !c.minorDirty) return false;
  return true;
}

const OPERATORS: Record<string, (v: Version, c: Constraint) => boolean> = {
  "": tildeOrEqual,
  "=": tildeOrEqual,
  "!=": notEqual,
  ">": greaterThan,
  "<": (v, c) => preGate(v, c) && compareVersions(v, c.con) < 0,
  ">=": greaterThanEqual,
  "=>": greaterThanEqual,
  "<=": lessThanEqual,
  "=<": lessThanEqual,
  "~": tilde,
  "~>": tilde,
  "^": caret,
};

function tildeOrEqual(v: Version, c: Constraint): boolean {
  if (!preGate(v, c)) return false;
  if (c.dirty) return tilde(v, c);
  return compareVersions(v, c.con) === 0;
}

function notEqual(v: Version, c: Constraint): boolean {
  if (c.dirty) {
    if (!preGate(v, c)) return false;
    if (c.con.major !== v.major) return true;
    if (c.con.minor !== v.minor && !c.minorDirty) return true;
    if (c.minorDirty) return false;
    if (c.con.patch !== v.patch && !c.patchDirty) return true;
    if (c.patchDirty) {
      if (v.pre !== "" || c.con.pre !== "") return comparePrerelease(v.pre, c.con.pre) !== 0;
      return false;
    }
  }
  return compareVersions(v, c.con) !== 0;
}

function greaterThan(v: Version, c: Constraint): boolean {
  if (!preGate(v, c)) return false;
  if (!c.dirty) return compareVersions(v, c.con) === 1;
  if (v.major > c.con.major) return true;
  if (v.major < c.con.major) return false;
  if (c.minorDirty) return false;
  if (c.patchDirty) return v.minor > c.con.minor;
  return compareVersions(v, c.con) === 1;
}

function greaterThanEqual(v: Version, c: Constraint): boolean {
  return preGate(v, c) && compareVersions(v, c.con) >= 0;
}

function lessThanEqual(v: Version, c: Constraint): boolean {
  if (!preGate(v, c)) return false;
  if (!c.dirty) return compareVersions(v, c.con) <= 0;
  if (v.major > c.con.major) return false;
  if (v.major === c.con.major && v.minor > c.con.minor && !c.minorDirty) return false;
  return true;
}

function caret(v: Version, c: Constraint): boolean {
  if (!preGate(v, c)) return false;
  if (compareVersions(v, c.con) < 0) return false;
  if (c.con.major > 0n || c.minorDirty) return v.major === c.con.major;
  if (c.con.major === 0n && v.major > 0n) return false;
  if (c.con.minor > 0n || c.patchDirty) return v.minor === c.con.minor;
  if (c.con.minor === 0n && v.minor > 0n) return false;
  return c.con.patch === v.patch;
}

/** Masterminds' rewriteRange: each "A - B" becomes ">= A, <= B" (the first occurrence of the matched text, as strings.Replace does). */
function rewriteRange(s: string): string {
  let out = s;
  for (const m of constraintRangeRegex.all(s)) out = out.replace(m[0]!, () => `>= ${m[1]}, <= ${m[11]}`);
  return out;
}

/** semver.NewConstraint: OR groups of AND-ed constraints. */
export function parseConstraints(text: string): Constraint[][] {
  return rewriteRange(text).split("||").map((group) => {
    if (!validConstraintRegex.test(group)) throw new Error(`improper constraint: ${group}`);
    const found = findConstraintRegex.all(group).map((m) => m[0]!);
    return (found.length ? found : [group]).map(parseConstraint);
  });
}

export function checkConstraints(cs: Constraint[][], v: Version): boolean {
  return cs.some((group) => group.every((c) => OPERATORS[c.op](v, c)));
}

// ---- the template object ---------------------------------------------------------------------

/**
 * A *semver.Version (pointer) or semver.Version (a value, as IncMajor and friends return). Go's
 * text/template only finds pointer-receiver methods (Original, Compare, LessThan, ...) on the pointer.
 */
export class SemverObject implements GoObject {
  readonly goType: string;
  constructor(
    readonly v: Version,
    readonly pointer: boolean,
  ) {
    this.goType = pointer ? "*semver.Version" : "semver.Version";
  }

  field(): typeof NO_FIELD {
    return NO_FIELD;
  }

  string(): string {
    return versionString(this.v);
  }

  /** Version.MarshalJSON: the version string. */
  marshalJSON(): GoValue {
    return versionString(this.v);
  }

  method(name: string): GoFunc | undefined {
    const v = this.v;
    const next = (changes: Partial<Version>): SemverObject => {
      const n: Version = { ...v, ...changes };
      n.original = (v.original.startsWith("v") ? "v" : "") + versionString(n);
      return new SemverObject(n, false);
    };
    const other = (o: GoValue): Version => {
      if (o instanceof SemverObject && o.pointer) return o.v;
      if (o === null || o === undefined) throw new Error("runtime error: invalid memory address or nil pointer dereference");
      throw new Error(`wrong type for value; expected *semver.Version; got ${goTypeName(o)}`);
    };
    const value: Record<string, GoFunc> = {
      String: goFunc(0, 0, () => versionString(v)),
      Major: goFunc(0, 0, () => Number(v.major)),
      Minor: goFunc(0, 0, () => Number(v.minor)),
      Patch: goFunc(0, 0, () => Number(v.patch)),
      Prerelease: goFunc(0, 0, () => v.pre),
      Metadata: goFunc(0, 0, () => v.metadata),
      IncPatch: goFunc(0, 0, () => (v.pre !== "" ? next({ pre: "", metadata: "" }) : next({ pre: "", metadata: "", patch: v.patch + 1n }))),
      IncMinor: goFunc(0, 0, () => next({ pre: "", metadata: "", patch: 0n, minor: v.minor + 1n })),
      IncMajor: goFunc(0, 0, () => next({ pre: "", metadata: "", patch: 0n, minor: 0n, major: v.major + 1n })),
      SetPrerelease: goFunc(1, 1, (p) => {
        const pre = argString(p);
        if (pre !== "") validatePrerelease(pre);
        return next({ pre });
      }),
      SetMetadata: goFunc(1, 1, (m) => {
        const metadata = argString(m);
        if (metadata !== "") validateMetadata(metadata);
        return next({ metadata });
      }),
    };
    const pointer: Record<string, GoFunc> = {
      Original: goFunc(0, 0, () => v.original),
      Compare: goFunc(1, 1, (o) => compareVersions(v, other(o))),
      LessThan: goFunc(1, 1, (o) => compareVersions(v, other(o)) < 0),
      GreaterThan: goFunc(1, 1, (o) => compareVersions(v, other(o)) > 0),
      Equal: goFunc(1, 1, (o) => compareVersions(v, other(o)) === 0),
    };
    if (Object.prototype.hasOwnProperty.call(value, name)) return value[name];
    if (this.pointer && Object.prototype.hasOwnProperty.call(pointer, name)) return pointer[name];
    return undefined;
  }
}

export function registerSemver(fm: FuncMap): void {
  fm.set("semver", goFunc(1, 1, (s) => new SemverObject(parseVersion(argString(s)), true)));
  fm.set("semverCompare", goFunc(2, 2, (c, v) => {
    const cs = parseConstraints(argString(c));
    return checkConstraints(cs, parseVersion(argString(v)));
  }));
}
