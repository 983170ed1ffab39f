import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh database file path in its own temporary folder; `remove` deletes the folder. */
export function tempDatabase(prefix: string): { file: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `perdure-bench-${prefix}-`));
  return { file: join(dir, "bench.db"), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
