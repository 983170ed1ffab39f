import type { RuntimeStatus, Store } from "perdure";
import { sqliteStore } from "perdure/sqlite";

/** Orchestration names of the filled store and the share of instances each gets (per 100). */
export const NAMES: readonly { name: string; per100: number }[] = [
  { name: "bench.orders", per100: 60 },
  { name: "bench.payments", per100: 30 },
  { name: "bench.reports", per100: 9 },
  { name: "bench.audit", per100: 1 },
];

/** Ids are `t042-00abc`: 100 tenants, spread evenly over the whole time range. */
export const TENANTS = 100;
/** Instances created in the same millisecond, so that the id breaks ties in the order. */
const PER_MILLISECOND = 3;
const STEP_MS = 7;
const BATCH = 1_000;

type NewInstance = Parameters<Store["createInstances"]>[0][number];
/** The creation time of the first instance: fixed, so that runs list the same rows. */
export const T0 = Date.UTC(2026, 0, 1);

/** What the filled store holds. */
export interface FilledStore {
  instances: number;
  /** When the first and the last instance were created (ms). */
  firstCreatedAt: number;
  lastCreatedAt: number;
  byStatus: Partial<Record<RuntimeStatus, number>>;
  seconds: { create: number; statuses: number };
  commits: number;
}

function nameOf(i: number): string {
  let slot = i % 100;
  for (const { name, per100 } of NAMES) {
    if (slot < per100) return name;
    slot -= per100;
  }
  throw new Error("NAMES must add up to 100");
}

/** The id of instance `i`: its tenant prefix and its number. */
export function instanceIdOf(i: number): string {
  const tenant = (i * 37) % TENANTS;
  return `t${String(tenant).padStart(3, "0")}-${i.toString(36).padStart(5, "0")}`;
}

export function createdAtOf(i: number): number {
  return T0 + Math.floor(i / PER_MILLISECOND) * STEP_MS;
}

/**
 * Fills a fresh store file through the Store interface only: `createInstances` in batches
 * of 1,000 (all Pending), then `terminateInstance` on every 5th instance and
 * `setSuspended` on 1 in 100, one transaction each. Durability "normal" for the fill:
 * only its speed depends on it, and the listing that follows only reads.
 */
export async function fillStore(file: string, count: number): Promise<FilledStore> {
  const store = sqliteStore(file, { durability: "normal" });
  try {
    let started = performance.now();
    for (let first = 0; first < count; first += BATCH) {
      const batch: NewInstance[] = [];
      for (let i = first; i < Math.min(count, first + BATCH); i++) {
        batch.push({
          instanceId: instanceIdOf(i),
          name: nameOf(i),
          executionId: `x${i}`,
          input: { order: i, amount: (i * 7919) % 10_000, currency: "EUR" },
          createdAt: createdAtOf(i),
          replaceIfFinished: false,
        });
      }
      const refused = (await store.createInstances(batch)).find((r) => r !== undefined);
      if (refused) throw refused;
    }
    const create = (performance.now() - started) / 1000;
    started = performance.now();
    const byStatus: Partial<Record<RuntimeStatus, number>> = {};
    const now = createdAtOf(count) + 60_000;
    for (let i = 0; i < count; i++) {
      let status: RuntimeStatus = "Pending";
      if (i % 5 === 0) {
        await store.terminateInstance(instanceIdOf(i), "bench", now);
        status = "Terminated";
      } else if (i % 100 === 51) {
        await store.setSuspended(instanceIdOf(i), true, "bench", now);
        status = "Suspended";
      }
      byStatus[status] = (byStatus[status] ?? 0) + 1;
    }
    return {
      instances: count,
      firstCreatedAt: createdAtOf(0),
      lastCreatedAt: createdAtOf(count - 1),
      byStatus,
      seconds: { create, statuses: (performance.now() - started) / 1000 },
      commits: store.commitCount,
    };
  } finally {
    await store.close();
  }
}
