import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

// The PostgreSQL fault tests run several worker processes each and kill them on a schedule:
// they run after the main suite, one file at a time, so that they do not compete for the
// machine's two cores with each other or with other tests.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ["test/postgres-faults/**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    fileParallelism: false,
  },
});
