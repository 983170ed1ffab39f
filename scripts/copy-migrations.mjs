// tsc does not copy non-TypeScript files; the stores read their numbered .sql migrations at
// run time, and the dashboard serves its HTML, JS and CSS files as they are.
import { cpSync, existsSync } from "node:fs";

for (const store of ["sqlite", "postgres"]) {
  const from = `src/store/${store}/migrations`;
  if (existsSync(from)) cpSync(from, `dist/${from}`, { recursive: true });
}

const dashboard = "src/http/dashboard/assets";
if (existsSync(dashboard)) cpSync(dashboard, `dist/${dashboard}`, { recursive: true });
