import { orchestration } from "perdure";
import { account } from "./account.js";

export interface TransferInput {
  transferId: string;
  from: string;
  to: string;
  amount: number;
}

export interface TransferResult {
  transferId: string;
  status: "done" | "rejected";
  /** The payer's balance when the transfer checked it. */
  balanceSeen: number;
}

/**
 * Moves money between two accounts. The critical section locks both (in a fixed order, so
 * that transfers in opposite directions cannot deadlock): no other transfer can touch them
 * between the balance check and the two movements, so the check still holds when the money
 * moves. The lock is released when the section ends — or when the orchestration ends, fails
 * or is terminated.
 */
export const transfer = orchestration("transfer", async (ctx, input: TransferInput): Promise<TransferResult> => {
  const { transferId, from, to, amount } = input;
  const lock = await ctx.lockEntities([account, from], [account, to]);
  try {
    const balanceSeen = await ctx.callEntity(account, from, "balance");
    if (balanceSeen < amount) return { transferId, status: "rejected", balanceSeen };
    // Both accounts are locked: run the two movements in parallel.
    await ctx.all([
      ctx.callEntity(account, from, "withdraw", { transferId, amount }),
      ctx.callEntity(account, to, "deposit", { transferId, amount }),
    ]);
    return { transferId, status: "done", balanceSeen };
  } finally {
    lock.release();
  }
});
