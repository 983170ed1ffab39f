import { activity, type Client, type HistoryEvent, type RetryPolicy } from "../../src/index.js";
import { waitFor } from "./waitFor.js";

/** How long a parked instance waits: move a manual clock past this to let it go on. */
export const PARK_MS = 3_600_000;

const PARK_RETRY: RetryPolicy = { maxAttempts: 2, firstInterval: PARK_MS };

/**
 * An activity that fails its first attempt and succeeds its second, an hour later by its
 * retry policy. It parks an instance on a durable timer, with nothing in flight, until a
 * manual clock moves on: the way these tests stop an instance mid-way without racing it.
 */
export function parkActivity(name = "park") {
  return activity(
    name,
    (_input: undefined, ctx) => {
      if (ctx.attempt === 1) throw new Error("parked until the retry timer fires");
      return `unparked after ${ctx.attempt} attempts`;
    },
    { retry: PARK_RETRY },
  );
}

/** Waits until the instance's history holds `count` retry timers that have not fired yet. */
export async function waitUntilParked(client: Client, instanceId: string, count = 1): Promise<HistoryEvent[]> {
  return waitFor(async () => {
    const history = await client.getHistory(instanceId);
    const created = history.filter((e) => e.type === "TimerCreated").length;
    const fired = history.filter((e) => e.type === "TimerFired").length;
    return created - fired === 1 && created === count ? history : undefined;
  }, `instance ${instanceId} to wait on retry timer ${count}`);
}
