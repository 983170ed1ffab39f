import { describe, expect, it } from "vitest";
import type { EpisodeCommit } from "../../src/store/store.js";
import { type ContractKit, LEASE, marker, newInstance, T0, task } from "./contractKit.js";

/** Activity tasks, leases, nextDueTime and commitCount. */
export function leaseContract(c: ContractKit): void {
  describe("activity tasks", () => {
    it("a task leased to the committer is not claimable; an unleased one is", async () => {
      const held = await c.started("a", "w1", { newTasks: [task(1, true, "mine"), task(2, false, "anyone")] });
      expect(held.taskIds).toHaveLength(2);
      expect(held.taskIds[0]).not.toBe(held.taskIds[1]);
      const claimed = await c.store.claimActivityTasks("w2", T0, T0 + LEASE, 10);
      expect(claimed).toHaveLength(1);
      expect(claimed[0]).toMatchObject({
        id: held.taskIds[1],
        instanceId: "a",
        executionId: held.executionId,
        step: 2,
        attempt: 1,
        name: "anyone",
        input: { step: 2 },
      });
      // Claimed once: not again while the lease lives.
      expect(await c.store.claimActivityTasks("w3", T0 + 1, T0 + LEASE, 10)).toEqual([]);
    });

    it("claims at most `limit` tasks", async () => {
      await c.started("a", "w1", { newTasks: [task(1, false), task(2, false), task(3, false)] });
      expect(await c.store.claimActivityTasks("w2", T0, T0 + LEASE, 2)).toHaveLength(2);
      expect(await c.store.claimActivityTasks("w3", T0, T0 + LEASE, 2)).toHaveLength(1);
    });

    it("an expired task lease lets another worker claim it, with a new token that fences the first", async () => {
      const held = await c.started("a", "w1", { newTasks: [task(1, true, "mine")] });
      const [taken] = await c.store.claimActivityTasks("w2", T0 + LEASE + 1, T0 + LEASE * 2, 10);
      expect(taken?.id).toBe(held.taskIds[0]);
      expect(taken?.leaseToken).not.toBe(1);
      const late = {
        taskId: held.taskIds[0] as number,
        instanceId: "a",
        executionId: held.executionId,
        event: { type: "TaskCompleted" as const, timestamp: T0, step: 1, attempt: 1, result: "late" },
      };
      // The first holder's result (the committer's token is 1) is refused now …
      expect(await c.store.deliverActivityResults([{ ...late, leaseToken: 1 }], T0 + LEASE + 2)).toEqual([false]);
      expect(await c.store.readInbox("a", T0 + LEASE * 3)).toEqual([]);
      // … and the new holder's is accepted.
      const accepted = await c.store.deliverActivityResults(
        [{ ...late, leaseToken: taken?.leaseToken as number, event: { ...late.event, result: "on time" } }],
        T0 + LEASE + 3,
      );
      expect(accepted).toEqual([true]);
      const inbox = await c.store.readInbox("a", T0 + LEASE + 3);
      expect(inbox.map((m) => m.event)).toEqual([{ ...late.event, result: "on time" }]);
    });

    it("deliverActivityResults accepts a result once, while the task lease is current", async () => {
      const held = await c.started("a", "w1", { newTasks: [task(1, false), task(2, true)] });
      const [claimed] = await c.store.claimActivityTasks("w2", T0, T0 + LEASE, 10);
      const delivery = {
        taskId: claimed?.id as number,
        leaseToken: claimed?.leaseToken as number,
        instanceId: "a",
        executionId: held.executionId,
        event: { type: "TaskCompleted" as const, timestamp: T0 + 1, step: 1, attempt: 1, result: 42 },
      };
      const committerDelivery = {
        ...delivery,
        taskId: held.taskIds[1] as number,
        leaseToken: 1,
        event: { ...delivery.event, step: 2, result: 43 },
      };
      const wrongToken = { ...delivery, leaseToken: delivery.leaseToken + 1 };
      expect(await c.store.deliverActivityResults([wrongToken], T0 + 1)).toEqual([false]);
      expect(await c.store.deliverActivityResults([delivery, committerDelivery], T0 + 1)).toEqual([true, true]);
      expect(await c.store.deliverActivityResults([delivery], T0 + 2)).toEqual([false]);
      const inbox = await c.store.readInbox("a", T0 + 2);
      expect(inbox.map((m) => m.event)).toEqual([delivery.event, committerDelivery.event]);
      // A result makes the instance ready for its owner (and only for it, while leased).
      expect((await c.store.findReadyInstances("w1", T0 + 2, 10, [])).map((r) => r.instanceId)).toEqual(["a"]);
      expect(await c.store.findReadyInstances("w2", T0 + 2, 10, [])).toEqual([]);
      // Done tasks are gone.
      expect(await c.store.claimActivityTasks("w3", T0 + LEASE * 5, T0 + LEASE * 6, 10)).toEqual([]);
    });

    it("a commit can complete tasks: completedTaskIds removes them with the episode", async () => {
      const held = await c.started("a", "w1", { newTasks: [task(1, true), task(2, true)] });
      const result = await c.advance(held, {
        completedTaskIds: held.taskIds,
        newEvents: [
          marker(T0 + 1),
          { type: "TaskCompleted", timestamp: T0 + 1, step: 1, attempt: 1, result: 1 },
          { type: "TaskCompleted", timestamp: T0 + 1, step: 2, attempt: 1, result: 2 },
        ],
        now: T0 + 1,
      });
      expect(result.ok).toBe(true);
      expect(await c.store.claimActivityTasks("w2", T0 + LEASE * 5, T0 + LEASE * 6, 10)).toEqual([]);
    });
  });

  describe("tasks leased to the committer (the fast path)", () => {
    it("an instance that finishes or is terminated leaves no task to claim when the lease ends", async () => {
      const done = await c.started("done", "w1", { newTasks: [task(1, true)] });
      await c.started("stopped", "w1", { newTasks: [task(1, true)] });
      // Finished without the task's result (as when a race was won by a timer).
      expect((await c.advance(done, { status: "Completed", output: 1, now: T0 + 1 })).ok).toBe(true);
      await c.store.terminateInstance("stopped", "no longer needed", T0 + 1);
      expect(await c.store.claimActivityTasks("w2", T0 + LEASE * 5, T0 + LEASE * 6, 10)).toEqual([]);
      expect(await c.store.listLeaseOwners()).not.toContain("w1");
    });

    it("a result committed by the first holder after another worker claimed the task wins; the claimer's is refused", async () => {
      const held = await c.started("a", "w1", { newTasks: [task(1, true)] });
      const [taken] = await c.store.claimActivityTasks("w2", T0 + LEASE + 1, T0 + LEASE * 2, 10);
      expect(taken?.id).toBe(held.taskIds[0]);
      const committed = await c.advance(held, {
        completedTaskIds: held.taskIds,
        newEvents: [marker(T0 + 2), { type: "TaskCompleted", timestamp: T0 + 2, step: 1, attempt: 1, result: 1 }],
        now: T0 + 2,
      });
      expect(committed.ok).toBe(true);
      const late = {
        taskId: taken?.id as number,
        leaseToken: taken?.leaseToken as number,
        instanceId: "a",
        executionId: held.executionId,
        event: { type: "TaskCompleted" as const, timestamp: T0 + 3, step: 1, attempt: 1, result: 2 },
      };
      expect(await c.store.deliverActivityResults([late], T0 + LEASE + 3)).toEqual([false]);
      expect(await c.store.claimActivityTasks("w3", T0 + LEASE * 5, T0 + LEASE * 6, 10)).toEqual([]);
    });

    it("another worker's task lease is a due time: it can claim the task when the lease ends", async () => {
      const held = await c.started("a", "w1", { newTasks: [task(1, true)] });
      // The instance's lease is handed back; the task's stays with w1 until T0 + LEASE.
      expect((await c.advance(held, { releaseLease: true, now: T0 + 1 })).ok).toBe(true);
      expect(await c.store.nextDueTime(T0 + 1, "w2", ["default"])).toBe(T0 + LEASE);
      expect(await c.store.nextDueTime(T0 + 1, "w2")).toBe(T0 + LEASE);
      expect(await c.store.claimActivityTasks("w2", T0 + LEASE - 1, T0 + LEASE * 2, 10)).toEqual([]);
      expect(await c.store.claimActivityTasks("w2", T0 + LEASE + 1, T0 + LEASE * 2, 10)).toHaveLength(1);
    });
  });

  describe("leases", () => {
    it("renewLeases extends every instance and task lease of the worker", async () => {
      await c.started("a", "w1", { newTasks: [task(1, true)], newTimers: [{ step: 2, fireAt: T0 + 1 }] });
      await c.started("b", "w2", { newTasks: [task(1, true)], newTimers: [{ step: 2, fireAt: T0 + 1 }] });
      await c.store.renewLeases("w1", T0 + LEASE * 10);
      const later = T0 + LEASE * 5;
      expect((await c.store.findReadyInstances("w3", later, 10, [])).map((r) => r.instanceId)).toEqual(["b"]);
      const claimed = await c.store.claimActivityTasks("w3", later, later + LEASE, 10);
      expect(claimed.map((t) => t.instanceId)).toEqual(["b"]);
    });

    it("releaseLeases frees the given instances, or everything the worker holds", async () => {
      await c.started("a", "w1", { newTasks: [task(1, true)], newTimers: [{ step: 2, fireAt: T0 + 1 }] });
      await c.started("b", "w1", { newTasks: [task(1, true)], newTimers: [{ step: 2, fireAt: T0 + 1 }] });
      await c.started("c", "w2", { newTimers: [{ step: 2, fireAt: T0 + 1 }] });
      expect((await c.store.listLeaseOwners()).sort()).toEqual(["w1", "w2"]);

      await c.store.releaseLeases("w1", ["a"]);
      expect((await c.store.findReadyInstances("w3", T0 + 1, 10, [])).map((r) => r.instanceId)).toEqual(["a"]);
      // Releasing instances frees their tasks too, and only theirs.
      expect((await c.store.claimActivityTasks("w3", T0 + 1, T0 + LEASE, 10)).map((t) => t.instanceId)).toEqual(["a"]);

      await c.store.releaseLeases("w1");
      expect((await c.store.findReadyInstances("w3", T0 + 1, 10, [])).map((r) => r.instanceId).sort()).toEqual([
        "a",
        "b",
      ]);
      expect((await c.store.claimActivityTasks("w3", T0 + 1, T0 + LEASE, 10)).map((t) => t.instanceId)).toEqual(["b"]);
      expect(await c.store.listLeaseOwners()).not.toContain("w1");
      expect(await c.store.listLeaseOwners()).toContain("w2");
    });

    it("a released instance is taken over by acquiring the lease; the old holder is refused", async () => {
      const held = await c.started("a", "w1", { newTimers: [{ step: 1, fireAt: T0 + 1 }] });
      await c.store.releaseLeases("w1");
      const [ready] = await c.store.findReadyInstances("w2", T0 + 1, 10, []);
      expect(ready?.instanceId).toBe("a");
      const [took] = await c.store.commitEpisodes([
        c.episode(
          {
            instanceId: "a",
            executionId: held.executionId,
            workerId: "w2",
            leaseToken: ready?.leaseToken as number,
            historyLength: ready?.historyLength as number,
          },
          { acquireLease: true, now: T0 + 1 },
        ),
      ]);
      expect(took?.ok).toBe(true);
      expect(await c.advance(held, { now: T0 + 2 })).toEqual({ ok: false, reason: "lease-lost" });
      // Even if w1 tries to re-acquire with the token it last held.
      expect(await c.advance(held, { acquireLease: true, now: T0 + 2 })).toEqual({ ok: false, reason: "lease-lost" });
    });
  });

  describe("nextDueTime", () => {
    it("is undefined with nothing scheduled", async () => {
      expect(await c.store.nextDueTime(T0, "w1")).toBeUndefined();
    });

    it("is the next timer, or the end of another worker's lease, whichever is first", async () => {
      await c.started("a", "w1", { newTimers: [{ step: 1, fireAt: T0 + 500 }] });
      // w1's own lease does not count for w1.
      expect(await c.store.nextDueTime(T0, "w1")).toBe(T0 + 500);
      expect(await c.store.nextDueTime(T0 + 500, "w1")).toBeUndefined();
      // For w2, w1's lease ending is an event: it can take the instance over then.
      expect(await c.store.nextDueTime(T0 + 500, "w2")).toBe(T0 + LEASE);
      expect(await c.store.nextDueTime(T0, "w2")).toBe(T0 + 500);
      // The same when a worker names the queues it serves.
      expect(await c.store.nextDueTime(T0, "w1", ["default"])).toBe(T0 + 500);
      expect(await c.store.nextDueTime(T0 + 500, "w2", ["default"])).toBe(T0 + LEASE);
      expect(await c.store.nextDueTime(T0 + 500, "w2", ["other"])).toBeUndefined();
    });

    it("counts task leases of other workers", async () => {
      await c.started("a", "w1", { newTasks: [task(1, false)] });
      // Only a task lease is left: the instance's is handed back, then w1 claims the task.
      await c.store.releaseLeases("w1", ["a"]);
      expect(await c.store.claimActivityTasks("w1", T0, T0 + 2_000, 10)).toHaveLength(1);
      expect(await c.store.nextDueTime(T0, "w2")).toBe(T0 + 2_000);
      expect(await c.store.nextDueTime(T0, "w1")).toBeUndefined();
      expect(await c.store.nextDueTime(T0, "w2", ["default", "other"])).toBe(T0 + 2_000);
      expect(await c.store.nextDueTime(T0, "w2", ["other"])).toBeUndefined();
      expect(await c.store.nextDueTime(T0, "w1", ["default"])).toBeUndefined();
    });

    it("counts a task whose lease ended when it becomes claimable, for every worker", async () => {
      await c.started("a", "w1", { newTasks: [task(1, false)] });
      await c.store.releaseLeases("w1", ["a"]);
      expect(await c.store.claimActivityTasks("w1", T0, T0 + 2_000, 10)).toHaveLength(1);
      // Past the lease, the task is claimable at once: nothing is due later for it.
      expect(await c.store.nextDueTime(T0 + 2_001, "w1", ["default"])).toBeUndefined();
      expect(await c.store.claimActivityTasks("w2", T0 + 2_001, T0 + 4_000, 10)).toHaveLength(1);
    });
  });

  describe("commitCount", () => {
    it("counts transactions that changed something, and only those", async () => {
      let last = c.store.commitCount;
      const delta = (): number => {
        const d = c.store.commitCount - last;
        last = c.store.commitCount;
        return d;
      };
      await c.store.createInstances([newInstance("a"), newInstance("b")]);
      expect(delta()).toBe(1);
      await c.store.createInstances([newInstance("a")]);
      expect(delta()).toBe(0);
      await c.store.findReadyInstances("w1", T0, 10, []);
      await c.store.readInbox("a", T0);
      await c.store.getInstance("a");
      await c.store.getHistory("a");
      await c.store.listLeaseOwners();
      await c.store.nextDueTime(T0, "w1");
      expect(delta()).toBe(0);
      expect(await c.store.claimActivityTasks("w1", T0, T0 + LEASE, 10)).toEqual([]);
      await c.store.renewLeases("w1", T0 + LEASE);
      await c.store.releaseLeases("w1");
      expect(delta()).toBe(0);

      const [ra, rb] = await c.store.findReadyInstances("w1", T0, 10, []);
      const first = (r: typeof ra): EpisodeCommit =>
        c.episode(
          {
            instanceId: r?.instanceId as string,
            executionId: r?.executionId as string,
            workerId: "w1",
            leaseToken: r?.leaseToken as number,
            historyLength: 0,
          },
          { acquireLease: true, newTasks: [task(1, false)] },
        );
      const results = await c.store.commitEpisodes([first(ra), first(rb)]);
      expect(results.map((r) => r.ok)).toEqual([true, true]);
      expect(delta()).toBe(1);
      // The same commits again are stale: refused, nothing written, no commit counted.
      expect((await c.store.commitEpisodes([first(ra), first(rb)])).map((r) => r.ok)).toEqual([false, false]);
      expect(delta()).toBe(0);
      expect(await c.store.claimActivityTasks("w2", T0, T0 + LEASE, 10)).toHaveLength(2);
      expect(delta()).toBe(1);
    });
  });
}
