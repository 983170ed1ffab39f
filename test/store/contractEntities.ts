import { describe, expect, it } from "vitest";
import type { EntityCommit, EntitySnapshot, NewEntityMessage } from "../../src/store/entityStore.js";
import { type ContractKit, type Held, LEASE, newInstance, T0 } from "./contractKit.js";

const signal = (key: string, operation: string, input: unknown, extra: Partial<NewEntityMessage> = {}) =>
  ({ name: "counter", key, kind: "operation", operation, input, visibleAt: T0, ...extra }) as NewEntityMessage;

/** Durable entities: messages, batches fenced by the lease token, locks, and the client's reads. */
export function entityContract(c: ContractKit): void {
  /** Reads one entity's snapshot (without taking it). */
  const peek = async (key: string, now = T0, name = "counter"): Promise<EntitySnapshot> => {
    const [snapshot] = await c.store.readEntities([{ name, key }], now, 1_000);
    if (!snapshot) throw new Error(`no snapshot of ${name}@${key}`);
    return snapshot;
  };

  /** Takes an entity's lease for `workerId` and reads it, as a worker does before a batch. */
  const snapshotOf = async (key: string, now = T0, name = "counter", workerId = "w1"): Promise<EntitySnapshot> => {
    const seen = await peek(key, now, name);
    const claimed = await c.store.claimEntities(
      workerId,
      [{ name, key, leaseToken: seen.leaseToken }],
      now,
      now + LEASE,
    );
    expect(claimed).toEqual([{ name, key, leaseToken: seen.leaseToken + 1, leasedUntil: now + LEASE }]);
    return peek(key, now, name);
  };

  /** A commit that consumes every message of a snapshot and sets the state. */
  const batch = (s: EntitySnapshot, overrides: Partial<EntityCommit> = {}): EntityCommit => ({
    name: s.name,
    key: s.key,
    workerId: "w1",
    leaseToken: s.leaseToken,
    consumedMessageIds: s.messages.map((m) => m.id),
    lock: s.lock ?? null,
    replies: [],
    messages: [],
    newInstances: [],
    now: T0,
    leaseExpiresAt: T0 + LEASE,
    ...overrides,
  });

  const commitOne = async (commit: EntityCommit) => {
    const [result] = await c.store.commitEntityBatches([commit]);
    if (!result) throw new Error("commitEntityBatches returned no result");
    return result;
  };

  /** Puts a lock on counter@key for a held instance, as a granted lock request does. */
  const lockFor = async (key: string, held: Held, workerId = "w1"): Promise<void> => {
    await c.store.sendEntityMessages([
      {
        name: "counter",
        key,
        kind: "lock",
        sender: { instanceId: held.instanceId, executionId: held.executionId },
        replyStep: 1,
        lockSet: [{ name: "counter", key }],
        visibleAt: T0,
      },
    ]);
    const s = await snapshotOf(key, T0, "counter", workerId);
    expect(s.messages.at(-1)?.senderActive).toBe(true);
    const lock = { instanceId: held.instanceId, executionId: held.executionId };
    expect((await commitOne(batch(s, { workerId, lock }))).ok).toBe(true);
  };

  describe("entities", () => {
    it("queues messages in order and reads them back with every field", async () => {
      await c.store.sendEntityMessages([
        signal("a", "add", 1),
        signal("a", "add", { deep: [1, "x"] }, { sender: { instanceId: "o", executionId: "e" }, replyStep: 4 }),
        signal("b", "reset", undefined),
      ]);
      const s = await peek("a");
      expect(s).toMatchObject({ name: "counter", key: "a", exists: false, orphanedLock: false });
      expect(s.state).toBeUndefined();
      expect(s.lock).toBeUndefined();
      expect(s.messages.map((m) => m.input)).toEqual([1, { deep: [1, "x"] }]);
      expect(s.messages[0]).toMatchObject({ kind: "operation", operation: "add", visibleAt: T0 });
      expect(s.messages[0]?.sender).toBeUndefined();
      expect(s.messages[1]).toMatchObject({ sender: { instanceId: "o", executionId: "e" }, replyStep: 4 });
      expect(s.messages[0]?.id).toBeLessThan(s.messages[1]?.id as number);
      expect((await peek("b")).messages.map((m) => m.operation)).toEqual(["reset"]);
      // A row exists for each entity written to, without state yet.
      expect(await c.store.getEntity("counter", "a")).toMatchObject({ name: "counter", key: "a", exists: false });
      expect(await c.store.getEntity("counter", "nobody")).toBeUndefined();
    });

    it("finds entities with due messages of the registered names, honouring limit and busy", async () => {
      await c.store.sendEntityMessages([
        signal("a", "add", 1),
        signal("b", "add", 1),
        signal("later", "add", 1, { visibleAt: T0 + 500 }),
        { ...signal("x", "add", 1), name: "other" },
      ]);
      const keys = async (now: number, busy: { name: string; key: string }[] = [], names = ["counter"]) =>
        (await c.store.findReadyEntities("w1", now, 10, names, busy)).map((r) => r.key).sort();
      expect(await keys(T0)).toEqual(["a", "b"]);
      expect(await keys(T0, [{ name: "counter", key: "a" }])).toEqual(["b"]);
      expect(await keys(T0, [], ["nothing"])).toEqual([]);
      expect(await keys(T0, [], ["counter", "other"])).toEqual(["a", "b", "x"]);
      expect(await c.store.findReadyEntities("w1", T0, 1, ["counter"], [])).toHaveLength(1);
      expect(await keys(T0 + 500)).toEqual(["a", "b", "later"]);
      expect(await c.store.nextDueTime(T0, "w1")).toBe(T0 + 500);
      // Not yet visible: not read either.
      expect((await peek("later")).messages).toEqual([]);
    });

    it("commits a batch: state, consumed messages, and the lease for the committing worker", async () => {
      await c.store.sendEntityMessages([signal("a", "add", 1), signal("a", "add", 2)]);
      const s = await snapshotOf("a");
      const result = await commitOne(batch(s, { state: { exists: true, value: { total: 3 } }, now: T0 + 1 }));
      expect(result).toEqual({ ok: true, leaseToken: s.leaseToken + 1 });
      expect(await c.store.getEntity("counter", "a")).toEqual({
        name: "counter",
        key: "a",
        exists: true,
        state: { total: 3 },
        lastModified: T0 + 1,
      });
      expect((await peek("a")).messages).toEqual([]);
      // New messages: the holder finds the entity, another worker not until the lease expires.
      await c.store.sendEntityMessages([signal("a", "add", 4)]);
      expect(await c.store.findReadyEntities("w1", T0 + 2, 10, ["counter"], [])).toEqual([
        { name: "counter", key: "a", leaseToken: s.leaseToken + 1, leasedUntil: T0 + LEASE },
      ]);
      expect(await c.store.findReadyEntities("w2", T0 + 2, 10, ["counter"], [])).toEqual([]);
      expect(await c.store.findReadyEntities("w2", T0 + LEASE + 1, 10, ["counter"], [])).toHaveLength(1);
      expect(await c.store.listLeaseOwners()).toContain("w1");
    });

    it("refuses the batch of a worker whose lease expired and was taken, and writes nothing of it", async () => {
      await c.store.sendEntityMessages([signal("a", "add", 1)]);
      const stale = await snapshotOf("a", T0, "counter", "w1");
      // w1 stalls past its lease; w2 takes the entity over, with a new token.
      const later = T0 + LEASE + 1;
      const taken = await c.store.claimEntities(
        "w2",
        [{ name: "counter", key: "a", leaseToken: stale.leaseToken }],
        later,
        later + LEASE,
      );
      expect(taken).toHaveLength(1);
      const refused = await commitOne(
        batch(stale, {
          now: later,
          state: { exists: true, value: 99 },
          messages: [signal("b", "add", 1)],
          newInstances: [newInstance("started-by-stale")],
        }),
      );
      expect(refused).toEqual({ ok: false, reason: "lease-lost" });
      expect((await c.store.getEntity("counter", "a"))?.exists).toBe(false);
      expect(await c.store.getEntity("counter", "b")).toBeUndefined();
      expect(await c.store.getInstance("started-by-stale")).toBeUndefined();
      const current = await peek("a", later);
      expect(current.messages.map((m) => m.input)).toEqual([1]);
      const accepted = await commitOne(
        batch(current, { workerId: "w2", now: later, state: { exists: true, value: 1 } }),
      );
      expect(accepted.ok).toBe(true);
      expect((await c.store.getEntity("counter", "a"))?.state).toBe(1);
    });

    it("gives an entity to one worker at a time: a held lease cannot be claimed, nor committed by another", async () => {
      await c.store.sendEntityMessages([signal("a", "add", 1)]);
      const seen = await peek("a");
      const ready = { name: "counter", key: "a", leaseToken: seen.leaseToken };
      const [first, second] = await Promise.all([
        c.store.claimEntities("w1", [ready], T0, T0 + LEASE),
        c.store.claimEntities("w2", [ready], T0, T0 + LEASE),
      ]);
      expect([first?.length, second?.length].sort()).toEqual([0, 1]);
      const holder = first?.length === 1 ? "w1" : "w2";
      const other = holder === "w1" ? "w2" : "w1";
      const s = await peek("a");
      expect(await c.store.claimEntities(other, [{ ...ready, leaseToken: s.leaseToken }], T0 + 1, T0 + LEASE)).toEqual(
        [],
      );
      expect((await commitOne(batch(s, { workerId: other, state: { exists: true, value: other } }))).ok).toBe(false);
      expect((await commitOne(batch(s, { workerId: holder, state: { exists: true, value: holder } }))).ok).toBe(true);
      expect((await c.store.getEntity("counter", "a"))?.state).toBe(holder);
      // A claim with a token that is no longer current takes nothing.
      expect(await c.store.claimEntities(holder, [ready], T0 + LEASE * 3, T0 + LEASE * 4)).toEqual([]);
    });

    it("commits many entities' batches at once, each fenced on its own", async () => {
      await c.store.sendEntityMessages([signal("a", "add", 1), signal("b", "add", 1)]);
      const a = await snapshotOf("a");
      const b = await snapshotOf("b");
      // b's lease passes to w9 (it expired): w1's batch of b is fenced out, its batch of a is not.
      const [moved] = await c.store.claimEntities("w9", [b], T0 + LEASE + 1, T0 + LEASE * 2);
      expect(moved).toBeDefined();
      const results = await c.store.commitEntityBatches([
        batch(a, { state: { exists: true, value: "a" } }),
        batch(b, { state: { exists: true, value: "b" } }),
      ]);
      expect(results.map((r) => r.ok)).toEqual([true, false]);
      expect((await c.store.getEntity("counter", "a"))?.state).toBe("a");
      expect((await c.store.getEntity("counter", "b"))?.exists).toBe(false);
    });

    it("deletes state: the entity exists no more, and a later batch sees no state", async () => {
      await c.store.sendEntityMessages([signal("a", "add", 1)]);
      await commitOne(batch(await snapshotOf("a"), { state: { exists: true, value: 7 } }));
      await c.store.sendEntityMessages([signal("a", "delete", null)]);
      await commitOne(batch(await snapshotOf("a"), { state: { exists: false, value: undefined } }));
      expect(await c.store.getEntity("counter", "a")).toMatchObject({ exists: false });
      expect((await c.store.getEntity("counter", "a"))?.state).toBeUndefined();
      await c.store.sendEntityMessages([signal("a", "add", 1)]);
      expect(await peek("a")).toMatchObject({ exists: false });
    });

    it("sends what a batch produced: replies to active executions only, signals, and new instances", async () => {
      const held = await c.started("caller");
      await c.finish(await c.started("done"));
      await c.store.createInstances([newInstance("exists", { input: "original" })]);
      await c.store.sendEntityMessages([signal("a", "get", null)]);
      const s = await snapshotOf("a");
      const completed = { type: "EntityOperationCompleted" as const, timestamp: T0, step: 3, result: 42 };
      const result = await commitOne(
        batch(s, {
          replies: [
            { instanceId: "caller", executionId: held.executionId, event: completed },
            { instanceId: "caller", executionId: "old-execution", event: { ...completed, step: 9 } },
            { instanceId: "done", executionId: "done-exec-1", event: completed },
          ],
          messages: [signal("b", "add", 10)],
          newInstances: [newInstance("new-one"), newInstance("exists", { input: "second", executionId: "x" })],
        }),
      );
      expect(result.ok).toBe(true);
      expect((await c.store.readInbox("caller", T0)).map((m) => m.event)).toEqual([completed]);
      expect(await c.store.readInbox("done", T0)).toEqual([]);
      expect((await peek("b")).messages.map((m) => m.input)).toEqual([10]);
      expect((await c.store.getInstance("new-one"))?.runtimeStatus).toBe("Pending");
      expect((await c.store.getInstance("exists"))?.input).toBe("original");
    });

    it("episodes send entity messages with their commit, and a refused episode sends none", async () => {
      const held = await c.started("o");
      const sender = { instanceId: "o", executionId: held.executionId };
      const ok = await c.advance(held, { entityMessages: [signal("a", "add", 1, { sender, replyStep: 2 })] });
      expect(ok.ok).toBe(true);
      const refused = await c.advance(held, { entityMessages: [signal("a", "add", 2)] });
      expect(refused.ok).toBe(false);
      const s = await peek("a");
      expect(s.messages.map((m) => [m.input, m.sender?.instanceId, m.replyStep])).toEqual([[1, "o", 2]]);
    });

    it("a lock holds back every other sender's messages, and reads only the owner's", async () => {
      const owner = await c.started("owner");
      await lockFor("a", owner);
      const fromOwner = { instanceId: "owner", executionId: owner.executionId };
      await c.store.sendEntityMessages([signal("a", "add", 1), signal("a", "add", 2, { sender: fromOwner })]);
      const s = await snapshotOf("a");
      expect(s.lock).toEqual(fromOwner);
      expect(s.messages.map((m) => m.input)).toEqual([2]);
      await commitOne(batch(s));
      // Only the other sender's message waits: the entity is not ready.
      expect(await c.store.findReadyEntities("w1", T0, 10, ["counter"], [])).toEqual([]);
      expect((await c.store.getEntity("counter", "a"))?.lockedBy).toBe("owner");
    });

    it("an execution that ends releases its locks and drops its lock requests", async () => {
      const owner = await c.started("owner");
      await lockFor("a", owner);
      const sender = { instanceId: "owner", executionId: owner.executionId };
      await c.store.sendEntityMessages([
        signal("a", "add", 1),
        { name: "counter", key: "b", kind: "lock", sender, replyStep: 5, visibleAt: T0 },
      ]);
      await c.finish(owner);
      const s = await peek("a");
      expect(s.lock).toBeUndefined();
      expect(s.orphanedLock).toBe(false);
      expect(s.messages.map((m) => m.input)).toEqual([1]);
      expect((await peek("b")).messages).toEqual([]);
      expect((await c.store.getEntity("counter", "a"))?.lockedBy).toBeUndefined();
      // The log says who let go: the lock, then its release by the ended orchestration.
      const { operations } = await c.store.getEntityOperations("counter", "a", 10);
      expect(operations.map((o) => [o.kind, o.sender, o.ok])).toEqual([
        ["unlock", { kind: "orchestration", instanceId: "owner" }, true],
      ]);
      // w1 still holds the entity's lease: its next batch, under the token the release left,
      // lands, and its log entry comes after the unlock.
      const after = await peek("a");
      const record = { kind: "signal" as const, operation: "add", sender: { kind: "client" as const }, appliedAt: T0 };
      expect((await commitOne(batch(after, { operations: [{ ...record, ok: true }] }))).ok).toBe(true);
      const kinds = (await c.store.getEntityOperations("counter", "a", 10)).operations.map((o) => o.kind);
      expect(kinds).toEqual(["signal", "unlock"]);
    });

    it("terminating an instance releases its locks and drops its lock requests", async () => {
      const owner = await c.started("owner");
      await lockFor("a", owner);
      const sender = { instanceId: "owner", executionId: owner.executionId };
      await c.store.sendEntityMessages([
        signal("a", "add", 1),
        { name: "counter", key: "b", kind: "lock", sender, replyStep: 5, visibleAt: T0 },
      ]);
      const a = await snapshotOf("a");
      await c.store.terminateInstance("owner", "stop", T0 + 1);
      expect((await peek("a")).lock).toBeUndefined();
      expect((await c.store.getEntityOperations("counter", "a", 10)).operations).toEqual([
        { kind: "unlock", sender: { kind: "orchestration", instanceId: "owner" }, appliedAt: T0 + 1, ok: true },
      ]);
      expect((await peek("b")).messages).toEqual([]);
      // A batch read before the termination still carries the old token: it is fenced out.
      expect((await commitOne(batch(a, { lock: sender }))).ok).toBe(false);
      expect((await c.store.findReadyEntities("w1", T0 + 1, 10, ["counter"], [])).map((r) => r.key)).toEqual(["a"]);
    });

    it("reports a lock held by an execution that no longer runs as orphaned, and lets every message through", async () => {
      const owner = await c.started("owner");
      await lockFor("a", owner);
      await c.store.sendEntityMessages([signal("a", "add", 1)]);
      expect(await c.store.findReadyEntities("w1", T0, 10, ["counter"], [])).toEqual([]);
      await c.store.terminateInstance("owner", "gone", T0);
      await c.store.purgeInstances({ instanceId: "owner" });
      // Lock it for the purged instance, as a grant that raced with the termination would.
      const s = await snapshotOf("a");
      await commitOne(
        batch(s, { consumedMessageIds: [], lock: { instanceId: "owner", executionId: owner.executionId } }),
      );
      await c.store.sendEntityMessages([signal("a", "add", 2)]);
      expect((await c.store.findReadyEntities("w1", T0, 10, ["counter"], [])).map((r) => r.key)).toEqual(["a"]);
      const orphaned = await peek("a");
      expect(orphaned.orphanedLock).toBe(true);
      expect(orphaned.lock).toBeUndefined();
      expect(orphaned.messages.map((m) => m.input)).toEqual([1, 2]);
    });

    it("tells whether a lock request's sender still runs", async () => {
      const live = await c.started("live");
      const gone = await c.started("gone");
      await c.finish(gone);
      await c.store.sendEntityMessages([
        { ...signal("a", "", null), kind: "lock", sender: { instanceId: "live", executionId: live.executionId } },
        { ...signal("a", "", null), kind: "lock", sender: { instanceId: "gone", executionId: gone.executionId } },
        { ...signal("a", "", null), kind: "lock", sender: { instanceId: "live", executionId: "older" } },
      ]);
      const s = await peek("a");
      expect(s.messages.map((m) => m.senderActive)).toEqual([true, false, false]);
      expect(s.messages[0]?.lockSet).toBeUndefined();
    });

    it("lists entities with state by name and key, a page at a time, with filters", async () => {
      const keys = ["k1", "k2", "k3", "j1"];
      await c.store.sendEntityMessages([
        ...keys.map((k) => signal(k, "set", 1)),
        { ...signal("k1", "set", 1), name: "other" },
        signal("empty", "set", 1),
      ]);
      for (const key of keys) await commitOne(batch(await snapshotOf(key), { state: { exists: true, value: key } }));
      await commitOne(batch(await snapshotOf("k1", T0, "other"), { state: { exists: true, value: "o" } }));
      const first = await c.store.listEntities({ limit: 2 });
      expect(first.entities.map((e) => `${e.name}@${e.key}`)).toEqual(["counter@j1", "counter@k1"]);
      expect(first.next).toEqual({ name: "counter", key: "k1" });
      const second = await c.store.listEntities({ limit: 2, after: first.next });
      expect(second.entities.map((e) => `${e.name}@${e.key}`)).toEqual(["counter@k2", "counter@k3"]);
      const third = await c.store.listEntities({ limit: 2, after: second.next });
      expect(third.entities.map((e) => `${e.name}@${e.key}`)).toEqual(["other@k1"]);
      expect(third.next).toBeUndefined();
      const prefixed = await c.store.listEntities({ limit: 10, name: "counter", keyPrefix: "k" });
      expect(prefixed.entities.map((e) => e.state)).toEqual(["k1", "k2", "k3"]);
      const withEmpty = await c.store.listEntities({ limit: 10, name: "counter", includeEmpty: true });
      expect(withEmpty.entities.map((e) => e.key)).toEqual(["empty", "j1", "k1", "k2", "k3"]);
    });

    it("cleans storage: drops empty entities and releases locks of executions that ended", async () => {
      await c.store.sendEntityMessages([
        signal("kept", "set", 1),
        signal("emptied", "x", 1),
        signal("waiting", "x", 1),
      ]);
      await commitOne(batch(await snapshotOf("kept"), { state: { exists: true, value: 1 }, leaseExpiresAt: T0 }));
      await commitOne(batch(await snapshotOf("emptied"), { leaseExpiresAt: T0 }));
      const owner = await c.started("owner");
      await lockFor("locked", owner);
      await c.store.sendEntityMessages([signal("locked", "x", 1)]);
      await c.store.terminateInstance("owner", "x", T0);
      // Terminate released it; lock it again for an execution that is over, as a lost race would.
      const s = await snapshotOf("locked");
      await commitOne(
        batch(s, {
          consumedMessageIds: [],
          lock: { instanceId: "owner", executionId: owner.executionId },
          leaseExpiresAt: T0,
        }),
      );
      const cleanup = await c.store.cleanEntityStorage(T0 + 1);
      expect(cleanup).toEqual({ emptyEntitiesRemoved: 1, orphanedLocksReleased: 1 });
      expect(await c.store.getEntity("counter", "emptied")).toBeUndefined();
      expect(await c.store.getEntity("counter", "kept")).toMatchObject({ exists: true, state: 1 });
      expect(await c.store.getEntity("counter", "waiting")).toBeDefined();
      expect((await c.store.getEntity("counter", "locked"))?.lockedBy).toBeUndefined();
      expect(await c.store.cleanEntityStorage(T0 + 2)).toEqual({ emptyEntitiesRemoved: 0, orphanedLocksReleased: 0 });
    });

    it("releaseLeases frees the worker's entity leases", async () => {
      await c.store.sendEntityMessages([signal("a", "add", 1)]);
      await commitOne(batch(await snapshotOf("a")));
      await c.store.sendEntityMessages([signal("a", "add", 1)]);
      expect(await c.store.findReadyEntities("w2", T0, 10, ["counter"], [])).toEqual([]);
      expect((await c.store.findReadyEntities("w1", T0, 10, ["counter"], []))[0]?.leasedUntil).toBe(T0 + LEASE);
      await c.store.releaseLeases("w1");
      expect(await c.store.listLeaseOwners()).not.toContain("w1");
      expect(await c.store.findReadyEntities("w2", T0, 10, ["counter"], [])).toHaveLength(1);
    });

    it("does not count an entity batch that changed nothing as a commit", async () => {
      await c.store.sendEntityMessages([signal("a", "add", 1)]);
      const s = await snapshotOf("a");
      expect((await commitOne(batch(s))).ok).toBe(true);
      const before = c.store.commitCount;
      expect((await commitOne(batch(s, { consumedMessageIds: [] }))).ok).toBe(false);
      expect(c.store.commitCount).toBe(before);
    });
  });
}
