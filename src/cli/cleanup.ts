// `stapel2docker cleanup`, `purge` and `host cleanup` (docs/cleanup.md).
import type { Command } from "commander";
import { UserError } from "../diagnostics.js";
import type { CleanupResult } from "../cleanup/index.js";
import { addConfigOptions, renderOptions, type ConfigOptions } from "./options.js";

interface CleanupCliOptions extends ConfigOptions {
  repo?: string;
  dryRun?: boolean;
  json?: boolean;
  yes?: boolean;
}

// the cleanup modules load when a command runs (start-up loads only the command definitions)
const cleanupModule = () => import("../cleanup/index.js");

async function output(r: CleanupResult, json: boolean | undefined): Promise<void> {
  if (json) {
    process.stdout.write(JSON.stringify({ dryRun: r.dryRun, ...(r.disabled ? { disabled: true } : {}), ...r.plan, deleted: r.deleted, alreadyGone: r.gone, spared: r.spared, registryRequests: r.registryRequests }, null, 2) + "\n");
    return;
  }
  const { formatCleanupPlan } = await cleanupModule();
  process.stdout.write(formatCleanupPlan(r.plan, { dryRun: r.dryRun }));
  if (!r.dryRun && (r.deleted.length || r.gone.length || r.spared.length)) {
    process.stdout.write(`deleted ${r.deleted.length} manifest(s)${r.gone.length ? `, ${r.gone.length} already gone` : ""}${r.spared.length ? `, ${r.spared.length} spared (tagged since the listing)` : ""}\n`);
  }
  process.stderr.write(`${r.registryRequests} registry request(s)\n`);
}

export function registerCleanup(program: Command): void {
  addConfigOptions(
    program
      .command("cleanup")
      .description("delete the stages, final tags and build records of --repo that werf.yaml's cleanup policies do not keep")
      .option("--repo <REPO>", "REGISTRY/PROJECT: the stage storage (default: the project name)")
      .option("--dry-run", "print what would be deleted and kept, and why; delete nothing")
      .option("--json", "print the plan and the result as JSON"),
  ).action(async (opts: CleanupCliOptions) => {
    const { runCleanup } = await cleanupModule();
    await output(await runCleanup({ render: renderOptions(opts), repo: opts.repo, dryRun: opts.dryRun }), opts.json);
  });

  addConfigOptions(
    program
      .command("purge")
      .description("delete everything this project stored in --repo: stages, final tags, build records (needs --yes)")
      .option("--repo <REPO>", "REGISTRY/PROJECT: the stage storage (default: the project name)")
      .option("--yes", "confirm: really delete every image of the project")
      .option("--dry-run", "print what would be deleted; delete nothing")
      .option("--json", "print the plan and the result as JSON"),
  ).action(async (opts: CleanupCliOptions) => {
    if (!opts.yes && !opts.dryRun) {
      throw new UserError({
        message: "purge deletes every stage, final tag and build record of the project in the repository",
        hint: "add --yes to confirm (or --dry-run to see what it would delete)",
      });
    }
    const { runCleanup } = await cleanupModule();
    await output(await runCleanup({ render: renderOptions(opts), repo: opts.repo, dryRun: opts.dryRun, purge: true }), opts.json);
  });

  const host = program.command("host").description("this machine's data of the project");
  addConfigOptions(
    host
      .command("cleanup")
      .description("remove the project's local images, build_dir caches, remote-git and label caches, toolchain volume, stale locks and temporaries")
      .option("--repo <REPO>", "REGISTRY/PROJECT the project builds to (default: the project name): its label cache entries and locks")
      .option("--toolchain-volumes", "also remove the toolchain's introspection volume (shared by the projects using that toolchain)")
      .option("--dry-run", "print what would be removed; remove nothing")
      .option("--json", "print the result as JSON"),
  ).action(async (opts: CleanupCliOptions & { toolchainVolumes?: boolean }) => {
    const { formatHostPlan, hostCleanup } = await import("../cleanup/host.js");
    const r = await hostCleanup({ render: renderOptions(opts), repo: opts.repo, dryRun: opts.dryRun, toolchainVolumes: opts.toolchainVolumes });
    process.stdout.write(opts.json ? JSON.stringify(r, null, 2) + "\n" : formatHostPlan(r));
  });
}
