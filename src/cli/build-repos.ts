// The options of `build` that choose where it runs and which repositories it uses besides --repo: --builder
// (docs/builders.md), --cache-repo, --secondary-repo, --final-repo (werf's; src/storage/repos.ts). Kept apart from
// build.ts so that each stays small.
import type { Command } from "commander";
import type { BuildOptions } from "../builder/index.js";
import { parsePlatforms } from "./platforms.js";

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
export async function buildReposOptions(opts: BuildReposCliOptions): Promise<Pick<BuildOptions, "builder" | "cacheRepos" | "secondaryRepos" | "finalRepo" | "platform">> {
  const { builderArgs } = await import("../builder/builders.js");
  builderArgs(opts.builder);
  return {
    ...(opts.builder ? { builder: opts.builder } : {}),
    ...(opts.cacheRepo.length ? { cacheRepos: opts.cacheRepo } : {}),
    ...(opts.secondaryRepo.length ? { secondaryRepos: opts.secondaryRepo } : {}),
    ...(opts.finalRepo !== undefined ? { finalRepo: opts.finalRepo } : {}),
    ...(opts.platform?.length ? { platform: opts.platform } : {}),
  };
}

