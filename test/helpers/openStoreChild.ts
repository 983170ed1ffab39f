// Child process for the concurrent-open test: opens a Perdure SQLite store on a file at the
// same moment as its siblings. Usage: node --import tsx openStoreChild.ts <db file> <go file>
// It prints "ready" once loaded, spins until the go file exists, opens, and prints the outcome.
import { existsSync } from "node:fs";
import { sqliteStore } from "../../src/store/sqlite/index.js";

const [file, goFile] = process.argv.slice(2);
if (!file || !goFile) throw new Error("usage: openStoreChild.ts <db file> <go file>");
process.stdout.write("ready\n");
// A spin, not a timer: all children leave it within microseconds of the go file appearing.
while (!existsSync(goFile)) {
  /* spin */
}
try {
  const store = sqliteStore(file, { durability: "normal" });
  await store.close();
  process.stdout.write("opened\n");
} catch (error) {
  const code = (error as { code?: string }).code;
  process.stdout.write(`failed ${code ?? ""} ${(error as Error).message}\n`);
  process.exitCode = 1;
}
