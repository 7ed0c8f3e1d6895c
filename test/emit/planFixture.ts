// Hand-made Plans for the emitter tests (the planner's output shape, src/plan/model.ts).
import type { SourcePos } from "../../src/diagnostics.js";
import type { AnsibleTask, DockerDirectives, GitMapping, ImportDirective, ShellCommand } from "../../src/config/model.js";
import type {
  GitSource,
  ImagePlan,
  ImportPlan,
  MountPlan,
  Plan,
  StageBody,
  StageName,
  StagePlan,
} from "../../src/plan/model.js";

export const pos = (line: number, col = 3): SourcePos => ({ file: "werf.yaml", line, col });

export const cmd = (command: string, line: number): ShellCommand => ({ command, pos: pos(line, 7) });

let n = 0;
const fakeDigest = (s: string) => {
  // deterministic per call order within one makePlan
  n++;
  return (s.replace(/[^a-z0-9]/g, "") + "0".repeat(8) + n.toString(16)).slice(0, 8) + n.toString(16).padStart(8, "0");
};

export function stage(image: string, slug: string, name: StageName, body: StageBody, line: number): StagePlan {
  const digest = fakeDigest(`${slug}${name}`);
  return {
    name,
    target: `${slug}--${name.toLowerCase()}`,
    digest,
    inputs: {},
    pos: pos(line),
    labels: {
      "io.stapel2docker.stage-digest": digest,
      "io.stapel2docker.image": image === "" ? "~" : image,
      "io.stapel2docker.stage": name,
    },
    body,
  };
}

export function image(
  name: string,
  kind: "image" | "artifact",
  stages: StagePlan[],
  extra: Partial<ImagePlan> = {},
): ImagePlan {
  const slug = extra.slug ?? (name === "" ? "werf-image" : name.toLowerCase());
  return {
    name,
    kind,
    final: kind === "image",
    pos: stages[0]?.pos ?? pos(1),
    slug,
    stages,
    digest: stages[stages.length - 1].digest,
    platform: [],
    asLayers: false,
    gitAfterPatch: kind === "image",
    base: { user: "", workdir: "", source: "assumed" },
    ...extra,
  };
}

export function mapping(add: string, to: string, extra: Partial<GitMapping> = {}): GitMapping {
  return {
    pos: pos(20),
    local: true,
    add,
    to,
    includePaths: [],
    excludePaths: [],
    stageDependencies: { install: [], beforeSetup: [], setup: [] },
    ...extra,
  };
}

export function gitSource(id: string, m: GitMapping, repoDir: string, commit: string): GitSource {
  return { id, mapping: m, repoName: "own", repoDir, commit };
}

export function importDirective(source: string, add: string, to: string, extra: Partial<ImportDirective> = {}): ImportDirective {
  return {
    pos: pos(30),
    source,
    artifact: true,
    external: false,
    add,
    to,
    at: { when: "before", stage: "setup" },
    includePaths: [],
    excludePaths: [],
    ...extra,
  };
}

export function importFrom(img: ImagePlan, d: ImportDirective): ImportPlan {
  const last = img.stages[img.stages.length - 1];
  return { directive: d, source: { kind: "image", image: img.name, target: last.target, digest: img.digest } };
}

export function docker(extra: Partial<DockerDirectives> = {}): DockerDirectives {
  return { pos: pos(40), at: {}, volume: [], expose: [], env: {}, label: {}, onBuild: [], exactValues: false, ...extra };
}

export function userBody(
  stageName: "beforeInstall" | "install" | "beforeSetup" | "setup",
  commands: ShellCommand[],
  extra: { asLayers?: boolean; mounts?: MountPlan[]; builder?: "shell" | "ansible"; tasks?: AnsibleTask[] } = {},
): StageBody {
  return {
    kind: "user",
    stage: stageName,
    builder: extra.builder ?? "shell",
    commands,
    tasks: extra.tasks ?? [],
    asLayers: extra.asLayers ?? false,
    mounts: extra.mounts ?? [],
    git: [],
  };
}

export function plan(images: ImagePlan[], extra: Partial<Plan> = {}): Plan {
  return {
    scheme: "test-1",
    project: "demo",
    configFile: "werf.yaml",
    dir: "/nonexistent/project",
    toolchain: "stapel2docker/toolchain:latest",
    images,
    dockerfileImages: [],
    warnings: [],
    ...extra,
  };
}

/** A trivial importFilterScript stand-in: copies the whole source (tests of the printer only). */
export const fakeFilter = (d: { add: string; includePaths: string[]; excludePaths: string[] }, src: string, out: string) =>
  `# FAKE FILTER ${JSON.stringify(d.includePaths)} ${JSON.stringify(d.excludePaths)}\ncp -a ${src} ${out}`;
