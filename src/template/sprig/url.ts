// sprig's urlParse and urlJoin over Go's net/url: url.Parse into a dict of
// scheme/host/hostname/path/query/opaque/fragment/userinfo, and URL.String back.
import { type FuncMap, type GoMap, type GoValue, goFunc } from "../value.js";
import { argMap, argString, kindName } from "./args.js";
import { fromBytes, toBytes } from "./unicode.js";

type Mode = "path" | "host" | "zone" | "userPassword" | "queryComponent" | "fragment";

const isAlnum = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);

/** net/url's shouldEscape for one byte. */
function shouldEscape(c: number, mode: Mode): boolean {
  if (isAlnum(c)) return false;
  const ch = String.fromCharCode(c);
  if ((mode === "host" || mode === "zone") && "!$&'()*+,;=:[]<>\"".includes(ch)) return false;
  if ("-_.~".includes(ch)) return false;
  if ("$&+,/:;=?@".includes(ch)) {
    switch (mode) {
      case "path": return ch === "?";
      case "userPassword": return ch === "@" || ch === "/" || ch === "?" || ch === ":";
      case "queryComponent": return true;
      case "fragment": return false;
    }
  }
  if (mode === "fragment" && "!()*".includes(ch)) return false;
  return true;
}

const HEX = "0123456789ABCDEF";

function escape(s: string, mode: Mode): string {
  let out = "";
  for (const b of toBytes(s)) {
    if (!shouldEscape(b, mode)) out += String.fromCharCode(b);
    else if (b === 0x20 && mode === "queryComponent") out += "+";
    else out += "%" + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/** net/url's unescape: %XX sequences must be valid; hosts may not carry characters that need escaping. */
function unescape(s: string, mode: Mode): string {
  const bytes = toBytes(s);
  const str = fromBytes(bytes);
  for (let i = 0; i < bytes.length; ) {
    const c = bytes[i];
    if (c === 0x25) {
      const seq = String.fromCharCode(...bytes.subarray(i, i + 3));
      if (i + 2 >= bytes.length || !isHex(seq[1]) || !isHex(seq[2])) {
        throw new Error(`invalid URL escape ${JSON.stringify(String.fromCharCode(...bytes.subarray(i, Math.min(i + 3, bytes.length))))}`);
      }
      if (mode === "host" && parseInt(seq[1], 16) < 8 && seq !== "%25") throw new Error(`invalid URL escape ${JSON.stringify(seq)}`);
      if (mode === "zone") {
        const v = parseInt(seq.slice(1), 16);
        if (seq !== "%25" && v !== 0x20 && shouldEscape(v, "host")) throw new Error(`invalid URL escape ${JSON.stringify(seq)}`);
      }
      i += 3;
    } else {
      if ((mode === "host" || mode === "zone") && c < 0x80 && shouldEscape(c, mode)) throw new Error(`invalid character ${JSON.stringify(String.fromCharCode(c))} in host name`);
      i++;
    }
  }
  if (!str.includes("%") && !(mode === "queryComponent" && str.includes("+"))) return str;
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === 0x25) {
      out.push(parseInt(String.fromCharCode(bytes[i + 1], bytes[i + 2]), 16));
      i += 2;
    } else if (c === 0x2b && mode === "queryComponent") out.push(0x20);
    else out.push(c);
  }
  return fromBytes(new Uint8Array(out));
}

interface Userinfo {
  username: string;
  password?: string;
}

interface URL {
  scheme: string;
  opaque: string;
  user?: Userinfo;
  host: string;
  path: string;
  forceQuery: boolean;
  rawQuery: string;
  fragment: string;
}

function userString(u: Userinfo): string {
  let s = escape(u.username, "userPassword");
  if (u.password !== undefined) s += ":" + escape(u.password, "userPassword");
  return s;
}

/** getScheme: letters, then letters/digits/+-. up to a colon; anything else means "no scheme". */
function getScheme(raw: string): [string, string] {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (/[a-zA-Z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) return ["", raw];
      continue;
    }
    if (c === ":") {
      if (i === 0) throw new Error("missing protocol scheme");
      return [raw.slice(0, i), raw.slice(i + 1)];
    }
    return ["", raw];
  }
  return ["", raw];
}

const validOptionalPort = (port: string): boolean => port === "" || /^:[0-9]*$/.test(port);

function parseHost(host: string): string {
  if (host.startsWith("[")) {
    const i = host.lastIndexOf("]");
    if (i < 0) throw new Error("missing ']' in host");
    const colonPort = host.slice(i + 1);
    if (!validOptionalPort(colonPort)) throw new Error(`invalid port ${JSON.stringify(colonPort)} after host`);
    const zone = host.slice(0, i).indexOf("%25");
    if (zone >= 0) return unescape(host.slice(0, zone), "host") + unescape(host.slice(zone, i), "zone") + unescape(host.slice(i), "host");
  } else {
    const i = host.lastIndexOf(":");
    if (i !== -1) {
      const colonPort = host.slice(i);
      if (!validOptionalPort(colonPort)) throw new Error(`invalid port ${JSON.stringify(colonPort)} after host`);
    }
  }
  return unescape(host, "host");
}

