import { describe, expect, it } from "vitest";
import type { HistoryEvent } from "../../src/index.js";
import type { EpisodeCommit, EpisodeCommitResult } from "../../src/store/store.js";
import { type ContractKit, LEASE, marker, newInstance, T0, task } from "./contractKit.js";

/** Task queues: routing of instances and tasks, and per-queue limits that hold across workers. */
export function queueContract(c: ContractKit): void {
  /**
   * Creates an instance on `queue` and commits its first episode as "w1" (recording
   * `events` after its start); returns the store's answer.
   */
  async function startOn(
    queue: string | undefined,
    instanceId: string,
    extra: Partial<EpisodeCommit> = {},
    events: HistoryEvent[] = [],
  ): Promise<Extract<EpisodeCommitResult, { ok: true }> & { executionId: string }> {
    const request = newInstance(instanceId, queue === undefined ? {} : { queue });
    expect(await c.store.createInstances([request])).toEqual([undefined]);
    const workerId = "w1";
    const ready = await c.store.findReadyInstances(workerId, T0, 100, [], [queue ?? "default"]);
    const found = ready.find((r) => r.instanceId === instanceId);
    if (!found) throw new Error(`instance ${instanceId} should be ready on queue ${queue}`);
    const inbox = await c.store.readInbox(instanceId, T0);
    const commit = c.episode(
      { instanceId, executionId: found.executionId, workerId, leaseToken: found.leaseToken, historyLength: 0 },
      {
        acquireLease: true,
        newEvents: [marker(T0), inbox[0]?.event as HistoryEvent, ...events],
        consumedMessageIds: inbox.map((m) => m.id),
        ...extra,
      },
    );
    const [result] = await c.store.commitEpisodes([commit]);
    if (!result?.ok) throw new Error(`the first episode of ${instanceId} was refused`);
    return { ...result, executionId: found.executionId };
  }

  /** Unleased tasks on `queue`, from one instance. */
  const tasksOn = (queue: string, count: number, instanceId = "tasks") =>
    startOn(undefined, instanceId, {
      newTasks: Array.from({ length: count }, (_, i) => task(i + 1, false, "act", queue)),
    });

  const claim = (workerId: string, now: number, queues: string[], limit = 10) =>
    c.store.claimActivityTasks(workerId, now, now + LEASE, limit, queues);

  describe("queues: routing", () => {
    it("an instance keeps its queue; workers find the instances of the queues they serve only", async () => {
      await c.store.createInstances([
        newInstance("plain"),
        newInstance("on-a", { queue: "a" }),
        newInstance("on-b", { queue: "b" }),
      ]);
      expect((await c.store.getInstance("plain"))?.queue).toBe("default");
      expect((await c.store.getInstance("on-a"))?.queue).toBe("a");
      const ids = async (queues?: string[]) =>
        (await c.store.findReadyInstances("w1", T0, 10, [], queues)).map((r) => r.instanceId).sort();
      expect(await ids()).toEqual(["plain"]);
      expect(await ids(["a"])).toEqual(["on-a"]);
      expect(await ids(["b", "a"])).toEqual(["on-a", "on-b"]);
      expect(await ids(["default", "a", "b"])).toEqual(["on-a", "on-b", "plain"]);
      expect(await ids(["c"])).toEqual([]);
    });

    it("a sub-orchestration is created on the queue its request names", async () => {
      await startOn("a", "parent", {
        newInstances: [{ ...newInstance("child", { queue: "b" }), replaceIfFinished: true }],
      });
      expect((await c.store.getInstance("child"))?.queue).toBe("b");
      expect((await c.store.findReadyInstances("w2", T0, 10, [], ["a"])).map((r) => r.instanceId)).toEqual([]);
      expect((await c.store.findReadyInstances("w2", T0, 10, [], ["b"])).map((r) => r.instanceId)).toEqual(["child"]);
    });

    it("continue-as-new keeps the instance on its queue", async () => {
      const first = await startOn("a", "eternal");
      const [result] = await c.store.commitEpisodes([
        c.episode(
          {
            instanceId: "eternal",
            executionId: first.executionId,
            workerId: "w1",
            leaseToken: first.leaseToken,
            historyLength: 2,
          },
          {
            status: "ContinuedAsNew",
            releaseLease: true,
            continueAsNew: {
              executionId: "eternal-exec-2",
              input: 2,
              carryOverEvents: [],
              preserveUnprocessedEvents: false,
            },
          },
        ),
      ]);
      expect(result?.ok).toBe(true);
      expect((await c.store.getInstance("eternal"))?.queue).toBe("a");
      expect((await c.store.findReadyInstances("w2", T0, 10, [], ["a"])).map((r) => r.executionId)).toEqual([
        "eternal-exec-2",
      ]);
    });

    it("workers claim the tasks of the queues they serve only, and a claimed task names its queue", async () => {
      await startOn(undefined, "a", {
        newTasks: [task(1, false, "plain"), task(2, false, "render", "gpu"), task(3, false, "send", "mail")],
      });
      expect(await claim("w2", T0, ["other"])).toEqual([]);
      const gpu = await claim("w2", T0, ["gpu"]);
      expect(gpu.map((t) => [t.name, t.queue])).toEqual([["render", "gpu"]]);
      const byDefault = await c.store.claimActivityTasks("w3", T0, T0 + LEASE, 10);
      expect(byDefault.map((t) => [t.name, t.queue])).toEqual([["plain", "default"]]);
      expect((await claim("w4", T0, ["gpu", "mail", "default"])).map((t) => t.name)).toEqual(["send"]);
    });

    it("a rewound activity call goes back to its queue", async () => {
      const scheduled: HistoryEvent = {
        type: "TaskScheduled",
        timestamp: T0,
        step: 1,
        name: "render",
        input: { step: 1 },
        attempt: 1,
        queue: "gpu",
      };
      const first = await startOn(undefined, "a", { newTasks: [task(1, true, "render", "gpu")] }, [scheduled]);
      const held = { instanceId: "a", executionId: first.executionId, workerId: "w1", leaseToken: first.leaseToken };
      const failed = await c.advance(
        { ...held, historyLength: 3, taskIds: [] },
        {
          newEvents: [marker(T0), { type: "ExecutionFailed", timestamp: T0, failure: { name: "Error", message: "x" } }],
          status: "Failed",
          failure: { name: "Error", message: "x" },
        },
      );
      expect(failed.ok).toBe(true);
      await c.store.rewindInstance("a", "try again", T0 + 1);
      expect(await claim("w2", T0 + 1, ["default"])).toEqual([]);
      const [again] = await claim("w2", T0 + 1, ["gpu"]);
      expect(again).toMatchObject({ name: "render", step: 1, queue: "gpu" });
    });

    it("nextDueTime counts only the tasks of the queues asked about", async () => {
      await startOn(undefined, "a", { newTasks: [task(1, false, "render", "gpu")] });
      await claim("w2", T0, ["gpu"]);
      // w1 holds the instance until T0 + LEASE, w2 the gpu task until T0 + 1 + LEASE.
      await c.store.renewLeases("w2", T0 + LEASE / 2);
      expect(await c.store.nextDueTime(T0, "w3")).toBe(T0 + LEASE / 2);
      expect(await c.store.nextDueTime(T0, "w3", ["gpu"])).toBe(T0 + LEASE / 2);
      expect(await c.store.nextDueTime(T0, "w3", ["default"])).toBe(T0 + LEASE);
    });
  });

  describe("queues: limits across workers", () => {
    it("configureQueues stores each queue's limits, and a queue given none loses them", async () => {
      await c.store.configureQueues(
        [
          { name: "gpu", concurrency: 2 },
          { name: "api", ratePerSecond: 2.5, burst: 3 },
        ],
        T0,
      );
      expect(await c.store.listQueues()).toEqual([
        { name: "api", ratePerSecond: 2.5, burst: 3 },
        { name: "gpu", concurrency: 2 },
      ]);
      await c.store.configureQueues([{ name: "gpu" }, { name: "api", concurrency: 1, ratePerSecond: 1, burst: 1 }], T0);
      expect(await c.store.listQueues()).toEqual([{ name: "api", concurrency: 1, ratePerSecond: 1, burst: 1 }]);
    });

    it("never leases a limited queue's task on the fast path; an unlimited queue's task, yes", async () => {
      await c.store.configureQueues([{ name: "gpu", concurrency: 5 }], T0);
      const result = await startOn(undefined, "a", {
        newTasks: [task(1, true, "render", "gpu"), task(2, true, "plain"), task(3, false, "other")],
      });
      expect(result.leased).toEqual([false, true, false]);
      expect(result.taskIds).toHaveLength(3);
      // The refused one waits for a claim, which applies the limits.
      expect((await claim("w2", T0, ["gpu"])).map((t) => t.id)).toEqual([result.taskIds[0]]);
    });

    it("the concurrency limit holds with four workers claiming at once", async () => {
      await c.store.configureQueues([{ name: "gpu", concurrency: 2 }], T0);
      await tasksOn("gpu", 6);
      await startOn(undefined, "b", { newTasks: [task(1, false, "plain")] });
      const claims = await Promise.all(["w1", "w2", "w3", "w4"].map((w) => claim(w, T0, ["gpu"])));
      const leased = claims.flat();
      expect(leased).toHaveLength(2);
      expect(new Set(leased.map((t) => t.id)).size).toBe(2);
      // The full queue blocks none of the others a worker serves.
      expect((await claim("w5", T0 + 1, ["gpu", "default"])).map((t) => t.name)).toEqual(["plain"]);
      // A finished task frees its place.
      const done = leased[0];
      if (!done) throw new Error("no task was claimed");
      const delivered = await c.store.deliverActivityResults(
        [
          {
            taskId: done.id,
            leaseToken: done.leaseToken,
            instanceId: done.instanceId,
            executionId: done.executionId,
            event: { type: "TaskCompleted", timestamp: T0 + 2, step: done.step, attempt: 1, result: null },
          },
        ],
        T0 + 2,
      );
      expect(delivered).toEqual([true]);
      const next = await Promise.all(["w1", "w2", "w3"].map((w) => claim(w, T0 + 3, ["gpu"])));
      expect(next.flat()).toHaveLength(1);
    });

    it("expired leases do not count against the concurrency limit, and are claimed again", async () => {
      await c.store.configureQueues([{ name: "gpu", concurrency: 2 }], T0);
      await tasksOn("gpu", 3);
      const first = await claim("w1", T0, ["gpu"]);
      expect(first).toHaveLength(2);
      expect(await claim("w2", T0 + LEASE, ["gpu"])).toEqual([]);
      // w1 died: its leases ran out. Its two tasks are the oldest; the third waits.
      const later = await claim("w2", T0 + LEASE + 1, ["gpu"]);
      expect(later.map((t) => t.id).sort()).toEqual(first.map((t) => t.id).sort());
    });

    it("the rate limit holds: claims within any window are at most rate × window + burst", async () => {
      const rate = 2;
      const burst = 3;
      await c.store.configureQueues([{ name: "api", ratePerSecond: rate, burst }], T0);
      await tasksOn("api", 40);
      const starts: number[] = [];
      for (let now = T0; now <= T0 + 5_000; now += 100) {
        // Two claimers at each instant, racing for the same bucket.
        const claims = await Promise.all(["w1", "w2"].map((w) => claim(w, now, ["api"])));
        starts.push(...claims.flat().map(() => now));
        if (now === T0) expect(claims.flat()).toHaveLength(burst);
      }
      for (const from of starts) {
        for (const to of starts) {
          if (to < from) continue;
          const inWindow = starts.filter((s) => s >= from && s <= to).length;
          expect(inWindow).toBeLessThanOrEqual(Math.floor((rate * (to - from)) / 1000) + burst);
        }
      }
      // Not throttled below the rate either: the full bucket, then 2 a second for 5 seconds.
      expect(starts).toHaveLength(burst + rate * 5);
    });

    it("nextDueTime is the moment a rate-limited queue with waiting tasks gets its next token", async () => {
      await c.store.configureQueues([{ name: "api", ratePerSecond: 2, burst: 1 }], T0);
      await tasksOn("api", 3);
      expect(await claim("w2", T0, ["api"])).toHaveLength(1);
      expect(await c.store.nextDueTime(T0, "w2", ["api"])).toBe(T0 + 500);
      expect(await c.store.nextDueTime(T0 + 200, "w2", ["api"])).toBe(T0 + 500);
      expect(await claim("w2", T0 + 499, ["api"])).toEqual([]);
      expect(await claim("w2", T0 + 500, ["api"])).toHaveLength(1);
    });

    it("configuring a queue again keeps its bucket's level: restarting workers grants no extra starts", async () => {
      await c.store.configureQueues([{ name: "api", ratePerSecond: 1, burst: 2 }], T0);
      await tasksOn("api", 5);
      expect(await claim("w1", T0, ["api"])).toHaveLength(2);
      await c.store.configureQueues([{ name: "api", ratePerSecond: 1, burst: 2 }], T0 + 10);
      expect(await claim("w2", T0 + 10, ["api"])).toEqual([]);
      expect(await claim("w2", T0 + 1_000, ["api"])).toHaveLength(1);
    });

    it("a queue whose limits were removed is claimed freely again", async () => {
      await c.store.configureQueues([{ name: "gpu", concurrency: 1 }], T0);
      await tasksOn("gpu", 3);
      expect(await claim("w1", T0, ["gpu"])).toHaveLength(1);
      await c.store.configureQueues([{ name: "gpu" }], T0 + 1);
      expect(await claim("w2", T0 + 1, ["gpu"])).toHaveLength(2);
    });
  });
}
