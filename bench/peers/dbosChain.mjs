// DBOS Transact running the benchmark's workflow, in a process of its own (DBOS is a
// process-wide singleton). Started by bench/postgres/dbos.ts with an IPC channel:
//   node bench/peers/dbosChain.mjs <databaseUrl>
// It launches DBOS on the database, then answers {cmd: "drive", inFlight, total, firstInput}
// with {latencies, seconds}, {cmd: "cpu"} with its CPU time and {cmd: "stop"} by shutting down. The workflow is the one
// Perdure runs: three steps in a chain, each returning its input plus one. Workflows start
// and run in this process, DBOS's usual embedded way: its most favourable set-up.
import { DBOS } from "@dbos-inc/dbos-sdk";

const [url] = process.argv.slice(2);
if (!url || !process.send) {
  process.stderr.write("usage: node dbosChain.mjs <databaseUrl> (with an IPC channel)\n");
  process.exit(2);
}

const addOne = DBOS.registerStep(async (n) => n + 1, { name: "bench.addOne" });
const chain = DBOS.registerWorkflow(
  async (n) => {
    const a = await addOne(n);
    const b = await addOne(a);
    return addOne(b);
  },
  { name: "bench.chain" },
);

DBOS.setConfig({ name: "perdure-bench", systemDatabaseUrl: url, logLevel: "error" });
await DBOS.launch();

async function runOne(n) {
  const handle = await DBOS.startWorkflow(chain)(n);
  const result = await handle.getResult();
  if (result !== n + 3) throw new Error(`DBOS workflow ${handle.workflowID} returned ${result}`);
}

/** The same driver as bench/postgres/drive.ts: `inFlight` callers until `total` completed. */
async function drive(inFlight, total, firstInput) {
  const latencies = [];
  let next = 0;
  const caller = async () => {
    while (next < total) {
      const n = firstInput + next++;
      const t = performance.now();
      await runOne(n);
      latencies.push(performance.now() - t);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, caller));
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

process.on("message", (message) => {
  if (message.cmd === "drive") {
    drive(message.inFlight, message.total, message.firstInput).then(
      (driven) => process.send({ driven }),
      (error) => process.send({ error: String(error?.stack ?? error) }),
    );
  } else if (message.cmd === "cpu") {
    const cpu = process.cpuUsage();
    process.send({ cpuMs: (cpu.user + cpu.system) / 1000 });
  } else if (message.cmd === "stop") {
    DBOS.shutdown().finally(() => process.exit(0));
  }
});
process.send({ ready: true });
