export { PostgresStore, type PostgresStoreOptions, postgresStore } from "./postgresStore.js";
