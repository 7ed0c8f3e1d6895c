// A target platform as BuildKit names it, "os/arch[/variant]": the one check of werf.yaml's `platform` lists
// (src/config/platform.ts) and of --platform (src/cli/platforms.ts). Kept free of imports: the command definitions
// load it at start-up.
//
// Other spellings of an architecture (x86_64, aarch64, armhf...) are refused with BuildKit's: BuildKit normalizes
// them when it builds (TARGETARCH=amd64), so a build stage named after the written one (compile's
// `<image>--<stage>--<os>-<arch>`) would not be found, and the platform is part of the stage digests. Two entries
// that BuildKit takes for the same platform (linux/arm64 and linux/arm64/v8) are refused too.

const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;

/** Architecture names BuildKit spells otherwise, with its spelling (arch[/variant]). */
const BUILDKIT_ARCH: Record<string, string> = { x86_64: "amd64", x86_32: "386", i386: "386", i686: "386", aarch64: "arm64", armhf: "arm/v7", armel: "arm/v6" };

export interface PlatformProblem {
  /** The entry's index in the list. */
  index: number;
  message: string;
  hint: string;
}

/** The platform as BuildKit normalizes a well-formed one: linux/arm is linux/arm/v7, linux/arm64/v8 is linux/arm64,
 *  linux/amd64/v1 is linux/amd64. */
export function normalPlatform(p: string): string {
  const [os, arch, variant] = p.split("/");
  const v = arch === "arm" ? (variant ?? "v7") : (arch === "arm64" && variant === "v8") || (arch === "amd64" && variant === "v1") ? undefined : variant;
  return [os, arch, ...(v ? [v] : [])].join("/");
}

/** What is wrong with each entry of a platform list: not os/arch[/variant], an architecture BuildKit spells
 *  otherwise, or a platform already listed. */
export function platformListProblems(list: readonly string[]): PlatformProblem[] {
  const out: PlatformProblem[] = [];
  const seen = new Map<string, string>();
  list.forEach((p, index) => {
    if (!PLATFORM.test(p)) {
      out.push({ index, message: `${JSON.stringify(p)} is not a platform`, hint: "write os/arch or os/arch/variant, e.g. linux/amd64, linux/arm64, linux/arm/v7" });
      return;
    }
    const [os, arch, variant] = p.split("/");
    const theirs = BUILDKIT_ARCH[arch];
    if (theirs !== undefined) {
      const spelled = `${os}/${theirs}${variant && !theirs.includes("/") ? `/${variant}` : ""}`;
      out.push({ index, message: `${JSON.stringify(p)}: BuildKit names this platform ${spelled}`, hint: `write ${spelled} (BuildKit's name: the stages are named and digested by it)` });
      return;
    }
    const normal = normalPlatform(p);
    const first = seen.get(normal);
    if (first !== undefined) {
      out.push({ index, message: `${JSON.stringify(p)} is the platform ${JSON.stringify(first)} again (BuildKit builds both as ${normal})`, hint: "list each platform once" });
      return;
    }
    seen.set(normal, p);
  });
  return out;
}
