// werf.yaml (rendered) → validated, typed WerfConfig. No raw YAML leaves src/config.
//
// Steps: split into documents → parse each as YAML 1.1 → classify (meta,
// Dockerfile image, Stapel image/artifact) → check against the zod schema →
// build the model while applying werf's per-image rules → check rules across
// images. Every problem found is reported at once in one UserError.

import path from "node:path";
import { UserError, type Diagnostic, type SourceMap } from "../diagnostics.js";
import { DocContext } from "./context.js";
import { splitDocuments } from "./documents.js";
import { buildDockerfileImages } from "./dockerfile-image.js";
import { checkImageGraph } from "./graph.js";
import { issuesToDiagnostics } from "./issues.js";
import { Locator } from "./locate.js";
import { buildMeta, defaultProjectName, missingMetaMessage } from "./meta.js";
import type { DockerfileImage, StapelImage, WerfConfig, WerfMeta } from "./model.js";
import { documentSchemas, type DocumentKind } from "./schema.js";
import { buildStapelImages } from "./stapel-image.js";
import { parseYamlDocument, type YamlDocument } from "./yaml.js";

export type * from "./model.js";
export { USER_STAGES } from "./model.js";
export { werfConfigJsonSchema } from "./json-schema.js";
export { SUPPORTED_ANSIBLE_MODULES } from "./ansible.js";

const UNRECOGNIZED_DOCUMENT =
  "cannot recognize type of config section (part of YAML stream separated by three hyphens, https://yaml.org/spec/1.2/spec.html#id2800132):\n * 'configVersion' required for meta config section;\n * 'image' required for the image config sections;\n * 'artifact' required for the artifact config sections;";

/** Which kind of werf.yaml document a mapping is, by werf's rules (parser.go). */
export function classifyDocument(value: Record<string, unknown>): DocumentKind | undefined {
  if ("configVersion" in value) return "meta";
  if ("dockerfile" in value) return "dockerfile";
  if ("image" in value) return "image";
  if ("artifact" in value) return "artifact";
  return undefined;
}

interface Classified {
  doc: YamlDocument;
  kind: DocumentKind;
  value: Record<string, unknown>;
}

export function loadWerfConfig(rendered: {
  file: string;
  text: string;
  map?: SourceMap;
  unsetEnv?: readonly string[];
  /** Of those, the ones read as unset because werf-giterminism.yaml does not allow them. */
  refusedEnv?: readonly string[];
}): WerfConfig {
  const locator = new Locator(rendered.file, rendered.text, rendered.map);
  const diagnostics: Diagnostic[] = [];
  const classified: Classified[] = [];
  const knownNames = new Set<string>();

  for (const source of splitDocuments(rendered.text)) {
    const { doc, errors } = parseYamlDocument(source, locator);
    diagnostics.push(...errors);
    if (!doc) continue;
    const value = doc.value;
    const kind = value && typeof value === "object" && !Array.isArray(value) ? classifyDocument(value as Record<string, unknown>) : undefined;
    if (!kind) {
      const dimg = value && typeof value === "object" && "dimg" in value;
      diagnostics.push(
        locator.diagnostic(
          doc.firstContentOffset(),
          UNRECOGNIZED_DOCUMENT,
          dimg
            ? "`dimg` is a werf v1.0 key; rename it to `image`"
            : "start the document with `configVersion: 1` (meta), `image: NAME` or `artifact: NAME`; check the `---` separators and the template output",
        ),
      );
      continue;
    }
    const record = value as Record<string, unknown>;
    if (kind === "image" || kind === "dockerfile") {
      const v = record.image;
      for (const n of Array.isArray(v) ? v : [v]) if (typeof n === "string" || n === null) knownNames.add(n ?? "");
    } else if (kind === "artifact" && typeof record.artifact === "string") knownNames.add(record.artifact);
    classified.push({ doc, kind, value: record });
  }

  let meta: WerfMeta | undefined;
  const images: StapelImage[] = [];
  const dockerfileImages: DockerfileImage[] = [];
  const ordered = [...classified.filter((c) => c.kind === "meta"), ...classified.filter((c) => c.kind !== "meta")];
  let allBuilt = true;
  for (const { doc, kind, value } of ordered) {
    const docDiagnostics: Diagnostic[] = [];
    const schema = documentSchemas[kind];
    const result = schema.safeParse(value);
    if (!result.success) {
      docDiagnostics.push(...issuesToDiagnostics(result.error.issues, schema, doc));
      allBuilt = false;
    } else {
      const ctx = new DocContext(doc, docDiagnostics);
      if (kind === "meta") {
        if (meta) {
          docDiagnostics.push(
            doc.locator.diagnostic(doc.offsetOf(["configVersion"], true), "duplicate meta config section definition", `the meta section is already defined at line ${meta.pos.line}; keep one`),
          );
        } else meta = buildMeta(ctx, value);
      } else if (kind === "dockerfile") {
        dockerfileImages.push(...buildDockerfileImages(ctx, value, () => meta?.build?.staged ?? false));
      } else {
        images.push(...buildStapelImages(ctx, value, kind));
      }
    }
    diagnostics.push(...docDiagnostics.sort(byPosition));
  }

  if (!classified.some((c) => c.kind === "meta") && !diagnostics.some((d) => d.message.startsWith("invalid YAML"))) {
    const project = defaultProjectName(path.basename(path.dirname(path.resolve(rendered.file))));
    diagnostics.push({
      pos: { file: rendered.file, line: 1, col: 1 },
      message: missingMetaMessage(project),
      hint: `add \`configVersion: 1\` and \`project: ${project}\` as the first document, followed by \`---\``,
    });
  }
  if (allBuilt || images.length + dockerfileImages.length > 0) diagnostics.push(...checkImageGraph(images, dockerfileImages, knownNames));
  if (rendered.unsetEnv?.length) for (const d of diagnostics) explainEmptyValue(d, rendered.unsetEnv, rendered.refusedEnv ?? []);
  if (diagnostics.length > 0 || !meta) throw new UserError(diagnostics);
  images.sort(byPosition);
  dockerfileImages.sort(byPosition);
  return { file: rendered.file, meta, images, dockerfileImages };
}

