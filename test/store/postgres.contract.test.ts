import { afterAll, beforeAll } from "vitest";
import { postgresStore } from "../../src/store/postgres/index.js";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.js";
import { storeContract } from "./contract.js";

// One database for this file, one fresh schema per test: an empty store each time.
let db: TestDatabase | undefined;
let schemas = 0;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

storeContract("PostgreSQL", async () => {
  if (!db) throw new Error("the test database was not created");
  schemas++;
  const store = await postgresStore({ connectionString: db.url, schema: `contract_${schemas}`, poolSize: 4 });
  return { store, dispose: () => store.close() };
});
