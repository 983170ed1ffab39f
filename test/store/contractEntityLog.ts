import { describe, expect, it } from "vitest";
import {
  ENTITY_OPERATION_LOG_SIZE,
  type EntityCommit,
  type EntityOperationRecord,
  type EntitySnapshot,
  type NewEntityMessage,
} from "../../src/store/entityStore.js";
import { type ContractKit, LEASE, T0 } from "./contractKit.js";

const signal = (key: string, operation: string, input: unknown, extra: Partial<NewEntityMessage> = {}) =>
  ({ name: "counter", key, kind: "operation", operation, input, visibleAt: T0, ...extra }) as NewEntityMessage;

/** A log entry of a client's signal, numbered by its input preview. */
const entry = (n: number, appliedAt = T0): EntityOperationRecord => ({
  kind: "signal",
  operation: "add",
  sender: { kind: "client" },
  appliedAt,
  ok: true,
  inputPreview: String(n),
});

/** The entities' operation log: written with the batch that applied the operations, bounded, cleaned. */
export function entityLogContract(c: ContractKit): void {
  /** Takes counter@key's lease for w1 and reads it, as a worker does before a batch. */
  const snapshotOf = async (key: string, now = T0): Promise<EntitySnapshot> => {
    const [seen] = await c.store.readEntities([{ name: "counter", key }], now, 1_000);
    if (!seen) throw new Error(`no snapshot of counter@${key}`);
    const claimed = await c.store.claimEntities(
      "w1",
      [{ name: "counter", key, leaseToken: seen.leaseToken }],
      now,
      now + LEASE,
    );
    expect(claimed).toHaveLength(1);
    const [held] = await c.store.readEntities([{ name: "counter", key }], now, 1_000);
    if (!held) throw new Error(`no snapshot of counter@${key}`);
    return held;
  };

  const batch = (s: EntitySnapshot, operations: EntityOperationRecord[], overrides: Partial<EntityCommit> = {}) =>
    ({
      name: s.name,
      key: s.key,
      workerId: "w1",
      leaseToken: s.leaseToken,
      consumedMessageIds: s.messages.map((m) => m.id),
      lock: s.lock ?? null,
      replies: [],
      messages: [],
      newInstances: [],
      operations,
      now: T0,
      leaseExpiresAt: T0 + LEASE,
      ...overrides,
    }) satisfies EntityCommit;

  /** Sends one signal to counter@key and commits a batch that logs `operations`; returns the result. */
  const logged = async (key: string, operations: EntityOperationRecord[], overrides: Partial<EntityCommit> = {}) => {
    await c.store.sendEntityMessages([signal(key, "add", 1)]);
    const [result] = await c.store.commitEntityBatches([batch(await snapshotOf(key), operations, overrides)]);
    return result;
  };

  const log = async (key: string, limit = 100) => (await c.store.getEntityOperations("counter", key, limit)).operations;

  describe("entity operation log", () => {
    it("keeps what a batch applied, newest first, with every field", async () => {
      const applied: EntityOperationRecord[] = [
        { kind: "lock", sender: { kind: "orchestration", instanceId: "transfer-1" }, appliedAt: T0, ok: true },
        {
          kind: "call",
          operation: "withdraw",
          sender: { kind: "orchestration", instanceId: "transfer-1" },
          appliedAt: T0,
          ok: false,
          error: { name: "Error", message: "insufficient funds" },
          inputPreview: '{"amount":5}',
        },
        { kind: "unlock", sender: { kind: "orchestration", instanceId: "transfer-1" }, appliedAt: T0, ok: true },
        {
          kind: "signal",
          operation: "add",
          sender: { kind: "entity", name: "meter", key: "m@1" },
          appliedAt: T0,
          ok: true,
        },
        { kind: "signal", operation: "reset", sender: { kind: "client" }, appliedAt: T0, ok: true },
      ];
      expect((await logged("a", applied))?.ok).toBe(true);
      expect(await log("a")).toEqual([...applied].reverse());
      expect(await log("a", 2)).toEqual([applied[4], applied[3]]);
      // A later batch's entries come before the earlier ones.
      expect((await logged("a", [entry(9, T0 + 5)]))?.ok).toBe(true);
      expect((await log("a", 2)).map((r) => r.inputPreview ?? r.operation)).toEqual(["9", "reset"]);
      expect(await c.store.getEntityOperations("counter", "nobody", 10)).toEqual({ operations: [], pending: 0 });
      expect(await log("b")).toEqual([]);
    });

    it("keeps only the newest ENTITY_OPERATION_LOG_SIZE entries of each entity", async () => {
      const n = ENTITY_OPERATION_LOG_SIZE;
      const numbers = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
      await logged(
        "a",
        numbers(1, n - 5).map((i) => entry(i)),
      );
      await logged("b", [entry(1000)]);
      await logged(
        "a",
        numbers(n - 4, 10).map((i) => entry(i)),
      );
      const previews = async (key: string) => (await log(key)).map((r) => Number(r.inputPreview));
      expect(await previews("a")).toEqual(numbers(6, n).reverse());
      // A batch longer than the log keeps its own last entries only.
      await logged(
        "a",
        numbers(100, n + 7).map((i) => entry(i)),
      );
      expect(await previews("a")).toEqual(numbers(107, n).reverse());
      expect(await previews("b")).toEqual([1000]);
      expect(await log("a", 1_000)).toHaveLength(n);
    });

    it("writes the log in the batch's commit: a refused batch logs nothing", async () => {
      // Lease lost: the token moved on since the batch was read.
      await c.store.sendEntityMessages([signal("a", "add", 1)]);
      const s = await snapshotOf("a");
      const stale = batch(s, [entry(1)], { leaseToken: s.leaseToken - 1 });
      expect((await c.store.commitEntityBatches([stale]))[0]).toEqual({ ok: false, reason: "lease-lost" });
      expect(await log("a")).toEqual([]);
      // Its messages were applied by another batch already: the whole batch is undone, log included.
      const [first] = await c.store.commitEntityBatches([batch(s, [entry(2)])]);
      expect(first?.ok).toBe(true);
      const again = batch(await snapshotOf("a"), [entry(3)], { consumedMessageIds: s.messages.map((m) => m.id) });
      expect((await c.store.commitEntityBatches([again]))[0]).toMatchObject({ ok: false });
      expect((await log("a")).map((r) => r.inputPreview)).toEqual(["2"]);
      // In a group, each batch's entries stand or fall with that batch.
      await c.store.sendEntityMessages([signal("b", "add", 1), signal("c", "add", 1)]);
      const b = await snapshotOf("b");
      const cc = await snapshotOf("c");
      const results = await c.store.commitEntityBatches([
        batch(b, [entry(4)]),
        batch(cc, [entry(5)], { leaseToken: cc.leaseToken + 7 }),
      ]);
      expect(results.map((r) => r.ok)).toEqual([true, false]);
      expect((await log("b")).map((r) => r.inputPreview)).toEqual(["4"]);
      expect(await log("c")).toEqual([]);
    });

    it("counts the operations waiting, scheduled ones included, and not lock messages", async () => {
      await c.store.sendEntityMessages([
        signal("a", "add", 1),
        signal("a", "add", 2, { visibleAt: T0 + 60_000 }),
        { name: "counter", key: "a", kind: "unlock", sender: { instanceId: "o", executionId: "e" }, visibleAt: T0 },
        signal("b", "add", 1),
      ]);
      expect(await c.store.getEntityOperations("counter", "a", 5)).toEqual({ operations: [], pending: 2 });
      const s = await snapshotOf("a");
      await c.store.commitEntityBatches([batch(s, [entry(1)])]);
      expect(await c.store.getEntityOperations("counter", "a", 5)).toEqual({ operations: [entry(1)], pending: 1 });
    });

    it("carries the entity that sent a message, for its log entry", async () => {
      await c.store.sendEntityMessages([signal("a", "add", 1, { senderEntity: { name: "meter", key: "k" } })]);
      const [s] = await c.store.readEntities([{ name: "counter", key: "a" }], T0, 10);
      expect(s?.messages.map((m) => m.senderEntity)).toEqual([{ name: "meter", key: "k" }]);
    });

    it("cleanEntityStorage drops the logs of the entities it removes, and keeps the others'", async () => {
      // "emptied": state deleted, nothing waiting, lease over — removed with its log.
      await logged("emptied", [entry(1)], { state: { exists: false, value: undefined }, leaseExpiresAt: T0 });
      // "deleted-busy": state deleted but a message waits — kept, and so is its log.
      await logged("deleted-busy", [entry(2)], { state: { exists: false, value: undefined }, leaseExpiresAt: T0 });
      await c.store.sendEntityMessages([signal("deleted-busy", "add", 1, { visibleAt: T0 + 60_000 })]);
      await logged("kept", [entry(3)], { state: { exists: true, value: 1 }, leaseExpiresAt: T0 });
      expect(await c.store.cleanEntityStorage(T0 + 1)).toMatchObject({ emptyEntitiesRemoved: 1 });
      expect(await log("emptied")).toEqual([]);
      expect((await log("deleted-busy")).map((r) => r.inputPreview)).toEqual(["2"]);
      expect((await log("kept")).map((r) => r.inputPreview)).toEqual(["3"]);
      // An entity made again under the same id starts with an empty log.
      await logged("emptied", [entry(4)]);
      expect((await log("emptied")).map((r) => r.inputPreview)).toEqual(["4"]);
    });
  });
}
