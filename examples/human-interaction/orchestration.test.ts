// The approval orchestration under virtual time (perdure/testing): day-long deadlines, tested
// in milliseconds, with stand-ins for the activities that would send mail.

import { activity } from "perdure";
import { createTestEnvironment, type TestEnvironment } from "perdure/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Message } from "./activities.js";
import { APPROVAL_EVENT, type ApprovalInput, type ApprovalResult, requestApproval } from "./orchestration.js";

const HOUR = 3_600_000;
const START = Date.UTC(2030, 0, 7, 9);

// Stand-ins under the real activities' names: the orchestration calls them by name.
const sent: { kind: string; to: string; at: number }[] = [];
let env: TestEnvironment;
const recorder = (kind: string) =>
  activity(kind, (message: Message) => {
    sent.push({ kind, to: message.to, at: env.now().getTime() });
    return message.to;
  });

const input: ApprovalInput = {
  request: "a new laptop",
  approver: "alice@example.com",
  manager: "bob@example.com",
  timeoutMs: 24 * HOUR,
  escalationTimeoutMs: 48 * HOUR,
};

beforeEach(async () => {
  sent.length = 0;
  env = await createTestEnvironment({
    orchestrations: [requestApproval],
    activities: [recorder("sendApprovalRequest"), recorder("escalate")],
    startTime: START,
  });
});

afterEach(async () => {
  await env.dispose();
});

describe("requestApproval, a day at a time", () => {
  it("takes an answer given within the day, and never escalates", async () => {
    const id = await env.client.start(requestApproval, input);
    await env.skipTime("20h");
    await env.client.raiseEvent(id, APPROVAL_EVENT, { approved: true, by: "alice@example.com" });
    const status = await env.waitForCompletion<ApprovalInput, ApprovalResult>(id);
    expect(status.output).toEqual({ outcome: "approved", decidedBy: "alice@example.com", escalated: false });
    await env.skipTime("7d"); // the cancelled deadline never fires
    expect(sent.map((m) => m.kind)).toEqual(["sendApprovalRequest"]);
  });

  it("escalates to the manager after 24 hours, and takes the manager's answer", async () => {
    const id = await env.client.start(requestApproval, input);
    await env.skipTime("23h59m");
    expect(sent.map((m) => m.kind)).toEqual(["sendApprovalRequest"]);
    await env.skipTime("1m");
    expect(sent).toEqual([
      { kind: "sendApprovalRequest", to: "alice@example.com", at: START },
      { kind: "escalate", to: "bob@example.com", at: START + 24 * HOUR },
    ]);
    expect((await env.client.getStatus(id))?.customStatus).toEqual({ stage: "escalated", assignee: "bob@example.com" });
    await env.client.raiseEvent(id, APPROVAL_EVENT, { approved: false, by: "bob@example.com" });
    const status = await env.waitForCompletion<ApprovalInput, ApprovalResult>(id);
    expect(status.output).toEqual({ outcome: "rejected", decidedBy: "bob@example.com", escalated: true });
  });

  it("times out three days after the request when nobody answers", async () => {
    const id = await env.client.start(requestApproval, input);
    const status = await env.waitForCompletion<ApprovalInput, ApprovalResult>(id);
    expect(status.output).toEqual({ outcome: "timed-out", escalated: true });
    expect(env.now().getTime()).toBe(START + 72 * HOUR);
  });
});
