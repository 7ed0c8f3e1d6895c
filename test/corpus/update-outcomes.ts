// Regenerates fixtures/corpus-outcomes.tsv: `npm run corpus:update`. Review the diff like code.
import fs from "node:fs";
import { corpusFolders, corpusOutcome, formatOutcomes, outcomesFile } from "./outcome.js";

const outcomes = [];
for (const folder of corpusFolders()) outcomes.push(await corpusOutcome(folder));
fs.writeFileSync(outcomesFile, formatOutcomes(outcomes));
const ok = outcomes.filter((o) => o.status === "ok").length;
process.stdout.write(`${ok}/${outcomes.length} corpus folders render and validate; written ${outcomesFile}\n`);
