// Entry point of `npm run bench:entities`: the entity scenarios alone (`npm run bench` runs
// them too, into the "Entities" section of BENCHMARKS.md). Prints the section; writes it to
// ENTITIES_BENCH_OUT when that names a file. BENCH_QUICK=1 makes a short smoke run.
import { writeFileSync } from "node:fs";
import { machineFacts } from "../machine.js";
import { entitiesBenchConfig, entitiesSection, runEntitiesBench } from "./bench.js";

const config = entitiesBenchConfig(process.env.BENCH_QUICK === "1");
const machine = machineFacts();
log(
  `perdure entities bench${config.quick ? " (quick)" : ""}: ${config.rounds} round(s), node ${machine.node}, ${machine.cores} cores`,
);
const rows = await runEntitiesBench(config, log);
const section = `${entitiesSection(rows, config, "# Durable entities: benchmark")}
Measured by \`npm run bench:entities\` on ${machine.date}: ${machine.cpuModel}, ${machine.cores} cores,
${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.os}, temp files in ${machine.tempDir}, load average
${machine.loadAverage} at the start.
`;
console.log(`\n${section}`);
const out = process.env.ENTITIES_BENCH_OUT;
if (out) {
  writeFileSync(out, section);
  log(`wrote ${out}`);
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}
