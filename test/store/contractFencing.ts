import { describe, expect, it } from "vitest";
import { type ContractKit, LEASE, marker, newInstance, T0, task } from "./contractKit.js";

/** Fencing: stale commits are refused whole, group commits refuse one and keep the rest, terminate fences the owner. */
export function fencingContract(c: ContractKit): void {
  describe("fencing", () => {
    async function snapshot(instanceId: string) {
      return {
        record: await c.store.getInstance(instanceId),
        history: await c.store.getHistory(instanceId),
        inbox: await c.store.readInbox(instanceId, T0 + 1_000),
      };
    }

    it("refuses a commit with a stale lease token and writes nothing of it", async () => {
      const held = await c.started("a", "w1", { newTimers: [{ step: 1, fireAt: T0 + 10 }] });
      const before = await snapshot("a");
      const result = await c.advance(
        { ...held, leaseToken: held.leaseToken - 1 },
        {
          newEvents: [marker(T0 + 20), { type: "ExecutionCompleted", timestamp: T0 + 20, output: 1 }],
          consumedMessageIds: before.inbox.map((m) => m.id),
          newTasks: [task(2, false)],
          newTimers: [{ step: 3, fireAt: T0 + 30 }],
          status: "Completed",
          output: 1,
          customStatus: { value: "stale" },
          now: T0 + 20,
        },
      );
      expect(result).toEqual({ ok: false, reason: "lease-lost" });
      expect(await snapshot("a")).toEqual(before);
      expect(await c.store.claimActivityTasks("w2", T0 + 20, T0 + LEASE, 10)).toEqual([]);
    });

    it("refuses a commit with a stale history length and writes nothing of it", async () => {
      const held = await c.started("a", "w1", { newTimers: [{ step: 1, fireAt: T0 + 10 }] });
      const before = await snapshot("a");
      for (const historyLength of [held.historyLength - 1, held.historyLength + 1]) {
        const result = await c.advance(
          { ...held, historyLength },
          {
            consumedMessageIds: before.inbox.map((m) => m.id),
            newTasks: [task(2, false)],
            status: "Running",
            customStatus: { value: "stale" },
          },
        );
        expect(result).toEqual({ ok: false, reason: "lease-lost" });
      }
      expect(await snapshot("a")).toEqual(before);
      expect(await c.store.claimActivityTasks("w2", T0, T0 + LEASE, 10)).toEqual([]);
    });

    it("refuses a commit from a worker that does not hold the lease, even with its token", async () => {
      const held = await c.started("a", "w1");
      const result = await c.advance({ ...held, workerId: "w2" });
      expect(result).toEqual({ ok: false, reason: "lease-lost" });
      expect(await c.store.getHistory("a")).toHaveLength(held.historyLength);
    });

    it("in a group commit, refuses the stale episode and commits the others", async () => {
      const one = await c.started("one");
      const two = await c.started("two");
      const three = await c.started("three");
      const results = await c.store.commitEpisodes([
        c.episode(one, { newTasks: [task(1, false, "from-one")] }),
        c.episode({ ...two, leaseToken: two.leaseToken + 5 }, { newTasks: [task(1, false, "from-two")] }),
        c.episode(three, { newTasks: [task(1, false, "from-three")] }),
      ]);
      expect(results.map((r) => r.ok)).toEqual([true, false, true]);
      expect(results[1]).toEqual({ ok: false, reason: "lease-lost" });
      expect(await c.store.getHistory("one")).toHaveLength(one.historyLength + 1);
      expect(await c.store.getHistory("two")).toHaveLength(two.historyLength);
      expect(await c.store.getHistory("three")).toHaveLength(three.historyLength + 1);
      const names = (await c.store.claimActivityTasks("w9", T0, T0 + LEASE, 10)).map((t) => t.name).sort();
      expect(names).toEqual(["from-one", "from-three"]);
    });

    it("in a group commit, reports an episode that cannot be written as an error and commits the others", async () => {
      const a = await c.started("a");
      const b = await c.started("b");
      const results = await c.store.commitEpisodes([
        c.episode(a, {
          newEvents: [marker(T0)],
          status: "Completed",
          // A function cannot be stored: the store must refuse this one episode only.
          output: () => "not json",
        }),
        c.episode(b, { newTasks: [task(1, false, "from-b")] }),
      ]);
      expect(results[0]).toMatchObject({ ok: false, reason: "error" });
      expect(results[1]?.ok).toBe(true);
      expect((await c.store.getInstance("a"))?.runtimeStatus).toBe("Running");
      expect(await c.store.getHistory("a")).toHaveLength(a.historyLength);
      expect(await c.store.getHistory("b")).toHaveLength(b.historyLength + 1);
    });

    it("terminateInstance stops an owned instance and fences out its owner", async () => {
      const held = await c.started("a", "w1", {
        newTasks: [task(1, true), task(2, false)],
        newTimers: [{ step: 3, fireAt: T0 + 10 }],
      });
      expect(await c.store.terminateInstance("a", "operator said stop", T0 + 5)).toBe("Running");
      const record = await c.store.getInstance("a");
      expect(record).toMatchObject({
        runtimeStatus: "Terminated",
        output: "operator said stop",
        completedAt: T0 + 5,
        lastUpdatedAt: T0 + 5,
      });
      const history = await c.store.getHistory("a");
      expect(history).toHaveLength(held.historyLength + 1);
      expect(history.at(-1)).toEqual({
        type: "ExecutionTerminated",
        timestamp: T0 + 5,
        reason: "operator said stop",
      });
      // The owner's next commit is refused; its task results are not accepted.
      expect(await c.advance(held, { now: T0 + 6 })).toEqual({ ok: false, reason: "lease-lost" });
      const [delivered] = await c.store.deliverActivityResults(
        [
          {
            taskId: held.taskIds[0] as number,
            leaseToken: 1,
            instanceId: "a",
            executionId: held.executionId,
            event: { type: "TaskCompleted", timestamp: T0 + 6, step: 1, attempt: 1, result: "late" },
          },
        ],
        T0 + 6,
      );
      expect(delivered).toBe(false);
      // Nothing is left to run or deliver for it.
      expect(await c.store.claimActivityTasks("w2", T0 + LEASE * 2, T0 + LEASE * 3, 10)).toEqual([]);
      expect(await c.store.readInbox("a", T0 + 100)).toEqual([]);
      expect(await c.store.findReadyInstances("w2", T0 + LEASE * 2, 10, [])).toEqual([]);
      expect(await c.store.getHistory("a")).toHaveLength(held.historyLength + 1);
    });

    it("terminateInstance leaves a finished instance as it was and reports its status", async () => {
      await c.finish(await c.started("a"));
      const before = await c.store.getHistory("a");
      expect(await c.store.terminateInstance("a", "too late", T0 + 5)).toBe("Completed");
      expect((await c.store.getInstance("a"))?.runtimeStatus).toBe("Completed");
      expect((await c.store.getInstance("a"))?.output).toBe("done");
      expect(await c.store.getHistory("a")).toEqual(before);
    });

    it("terminateInstance of a Pending instance drops its start message", async () => {
      await c.store.createInstances([newInstance("a")]);
      expect(await c.store.terminateInstance("a", "never mind", T0 + 1)).toBe("Pending");
      expect((await c.store.getInstance("a"))?.runtimeStatus).toBe("Terminated");
      expect(await c.store.findReadyInstances("w1", T0 + 1, 10, [])).toEqual([]);
      expect((await c.store.getHistory("a")).map((e) => e.type)).toEqual(["ExecutionTerminated"]);
    });

    it("terminateInstance of an unknown id fails with INSTANCE_NOT_FOUND", async () => {
      await expect(c.store.terminateInstance("nobody", "x", T0)).rejects.toMatchObject({ code: "INSTANCE_NOT_FOUND" });
    });
  });
}
