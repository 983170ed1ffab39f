import { type OrchestrationContext, orchestration } from "perdure";
import { escalate, sendApprovalRequest } from "./activities.js";

/** One approval per store file: a run that finds this instance still active resumes it. */
export const APPROVAL_INSTANCE_ID = "approval";
/** The external event that carries the answer. */
export const APPROVAL_EVENT = "approval";

export interface ApprovalInput {
  request: string;
  approver: string;
  /** Who gets the request when the approver does not answer in time. */
  manager: string;
  timeoutMs: number;
  escalationTimeoutMs: number;
}

/** The data of the approval event: raise it with `client.raiseEvent(id, "approval", decision)`. */
export interface Decision {
  approved: boolean;
  by: string;
}

/** The custom status while waiting: who is expected to answer. */
export interface ApprovalProgress {
  stage: "awaiting-approval" | "escalated";
  assignee: string;
}

export interface ApprovalResult {
  outcome: "approved" | "rejected" | "timed-out";
  decidedBy?: string;
  escalated: boolean;
}

/**
 * Human interaction (Durable Functions' "human interaction" pattern): ask for approval,
 * then race the answer against a durable timer. When the timer wins, escalate and race
 * again with a second timeout. `ctx.race` cancels the loser: a timer that lost never fires,
 * and an event wait that lost takes no event, so the second wait gets the answer.
 */
export const requestApproval = orchestration(
  "requestApproval",
  async (ctx, input: ApprovalInput): Promise<ApprovalResult> => {
    await ctx.callActivity(sendApprovalRequest, { to: input.approver, text: `please approve: ${input.request}` });
    setProgress(ctx, { stage: "awaiting-approval", assignee: input.approver });
    const answer = await answerWithin(ctx, input.timeoutMs);
    if (answer) return resultOf(answer, false);

    await ctx.callActivity(escalate, {
      to: input.manager,
      text: `${input.approver} did not answer within ${input.timeoutMs} ms: please approve: ${input.request}`,
    });
    setProgress(ctx, { stage: "escalated", assignee: input.manager });
    const managerAnswer = await answerWithin(ctx, input.escalationTimeoutMs);
    if (managerAnswer) return resultOf(managerAnswer, true);

    return { outcome: "timed-out", escalated: true };
  },
);

const setProgress = (ctx: OrchestrationContext, progress: ApprovalProgress): void => ctx.setCustomStatus(progress);

/** The answer, if it comes before the timeout; whichever loses the race is cancelled. */
async function answerWithin(ctx: OrchestrationContext, timeoutMs: number): Promise<Decision | undefined> {
  const answer = ctx.waitForEvent<Decision>(APPROVAL_EVENT);
  await ctx.race<unknown>([answer, ctx.sleep(timeoutMs)]);
  return answer.isCompleted ? answer.result : undefined;
}

function resultOf(decision: Decision, escalated: boolean): ApprovalResult {
  return { outcome: decision.approved ? "approved" : "rejected", decidedBy: decision.by, escalated };
}
