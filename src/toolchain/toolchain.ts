// The toolchain image: static bash and busybox under /.stapel/bin (busybox applets as relative symlinks), in a
// scratch image. Every RUN of the emitted Dockerfile bind-mounts it at /.stapel, so user commands run with bash on
// any base image (werf's stapel volume, reference §9).
//
// Three ways to get it:
//   toolchainDockerfile(): a two-stage Dockerfile, Debian's bash-static and busybox-static copied into a scratch
//     stage (`stapel2docker toolchain` prints it; `--build` builds it with buildx, which needs network access to
//     pull the Debian image and its packages).
//   importToolchain(): no pulling at all: this machine's Debian binaries (/bin/bash-static from bash-static,
//     /bin/busybox from busybox-static) packed into a deterministic rootfs tar and `docker import`ed, as the test
//     stack's scripts/stack/images.sh does.

import { run } from "../process/run.js";
import { mkdtempSync, readFileSync, rmSync, statSync, openSync, readSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import tar from "tar-stream";
import { UserError } from "../diagnostics.js";
import { DEFAULT_TOOLCHAIN, DEFAULT_TOOLCHAIN_BASE } from "./defaults.js";

export { DEFAULT_TOOLCHAIN, DEFAULT_TOOLCHAIN_BASE };
/** Where the toolchain lives in every build container. */
export const TOOLCHAIN_DIR = "/.stapel";
/** The name of the final (scratch) stage of the toolchain Dockerfile. */
export const TOOLCHAIN_STAGE = "toolchain";

export const HOST_BASH = ["/bin/bash-static", "/usr/bin/bash-static"];
export const HOST_BUSYBOX = ["/bin/busybox", "/usr/bin/busybox"];
const INSTALL_HINT = "install Debian's static binaries: apt-get install bash-static busybox-static";

/** A docker image reference we are willing to put into a Dockerfile or a command line. */
const REF_RE = /^[a-z0-9][a-z0-9._\-/:@]*$/i;

function checkRef(ref: string, what: string): void {
  if (!REF_RE.test(ref) || ref.length > 255) {
    throw new UserError({
      message: `${what} ${JSON.stringify(ref)} is not a docker image reference`,
      hint: "give a reference such as debian:bookworm-slim or registry.example.com/team/toolchain:1",
    });
  }
}

/** The toolchain's Dockerfile (Debian base `base`, default debian:bookworm-slim). */
export function toolchainDockerfile(opts: { base?: string } = {}): string {
  const base = opts.base ?? DEFAULT_TOOLCHAIN_BASE;
  checkRef(base, "the toolchain base image");
  return [
    "# The stapel2docker toolchain: static bash and busybox under /.stapel/bin, mounted into every RUN",
    "# (RUN --mount=type=bind,from=<this image>,source=/.stapel,target=/.stapel).",
    "# Made with `stapel2docker toolchain`; build it with `stapel2docker toolchain --build` (needs network access),",
    "# or make it offline from this machine's packages with `stapel2docker toolchain --import`.",
    `FROM ${base} AS toolchain-build`,
    "RUN apt-get update \\",
    " && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bash-static busybox-static \\",
    " && mkdir -p /out/.stapel/bin \\",
    " && cp /bin/bash-static /out/.stapel/bin/bash \\",
    " && cp /bin/busybox /out/.stapel/bin/busybox \\",
    " && for applet in $(/out/.stapel/bin/busybox --list); do \\",
    "      [ -e \"/out/.stapel/bin/$applet\" ] || ln -s busybox \"/out/.stapel/bin/$applet\"; \\",
    "    done \\",
    " && /out/.stapel/bin/bash -c 'echo \"bash $BASH_VERSION\"' \\",
    " && rm -rf /var/lib/apt/lists/*",
    "",
    `FROM scratch AS ${TOOLCHAIN_STAGE}`,
    "COPY --from=toolchain-build /out/ /",
    'CMD ["/.stapel/bin/bash"]',
    "",
  ].join("\n");
}

/** The `docker buildx build` arguments that build the toolchain Dockerfile (read from stdin) as `tag`. */
export function toolchainBuildArgs(opts: { tag?: string; contextDir: string }): string[] {
  const tag = opts.tag ?? DEFAULT_TOOLCHAIN;
  checkRef(tag, "the toolchain tag");
  return ["buildx", "build", "--load", "--target", TOOLCHAIN_STAGE, "--tag", tag, "--file", "-", opts.contextDir];
}

/** Whether `file` is an ELF executable without an interpreter (statically linked). */
export function isStaticElf(file: string): boolean {
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(64);
    if (readSync(fd, head, 0, 64, 0) < 64 || head.readUInt32BE(0) !== 0x7f454c46) return false;
    const is64 = head[4] === 2;
    const le = head[5] === 1;
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const phoff = is64 ? Number(le ? head.readBigUInt64LE(32) : head.readBigUInt64BE(32)) : u32(head, 28);
    const phentsize = u16(head, is64 ? 54 : 42);
    const phnum = u16(head, is64 ? 56 : 44);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) if (u32(table, i * phentsize) === 3 /* PT_INTERP */) return false;
    return true;
  } finally {
    closeSync(fd);
  }
}

