// `stapel2docker toolchain`: print the toolchain image's Dockerfile, build it (--build), or make it offline from
// this machine's Debian packages (--import).
import type { Command } from "commander";
import { UserError } from "../diagnostics.js";
import { DEFAULT_TOOLCHAIN, DEFAULT_TOOLCHAIN_BASE } from "../toolchain/defaults.js";

interface ToolchainOptions {
  build?: boolean;
  import?: boolean;
  push?: string;
  digest?: boolean;
  also: string[];
  tag: string;
  base: string;
  bash?: string;
  busybox?: string;
}

export function registerToolchain(program: Command): void {
  program
    .command("toolchain")
    .description("print the Dockerfile of the toolchain image (static bash + busybox under /.stapel), or make the image")
    .option("--build", "build it with `docker buildx build` (pulls the Debian base image: needs network access)")
    .option("--import", "make it without pulling: this machine's bash-static and busybox-static, `docker import`ed")
    .option("--push <REPO>", "push it (made from this machine's bash-static and busybox-static) into REGISTRY/PATH, once; prints REPO@sha256:...")
    .option("--digest", "print the digest of the image --push would push (nothing is pushed)")
    .option("--also <DIR>", "with --push/--digest: add the platform of the static binaries DIR/bin/bash-static and DIR/bin/busybox (Debian's packages of another architecture, unpacked); the result is an image index (repeatable)",
      (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option("--tag <ref>", "the image reference to make", DEFAULT_TOOLCHAIN)
    .option("--base <ref>", "the Debian image the Dockerfile starts from", DEFAULT_TOOLCHAIN_BASE)
    .option("--bash <path>", "with --import: the static bash binary (default /bin/bash-static)")
    .option("--busybox <path>", "with --import: the static busybox binary (default /bin/busybox)")
    .action(async (opts: ToolchainOptions) => {
      const { buildToolchain, importToolchain, toolchainDockerfile } = await import("../toolchain/toolchain.js");
      if (opts.build && opts.import) {
        throw new UserError({ message: "--build and --import exclude each other", hint: "--import works offline; --build needs network access" });
      }
      if ([opts.build, opts.import, opts.push !== undefined, opts.digest].filter(Boolean).length > 1) {
        throw new UserError({ message: "--build, --import, --push and --digest exclude each other", hint: "give one of them" });
      }
      if (opts.push !== undefined || opts.digest) {
        process.stdout.write(`${await pushOrDigest(opts)}\n`);
        return;
      }
      if (opts.import) {
        const id = await importToolchain({ tag: opts.tag, ...(opts.bash ? { bash: opts.bash } : {}), ...(opts.busybox ? { busybox: opts.busybox } : {}) });
        process.stdout.write(`${opts.tag} ${id}\n`);
      } else if (opts.build) {
        await buildToolchain({ tag: opts.tag, base: opts.base });
        process.stdout.write(`${opts.tag}\n`);
      } else {
        process.stdout.write(toolchainDockerfile({ base: opts.base }));
      }
    });
}

/** `--push REPO`: the registry reference every builder can pull; `--digest`: its digest, computed locally. */
async function pushOrDigest(opts: ToolchainOptions): Promise<string> {
  const { debianBinaries, makeToolchainImage, pushToolchain, toolchainTop } = await import("../toolchain/image.js");
  const bin = { ...(opts.bash ? { bash: opts.bash } : {}), ...(opts.busybox ? { busybox: opts.busybox } : {}) };
  const images = [await makeToolchainImage(bin)];
  for (const dir of opts.also) {
    const image = await makeToolchainImage(debianBinaries(dir));
    if (images.some((i) => i.platform === image.platform)) {
      throw new UserError({ message: `--also ${dir}: a toolchain for ${image.platform} is there already`, hint: "give each platform once" });
    }
    images.push(image);
  }
  if (opts.digest) return toolchainTop(images).digest;
  const { RegistryClient, parseRepository } = await import("../registry/index.js");
  const r = parseRepository(opts.push!);
  return pushToolchain(new RegistryClient(), `${r.registry}/${r.repository}`, images);
}
