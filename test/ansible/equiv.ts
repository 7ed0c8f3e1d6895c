// Equivalence harness: the same tasks run (a) by real ansible-playbook (connection local) in the Debian image
// with ansible-core, and (b) as our compiled shell (toolchain mounted at /.stapel, as the Dockerfile does) in the
// identical image without ansible. Each side's filesystem changes are read from its container's overlay upper dir,
// minus what equals the image, minus noise (tmp, caches, logs, ansible's own files, python caches).
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { compileAnsibleTasks, ansibleHelpers } from "../../src/ansible/index.js";
import type { AnsibleTask } from "../../src/config/model.js";
import { checkAnsibleTask } from "../../src/config/ansible.js";
import { repoRoot } from "../support/paths.js";
import { makeAptRepo } from "./aptrepo.js";

const exec = promisify(execFile);
export const IMAGE_PLAIN = "stapel2docker/debian-plain:bookworm";
export const IMAGE_PIP = "stapel2docker/debian-pip:bookworm";
export const IMAGE_ANSIBLE = "stapel2docker/debian-ansible:bookworm";

const IGNORED = [/^tmp(\/|$)/, /^var\/tmp(\/|$)/, /^var\/cache(\/|$)/, /^var\/log(\/|$)/, /^root\/\.ansible(\/|$)/, /^root\/\.cache(\/|$)/,
  /^\.t(\/|$)/, /^\.stapel(\/|$)/, /__pycache__/, /\.pyc$/, /^etc\/(hostname|hosts|resolv\.conf|mtab)$/, /^etc\/(group|passwd|shadow|gshadow|subuid|subgid)-$/, /^(proc|sys|dev)(\/|$)/,
  /^var\/lib\/apt\/lists\/(partial|lock|auxfiles)/, /^var\/lib\/dpkg\/lock/, /^var\/lib\/apt\/extended_states$/,
  // ansible's apt_key reads key ids with gpg, which makes root's keyring (with timestamps): ansible's own files
  /^root\/\.gnupg(\/|$)/,
  /^var\/lib\/dpkg\/(status-old|available-old|diversions-old|statoverride-old)$/];

export async function setupImages(): Promise<void> {
  await exec("bash", [path.join(repoRoot, "scripts/stack/up.sh")], { maxBuffer: 1 << 24 });
  await exec("bash", [path.join(repoRoot, "scripts/stack/ansible-image.sh")], { maxBuffer: 1 << 24, timeout: 1_500_000 });
}

let toolchainDir: string | undefined;
/** The toolchain's /.stapel copied to a host dir once (docker run cannot mount an image). */
async function toolchain(): Promise<string> {
  if (toolchainDir) return toolchainDir;
  // made once (cleanupToolchain removes it), not one empty folder per call
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "s2d-ansible-tc-"));
  const name = `s2d-ansible-tc-${process.pid}`;
  await exec("docker", ["create", "--name", name, "stapel2docker/toolchain:latest", "/x"]);
  try {
    await exec("docker", ["cp", `${name}:/.stapel`, path.join(work, "toolchain")]);
  } finally {
    await exec("docker", ["rm", "-f", name]);
  }
  toolchainDir = path.join(work, "toolchain");
  return toolchainDir;
}

export interface Entry {
  type: string;
  mode: string;
  uid: number;
  gid: number;
  content?: string;
}
export type Changes = Record<string, Entry | "deleted">;

function entryOf(p: string): Entry | undefined {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return undefined;
  }
  const mode = (st.mode & 0o7777).toString(8).padStart(4, "0");
  const base = { mode, uid: st.uid, gid: st.gid };
  if (st.isSymbolicLink()) return { type: "link", ...base, mode: "", content: fs.readlinkSync(p) };
  if (st.isDirectory()) return { type: "dir", ...base };
  if (st.isFile()) return { type: "file", ...base, content: crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex").slice(0, 16) };
  return { type: "other", ...base };
}

/** The container's changes against its image. */
async function changesOf(container: string): Promise<Changes> {
  const { stdout } = await exec("docker", ["inspect", "-f", "{{.GraphDriver.Data.UpperDir}}\n{{.GraphDriver.Data.LowerDir}}", container]);
  const [upper, lowerList] = stdout.trim().split("\n");
  const lowers = lowerList!.split(":");
  const out: Changes = {};
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(upper!, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (IGNORED.some((re) => re.test(r))) continue;
      const abs = path.join(upper!, r);
      const st = fs.lstatSync(abs);
      if (st.isCharacterDevice() && st.rdev === 0) {
        if (lowers.some((l) => fs.existsSync(path.join(l, r)) || isLink(path.join(l, r)))) out[r] = "deleted";
        continue;
      }
      const e = entryOf(abs)!;
      let lower: Entry | undefined;
      for (const l of lowers) {
        lower = entryOf(path.join(l, r));
        if (lower) break;
      }
      if (lower && e.type === "file" && r === "var/lib/dpkg/status") {
        // the images' package databases differ (ansible's packages): compare the package stanzas changed
        const lowerPath = lowers.map((l) => path.join(l, r)).find((x) => fs.existsSync(x))!;
        e.content = stanzaChange(fs.readFileSync(lowerPath, "utf8"), fs.readFileSync(abs, "utf8"));
        if (e.content !== "" || e.mode !== lower.mode) out[r] = e;
      } else if (lower && e.type === "file" && ACCOUNT_FILES.test(r)) {
        // the two images' account files differ by the groups of ansible's dependencies (_ssh): compare the change
        const lowerPath = lowers.map((l) => path.join(l, r)).find((x) => fs.existsSync(x))!;
        e.content = lineChange(fs.readFileSync(lowerPath, "utf8"), fs.readFileSync(abs, "utf8"));
        if (e.content !== "" || e.mode !== lower.mode || e.uid !== lower.uid || e.gid !== lower.gid) out[r] = e;
      } else if (!lower || JSON.stringify(lower) !== JSON.stringify(e)) out[r] = e;
      if (st.isDirectory()) walk(r);
    }
  };
  walk("");
  return out;
}