export function findStatic(given: string | undefined, candidates: string[], what: string): string {
  const list = given ? [given] : candidates;
  for (const file of list) {
    let ok = false;
    try {
      ok = statSync(file).isFile();
    } catch {
      continue;
    }
    if (!ok) continue;
    if (!isStaticElf(file)) {
      throw new UserError({
        message: `${file} is not a statically linked executable, so it cannot run on any base image`,
        hint: given ? `give the static ${what} binary` : INSTALL_HINT,
      });
    }
    return file;
  }
  throw new UserError({
    message: `no static ${what} found (looked at ${list.join(", ")})`,
    hint: given ? `check the path of the static ${what} binary` : INSTALL_HINT,
  });
}

export interface ImportOptions {
  tag?: string;
  /** Static bash; default /bin/bash-static (Debian's bash-static). */
  bash?: string;
  /** Static busybox; default /bin/busybox (Debian's busybox-static). */
  busybox?: string;
  docker?: string;
}

/** The toolchain rootfs as a deterministic tar (sorted, mtime 0, root-owned): .stapel/bin/{bash,busybox,applets}. */
export async function toolchainRootfsTar(opts: { bash?: string; busybox?: string } = {}): Promise<Buffer> {
  const bash = findStatic(opts.bash, HOST_BASH, "bash");
  const busybox = findStatic(opts.busybox, HOST_BUSYBOX, "busybox");
  const list = await run(busybox, ["--list"]);
  if (list.code !== 0) throw new UserError({ message: `${busybox} --list failed: ${list.error?.message ?? list.stderr.trim()}`, hint: "give a static busybox (Debian: busybox-static)" });
  const applets = list.stdout
    .split("\n")
    .map((a) => a.trim())
    .filter((a) => /^[A-Za-z0-9._\[-]+$/.test(a) && a !== "bash" && a !== "busybox");
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (b: unknown) => void chunks.push(b as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    pack.on("end", resolve);
    pack.on("error", reject);
  });
  const common = { mtime: new Date(0), uid: 0, gid: 0 };
  const entries: { name: string; add: () => void }[] = [
    { name: ".stapel/", add: () => pack.entry({ ...common, name: ".stapel/", type: "directory", mode: 0o755 }) },
    { name: ".stapel/bin/", add: () => pack.entry({ ...common, name: ".stapel/bin/", type: "directory", mode: 0o755 }) },
    { name: ".stapel/bin/bash", add: () => pack.entry({ ...common, name: ".stapel/bin/bash", mode: 0o755 }, readFileSync(bash)) },
    {
      name: ".stapel/bin/busybox",
      add: () => pack.entry({ ...common, name: ".stapel/bin/busybox", mode: 0o755 }, readFileSync(busybox)),
    },
    ...[...new Set(applets)].map((a) => ({
      name: `.stapel/bin/${a}`,
      add: () => pack.entry({ ...common, name: `.stapel/bin/${a}`, type: "symlink", linkname: "busybox", mode: 0o777 }),
    })),
  ];
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) e.add();
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

async function runDocker(docker: string, args: string[], input: Buffer | string, inherit: boolean): Promise<string> {
  const r = await run(docker, args, { input, inheritStdout: inherit, ...(inherit ? { onOutput: (b: Buffer, s: string) => void (s === "stderr" && process.stderr.write(b)) } : {}) });
  if (r.error) throw new UserError({ message: `cannot run ${docker}: ${r.error.message}`, hint: "install Docker and make sure it is on PATH" });
  if (r.code === 0) return r.stdout.trim();
  const msg = r.stderr.trim().split("\n").filter(Boolean).pop() ?? `exit code ${r.code}`;
  throw new UserError({ message: `docker ${args.slice(0, 2).join(" ")} failed: ${msg}`, hint: "is the docker daemon running? (docker info)" });
}

/** Makes the toolchain image from this machine's static binaries with `docker import` (no pull). Returns its id. */
export async function importToolchain(opts: ImportOptions = {}): Promise<string> {
  const tag = opts.tag ?? DEFAULT_TOOLCHAIN;
  checkRef(tag, "the toolchain tag");
  const rootfs = await toolchainRootfsTar(opts);
  const args = ["import", "--change", 'CMD ["/.stapel/bin/bash"]', "--change", "LABEL io.stapel2docker.toolchain=imported", "-", tag];
  return runDocker(opts.docker ?? "docker", args, rootfs, false);
}

/** Builds the toolchain Dockerfile with `docker buildx build` (needs network access for the Debian image). */
export async function buildToolchain(opts: { tag?: string; base?: string; docker?: string } = {}): Promise<void> {
  const dockerfile = toolchainDockerfile(opts);
  const ctx = mkdtempSync(path.join(tmpdir(), "s2d-toolchain-"));
  try {
    await runDocker(opts.docker ?? "docker", toolchainBuildArgs({ ...opts, contextDir: ctx }), dockerfile, true);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}