/**
 * werf.yaml whose image documents all rendered empty (images switched on by `.Env` or `env` conditions):
 * nothing to build, which a user should be told, not handed a Dockerfile without a FROM.
 */
export function noImagesWarning(config: WerfConfig, unsetEnv: readonly string[] = []): Diagnostic | undefined {
  if (config.images.length + config.dockerfileImages.length > 0) return undefined;
  const unset = unsetEnv.length ? `; unset environment variables read: ${unsetEnv.map((n) => JSON.stringify(n)).join(", ")}` : "";
  return {
    pos: { file: config.file, line: 1, col: 1 },
    message: "no images: every image document rendered empty, there is nothing to build",
    hint: `check the template conditions that switch images on (\`--env\` sets .Env)${unset}`,
  };
}

/** Values that are empty because `env` read an unset variable: the hint names the variables. */
const EMPTY_VALUE_MESSAGES = ["'project' field cannot be empty!", "`from: DOCKER_IMAGE`, `fromImage: IMAGE_NAME`, `fromArtifact: IMAGE_ARTIFACT_NAME` required!"];

function explainEmptyValue(d: Diagnostic, unsetEnv: readonly string[], refusedEnv: readonly string[]): void {
  if (!EMPTY_VALUE_MESSAGES.some((m) => d.message.startsWith(m))) return;
  const names = unsetEnv.map((n) => JSON.stringify(n)).join(", ");
  const refused = refusedEnv.filter((n) => unsetEnv.includes(n)).map((n) => JSON.stringify(n));
  d.hint = `the templates read unset environment variables (${names}), which render as ""; set them, or give \`env\` a default: {{ env "NAME" "default" }}`;
  if (refused.length) {
    d.hint += `; ${refused.join(", ")} ${refused.length === 1 ? "is" : "are"} not read from the environment until werf-giterminism.yaml allows ${refused.length === 1 ? "it" : "them"} (config.goTemplateRendering.allowEnvVariables)`;
  }
}

function byPosition(a: { pos?: { file: string; line: number; col: number } }, b: { pos?: { file: string; line: number; col: number } }): number {
  if (!a.pos || !b.pos || a.pos.file !== b.pos.file) return 0;
  return a.pos.line - b.pos.line || a.pos.col - b.pos.col;
}
