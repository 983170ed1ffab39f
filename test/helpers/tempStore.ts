import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SqliteStore, sqliteStore } from "../../src/store/sqlite/index.js";

/** A fresh SQLite store in a temporary folder, removed by `dispose`. */
export function tempStore(options: Parameters<typeof sqliteStore>[1] = {}): {
  store: SqliteStore;
  dir: string;
  file: string;
  dispose: () => Promise<void>;
} {
  const dir = mkdtempSync(join(tmpdir(), "perdure-test-"));
  const file = join(dir, "store.db");
  const store = sqliteStore(file, { durability: "normal", ...options });
  return {
    store,
    dir,
    file,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
