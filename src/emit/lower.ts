// Lowering: the stage plan → the Dockerfile model (src/dockerfile/model.ts). One build stage `<image>--<stage>`
// per werf stage, `FROM` the previous one, with a comment saying where it comes from, ending with one LABEL of the
// stage's labels (sorted keys). Decides what runs (RUN scripts, mounts, SSH agents, the ansible compiler, the
// import filter) but writes no Dockerfile syntax: the printer does.

import { compileAnsibleTasks, ansibleHelpers, type CompiledTask } from "../ansible/index.js";
import { UserError, type Diagnostic, type SourcePos } from "../diagnostics.js";
import { patchApplyScript } from "../git/patch.js";
import type { Dockerfile, Instruction, Mount, Run, Stage, StageBase, Trivia, WordPart } from "../dockerfile/model.js";
import { shellQuote } from "../shell/quote.js";
import { idLookupFunction } from "../shell/ids.js";
import { dockerInstructions, imageSpecBodyInstructions } from "./image-config.js";

export { dockerDirectivesInstructions, imageSpecInstructions } from "./image-config.js";
import { TOOLCHAIN_CONTEXT, dockerfileImageContext, importHelperTarget } from "../plan/names.js";
import { importNeedsFilter, stageContexts } from "../plan/contexts.js";

export { TOOLCHAIN_CONTEXT, dockerfileImageContext } from "../plan/names.js";
import type {
  DependenciesBody,
  GitArchiveBody,
  GitArchivePlan,
  GitPatchBody,
  ImagePlan,
  ImportPlan,
  Plan,
  StagePlan,
  UserBody,
} from "../plan/model.js";
import { dependencyArg, isBuildTimeValue, targetOf } from "./dependencies.js";
import { createHash } from "node:crypto";
import { MAX_LINE_BYTES } from "../dockerfile/escape.js";

/** The BuildKit secret id of commit.env. */
export const COMMIT_SECRET = "stapel-commit";
/** The build argument carrying the repository of the final tags (dependencies' ImageName/ImageRepo). */
export const REPO_ARG = "STAPEL_REPO";
/** Where git patch RUNs mount the patch files. */
export const PATCH_MOUNT = "/.stapel-patch";
const SHEBANG = "#!/.stapel/bin/bash -e";
const TOOLCHAIN_MOUNT: Mount = { type: "bind", from: TOOLCHAIN_CONTEXT, source: "/.stapel", target: "/.stapel" };

/** The include/exclude copy script of filtered imports (src/emit/import-filter.ts), injectable for tests. */
export type ImportFilterScript = (
  d: { add: string; includePaths: string[]; excludePaths: string[] },
  src: string,
  out: string,
) => string;

export interface LowerOptions {
  importFilterScript: ImportFilterScript;
  /** Collect mode: a stage that cannot be lowered adds its problems here and is left out, instead of throwing. */
  problems?: Diagnostic[];
  /** SSH agent ids every RUN of a user stage gets (`build --ssh`), `default` first. */
  ssh?: string[];
}

/** Where emitProject puts the NUL-separated entry list of an archive that needs a chown by name. */
export function archiveEntriesFile(file: string): string {
  return `${file}.entries`;
}

/** True when `owner`/`group` are absent or numeric (the tar's uid/gid are then right as they are). */
export function archiveNeedsChown(a: GitArchivePlan): boolean {
  const named = (v: string | undefined) => v !== undefined && v !== "" && !/^\d+$/.test(v);
  return named(a.source.mapping.owner) || named(a.source.mapping.group);
}

/** A werf-root user spelling: "", root, 0, root:root, 0:0 ... */
export function isRootUser(user: string): boolean {
  if (user === "") return true;
  const [u, g] = user.split(":");
  const root = (x: string) => x === "root" || x === "0";
  return root(u) && (g === undefined || root(g));
}

/** Whether an import goes through the filtering helper stage (masks, or a glob in `add`). */
export function importNeedsHelper(i: ImportPlan): boolean {
  return importNeedsFilter(i.directive);
}

/** The helper build stage of import `n` of a dependencies stage. */
export function importHelperName(stage: StagePlan, n: number): string {
  return importHelperTarget(stage.target, n);
}

/** One line of text for a comment inside a script (a line break would end the comment). */
/** "werf.yaml:8, 9, 12" (positions grouped by file, in order). */
function commandPositions(ps: readonly SourcePos[]): string {
  const parts: string[] = [];
  let file: string | undefined;
  for (const p of ps) {
    parts.push(p.file === file ? `${p.line}` : `${p.file}:${p.line}`);
    file = p.file;
  }
  return parts.join(", ");
}

