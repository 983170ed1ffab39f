import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    alias: {
      "perdure/sqlite": fileURLToPath(new URL("./src/store/sqlite/index.ts", import.meta.url)),
      "perdure/postgres": fileURLToPath(new URL("./src/store/postgres/index.ts", import.meta.url)),
      "perdure/http": fileURLToPath(new URL("./src/http/index.ts", import.meta.url)),
      "perdure/testing": fileURLToPath(new URL("./src/testing/index.ts", import.meta.url)),
      perdure: fileURLToPath(new URL("./src/index.ts", import.meta.url)),
    },
  },
  test: {
    include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
    // Run by vitest.faults.config.ts after the rest (npm test runs both).
    exclude: ["test/postgres-faults/**", "**/node_modules/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Crash tests spawn worker processes; keep files in parallel but not too many at once on 2 cores.
    maxWorkers: 2,
  },
});
