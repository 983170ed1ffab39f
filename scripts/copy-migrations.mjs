// tsc does not copy non-TypeScript files; the stores read their numbered .sql migrations at run time.
import { cpSync, existsSync } from "node:fs";

for (const store of ["sqlite", "postgres"]) {
  const from = `src/store/${store}/migrations`;
  if (existsSync(from)) cpSync(from, `dist/${from}`, { recursive: true });
}