function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]/g, " ");
}

class Lowering {
  readonly stages: Stage[] = [];
  /** Scripts written to the build context (path → content). */
  readonly files = new Map<string, string>();
  constructor(
    readonly plan: Plan,
    readonly opts: LowerOptions,
  ) {}

  imageLabel(image: ImagePlan): string {
    return image.name === "" ? "~" : image.name;
  }

  /** The base for another image of werf.yaml: its last stage, or a Dockerfile image's named context. */
  imageBase(name: string, target: string): StageBase {
    const df = this.plan.dockerfileImages.find((d) => d.image.name === name);
    return df ? { kind: "context", name: dockerfileImageContext(df.target) } : { kind: "stage", name: target };
  }

  lower(): Dockerfile {
    const p = this.plan;
    for (const image of p.images) this.image(image);
    return {
      header: [
        "Generated by stapel2docker. Do not edit: change werf.yaml and run `stapel2docker compile` again.",
        `Project ${p.project}, from ${p.configFile}.`,
        "Build: run build.sh beside this file (it runs `docker buildx bake` from the project directory).",
        "Each werf stage is one build stage `<image>--<stage>`, ending with a LABEL of its digest.",
      ],
      stages: this.stages,
      ...(this.files.size ? { files: [...this.files].sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, content]) => ({ path, content })) } : {}),
    };
  }

  image(image: ImagePlan): void {
    let banner: Trivia[] = [
      { kind: "blank" },
      { kind: "rule" },
      {
        kind: "comment",
        text: `${image.kind} ${this.imageLabel(image)} — ${image.pos.file}:${image.pos.line}` + (image.final ? ` (final image, digest ${image.digest})` : ""),
      },
      { kind: "rule" },
    ];
    let prev: string | undefined;
    for (const stage of image.stages) {
      if (this.opts.problems) {
        try {
          this.stage(image, stage, prev, banner);
        } catch (e) {
          if (!(e instanceof UserError)) throw e;
          this.opts.problems.push(...e.diagnostics);
        }
      } else this.stage(image, stage, prev, banner);
      banner = [];
      prev = stage.target;
    }
  }

  header(image: ImagePlan, stage: StagePlan, facts: string[]): Trivia[] {
    const head = `${this.imageLabel(image)} / ${stage.name} — ${stage.pos.file}:${stage.pos.line}`;
    return [{ kind: "blank" }, { kind: "comment", text: facts.length ? `${head} (${facts.join("; ")})` : head }];
  }

  push(stage: Stage): void {
    this.stages.push(stage);
  }

  stage(image: ImagePlan, stage: StagePlan, prev: string | undefined, banner: Trivia[]): void {
    const body = stage.body;
    if (body.kind === "from") {
      const b = body.base;
      const base: StageBase = b.kind === "external" ? { kind: "image", ref: b.ref } : b.kind === "image" ? this.imageBase(b.image, b.target) : { kind: "scratch" };
      const fact = b.kind === "external" ? `from ${b.ref}` : b.kind === "image" ? `from image ${b.image}` : "from scratch";
      this.push({ name: stage.target, base, contexts: this.contexts(stage), before: [...banner, ...this.header(image, stage, [fact])], instructions: this.labels(stage), pos: stage.pos, key: "from" });
      return;
    }
    if (prev === undefined) throw new Error(`stage ${stage.target} has no previous stage`);
    let before = banner;
    if (body.kind === "dependencies") {
      const helpers = this.importHelpers(stage, body);
      if (helpers.length) {
        helpers[0].before.unshift(...before);
        before = [];
        for (const h of helpers) this.push(h);
      }
    }
    const facts: string[] = [];
    if (body.kind === "gitArchive") for (const a of body.archives) facts.push(`git ${a.source.mapping.add} → ${a.source.mapping.to}`);
    if (body.kind === "dependencies") for (const i of body.imports) facts.push(`import ${i.directive.add} from ${i.directive.source}`);
    if (body.kind === "user") facts.push(body.builder === "ansible" ? `ansible, ${body.tasks.length} task(s)` : `${body.builder}, ${body.commands.length} command(s)`);
    if (stage.layer) facts.push(`asLayers: layer ${stage.layer.index} of ${stage.layer.count}`);
    let instructions: Instruction[];
    switch (body.kind) {
      case "user":
        instructions = this.userStage(body);
        break;
      case "gitArchive":
        instructions = this.gitArchive(body);
        break;
      case "gitPatch":
        instructions = this.gitPatch(stage, body);
        break;
      case "dependencies":
        instructions = this.dependencies(stage, body);
        break;
      case "dockerInstructions":
        instructions = dockerInstructions(body);
        break;
      case "imageSpec":
        instructions = imageSpecBodyInstructions(body);
        break;
    }
    // werf runs the build as root: around this stage's RUNs, switch to root and restore the base USER
    if (!isRootUser(image.base.user) && instructions.some((i) => i.kind === "run")) {
      instructions = [
        { kind: "comment", text: "werf runs the build as root; the base image's USER is restored below" },
        { kind: "user", user: "0:0" },
        ...instructions,
        { kind: "user", user: image.base.user, pos: image.pos, key: "base image USER" },
      ];
    }
    this.push({
      name: stage.target,
      base: { kind: "stage", name: prev },
      contexts: this.contexts(stage),
      before: [...before, ...this.header(image, stage, facts)],
      instructions: [...instructions, ...this.labels(stage)],
      pos: stage.pos,
    });
  }

  /** The stage's named contexts, as the planner listed them (made here for plans built by hand). */
  contexts(stage: StagePlan): Record<string, string> {
    return stage.contexts ?? stageContexts(this.plan, stage);
  }

  labels(stage: StagePlan): Instruction[] {
    const keys = Object.keys(stage.labels).sort();
    if (keys.length === 0) return [];
    return [{ kind: "label", pairs: keys.map((k) => ({ key: k, value: stage.labels[k] })), pos: stage.pos, key: "stage label" }];
  }

  /** A RUN of a quoted heredoc script run by the toolchain's bash. */
  run(mounts: Mount[], script: string[], pos: SourcePos | undefined, extra: Partial<Run> = {}): Run {
    const lines = [SHEBANG, ...script];
    const run: Run = { kind: "run", mounts, script: lines, ...(pos ? { pos } : {}), ...extra };
    // BuildKit reads Dockerfile lines (heredoc ones too) of at most 64 KiB: a script with a longer line is a file of
    // the build context, named by its content
    if (lines.some((l) => Buffer.byteLength(l, "utf8") > MAX_LINE_BYTES - 1)) {
      const content = lines.join("\n") + "\n";
      const file = `scripts/${createHash("sha256").update(content).digest("hex").slice(0, 16)}.sh`;
      this.files.set(file, content);
      run.scriptFile = file;
    }
    return run;
  }

  commitMounts(): Mount[] {
    return this.plan.commit ? [{ type: "secret", id: COMMIT_SECRET }] : [];
  }

  preamble(): string[] {
    const l = ["export LANG=C.UTF-8 LC_ALL=C.UTF-8 2>/dev/null", "cd /"];
    if (this.plan.commit) l.push(`if [ -f /run/secrets/${COMMIT_SECRET} ]; then . /run/secrets/${COMMIT_SECRET}; fi`);
    return l;
  }

  userStage(body: UserBody): Instruction[] {
    const mounts: Mount[] = [TOOLCHAIN_MOUNT, ...this.commitMounts()];
    for (const m of body.mounts) {
      const origin = { pos: m.mount.toPos ?? m.mount.pos, key: "mount `to`" };
      if (m.mount.type === "tmp_dir") mounts.push({ type: "tmpfs", target: m.mount.to, origin });
      else if (m.mount.type === "build_dir") mounts.push({ type: "cache", id: m.cacheId ?? "", target: m.mount.to, origin });
      else mounts.push({ type: "bind", from: m.contextName ?? "", target: m.mount.to, rw: true, origin });
    }
    // build secrets at /run/secrets/<id>, as werf mounts them
    for (const id of body.secrets ?? []) mounts.push({ type: "secret", id });
    const ssh = { ...(this.opts.ssh?.length ? { ssh: [...this.opts.ssh] } : {}), ...(body.network ? { network: body.network } : {}) };
    if (body.builder === "ansible") {
      // ansible tasks compiled into shell (src/ansible): each block headed by its task's comment
      const tasks = compileAnsibleTasks(body.tasks, { asLayers: body.asLayers });
      const taskLines = (t: CompiledTask) => [t.comment, ...t.lines];
      if (body.asLayers) {
        return tasks.map((t, n) =>
          this.run(mounts, [...this.preamble(), ...ansibleHelpers([t]), ...taskLines(t)], body.tasks[n]?.pos, { ...ssh, commands: body.tasks[n] ? [body.tasks[n].pos] : [] }),
        );
      }
      if (tasks.length === 0) return [];
      return [this.run(mounts, [...this.preamble(), ...ansibleHelpers(tasks), ...tasks.flatMap(taskLines)], body.tasks.length === 1 ? body.tasks[0].pos : undefined, { ...ssh, commands: body.tasks.map((t) => t.pos) })];
    }
    // werf writes the commands one per line into one script: a command ending in `\`, an open quote or a heredoc
    // goes on into the next one. So nothing is put between them; where each comes from is one comment before
    // them (and, per line, in the printer's line map)
    const where = (cs: { pos: SourcePos }[]) => `# ${oneLine(commandPositions(cs.map((c) => c.pos)))}`;
    if (body.asLayers) return body.commands.map((c) => this.run(mounts, [...this.preamble(), where([c]), c.command], c.pos, { ...ssh, commands: [c.pos] }));
    return [
      this.run(mounts, [...this.preamble(), ...(body.commands.length ? [where(body.commands)] : []), ...body.commands.map((c) => c.command)], body.commands.length === 1 ? body.commands[0].pos : undefined, {
        ...ssh,
        commands: body.commands.map((c) => c.pos),
      }),
    ];
  }

  gitArchive(body: GitArchiveBody): Instruction[] {
    const out: Instruction[] = [];
    for (const a of body.archives) {
      const m = a.source.mapping;
      if (!archiveNeedsChown(a)) {
        out.push({ kind: "add", sources: [a.file], dest: "/", pos: m.pos, key: "archive path" });
        continue;
      }
      const owner = m.owner ?? "";
      const group = m.group ?? "";
      if (!/^[A-Za-z0-9_.@+\-/:]*$/.test(owner) || !/^[A-Za-z0-9_.@+\-/:]*$/.test(group)) {
        throw new UserError({ pos: m.pos, message: `git owner/group ${JSON.stringify(`${owner}:${group}`)} is not a user or group name`, hint: "change the value in werf.yaml" });
      }
      const origin = { pos: m.pos, key: "archive path" };
      out.push({ kind: "comment", text: "named owner/group: BuildKit keeps a tar's uid/gid, so extract and chown by the image's names (as werf's install --owner)" });
      out.push(
        this.run(
          [
            TOOLCHAIN_MOUNT,
            { type: "bind", source: a.file, target: "/.stapel-git/archive.tar", origin },
            { type: "bind", source: archiveEntriesFile(a.file), target: "/.stapel-git/entries", origin },
          ],
          [
            "PATH=/.stapel/bin",
            ...idLookupFunction("stapel_id"),
            `uid=$(stapel_id /etc/passwd ${shellQuote(owner)} owner)`,
            `gid=$(stapel_id /etc/group ${shellQuote(group)} group)`,
            "tar -xf /.stapel-git/archive.tar -C /",
            'cd / && xargs -0 chown -h "$uid:$gid" < /.stapel-git/entries',
          ],
          m.pos,
        ),
      );
    }
    return out;
  }

  /** The build's git patches: one RUN applying each mapping's patch with the toolchain's bash. */
  gitPatch(stage: StagePlan, body: GitPatchBody): Instruction[] {
    if (body.patches.length === 0) return [];
    if (!body.context) throw new Error(`internal: git patch stage ${stage.target} has no patch context`);
    const mounts: Mount[] = [TOOLCHAIN_MOUNT, ...this.commitMounts(), { type: "bind", from: body.context.name, target: PATCH_MOUNT, rw: true }];
    const lines = body.patches.flatMap((p) => [
      `# ${oneLine(`${stage.pos.file}:${stage.pos.line}`)}`,
      `# git ${oneLine(p.source.mapping.add)} → ${oneLine(p.source.mapping.to)}: ${p.fromCommit.slice(0, 12)}..${p.source.commit.slice(0, 12)}`,
      patchApplyScript(`${PATCH_MOUNT}/${p.tar}`, `${PATCH_MOUNT}/${p.removals}`, p.source.mapping).replace(/\n$/, ""),
    ]);
    return [this.run(mounts, [...this.preamble(), ...lines], stage.pos)];
  }

  importBase(i: ImportPlan): string {
    if (i.source.kind === "external") return i.source.ref;
    const b = this.imageBase(i.source.image, i.source.target);
    return b.kind === "stage" || b.kind === "context" ? b.name : "";
  }

  importHelpers(stage: StagePlan, body: DependenciesBody): Stage[] {
    const out: Stage[] = [];
    body.imports.forEach((i, n) => {
      if (!importNeedsHelper(i)) return;
      const d = i.directive;
      const origin = { pos: d.valuePos?.add ?? d.pos, key: "import `add`" };
      const script = this.opts.importFilterScript({ add: d.add, includePaths: [...d.includePaths], excludePaths: [...d.excludePaths] }, "/.stapel-src", "/.stapel-out");
      out.push({
        name: importHelperName(stage, n),
        base: { kind: "context", name: TOOLCHAIN_CONTEXT },
        contexts: this.contexts(stage),
        before: [
          { kind: "blank" },
          { kind: "comment", text: `helper of ${stage.target}: copies ${d.add} of ${d.source} filtered by includePaths/excludePaths — ${d.pos.file}:${d.pos.line}` },
        ],
        instructions: [
          { kind: "shell", argv: ["/.stapel/bin/bash", "-c"] },
          this.run([{ type: "bind", from: this.importBase(i), source: d.add, target: "/.stapel-src", origin }], ["export PATH=/.stapel/bin", script], d.pos),
        ],
        pos: d.pos,
        key: "import",
      });
    });
    return out;
  }

  chown(d: ImportPlan["directive"]): { user: string; group: string } | undefined {
    if (!d.owner && !d.group) return undefined;
    return { user: d.owner || "0", group: d.group || "0" };
  }

  dependencies(stage: StagePlan, body: DependenciesBody): Instruction[] {
    const out: Instruction[] = [];
    body.imports.forEach((i, n) => {
      const d = i.directive;
      out.push({ kind: "comment", text: `import ${d.add} → ${d.to} from ${d.source} — ${d.pos.file}:${d.pos.line}` });
      const chown = this.chown(d);
      const vp = d.valuePos ?? {};
      // the values' positions: source, destination, owner, group
      const values = [vp.add, vp.to ?? vp.add, vp.owner, vp.group];
      const common = { kind: "copy" as const, ...(chown ? { chown } : {}), pos: d.pos, key: "import", values };
      if (importNeedsHelper(i)) out.push({ ...common, from: importHelperName(stage, n), sources: ["/.stapel-out/"], dest: d.to, values: [undefined, ...values.slice(1)] });
      else out.push({ ...common, from: this.importBase(i), sources: [d.add], dest: d.to });
    });
    let argDeclared = false;
    const declared = new Set<string>();
    for (const dep of body.dependencies) {
      const slug = targetOf(this.plan, dep.image);
      if (slug === undefined) throw new UserError({ pos: dep.pos, message: `dependency image ${JSON.stringify(dep.image)} is not in the plan` });
      const tag = `${slug}-${dep.digest}`;
      for (const imp of dep.imports) {
        if (!imp.targetEnv) continue;
        if (isBuildTimeValue(imp.type)) {
          // known once the dependency is built: build.sh (or build) sets the argument then
          const arg = dependencyArg(slug, imp.type);
          if (!declared.has(arg)) out.push({ kind: "arg", name: arg, pos: dep.pos, key: "dependencies" });
          declared.add(arg);
          out.push({ kind: "comment", text: `dependency ${dep.image} ${imp.type} — ${dep.pos.file}:${dep.pos.line}` });
          out.push({ kind: "env", name: imp.targetEnv, value: [{ arg }], pos: dep.pos, key: "targetEnv" });
          continue;
        }
        if (!argDeclared && imp.type !== "ImageTag") {
          out.push({ kind: "arg", name: REPO_ARG, default: this.plan.project });
          argDeclared = true;
        }
        const value: WordPart[] = imp.type === "ImageTag" ? [tag] : imp.type === "ImageRepo" ? [{ arg: REPO_ARG }] : [{ arg: REPO_ARG }, `:${tag}`];
        out.push({ kind: "comment", text: `dependency ${dep.image} ${imp.type} — ${dep.pos.file}:${dep.pos.line}` });
        out.push({ kind: "env", name: imp.targetEnv, value, pos: dep.pos, key: "targetEnv" });
      }
    }
    return out;
  }
}


/** The plan as a Dockerfile model. */
export function lowerPlan(plan: Plan, opts: LowerOptions): Dockerfile {
  return new Lowering(plan, opts).lower();
}
