import { afterEach, beforeEach, describe } from "vitest";
import type { Store } from "../../src/index.js";
import { entityContract } from "./contractEntities.js";
import { entityLogContract } from "./contractEntityLog.js";
import { fencingContract } from "./contractFencing.js";
import { instanceContract } from "./contractInstances.js";
import { contractKit, type StoreFactory } from "./contractKit.js";
import { leaseContract } from "./contractLeases.js";
import { pollLeaseContract } from "./contractPollLeases.js";
import { queueContract } from "./contractQueues.js";

export type { StoreFactory } from "./contractKit.js";

/**
 * The contract every store must pass, unchanged: a suite written against the `Store`
 * interface only, run once per backend (`sqlite.contract.test.ts`, later PostgreSQL).
 * `makeStore` gives each test an empty store of its own.
 */
export function storeContract(name: string, makeStore: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    let current: { store: Store; dispose: () => Promise<void> } | undefined;
    beforeEach(async () => {
      current = await makeStore();
    });
    afterEach(async () => {
      await current?.dispose();
      current = undefined;
    });
    const kit = contractKit(() => {
      if (!current) throw new Error("no store: the contract's helpers run inside tests only");
      return current.store;
    });
    instanceContract(kit);
    fencingContract(kit);
    leaseContract(kit);
    pollLeaseContract(kit);
    entityContract(kit);
    entityLogContract(kit);
    queueContract(kit);
  });
}
