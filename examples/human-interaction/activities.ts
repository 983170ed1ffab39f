import { activity } from "perdure";

/** A message to a person; the demo "sends" it by printing it. */
export interface Message {
  to: string;
  text: string;
}

/**
 * Sends the approval request. A real one would call a mail or chat API with
 * `ctx.idempotencyKey` as the message id, so that a retry after a crash is deduplicated.
 */
export const sendApprovalRequest = activity("sendApprovalRequest", (message: Message): string => {
  console.log(`  -> to ${message.to}: ${message.text}`);
  return message.to;
});

/** Tells the next person up that the request is waiting for them now. */
export const escalate = activity("escalate", (message: Message): string => {
  console.log(`  -> escalated to ${message.to}: ${message.text}`);
  return message.to;
});
