import type { AccountState } from "./account.js";
import type { TransferInput, TransferResult } from "./transfer.js";

export interface Audit {
  total: number;
  done: number;
  rejected: number;
  /** Everything that breaks an invariant; empty when the books balance. */
  problems: string[];
}

/**
 * Checks the books after a run: the money in all accounts is what was deposited; no account
 * ever went below zero; each account's balance is its deposits minus its withdrawals; and
 * every transfer happened exactly once (debited from its payer and credited to its payee)
 * or not at all, as its orchestration reported.
 */
export function auditBooks(
  accounts: Map<string, AccountState>,
  opening: number,
  plan: TransferInput[],
  results: Map<string, TransferResult | undefined>,
): Audit {
  const problems: string[] = [];
  const byId = new Map(plan.map((t) => [t.transferId, t]));
  let total = 0;
  for (const [key, state] of accounts) {
    total += state.balance;
    if (state.lowest < 0 || state.balance < 0) problems.push(`${key} went negative (lowest ${state.lowest})`);
    let expected = 0;
    for (const id of state.credits)
      expected += id.startsWith("opening:") ? opening : (byId.get(id)?.amount ?? Number.NaN);
    for (const id of state.debits) expected -= byId.get(id)?.amount ?? Number.NaN;
    if (expected !== state.balance)
      problems.push(`${key}: balance ${state.balance}, but its movements add up to ${expected}`);
    for (const list of [state.credits, state.debits]) {
      if (new Set(list).size !== list.length) problems.push(`${key} applied a movement twice`);
    }
  }
  const opened = accounts.size * opening;
  if (total !== opened) problems.push(`total is ${total}, but ${opened} was deposited`);
  let done = 0;
  let rejected = 0;
  for (const t of plan) {
    const result = results.get(t.transferId);
    const debited = accounts.get(t.from)?.debits.filter((id) => id === t.transferId).length ?? 0;
    const credited = accounts.get(t.to)?.credits.filter((id) => id === t.transferId).length ?? 0;
    if (result?.status === "done") {
      done++;
      if (debited !== 1 || credited !== 1)
        problems.push(`${t.transferId} done, but debited ${debited}× and credited ${credited}×`);
    } else if (result?.status === "rejected") {
      rejected++;
      if (debited !== 0 || credited !== 0) problems.push(`${t.transferId} rejected, but money moved`);
      if (result.balanceSeen >= t.amount) problems.push(`${t.transferId} rejected with enough money`);
    } else {
      problems.push(`${t.transferId} has no result`);
    }
  }
  return { total, done, rejected, problems };
}
