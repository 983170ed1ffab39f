import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../src/index.js";
import type { EpisodeCommit } from "../../src/store/store.js";
import { type ContractKit, LEASE, marker, newInstance, T0, task } from "./contractKit.js";

/** createInstances, reading instances back, finding ready ones and committing episodes. */
export function instanceContract(c: ContractKit): void {
  describe("createInstances", () => {
    it("creates a Pending instance with an ExecutionStarted message and no history", async () => {
      expect(await c.store.createInstances([newInstance("a", { input: { hello: ["world", 1] } })])).toEqual([
        undefined,
      ]);
      const record = await c.store.getInstance("a");
      expect(record).toMatchObject({
        instanceId: "a",
        name: "flow",
        executionId: "a-exec-1",
        runtimeStatus: "Pending",
        input: { hello: ["world", 1] },
        createdAt: T0,
        lastUpdatedAt: T0,
      });
      expect(record?.output).toBeUndefined();
      expect(record?.failure).toBeUndefined();
      expect(await c.store.getHistory("a")).toEqual([]);
      const inbox = await c.store.readInbox("a", T0);
      expect(inbox).toHaveLength(1);
      expect(inbox[0]?.executionId).toBe("a-exec-1");
      expect(inbox[0]?.event).toMatchObject({
        type: "ExecutionStarted",
        name: "flow",
        input: { hello: ["world", 1] },
      });
    });

    it("reads back an unknown id as undefined and an empty history", async () => {
      expect(await c.store.getInstance("nobody")).toBeUndefined();
      expect(await c.store.getRuntimeStatus("nobody")).toBeUndefined();
      expect(await c.store.getHistory("nobody")).toEqual([]);
    });

    it("reads the runtime status alone, as getInstance has it", async () => {
      await c.store.createInstances([newInstance("a")]);
      expect(await c.store.getRuntimeStatus("a")).toBe("Pending");
      await c.store.terminateInstance("a", "enough", T0 + 1);
      expect(await c.store.getRuntimeStatus("a")).toBe("Terminated");
      expect((await c.store.getInstance("a"))?.runtimeStatus).toBe("Terminated");
    });

    it("answers reads made at the same moment each with its own instance, an unknown id with undefined", async () => {
      await c.store.createInstances([newInstance("a", { input: "A" }), newInstance("b", { input: "B" })]);
      const ids = ["b", "nope", "a", "b", "a"];
      const records = await Promise.all(ids.map((id) => c.store.getInstance(id)));
      expect(records.map((r) => r?.instanceId)).toEqual(["b", undefined, "a", "b", "a"]);
      expect(records.map((r) => r?.input)).toEqual(["B", undefined, "A", "B", "A"]);
    });

    it("refuses a duplicate id with INSTANCE_ALREADY_EXISTS and keeps the original", async () => {
      await c.store.createInstances([newInstance("a")]);
      const [refusal] = await c.store.createInstances([newInstance("a", { input: "other", executionId: "x" })]);
      expect(refusal).toBeInstanceOf(Error);
      expect((refusal as { code?: string }).code).toBe("INSTANCE_ALREADY_EXISTS");
      const record = await c.store.getInstance("a");
      expect(record?.input).toEqual({ n: 1 });
      expect(record?.executionId).toBe("a-exec-1");
      expect(await c.store.readInbox("a", T0)).toHaveLength(1);
    });

    it("answers per request: in one batch, new ids are created and duplicates refused", async () => {
      await c.store.createInstances([newInstance("a")]);
      const results = await c.store.createInstances([
        newInstance("b"),
        newInstance("a"),
        newInstance("c"),
        newInstance("c"),
      ]);
      expect(results[0]).toBeUndefined();
      expect((results[1] as { code?: string }).code).toBe("INSTANCE_ALREADY_EXISTS");
      expect(results[2]).toBeUndefined();
      expect((results[3] as { code?: string }).code).toBe("INSTANCE_ALREADY_EXISTS");
      expect((await c.store.getInstance("b"))?.runtimeStatus).toBe("Pending");
      expect((await c.store.getInstance("c"))?.runtimeStatus).toBe("Pending");
    });

    it("replaceIfFinished does not replace an active instance", async () => {
      await c.started("a");
      const [refusal] = await c.store.createInstances([
        newInstance("a", { executionId: "a-exec-2", replaceIfFinished: true }),
      ]);
      expect((refusal as { code?: string }).code).toBe("INSTANCE_ALREADY_EXISTS");
      expect((await c.store.getInstance("a"))?.executionId).toBe("a-exec-1");
      expect(await c.store.getHistory("a")).toHaveLength(2);
    });

    it("replaceIfFinished replaces a finished instance with a fresh run", async () => {
      const held = await c.started("a");
      await c.finish(held);
      expect((await c.store.getInstance("a"))?.runtimeStatus).toBe("Completed");
      const [result] = await c.store.createInstances([
        newInstance("a", { executionId: "a-exec-2", input: "second", createdAt: T0 + 5, replaceIfFinished: true }),
      ]);
      expect(result).toBeUndefined();
      const record = await c.store.getInstance("a");
      expect(record).toMatchObject({ executionId: "a-exec-2", runtimeStatus: "Pending", input: "second" });
      expect(record?.output).toBeUndefined();
      expect(record?.completedAt).toBeUndefined();
      expect(await c.store.getHistory("a")).toEqual([]);
      const inbox = await c.store.readInbox("a", T0 + 5);
      expect(inbox.map((m) => m.executionId)).toEqual(["a-exec-2"]);
      // And the fresh run can be driven like any new instance.
      const [ready] = await c.store.findReadyInstances("w1", T0 + 5, 10, []);
      expect(ready).toMatchObject({ instanceId: "a", executionId: "a-exec-2", historyLength: 0 });
    });

    it("without replaceIfFinished, a finished instance is refused too", async () => {
      await c.finish(await c.started("a"));
      const [refusal] = await c.store.createInstances([newInstance("a", { executionId: "a-exec-2" })]);
      expect((refusal as { code?: string }).code).toBe("INSTANCE_ALREADY_EXISTS");
      expect((await c.store.getInstance("a"))?.runtimeStatus).toBe("Completed");
    });
  });

  describe("finding and committing episodes", () => {
    it("lists instances with due messages, honouring limit and busy", async () => {
      await c.store.createInstances([newInstance("a"), newInstance("b"), newInstance("c")]);
      await c.store.createInstances([newInstance("later", { createdAt: T0 + 1_000 })]);
      const all = await c.store.findReadyInstances("w1", T0, 100, []);
      expect(all.map((r) => r.instanceId).sort()).toEqual(["a", "b", "c"]);
      for (const ready of all) expect(ready).toMatchObject({ name: "flow", historyLength: 0 });
      expect(await c.store.findReadyInstances("w1", T0, 2, [])).toHaveLength(2);
      const notBusy = await c.store.findReadyInstances("w1", T0, 100, ["a", "c"]);
      expect(notBusy.map((r) => r.instanceId)).toEqual(["b"]);
      expect((await c.store.findReadyInstances("w1", T0 + 1_000, 100, [])).map((r) => r.instanceId).sort()).toEqual([
        "a",
        "b",
        "c",
        "later",
      ]);
    });

    it("records an episode: history, status, consumed messages, custom status", async () => {
      const held = await c.started("a", "w1", { customStatus: { value: { stage: 1 } } });
      const record = await c.store.getInstance("a");
      expect(record?.runtimeStatus).toBe("Running");
      expect(record?.customStatus).toEqual({ stage: 1 });
      const history = await c.store.getHistory("a");
      expect(history.map((e) => e.type)).toEqual(["OrchestratorStarted", "ExecutionStarted"]);
      expect(await c.store.readInbox("a", T0)).toEqual([]);
      // No due messages left: not ready, even for its owner.
      expect(await c.store.findReadyInstances("w1", T0, 10, [])).toEqual([]);
      // A commit without customStatus keeps the last one.
      const next = await c.advance(held, { now: T0 + 1 });
      expect(next.ok).toBe(true);
      expect((await c.store.getInstance("a"))?.customStatus).toEqual({ stage: 1 });
      expect((await c.store.getInstance("a"))?.lastUpdatedAt).toBe(T0 + 1);
    });

    it("takes the lease optimistically: of two workers that saw the same token, one wins", async () => {
      await c.store.createInstances([newInstance("a")]);
      const [seen1] = await c.store.findReadyInstances("w1", T0, 10, []);
      const [seen2] = await c.store.findReadyInstances("w2", T0, 10, []);
      expect(seen1?.leaseToken).toBe(seen2?.leaseToken);
      const inbox = await c.store.readInbox("a", T0);
      const attempt = (workerId: string, token: number): EpisodeCommit =>
        c.episode(
          { instanceId: "a", executionId: "a-exec-1", workerId, leaseToken: token, historyLength: 0 },
          {
            acquireLease: true,
            newEvents: [marker(T0), inbox[0]?.event as HistoryEvent],
            consumedMessageIds: [inbox[0]?.id as number],
            newTasks: [task(1, false, workerId)],
          },
        );
      const [first] = await c.store.commitEpisodes([attempt("w1", seen1?.leaseToken as number)]);
      const [second] = await c.store.commitEpisodes([attempt("w2", seen2?.leaseToken as number)]);
      expect(first?.ok).toBe(true);
      expect(second).toEqual({ ok: false, reason: "lease-lost" });
      expect(await c.store.getHistory("a")).toHaveLength(2);
      // Only the winner's task exists.
      const tasks = await c.store.claimActivityTasks("w3", T0, T0 + LEASE, 10);
      expect(tasks.map((t) => t.name)).toEqual(["w1"]);
      expect(await c.store.listLeaseOwners()).toContain("w1");
      expect(await c.store.listLeaseOwners()).not.toContain("w2");
    });

    it("hides an instance leased to another worker until that lease expires", async () => {
      const held = await c.started("a", "w1", { newTimers: [{ step: 1, fireAt: T0 + 100 }] });
      expect(await c.store.findReadyInstances("w2", T0 + 100, 10, [])).toEqual([]);
      const own = await c.store.findReadyInstances("w1", T0 + 100, 10, []);
      expect(own.map((r) => r.instanceId)).toEqual(["a"]);
      expect(own[0]?.historyLength).toBe(held.historyLength);
      const afterExpiry = await c.store.findReadyInstances("w2", T0 + LEASE + 1, 10, []);
      expect(afterExpiry.map((r) => r.instanceId)).toEqual(["a"]);

      // w2 takes it over with the token it saw; w1's next commit is then refused.
      const takeover = afterExpiry[0];
      const [took] = await c.store.commitEpisodes([
        c.episode(
          {
            instanceId: "a",
            executionId: held.executionId,
            workerId: "w2",
            leaseToken: takeover?.leaseToken as number,
            historyLength: takeover?.historyLength as number,
          },
          { acquireLease: true, now: T0 + LEASE + 1 },
        ),
      ]);
      expect(took?.ok).toBe(true);
      expect(await c.advance(held, { now: T0 + LEASE + 2 })).toEqual({ ok: false, reason: "lease-lost" });
    });

    it("delivers timers as TimerFired messages at their due time", async () => {
      await c.started("a", "w1", { newTimers: [{ step: 3, fireAt: T0 + 500 }] });
      expect(await c.store.readInbox("a", T0 + 499)).toEqual([]);
      const due = await c.store.readInbox("a", T0 + 500);
      expect(due.map((m) => m.event)).toEqual([{ type: "TimerFired", timestamp: T0 + 500, step: 3, fireAt: T0 + 500 }]);
    });

    it("finishing an instance releases it and drops what still waits for it", async () => {
      const held = await c.started("a", "w1", {
        newTasks: [task(1, false)],
        newTimers: [{ step: 2, fireAt: T0 + 50 }],
      });
      const result = await c.advance(held, {
        newEvents: [marker(T0 + 1), { type: "ExecutionCompleted", timestamp: T0 + 1, output: { total: 3 } }],
        status: "Completed",
        output: { total: 3 },
        now: T0 + 1,
      });
      expect(result.ok).toBe(true);
      const record = await c.store.getInstance("a");
      expect(record).toMatchObject({ runtimeStatus: "Completed", output: { total: 3 }, completedAt: T0 + 1 });
      expect(await c.store.readInbox("a", T0 + 100)).toEqual([]);
      expect(await c.store.claimActivityTasks("w2", T0 + 100, T0 + LEASE, 10)).toEqual([]);
      expect(await c.store.findReadyInstances("w2", T0 + 100, 10, [])).toEqual([]);
      expect(await c.store.listLeaseOwners()).toEqual([]);
    });

    it("records a failure", async () => {
      const held = await c.started("a");
      const failure = {
        name: "Error",
        message: "it broke",
        code: "E_BROKE",
        cause: { name: "Error", message: "why" },
      };
      const result = await c.advance(held, {
        newEvents: [marker(T0), { type: "ExecutionFailed", timestamp: T0, failure }],
        status: "Failed",
        failure,
      });
      expect(result.ok).toBe(true);
      const record = await c.store.getInstance("a");
      expect(record?.runtimeStatus).toBe("Failed");
      expect(record?.failure).toEqual(failure);
      expect(record?.output).toBeUndefined();
    });
  });
}
