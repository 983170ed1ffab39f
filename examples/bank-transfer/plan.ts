import type { Client } from "perdure";
import { account } from "./account.js";
import { type TransferInput, transfer } from "./transfer.js";

/** The accounts of a run: `acct-00`, `acct-01`, … */
export function accountKeys(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `acct-${String(i).padStart(2, "0")}`);
}

/** A small deterministic generator (mulberry32), so that a seed names a run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `count` transfers between random distinct accounts, of 1 to `maxAmount`. */
export function planTransfers(keys: string[], count: number, maxAmount: number, seed: number): TransferInput[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, i) => {
    const from = keys[Math.floor(next() * keys.length)] as string;
    let to = keys[Math.floor(next() * keys.length)] as string;
    if (to === from) to = keys[(keys.indexOf(from) + 1) % keys.length] as string;
    return {
      transferId: `transfer-${String(i).padStart(4, "0")}`,
      from,
      to,
      amount: 1 + Math.floor(next() * maxAmount),
    };
  });
}

/** Opens the accounts (a deposit each, one-way) and starts every transfer, under its transfer id. */
export async function openAndStart(
  client: Client,
  keys: string[],
  opening: number,
  plan: TransferInput[],
): Promise<void> {
  await Promise.all(
    keys.map((key) => client.signalEntity(account, key, "deposit", { transferId: `opening:${key}`, amount: opening })),
  );
  await Promise.all(plan.map((t) => client.start(transfer, t, { instanceId: t.transferId })));
}
