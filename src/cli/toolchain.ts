// `stapel2docker toolchain`: print the toolchain image's Dockerfile, build it (--build), or make it offline from
// this machine's Debian packages (--import).
import type { Command } from "commander";
import { UserError } from "../diagnostics.js";
import { DEFAULT_TOOLCHAIN, DEFAULT_TOOLCHAIN_BASE } from "../toolchain/defaults.js";

interface ToolchainOptions {
  build?: boolean;
  import?: boolean;
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
    .option("--tag <ref>", "the image reference to make", DEFAULT_TOOLCHAIN)
    .option("--base <ref>", "the Debian image the Dockerfile starts from", DEFAULT_TOOLCHAIN_BASE)
    .option("--bash <path>", "with --import: the static bash binary (default /bin/bash-static)")
    .option("--busybox <path>", "with --import: the static busybox binary (default /bin/busybox)")
    .action(async (opts: ToolchainOptions) => {
      const { buildToolchain, importToolchain, toolchainDockerfile } = await import("../toolchain/toolchain.js");
      if (opts.build && opts.import) {
        throw new UserError({ message: "--build and --import exclude each other", hint: "--import works offline; --build needs network access" });
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