const ACCOUNT_FILES = /^etc\/(group|passwd|shadow|gshadow|subuid|subgid)-?$/;

/** Lines removed (-) and added (+) from a to b, as a set. */
function lineChange(a: string, b: string): string {
  const la = new Set(a.split("\n")), lb = new Set(b.split("\n"));
  return [...[...la].filter((l) => !lb.has(l)).map((l) => `-${l}`), ...[...lb].filter((l) => !la.has(l)).map((l) => `+${l}`)].join("\n");
}

/** dpkg status stanzas removed (-) and added (+) from a to b, sorted. */
function stanzaChange(a: string, b: string): string {
  const sa = new Set(a.split(/\n\n+/).map((x) => x.trim()).filter(Boolean));
  const sb = new Set(b.split(/\n\n+/).map((x) => x.trim()).filter(Boolean));
  return [...[...sa].filter((x) => !sb.has(x)).map((x) => `-${x}`), ...[...sb].filter((x) => !sa.has(x)).map((x) => `+${x}`)].sort().join("\n\n");
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

export interface SideResult {
  ok: boolean;
  changes: Changes;
  output: string;
}

async function runContainer(args: string[]): Promise<{ ok: boolean; output: string; name: string }> {
  const name = `s2d-ansible-${process.pid}-${crypto.randomBytes(4).toString("hex")}`;
  try {
    const r = await exec("docker", ["run", "--name", name, "--network", "none", ...args], { maxBuffer: 1 << 26 });
    return { ok: true, output: r.stdout + r.stderr, name };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number };
    if (typeof err.code !== "number") throw e;
    return { ok: false, output: (err.stdout ?? "") + (err.stderr ?? ""), name };
  }
}

/** The tasks as the config layer gives them. */
export function asTasks(configs: Record<string, unknown>[]): AnsibleTask[] {
  return configs.map((config, i) => {
    const c = checkAnsibleTask(config);
    return { module: c.ok ? c.module : "", config, pos: { file: "werf.yaml", line: i + 1, col: 1 } };
  });
}

/** The RUN script our emitter would write for these tasks (one RUN). */
export function scriptFor(configs: Record<string, unknown>[]): string {
  const tasks = compileAnsibleTasks(asTasks(configs));
  return ["#!/.stapel/bin/bash -e", "export LANG=C.UTF-8 LC_ALL=C.UTF-8 2>/dev/null", "cd /", ...ansibleHelpers(tasks), ...tasks.flatMap((t) => [t.comment, ...t.lines]), ""].join("\n");
}

export interface RunOptions {
  /** the local apt repository (aptrepo.ts) at /.t/repo */
  repo?: boolean;
  /** our side runs in the image with python3-pip (pip cases) instead of the plain one */
  pip?: boolean;
}

let repoDir: string | undefined;
async function aptRepo(): Promise<string> {
  if (repoDir) return repoDir;
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "s2d-ansible-repo-"));
  await makeAptRepo(path.join(base, "repo"), path.join(base, "scratch"));
  repoDir = path.join(base, "repo");
  return repoDir;
}

/** Runs both sides; `files` are put at /.t/files (read-only) in both containers. */
export async function runBoth(
  configs: Record<string, unknown>[],
  files: Record<string, string | Buffer> = {},
  opts: RunOptions = {},
): Promise<{ ansible: SideResult; ours: SideResult; script: string }> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "s2d-ansible-"));
  fs.chmodSync(work, 0o755); // apt's sandbox user reads /.t/repo
  const tc = await toolchain();
  try {
    if (opts.repo) fs.cpSync(await aptRepo(), path.join(work, "repo"), { recursive: true });
    for (const [f, c] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(work, "files", f)), { recursive: true });
      fs.writeFileSync(path.join(work, "files", f), c);
    }
    fs.writeFileSync(path.join(work, "playbook.yml"), JSON.stringify([{ hosts: "all", gather_facts: false, tasks: configs }], null, 1));
    const script = scriptFor(configs);
    fs.writeFileSync(path.join(work, "script.sh"), script);
    const mount = ["-v", `${work}:/.t:ro`];
    const [a, b] = await Promise.all([
      runContainer([...mount, "-e", "ANSIBLE_NOCOLOR=1", IMAGE_ANSIBLE, "ansible-playbook", "-c", "local", "-i", "localhost,", "/.t/playbook.yml"]),
      runContainer([...mount, "-v", `${tc}:/.stapel:ro`, opts.pip ? IMAGE_PIP : IMAGE_PLAIN, "/.stapel/bin/bash", "-e", "/.t/script.sh"]),
    ]);
    try {
      const [ca, cb] = await Promise.all([changesOf(a.name), changesOf(b.name)]);
      return { ansible: { ok: a.ok, changes: ca, output: a.output }, ours: { ok: b.ok, changes: cb, output: b.output }, script };
    } finally {
      await exec("docker", ["rm", "-f", a.name, b.name]);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export function cleanupToolchain(): void {
  if (toolchainDir) fs.rmSync(path.dirname(toolchainDir), { recursive: true, force: true });
  toolchainDir = undefined;
  if (repoDir) fs.rmSync(path.dirname(repoDir), { recursive: true, force: true });
  repoDir = undefined;
}
