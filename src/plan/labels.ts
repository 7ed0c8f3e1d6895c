// Label names on every stage image (read back from the registry by `build`).
// Values are plain strings; label keys follow Docker's reverse-DNS convention.

export const LABEL_PREFIX = "io.stapel2docker.";

export const LABELS = {
  /** The stage digest (docs/digests.md). */
  digest: `${LABEL_PREFIX}stage-digest`,
  /** The werf.yaml image name ("" → "~"). */
  image: `${LABEL_PREFIX}image`,
  /** The werf stage name (from, beforeInstall, ...). */
  stage: `${LABEL_PREFIX}stage`,
  /** werf.yaml's `project`. */
  project: `${LABEL_PREFIX}project`,
  /** The digest scheme version. */
  scheme: `${LABEL_PREFIX}digest-scheme`,
  /** asLayers: "<index>/<count>" of a user stage's per-command layer. */
  layer: `${LABEL_PREFIX}layer`,
} as const;

/** The label recording which commit of git mapping `id` the stage's files come from. */
export function gitCommitLabel(id: string): string {
  return `${LABEL_PREFIX}git.${id}.commit`;
}

/** The id part of a git commit label, or undefined. */
export function parseGitCommitLabel(key: string): string | undefined {
  const m = /^io\.stapel2docker\.git\.([0-9a-f]+)\.commit$/.exec(key);
  return m ? m[1] : undefined;
}

/** Every label a stage image carries: its digest, scheme, image, stage, project, and the commit of each git
 *  source whose files it holds. */
export function stageLabels(
  digest: string,
  scheme: string,
  project: string,
  imageName: string,
  stage: string,
  commits: readonly { id: string; commit: string }[] = [],
): Record<string, string> {
  const labels: Record<string, string> = {
    [LABELS.digest]: digest,
    [LABELS.scheme]: scheme,
    [LABELS.image]: imageName === "" ? "~" : imageName,
    [LABELS.stage]: stage,
    [LABELS.project]: project,
  };
  for (const s of commits) labels[gitCommitLabel(s.id)] = s.commit;
  return labels;
}
