import type { Store } from "../store/store.js";
import { releaseLeasesOfDeadLocalWorkers } from "./workerIdentity.js";

/** How long a worker keeps reserving instances as it polls after it last saw another worker. */
const COMPETITION_MEMORY_MS = 30_000;

/**
 * Whether other workers poll the same store, and so whether ready instances are to be reserved
 * as they are polled (`findReadyInstances`' `reserveUntil`). A lone worker polls without, and
 * leaves the lease to its first commit: a reservation costs a transaction per instance on
 * SQLite (a row lease), an advisory lock and its release on PostgreSQL (no write). With peers,
 * polls that do not reserve would have every idle worker run the same first episodes, all but
 * one for nothing. Peers show by their live leases (those of instances they run; reservations
 * do not show), or by taking an instance this worker had read (its commit refused).
 */
export class PeerWatch {
  private competingUntil = 0;
  private readonly memoryMs: number;

  constructor(
    private readonly store: Store,
    private readonly selfId: string,
    private readonly mode: "auto" | "always",
    leaseTtlMs: number,
  ) {
    // Housekeeping looks every third of a lease: remember at least that long, and then some.
    this.memoryMs = Math.max(COMPETITION_MEMORY_MS, leaseTtlMs);
  }

  /** Whether to reserve instances as they are polled at `now`. */
  reserving(now: number): boolean {
    return this.mode === "always" || now < this.competingUntil;
  }

  /** Another worker showed itself. */
  seen(now: number): void {
    this.competingUntil = now + this.memoryMs;
  }

  /** Frees the leases of dead workers on this host; counts others' live leases as peers. Returns how many died. */
  async look(now: number): Promise<number> {
    const owners = await this.store.listLeaseOwners();
    const dead = await releaseLeasesOfDeadLocalWorkers(this.store, this.selfId, owners);
    if (owners.some((owner) => owner !== this.selfId && !dead.includes(owner))) this.seen(now);
    return dead.length;
  }
}
