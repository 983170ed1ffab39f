import { describe, expect, it } from "vitest";
import type { ContractKit } from "./contractKit.js";
import { LEASE, marker, newInstance, T0 } from "./contractKit.js";

/** findReadyInstances with `leaseUntil`: what competing workers use to share new instances. */
export function pollLeaseContract(c: ContractKit): void {
  describe("leasing instances as they are polled", () => {
    it("workers polling with a lease get different instances, each with a new token", async () => {
      await c.store.createInstances(["a", "b", "c"].map((id) => newInstance(id)));
      const first = await c.store.findReadyInstances("w1", T0, 2, [], undefined, T0 + LEASE);
      const second = await c.store.findReadyInstances("w2", T0, 2, [], undefined, T0 + LEASE);
      expect(first).toHaveLength(2);
      expect(second).toHaveLength(1);
      const ids = [...first, ...second].map((r) => r.instanceId).sort();
      expect(ids).toEqual(["a", "b", "c"]);
      for (const ready of [...first, ...second]) expect(ready).toMatchObject({ leased: true, historyLength: 0 });
      // Leased: a third worker, polling with or without a lease, sees nothing.
      expect(await c.store.findReadyInstances("w3", T0 + 1, 10, [])).toEqual([]);
      expect(await c.store.findReadyInstances("w3", T0 + 1, 10, [], undefined, T0 + LEASE)).toEqual([]);
      expect((await c.store.listLeaseOwners()).sort()).toEqual(["w1", "w2"]);
    });

    it("the poller commits with the polled lease; a worker that polled without one is refused", async () => {
      await c.store.createInstances([newInstance("a")]);
      const [plain] = await c.store.findReadyInstances("w2", T0, 10, []);
      const [leased] = await c.store.findReadyInstances("w1", T0, 10, [], undefined, T0 + LEASE);
      expect(leased?.leaseToken).toBe((plain?.leaseToken as number) + 1);
      const inbox = await c.store.readInbox("a", T0);
      const started = inbox.map((m) => m.event);
      const held = (workerId: string, leaseToken: number) => ({
        instanceId: "a",
        executionId: leased?.executionId as string,
        workerId,
        leaseToken,
        historyLength: 0,
      });
      // w2 read the instance before w1 leased it: its optimistic first commit must fail.
      const [late] = await c.store.commitEpisodes([
        c.episode(held("w2", plain?.leaseToken as number), { acquireLease: true, newEvents: [marker(T0), ...started] }),
      ]);
      expect(late).toEqual({ ok: false, reason: "lease-lost" });
      const [landed] = await c.store.commitEpisodes([
        c.episode(held("w1", leased?.leaseToken as number), {
          newEvents: [marker(T0), ...started],
          consumedMessageIds: inbox.map((m) => m.id),
        }),
      ]);
      expect(landed).toMatchObject({ ok: true, leaseToken: leased?.leaseToken });
      const history = await c.store.getHistory("a");
      expect(history.map((e) => e.type)).toEqual(["OrchestratorStarted", "ExecutionStarted"]);
    });

    it("an instance the worker holds already keeps its token; an expired lease is taken over", async () => {
      const held = await c.started("a", "w1", { newTimers: [{ step: 1, fireAt: T0 + 1 }] });
      const [mine] = await c.store.findReadyInstances("w1", T0 + 1, 10, [], undefined, T0 + LEASE);
      expect(mine).toMatchObject({ instanceId: "a", leaseToken: held.leaseToken, leased: true });
      expect(await c.advance(held, { now: T0 + 2 })).toMatchObject({ ok: true });
      // w1 goes quiet: after its lease (renewed to T0 + 1 + LEASE) ends, w2 takes the instance.
      expect(await c.store.findReadyInstances("w2", T0 + LEASE, 10, [], undefined, T0 + LEASE * 2)).toEqual([]);
      const [taken] = await c.store.findReadyInstances("w2", T0 + LEASE * 2, 10, [], undefined, T0 + LEASE * 3);
      expect(taken?.leaseToken).toBe(held.leaseToken + 1);
      expect(await c.advance(held, { now: T0 + LEASE * 2 + 1 })).toEqual({ ok: false, reason: "lease-lost" });
    });
  });
}
