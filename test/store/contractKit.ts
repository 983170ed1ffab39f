import { expect } from "vitest";
import type { HistoryEvent, Store } from "../../src/index.js";
import type { EpisodeCommit, EpisodeCommitResult, NewActivityTask, NewInstance } from "../../src/store/store.js";

/** Makes an empty store for one test; `dispose` closes it and removes what it left behind. */
export type StoreFactory = () => Promise<{ store: Store; dispose: () => Promise<void> }>;

/** The contract's clock: every time is passed explicitly, from this instant on. */
export const T0 = 1_700_000_000_000;
/** The lease length the contract's workers ask for. */
export const LEASE = 10_000;

export function newInstance(instanceId: string, overrides: Partial<NewInstance> = {}): NewInstance {
  return {
    instanceId,
    name: "flow",
    executionId: `${instanceId}-exec-1`,
    input: { n: 1 },
    createdAt: T0,
    replaceIfFinished: false,
    ...overrides,
  };
}

export function task(step: number, leaseToCommitter: boolean, name = "act", queue?: string): NewActivityTask {
  const made: NewActivityTask = { step, attempt: 1, name, input: { step }, leaseToCommitter };
  if (queue !== undefined) made.queue = queue;
  return made;
}

export const marker = (timestamp: number): HistoryEvent => ({ type: "OrchestratorStarted", timestamp });

/** What a worker holds after committing an episode of an instance. */
export interface Held {
  instanceId: string;
  executionId: string;
  workerId: string;
  leaseToken: number;
  historyLength: number;
  taskIds: number[];
}

/**
 * The contract plays the worker's part by hand: find an instance, read its inbox, commit an
 * episode. These helpers do that against the current test's store.
 */
export interface ContractKit {
  readonly store: Store;
  /** An episode commit, with the fields a test does not care about filled in. */
  episode(held: Omit<Held, "taskIds">, overrides?: Partial<EpisodeCommit>): EpisodeCommit;
  /** Creates an instance and commits its first episode as `workerId`, taking the lease. */
  started(instanceId: string, workerId?: string, extra?: Partial<EpisodeCommit>, now?: number): Promise<Held>;
  /** Commits a further episode of a held instance; returns the store's answer. */
  advance(held: Held, overrides?: Partial<EpisodeCommit>): Promise<EpisodeCommitResult>;
  /** Completes a held instance with output "done". */
  finish(held: Held): Promise<void>;
}

export function contractKit(currentStore: () => Store): ContractKit {
  const episode = (held: Omit<Held, "taskIds">, overrides: Partial<EpisodeCommit> = {}): EpisodeCommit => {
    const now = overrides.now ?? T0;
    return {
      instanceId: held.instanceId,
      executionId: held.executionId,
      workerId: held.workerId,
      leaseToken: held.leaseToken,
      acquireLease: false,
      historyLength: held.historyLength,
      newEvents: [marker(now)],
      consumedMessageIds: [],
      newTasks: [],
      newTimers: [],
      cancelledTimers: [],
      newInstances: [],
      status: "Running",
      releaseLease: false,
      now,
      leaseExpiresAt: now + LEASE,
      ...overrides,
    };
  };

  const kit: ContractKit = {
    get store() {
      return currentStore();
    },
    episode,

    async started(instanceId, workerId = "w1", extra = {}, now = T0) {
      const store = currentStore();
      expect(await store.createInstances([newInstance(instanceId)])).toEqual([undefined]);
      const ready = (await store.findReadyInstances(workerId, now, 100, [])).find((r) => r.instanceId === instanceId);
      if (!ready) throw new Error(`instance ${instanceId} should be ready`);
      const inbox = await store.readInbox(instanceId, now);
      const startedEvent = inbox[0]?.event;
      expect(startedEvent?.type).toBe("ExecutionStarted");
      const commit = episode(
        { instanceId, executionId: ready.executionId, workerId, leaseToken: ready.leaseToken, historyLength: 0 },
        {
          acquireLease: true,
          newEvents: [marker(now), startedEvent as HistoryEvent],
          consumedMessageIds: inbox.map((m) => m.id),
          now,
          leaseExpiresAt: now + LEASE,
          ...extra,
        },
      );
      const [result] = await store.commitEpisodes([commit]);
      if (!result?.ok) throw new Error(`the first episode of ${instanceId} was refused`);
      return {
        instanceId,
        executionId: ready.executionId,
        workerId,
        leaseToken: result.leaseToken,
        historyLength: commit.newEvents.length,
        taskIds: result.taskIds,
      };
    },

    async advance(held, overrides = {}) {
      const [result] = await currentStore().commitEpisodes([episode(held, overrides)]);
      if (!result) throw new Error("commitEpisodes returned no result");
      return result;
    },

    async finish(held) {
      const result = await kit.advance(held, {
        newEvents: [marker(T0), { type: "ExecutionCompleted", timestamp: T0, output: "done" }],
        status: "Completed",
        output: "done",
      });
      expect(result.ok).toBe(true);
    },
  };
  return kit;
}
