// Parses an emitted Dockerfile with dockerfile-ast and returns its stage graph, so tests can assert that
// every reference (FROM, COPY --from=, RUN --mount=...,from=) resolves to an earlier stage or a named context.
import { DockerfileParser, type Instruction } from "dockerfile-ast";

export interface StageNode {
  /** The stage name (`AS name`), lower case. */
  name: string;
  /** The FROM image or stage. */
  from: string;
  /** Every `--from=` of COPY and every `from=` of a RUN --mount, in order. */
  refs: string[];
  /** Instruction keywords of the stage, in order (FROM first). */
  keywords: string[];
}

function flagsOf(i: Instruction): { getName(): string; getValue(): string | null; getOptions(): { getName(): string; getValue(): string | null }[] }[] {
  const f = (i as unknown as { getFlags?: () => unknown[] }).getFlags;
  return typeof f === "function" ? (f.call(i) as ReturnType<typeof flagsOf>) : [];
}

export function dockerfileStages(text: string): StageNode[] {
  const df = DockerfileParser.parse(text);
  const stages: StageNode[] = [];
  for (const i of df.getInstructions()) {
    const kw = i.getKeyword();
    if (kw === "FROM") {
      const args = i.getArguments().map((a) => a.getValue());
      const asIdx = args.findIndex((a) => a.toLowerCase() === "as");
      stages.push({ name: asIdx >= 0 ? args[asIdx + 1].toLowerCase() : "", from: args[0], refs: [], keywords: ["FROM"] });
      continue;
    }
    const cur = stages[stages.length - 1];
    if (!cur) continue;
    cur.keywords.push(kw);
    for (const flag of flagsOf(i)) {
      if (flag.getName() === "from" && flag.getValue()) cur.refs.push(flag.getValue()!);
      if (flag.getName() === "mount") {
        for (const o of flag.getOptions()) if (o.getName() === "from" && o.getValue()) cur.refs.push(o.getValue()!);
      }
    }
  }
  return stages;
}

/**
 * Problems of the graph: a FROM or reference that is neither an earlier stage, a named context, an
 * external reference accepted by `isExternal`, nor scratch; duplicate stage names. A reference only to
 * earlier stages makes the graph acyclic.
 */
export function graphProblems(stages: StageNode[], namedContexts: string[], isExternal: (ref: string) => boolean = () => false): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const s of stages) {
    for (const r of [s.from, ...s.refs]) {
      const ok = r === "scratch" || seen.has(r.toLowerCase()) || namedContexts.includes(r) || isExternal(r);
      if (!ok) problems.push(`${s.name}: reference ${r} is not an earlier stage or named context`);
    }
    if (seen.has(s.name)) problems.push(`stage ${s.name} is declared twice`);
    seen.add(s.name);
  }
  return problems;
}
