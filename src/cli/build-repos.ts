// The options of `build` that choose where it runs and which repositories it uses besides --repo: --builder
// (docs/builders.md), --cache-repo, --secondary-repo, --final-repo (werf's; src/storage/repos.ts). Kept apart from
// build.ts so that each stays small.
import type { Command } from "commander";
import type { BuildOptions } from "../builder/index.js";
import { builderArgs } from "../builder/builders.js";
import { UserError } from "../diagnostics.js";

export interface BuildReposCliOptions {
  builder?: string;
  cacheRepo: string[];
  secondaryRepo: string[];
  finalRepo?: string;
  platform?: string[];
}

const many = (v: string, prev: string[]) => [...prev, v];

export function addBuildReposOptions(cmd: Command): Command {
  return cmd
    .option("--builder <NAME>", "the buildx builder to build with (any driver: docker, docker-container, remote, kubernetes); default: BUILDX_BUILDER or buildx's current builder")
    .option("--cache-repo <REPO>", "a repository read before --repo and filled with every stage the build uses, e.g. one per runner region (repeatable)", many, [] as string[])
    .option("--secondary-repo <REPO>", "a read-only repository of stages: those --repo lacks are copied from it (repeatable)", many, [] as string[])
    .option("--final-repo <REPO>", "the repository of the final tags (<image>-<digest>, --add-tag), instead of --repo")
    .option("--platform <LIST>", "target platforms of every image, e.g. linux/amd64,linux/arm64 (over werf.yaml's platform and build.platform; part of the digests)", parsePlatforms);
}

/** The BuildOptions fields of these options (the builder name checked now, before anything is planned). */
export function buildReposOptions(opts: BuildReposCliOptions): Pick<BuildOptions, "builder" | "cacheRepos" | "secondaryRepos" | "finalRepo" | "platform"> {
  builderArgs(opts.builder);
  return {
    ...(opts.builder ? { builder: opts.builder } : {}),
    ...(opts.cacheRepo.length ? { cacheRepos: opts.cacheRepo } : {}),
    ...(opts.secondaryRepo.length ? { secondaryRepos: opts.secondaryRepo } : {}),
    ...(opts.finalRepo !== undefined ? { finalRepo: opts.finalRepo } : {}),
    ...(opts.platform?.length ? { platform: opts.platform } : {}),
  };
}

/** `--platform a,b`: each "os/arch[/variant]" as BuildKit names platforms. */
export function parsePlatforms(v: string): string[] {
  const list = v.split(",").map((p) => p.trim()).filter(Boolean);
  const bad = list.find((p) => !/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(p));
  if (bad !== undefined || list.length === 0) {
    throw new UserError({ message: `--platform ${JSON.stringify(v)}: ${bad !== undefined ? `${JSON.stringify(bad)} is not a platform` : "no platform"}`, hint: "give os/arch[/variant], comma-separated: --platform linux/amd64,linux/arm64" });
  }
  return [...new Set(list)];
}
