// A Perdure worker process of the PostgreSQL benchmark, forked by bench/postgres/perdure.ts
// with an IPC channel: `workerProcess.js <databaseUrl> <schema>`. It runs the benchmark's
// workflow with default worker options, says {ready}, answers {cmd: "commits"} with its
// store's commit count, the episode commits its store refused as stale (another worker had
// taken the instance: the price of racing for new work) and its CPU time, and {cmd: "stop"} by
// stopping gracefully and exiting.
import { createWorker, type Store, silentLogger } from "perdure";
import { postgresStore } from "perdure/postgres";
import { addOne, chain } from "../workflow.js";

const [url, schema] = process.argv.slice(2);
const send = process.send?.bind(process);
if (!url || !schema || !send) {
  process.stderr.write("usage: workerProcess.js <databaseUrl> <schema> (forked, with an IPC channel)\n");
  process.exit(2);
}

const store = await postgresStore({ connectionString: url, schema });
let stale = 0;
const counting = new Proxy<Store>(store, {
  get(target, property) {
    if (property === "commitEpisodes") {
      return async (...args: Parameters<Store["commitEpisodes"]>) => {
        const results = await target.commitEpisodes(...args);
        stale += results.filter((r) => !r.ok && r.reason === "lease-lost").length;
        return results;
      };
    }
    const value: unknown = Reflect.get(target, property, target);
    return typeof value === "function" ? value.bind(target) : value;
  },
});
const worker = createWorker({
  store: counting,
  orchestrations: [chain],
  activities: [addOne],
  logger: { ...silentLogger, error: console.error },
  handleSignals: false,
});
await worker.start();

process.on("message", (message: { cmd: string }) => {
  if (message.cmd === "commits") {
    const cpu = process.cpuUsage();
    send({ commits: store.commitCount, stale, cpuMs: (cpu.user + cpu.system) / 1000 });
  } else if (message.cmd === "stop") {
    void worker
      .stop()
      .then(() => store.close())
      .finally(() => process.exit(0));
  }
});
// The benchmark ended without stopping us (it crashed): do not linger.
process.on("disconnect", () => process.exit(0));
send({ ready: true, workerId: worker.id });
