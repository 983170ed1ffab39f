export { SqliteStore, type SqliteStoreOptions, sqliteStore } from "./sqliteStore.js";
