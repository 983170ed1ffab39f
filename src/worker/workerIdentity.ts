import { randomBytes } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";
import type { Store } from "../store/store.js";

/**
 * The worker ids made in this process (shared through globalThis, so that two copies of
 * the module agree). An id with this process's pid that is not among them belongs to an
 * earlier process that had the same pid: a restarted container usually gets the pid its
 * crashed predecessor had.
 */
const registry = globalThis as Record<symbol, Set<string> | undefined>;
const REGISTRY_KEY = Symbol.for("perdure.localWorkerIds");
const madeHere: Set<string> = registry[REGISTRY_KEY] ?? new Set<string>();
registry[REGISTRY_KEY] = madeHere;

/**
 * Where pids mean the same thing: the host name, plus the pid namespace on Linux, since
 * containers that share a host name (--network host, a fixed hostname:) do not share pids.
 */
function pidScope(): string {
  try {
    const namespace = /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))?.[1];
    return namespace ? `${hostname()}~${namespace}` : hostname();
  } catch {
    return hostname();
  }
}

const scope = pidScope();

/** The host part of the ids of workers whose pids this process can check. */
export function localWorkerScope(): string {
  return scope;
}

/** A worker id says where the worker runs: `host[~pid namespace]:pid:random`. */
export function newWorkerId(): string {
  const id = `${scope}:${process.pid}:${randomBytes(4).toString("hex")}`;
  madeHere.add(id);
  return id;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  return !isZombie(pid);
}

/**
 * A killed process that its parent has not reaped yet still answers kill(pid, 0). Orphans
 * go to pid 1, which in a container is often not an init that reaps at once: measured
 * here, a SIGKILLed worker stayed a zombie for ~9 s, and its instance waited that long.
 * Linux says so in /proc/<pid>/stat ("pid (comm) state …"); elsewhere assume alive.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.charAt(stat.lastIndexOf(")") + 2);
    return state === "Z" || state === "X";
  } catch {
    return false;
  }
}

/**
 * Frees the leases of workers on this host whose process is gone (killed, crashed), so
 * that their instances resume at once instead of after the lease expires. Only a pid with
 * no process at all counts as dead; a reused pid merely delays take-over until expiry,
 * and the fencing token keeps that safe either way.
 */
export async function releaseLeasesOfDeadLocalWorkers(
  store: Store,
  selfId: string,
  owners?: string[],
): Promise<string[]> {
  const dead: string[] = [];
  for (const owner of owners ?? (await store.listLeaseOwners())) {
    if (owner === selfId) continue;
    const [ownerHost, pidText] = owner.split(":");
    const pid = Number(pidText);
    if (ownerHost !== scope || !Number.isInteger(pid) || pid <= 0) continue;
    if (pid === process.pid ? !madeHere.has(owner) : !isProcessAlive(pid)) dead.push(owner);
  }
  for (const owner of dead) await store.releaseLeases(owner);
  return dead;
}
