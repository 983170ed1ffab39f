import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Store } from "../store/store.js";

/** A worker id says where the worker runs: `host:pid:random`. */
export function newWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Frees the leases of workers on this host whose process is gone (killed, crashed), so
 * that their instances resume at once instead of after the lease expires. Only a pid with
 * no process at all counts as dead; a reused pid merely delays take-over until expiry,
 * and the fencing token keeps that safe either way.
 */
export async function releaseLeasesOfDeadLocalWorkers(store: Store, selfId: string): Promise<string[]> {
  const host = hostname();
  const dead: string[] = [];
  for (const owner of await store.listLeaseOwners()) {
    if (owner === selfId) continue;
    const [ownerHost, pidText] = owner.split(":");
    const pid = Number(pidText);
    if (ownerHost !== host || !Number.isInteger(pid) || pid <= 0) continue;
    if (!isProcessAlive(pid)) dead.push(owner);
  }
  for (const owner of dead) await store.releaseLeases(owner);
  return dead;
}
