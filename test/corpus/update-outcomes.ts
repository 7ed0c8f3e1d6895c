// Regenerates fixtures/corpus-outcomes.tsv (render + validate) and fixtures/corpus-compile.tsv (compile
// against a synthesized repository): `npm run corpus:update`. Review the diffs like code.
import fs from "node:fs";
import { corpusFolders, corpusOutcome, formatOutcomes, outcomesFile } from "./outcome.js";
import { BUG_KINDS, compileFolders, compileRate, compileTableFile, formatCompileTable, outcomeKind } from "./compile-outcome.js";

const folders = corpusFolders();
const outcomes = [];
for (const folder of folders) outcomes.push(await corpusOutcome(folder));
fs.writeFileSync(outcomesFile, formatOutcomes(outcomes));
const ok = outcomes.filter((o) => o.status === "ok").length;
process.stdout.write(`${ok}/${outcomes.length} corpus folders render and validate; written ${outcomesFile}\n`);

const started = Date.now();
const compiled = await compileFolders(folders);
fs.writeFileSync(compileTableFile, formatCompileTable(compiled));
const rate = compileRate(compiled);
const kinds = Object.entries(rate.byKind)
  .sort()
  .map(([k, n]) => `${k} ${n}`)
  .join(", ");
process.stdout.write(
  `${rate.ok}/${rate.withoutAnsible} corpus folders without ansible compile (${(rate.rate * 100).toFixed(1)}%), ` +
    `${rate.ok}/${rate.frontEndOk} of those that render and validate (${(rate.compileRate * 100).toFixed(1)}%); ` +
    `by outcome: ${kinds}; ${((Date.now() - started) / 1000).toFixed(1)} s; written ${compileTableFile}\n`,
);
for (const o of compiled.filter((c) => BUG_KINDS.has(outcomeKind(c)))) {
  process.stdout.write(`BUG ${o.folder}: ${o.detail}\n${o.stack ?? ""}\n`);
}
