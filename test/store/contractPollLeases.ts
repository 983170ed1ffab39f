import { describe, expect, it } from "vitest";
import type { ReadyInstance } from "../../src/store/store.js";
import type { ContractKit } from "./contractKit.js";
import { LEASE, marker, newInstance, T0 } from "./contractKit.js";

/**
 * findReadyInstances with `reserveUntil`: what competing workers use to share new instances.
 * Stores reserve in their own way (SQLite leases the row, PostgreSQL takes an advisory lock
 * without a write): this states only what both guarantee. Reservers get disjoint instances;
 * the reserver's first commit lands unless another worker committed first; releasing the
 * instance ends the reservation. (What else ends one differs: see postgres.reservations.test.ts.)
 */
export function pollLeaseContract(c: ContractKit): void {
  const reserve = (workerId: string, now: number, limit = 10, busy: string[] = []) =>
    c.store.findReadyInstances(workerId, now, limit, busy, undefined, now + LEASE);

  /** The first episode of a polled instance, as the worker commits it: taking the lease unless the poll leased it. */
  const firstEpisode = async (workerId: string, ready: ReadyInstance, now = T0) => {
    const held = {
      instanceId: ready.instanceId,
      executionId: ready.executionId,
      workerId,
      leaseToken: ready.leaseToken,
      historyLength: ready.historyLength,
    };
    const [result] = await c.store.commitEpisodes([
      c.episode(held, {
        acquireLease: ready.leased !== true,
        newEvents: [marker(now), ...ready.messages.map((m) => m.event)],
        consumedMessageIds: ready.messages.map((m) => m.id),
        // Back to the instance later: it is ready again once its worker lets go of it.
        newTimers: [{ step: 1, fireAt: now + 1 }],
        now,
        leaseExpiresAt: now + LEASE,
      }),
    ]);
    return result;
  };

  describe("reserving instances as they are polled", () => {
    it("workers that reserve get different instances; one that reserves again gets its own back", async () => {
      await c.store.createInstances(["a", "b", "c"].map((id) => newInstance(id)));
      const first = await reserve("w1", T0, 2);
      const second = await reserve("w2", T0, 2);
      expect(first).toHaveLength(2);
      expect(second).toHaveLength(1);
      const ids = [...first, ...second].map((r) => r.instanceId).sort();
      expect(ids).toEqual(["a", "b", "c"]);
      for (const ready of [...first, ...second]) expect(ready.messages[0]?.event.type).toBe("ExecutionStarted");
      expect(await reserve("w3", T0 + 1)).toEqual([]);
      const again = await reserve("w1", T0 + 1);
      expect(again.map((r) => r.instanceId).sort()).toEqual(first.map((r) => r.instanceId).sort());
      expect(again.map((r) => r.leaseToken)).toEqual(first.map((r) => r.leaseToken));
    });

    it("the reserver's first commit lands, and after it the instance is the reserver's alone", async () => {
      await c.store.createInstances([newInstance("a")]);
      const [reserved] = await reserve("w1", T0);
      expect(await firstEpisode("w1", reserved as ReadyInstance)).toMatchObject({ ok: true });
      // Its timer is due, but the instance is leased now: other workers do not get it.
      expect(await reserve("w2", T0 + 1)).toEqual([]);
      expect(await c.store.findReadyInstances("w2", T0 + 1, 10, [])).toEqual([]);
      expect((await reserve("w1", T0 + 1)).map((r) => r.instanceId)).toEqual(["a"]);
      const history = await c.store.getHistory("a");
      expect(history.map((e) => e.type)).toEqual(["OrchestratorStarted", "ExecutionStarted"]);
    });

    it("a worker that read the instance without reserving races the reserver: exactly one first commit lands", async () => {
      await c.store.createInstances([newInstance("a")]);
      const [plain] = await c.store.findReadyInstances("w2", T0, 10, []);
      const [reserved] = await reserve("w1", T0);
      const late = await firstEpisode("w2", plain as ReadyInstance);
      const reserver = await firstEpisode("w1", reserved as ReadyInstance);
      expect([late, reserver].filter((r) => r?.ok)).toHaveLength(1);
      expect([late, reserver].filter((r) => !r?.ok)).toEqual([{ ok: false, reason: "lease-lost" }]);
      expect(await c.store.getHistory("a")).toHaveLength(2);
    });

    it("releasing an instance ends its reservation", async () => {
      await c.store.createInstances(["a", "b"].map((id) => newInstance(id)));
      expect((await reserve("w1", T0)).map((r) => r.instanceId).sort()).toEqual(["a", "b"]);
      await c.store.releaseLeases("w1", ["b"]);
      const taken = await reserve("w2", T0 + 1);
      expect(taken.map((r) => r.instanceId)).toEqual(["b"]);
      expect(await firstEpisode("w2", taken[0] as ReadyInstance, T0 + 1)).toMatchObject({ ok: true });
    });

    it("an instance the worker holds keeps its token; once its lease expires, another worker takes it over", async () => {
      const held = await c.started("a", "w1", { newTimers: [{ step: 1, fireAt: T0 + 1 }] });
      const [mine] = await reserve("w1", T0 + 1);
      expect(mine).toMatchObject({ instanceId: "a", leaseToken: held.leaseToken, leased: true });
      expect(await c.advance(held, { now: T0 + 2 })).toMatchObject({ ok: true });
      // w1 goes quiet: after its lease (renewed to T0 + 2 + LEASE) ends, w2 takes the instance.
      expect(await reserve("w2", T0 + LEASE)).toEqual([]);
      const [taken] = await reserve("w2", T0 + LEASE * 2);
      expect(taken?.instanceId).toBe("a");
      expect(await firstEpisode("w2", taken as ReadyInstance, T0 + LEASE * 2)).toMatchObject({ ok: true });
      expect(await c.advance(held, { now: T0 + LEASE * 2 + 1 })).toEqual({ ok: false, reason: "lease-lost" });
    });
  });
}
