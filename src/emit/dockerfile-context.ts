// A Dockerfile image's build context as werf gives it: the context folder's files at the commit (`git archive`),
// plus `contextAddFiles` from the work tree; never untracked or uncommitted files otherwise. Outside a git
// repository there is no commit: the context folder is used as it is.

import fs from "node:fs";
import path from "node:path";
import { UserError } from "../diagnostics.js";
import { run } from "../process/run.js";
import { projectCommit } from "../project/commit.js";
import { ProjectFiles, ProjectPathError, hasGitComponent, isWithin } from "../project/files.js";
import type { DockerfileImagePlan, Plan } from "../plan/model.js";
import { printDockerfile } from "../dockerfile/print.js";
import { imageSpecDockerfile, imageSpecFolder } from "./dockerfile-image-spec.js";

/** Where a Dockerfile image's context is written, below the folder that holds the contexts. */
export function dockerfileContextFolder(df: DockerfileImagePlan): string {
  return `dockerfile-context/${df.target}`;
}

/** Whether the contexts come from the commit (the project is in a git repository with a commit). */
export function contextsFromCommit(plan: Plan): boolean {
  return plan.commit !== undefined;
}

/** Writes the context of every Dockerfile image of the plan under `root` (dockerfileContextFolder). */
export async function writeDockerfileContexts(plan: Plan, root: string): Promise<void> {
  // the generated Dockerfiles of images with imageSpec (each alone in its folder: it reads no context file)
  for (const df of plan.dockerfileImages) {
    const spec = imageSpecDockerfile(df);
    if (!spec) continue;
    const dir = path.join(root, ...imageSpecFolder(df).split("/"));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "Dockerfile"), printDockerfile(spec).text);
  }
  if (!contextsFromCommit(plan) || plan.dockerfileImages.length === 0) return;
  const pc = await projectCommit(plan.dir);
  if (!pc) return;
  const files = new ProjectFiles(plan.dir);
  for (const df of plan.dockerfileImages) {
    const dest = path.join(root, ...dockerfileContextFolder(df).split("/"));
    fs.mkdirSync(dest, { recursive: true });
    const context = df.context === "." ? "" : df.context;
    const treePath = [pc.subdir, context].filter(Boolean).join("/");
    // the folder's files at the commit (the commit the plan was made from: with --dev, the work tree's)
    const ref = treePath ? `${plan.commit!.hash}:${treePath}` : `${plan.commit!.hash}^{tree}`;
    // two steps, so that a failing `git archive` is seen (a shell pipe reports only tar's status)
    const tar = `${dest}.tar`;
    let r = await run("git", ["-C", pc.repo.root, "archive", "--format=tar", `--output=${tar}`, ref]);
    if (r.code === 0) r = await run("tar", ["-x", "-f", tar, "-C", dest]);
    fs.rmSync(tar, { force: true });
    if (r.code !== 0) {
      throw new UserError({
        pos: df.image.pos,
        message: `the context ${df.context} of image ${df.image.name} could not be read from commit ${plan.commit!.hash.slice(0, 12)}: ${(r.stderr || r.error?.message || "").split("\n")[0]}`,
        hint: "the context folder must be committed (werf reads it from the commit); or build the work tree with --dev",
      });
    }
    // contextAddFiles and what config.dockerfile accepts uncommitted: from the work tree, as werf adds them
    // (confined to the project like every read; the planner hashed their content into the digest)
    for (const rel of df.worktreeFiles) {
      const inProject = [context, rel].filter(Boolean).join("/");
      try {
        const to = path.join(dest, ...rel.split("/"));
        fs.mkdirSync(path.dirname(to), { recursive: true });
        // a committed link in the context must not carry the copy (or the removal) out of it
        if (!isWithin(fs.realpathSync(dest), fs.realpathSync(path.dirname(to)))) throw new ProjectPathError(rel, "link-outside");
        fs.rmSync(to, { recursive: true, force: true });
        // an accepted .dockerignore the work tree does not have: the commit's copy is not used either
        if (!df.image.contextAddFiles.includes(rel) && files.tryResolve(inProject) === undefined) continue;
        const src = files.resolve(inProject);
        // a folder's nested git directories (a clone in the work tree, with its credentials) stay behind
        fs.cpSync(src.real, to, { recursive: true, dereference: false, filter: (from) => !hasGitComponent(path.relative(src.real, from)) });
      } catch (e) {
        if (!(e instanceof ProjectPathError)) throw e;
        throw new UserError({ pos: df.image.pos, message: `${df.image.contextAddFiles.includes(rel) ? "contextAddFiles" : "the work tree's"} ${JSON.stringify(rel)}: ${e.message}`, hint: "the path is relative to the context folder" });
      }
    }
  }
}