function parseAuthority(authority: string): [Userinfo | undefined, string] {
  const i = authority.lastIndexOf("@");
  const host = parseHost(i < 0 ? authority : authority.slice(i + 1));
  if (i < 0) return [undefined, host];
  const userinfo = authority.slice(0, i);
  if (!/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(userinfo)) throw new Error("net/url: invalid userinfo");
  const colon = userinfo.indexOf(":");
  if (colon < 0) return [{ username: unescape(userinfo, "userPassword") }, host];
  return [{ username: unescape(userinfo.slice(0, colon), "userPassword"), password: unescape(userinfo.slice(colon + 1), "userPassword") }, host];
}

/** url.Parse; errors read `parse "RAW": why`. */
export function parseURL(raw: string): URL {
  try {
    const hash = raw.indexOf("#");
    const u = parse(hash < 0 ? raw : raw.slice(0, hash));
    if (hash >= 0) u.fragment = unescape(raw.slice(hash + 1), "fragment");
    return u;
  } catch (e) {
    throw new Error(`parse ${JSON.stringify(raw)}: ${(e as Error).message}`);
  }
}

function parse(raw: string): URL {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new Error("net/url: invalid control character in URL");
  const u: URL = { scheme: "", opaque: "", host: "", path: "", forceQuery: false, rawQuery: "", fragment: "" };
  if (raw === "*") {
    u.path = "*";
    return u;
  }
  const [scheme, afterScheme] = getScheme(raw);
  u.scheme = scheme.toLowerCase();
  let rest = afterScheme;
  if (rest.endsWith("?") && rest.split("?").length === 2) {
    u.forceQuery = true;
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf("?");
    if (q >= 0) {
      u.rawQuery = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
  }
  if (!rest.startsWith("/")) {
    if (u.scheme !== "") {
      u.opaque = rest;
      return u;
    }
    const slash = rest.indexOf("/");
    const segment = slash < 0 ? rest : rest.slice(0, slash);
    if (segment.includes(":")) throw new Error("first path segment in URL cannot contain colon");
  }
  if ((u.scheme !== "" || !rest.startsWith("///")) && rest.startsWith("//")) {
    let authority = rest.slice(2);
    rest = "";
    const i = authority.indexOf("/");
    if (i >= 0) {
      rest = authority.slice(i);
      authority = authority.slice(0, i);
    }
    [u.user, u.host] = parseAuthority(authority);
  }
  u.path = unescape(rest, "path");
  return u;
}

/** URL.Hostname: the host without port or IPv6 brackets. */
function hostname(host: string): string {
  let h = host;
  const colon = h.lastIndexOf(":");
  if (colon !== -1 && validOptionalPort(h.slice(colon))) h = h.slice(0, colon);
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  return h;
}

/** URL.String. */
export function urlString(u: URL): string {
  let out = "";
  if (u.scheme !== "") out += u.scheme + ":";
  if (u.opaque !== "") out += u.opaque;
  else {
    if (u.scheme !== "" || u.host !== "" || u.user) {
      if (u.host !== "" || u.path !== "" || u.user) out += "//";
      if (u.user) out += userString(u.user) + "@";
      if (u.host !== "") out += escape(u.host, "host");
    }
    // EscapedPath leaves a lone "*" alone.
    const p = u.path === "*" ? "*" : escape(u.path, "path");
    if (p !== "" && p[0] !== "/" && u.host !== "") out += "/";
    if (out === "") {
      // A first segment with a colon would read as a scheme.
      const slash = p.indexOf("/");
      if ((slash < 0 ? p : p.slice(0, slash)).includes(":")) out += "./";
    }
    out += p;
  }
  if (u.forceQuery || u.rawQuery !== "") out += "?" + u.rawQuery;
  if (u.fragment !== "") out += "#" + escape(u.fragment, "fragment");
  return out;
}

/** sprig's dictGetOrEmpty: a missing key is "", a non-string value a panic. */
function dictString(d: GoMap, key: string): string {
  if (!d.has(key)) return "";
  const v: GoValue = d.get(key);
  if (v === null || v === undefined) throw new Error("runtime error: invalid memory address or nil pointer dereference");
  if (typeof v !== "string") throw new Error(`unable to parse ${key} key, must be of type string, but ${kindName(v)} found`);
  return v;
}

export function registerURL(fm: FuncMap): void {
  fm.set("urlParse", goFunc(1, 1, (s) => {
    const raw = argString(s);
    let u: URL;
    try {
      u = parseURL(raw);
    } catch (e) {
      throw new Error(`unable to parse url: ${(e as Error).message}`);
    }
    const d: GoMap = new Map();
    d.set("scheme", u.scheme);
    d.set("host", u.host);
    d.set("hostname", hostname(u.host));
    d.set("path", u.path);
    d.set("query", u.rawQuery);
    d.set("opaque", u.opaque);
    d.set("fragment", u.fragment);
    d.set("userinfo", u.user ? userString(u.user) : "");
    return d;
  }));
  fm.set("urlJoin", goFunc(1, 1, (m) => {
    const d = argMap(m);
    const u: URL = {
      scheme: dictString(d, "scheme"),
      host: dictString(d, "host"),
      path: dictString(d, "path"),
      rawQuery: dictString(d, "query"),
      opaque: dictString(d, "opaque"),
      fragment: dictString(d, "fragment"),
      forceQuery: false,
    };
    const userinfo = dictString(d, "userinfo");
    if (userinfo !== "") {
      let temp: URL;
      try {
        temp = parseURL(`proto://${userinfo}@host`);
      } catch (e) {
        throw new Error(`unable to parse userinfo in dict: ${(e as Error).message}`);
      }
      u.user = temp.user;
    }
    return urlString(u);
  }));
}
