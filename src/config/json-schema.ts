// JSON Schema of werf.yaml documents, generated from the same zod schemas the
// validator uses. One file holds several documents of different kinds, so the
// top level is an anyOf of meta / Stapel image / artifact / Dockerfile image;
// yaml-language-server applies it to each document of the stream.

import { z } from "zod";
import { artifactSchema, dockerfileImageSchema, metaSchema, stapelImageSchema } from "./schema.js";

export function werfConfigJsonSchema(): object {
  const document = z
    .union([metaSchema, stapelImageSchema, artifactSchema, dockerfileImageSchema])
    .describe("A werf.yaml document (documents are separated by `---`)");
  const schema = z.toJSONSchema(document, { target: "draft-2020-12", io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return {
    ...schema,
    $id: "https://stapel2docker.dev/schema/werf.yaml.json",
    title: "werf.yaml (werf v2 Stapel and Dockerfile images, as accepted by stapel2docker)",
  };
}
