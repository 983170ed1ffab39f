import { RewindNotPossibleError } from "../errors/errors.js";
import type { IncomingEvent } from "../history/events.js";
import type { EntityRewind } from "../history/rewind.js";
import type { EntitySender, NewEntityMessage } from "./entityStore.js";

/** What both stores share of a rewind's entity side; each store's rewindEntities.ts does the SQL. */

/** An answer of an entity call waiting in an instance's inbox. */
export type EntityReplyEvent = Extract<IncomingEvent, { type: "EntityOperationCompleted" | "EntityOperationFailed" }>;

/** The messages a rewind sends: failed calls again and a section's lock request again, in step order. */
export function entityMessages(plan: EntityRewind, sender: EntitySender, now: number): NewEntityMessage[] {
  const messages: (NewEntityMessage & { replyStep: number })[] = plan.resend.map((c) => ({
    name: c.name,
    key: c.key,
    kind: "operation",
    operation: c.operation,
    input: c.input,
    sender,
    replyStep: c.step,
    visibleAt: now,
  }));
  const section = plan.section;
  const first = section?.entities[0];
  if (section && !section.held && first) {
    const { name, key } = first;
    messages.push({
      name,
      key,
      kind: "lock",
      sender,
      replyStep: section.step,
      lockSet: section.entities,
      visibleAt: now,
    });
  }
  return messages.sort((a, b) => a.replyStep - b.replyStep);
}

export function lostAnswer(instanceId: string, call: EntityRewind["awaited"][number]): RewindNotPossibleError {
  return new RewindNotPossibleError(
    instanceId,
    `operation "${call.operation}" of entity ${call.name}@${call.key} (step ${call.step}) was applied while the ` +
      "instance was failed, and its answer was not kept; sending it again would apply it twice",
    { step: call.step },
  );
}

export function lockTaken(
  instanceId: string,
  step: number,
  name: string,
  key: string,
  owner: string,
): RewindNotPossibleError {
  return new RewindNotPossibleError(
    instanceId,
    `it failed inside the critical section started at step ${step}, whose entity ${name}@${key} instance ` +
      `"${owner}" has locked since; rewind it again once that lock is released`,
    { step },
  );
}
