import pg from "pg";
import { DEFAULT_QUEUE } from "../../definitions/queue.js";
import { StoreClosedError } from "../../errors/errors.js";
import type { ReadyInstance } from "../store.js";
import { readyColumns, readyCondition } from "./claims.js";
import { storeTypes } from "./connection.js";
import type { Tables } from "./instances.js";

/**
 * Reserving polls: how workers that compete keep each other off the instances they have just
 * polled without a write. The poll takes a session-level advisory lock per instance it returns,
 * on a connection of the polling worker's own; the lock is released once the instance's first
 * commit by that worker has resolved (landed or refused), when the worker drops the instance
 * (`release`), when the reservation outlives its term (swept before the worker's next poll), or
 * with the session (worker stop, store close, a broken connection). Other reserving pollers
 * skip locked instances; nothing else looks at the locks, and nothing depends on them for
 * correctness: the first commit still takes the row lease, fenced by its token, so a lost lock
 * (a cut connection) or a hash collision costs at worst a wasted episode or a skipped poll.
 *
 * A worker that stops answering while its connection lives (a frozen process, a machine lost
 * behind a connection the server still believes in) would keep its locks for good: an
 * instance that has waited longer than a lease term (since its message became due or its last
 * lease ended) is handed to other reservers even though its lock is taken, without a lock, as
 * the lone worker's optimistic poll would (its first commit decides).
 */
export class Reservations {
  private readonly sessions = new Map<string, ReservationSession>();
  private readonly sql: SessionSql;
  private closed = false;

  constructor(
    private readonly connection: pg.ClientConfig,
    t: Tables,
    schema: string,
    private readonly wrap: (error: unknown) => unknown,
  ) {
    this.sql = reservationSql(t, schema);
  }

  /** Ready instances, reserved for `workerId` until `until` or until its first commit of each. */
  async poll(
    workerId: string,
    now: number,
    limit: number,
    busy: string[],
    served: string[] = [DEFAULT_QUEUE],
    until: number,
  ): Promise<ReadyInstance[]> {
    if (this.closed) throw new StoreClosedError();
    let session = this.sessions.get(workerId);
    if (!session) {
      session = new ReservationSession(this.connection, this.sql, this.wrap);
      this.sessions.set(workerId, session);
    }
    return session.poll(workerId, now, limit, busy, served, until);
  }

  /** After a commit batch resolved, landed or not: its instances' reservations are over. */
  settle(commits: readonly { workerId: string; instanceId: string }[]): void {
    const byWorker = new Map<string, string[]>();
    for (const { workerId, instanceId } of commits) {
      if (!this.sessions.has(workerId)) continue;
      const ids = byWorker.get(workerId) ?? [];
      ids.push(instanceId);
      byWorker.set(workerId, ids);
    }
    // Not awaited: until the unlock lands, the instance is leased, to this worker (its commit
    // landed) or to the one that beat it (refused), and other pollers skip it for that.
    for (const [workerId, ids] of byWorker) void this.sessions.get(workerId)?.release(ids);
  }

  /** Ends the reservations of these instances, or every one of the worker's (and its session). */
  async release(workerId: string, instanceIds?: string[]): Promise<void> {
    const session = this.sessions.get(workerId);
    if (!session) return;
    if (instanceIds) return session.release(instanceIds);
    this.sessions.delete(workerId);
    await session.end();
  }

  async close(): Promise<void> {
    this.closed = true;
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map((s) => s.end()));
  }
}

/**
 * Candidates read per instance asked for: room for those other workers hold. Workers read the
 * table in the same order, so with up to this many workers each still fills its poll.
 */
const CANDIDATES_PER_ROW = 4;

interface SessionSql {
  reserve: string;
  /** Of the instances given with the token and length a poll read, those still at both. */
  unchanged: string;
  unlock: string;
  /** The keys' prefix: see `reservationSql`. */
  prefix: string;
}

/** A poll's row: a ReadyInstance, with the key of its lock and how the poll holds it. */
interface ReservedRow extends ReadyInstance {
  key: string;
  how: "held" | "locked" | "overdue";
}

function reservationSql(t: Tables, schema: string): SessionSql {
  return {
    // Locks only the rows returned. The candidates are chosen first, in a CTE of their own, so
    // that no other condition is evaluated after a lock was taken; the second CTE evaluates the
    // CASE once per candidate, in order, and only as far as the LIMIT under it asks (a CTE that
    // does not modify data runs only as far as its reader reads). No ORDER BY may come above
    // it: a sort would read, and lock, every candidate. More candidates than the limit: those
    // that other workers hold are skipped, and their places taken by the next ones.
    // $6: the keys this session holds already (a session-level lock taken twice must be
    // released twice: never take it again); $7: how many candidates; $8: locks of instances
    // waiting since before then are not waited for; $9: the keys' prefix.
    reserve: `WITH candidates AS MATERIALIZED (
        SELECT i.instance_id, i.name, i.execution_id, i.lease_token, i.history_length,
          COALESCE(i.lease_owner = $1 AND i.lease_expires_at >= $2, false) AS mine,
          hashtextextended($9 || i.instance_id, 0) AS key,
          GREATEST(COALESCE(i.lease_expires_at, 0), (SELECT min(m.visible_at) FROM ${t.inbox} m
            WHERE m.instance_id = i.instance_id AND m.execution_id = i.execution_id)) AS waiting_since
        FROM ${t.instances} i WHERE ${readyCondition(t)} LIMIT $7),
      picked AS MATERIALIZED (
        SELECT c.*, CASE WHEN c.mine OR c.key = ANY($6::bigint[]) THEN 'held'
            WHEN pg_try_advisory_lock(c.key) THEN 'locked'
            WHEN c.waiting_since < $8 THEN 'overdue' END AS how
        FROM candidates c)
      SELECT ${readyColumns(t, "p")}, p.mine AS leased, p.key::text AS key, p.how
      FROM picked p WHERE p.how IS NOT NULL LIMIT $4`,
    unchanged: `SELECT i.instance_id AS "instanceId" FROM ${t.instances} i
      JOIN unnest($1::text[], $2::bigint[], $3::int[]) AS r(id, token, length)
        ON i.instance_id = r.id AND i.lease_token = r.token AND i.history_length = r.length`,
    unlock: "SELECT pg_advisory_unlock(k) FROM unnest($1::bigint[]) AS k",
    // Advisory locks are per database: the schema is part of every key, so that stores of
    // different schemas do not skip each other's instances. Two ids of one schema may still
    // share a key (a 64-bit hash): the second is then skipped by other reservers while the
    // first is held, or taken without a lock of its own by the session that holds the first.
    // Neither harms correctness (the first commit is fenced): each is a skip or a wasted episode.
    prefix: `${schema}/`,
  };
}

/** One worker's reservations: its own connection (session-level locks are per session) and what it holds. */
class ReservationSession {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  /** Instance id → the key it holds and until when. */
  private readonly held = new Map<string, { key: string; until: number }>();
  /** Key → how many held instances share it (the lock is taken, and released, once). */
  private readonly keyUses = new Map<string, number>();
  private ended = false;

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly sql: SessionSql,
    private readonly wrap: (error: unknown) => unknown,
  ) {}

  async poll(
    workerId: string,
    now: number,
    limit: number,
    busy: string[],
    served: string[],
    until: number,
  ): Promise<ReadyInstance[]> {
    const client = await this.connect();
    // Reservations past their term, released ahead of the poll on the same connection.
    const expired: string[] = [];
    for (const [instanceId, entry] of this.held) if (entry.until < now) expired.push(instanceId);
    void this.unlock(client, expired);
    const overdueBefore = now - Math.max(0, until - now);
    const heldKeys = [...this.keyUses.keys()];
    const params = [
      workerId,
      now,
      busy,
      limit,
      served,
      heldKeys,
      limit * CANDIDATES_PER_ROW,
      overdueBefore,
      this.sql.prefix,
    ];
    let rows: ReservedRow[];
    try {
      rows = (await client.query<ReservedRow>({ name: "perdure_reserve", text: this.sql.reserve, values: params }))
        .rows;
    } catch (error) {
      // A statement that failed part-way may hold locks it never reported: ending the
      // session frees them all.
      void this.drop(client);
      throw this.wrap(error);
    }
    // Locks taken on a connection that broke meanwhile are gone with it.
    const alive = this.client === client;
    const locked = new Set<string>();
    const reserved = rows.map(({ key, how, ...ready }) => {
      if (alive && how === "locked") {
        this.held.set(ready.instanceId, { key, until });
        this.keyUses.set(key, (this.keyUses.get(key) ?? 0) + 1);
        locked.add(ready.instanceId);
      } else if (how === "held") {
        const entry = this.held.get(ready.instanceId);
        if (entry) entry.until = until;
      }
      if (!ready.leased) delete ready.leased;
      return ready;
    });
    return locked.size === 0 ? reserved : this.withoutStale(client, reserved, locked);
  }

  /**
   * The poll chose its rows in a snapshot taken before it locked them: a competitor may have
   * committed an instance's first episode and released its lock in between, and the lock then
   * came free for a row that is no longer ready. A second statement sees that commit; the
   * instances it changed are released and left out, instead of costing a refused episode.
   */
  private async withoutStale(
    client: pg.Client,
    reserved: ReadyInstance[],
    locked: Set<string>,
  ): Promise<ReadyInstance[]> {
    const checked = reserved.filter((r) => locked.has(r.instanceId));
    let unchanged: Set<string>;
    try {
      const { rows } = await client.query<{ instanceId: string }>({
        name: "perdure_reserve_unchanged",
        text: this.sql.unchanged,
        values: [
          checked.map((r) => r.instanceId),
          checked.map((r) => r.leaseToken),
          checked.map((r) => r.historyLength),
        ],
      });
      unchanged = new Set(rows.map((r) => r.instanceId));
    } catch (error) {
      void this.drop(client);
      throw this.wrap(error);
    }
    const stale = checked.filter((r) => !unchanged.has(r.instanceId)).map((r) => r.instanceId);
    if (stale.length === 0) return reserved;
    void this.unlock(client, stale);
    return reserved.filter((r) => !locked.has(r.instanceId) || unchanged.has(r.instanceId));
  }

  /** Ends the reservations of these instances (those it holds), with one statement. */
  release(instanceIds: string[]): Promise<void> {
    return this.client ? this.unlock(this.client, instanceIds) : Promise.resolve();
  }

  async end(): Promise<void> {
    this.ended = true;
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    if (client) await this.drop(client);
  }

  /**
   * Forgets the instances and sends the unlock of the keys no other held instance shares.
   * Statements on the session run in order: its next poll comes after the unlock.
   */
  private unlock(client: pg.Client, instanceIds: string[]): Promise<void> {
    const keys: string[] = [];
    for (const instanceId of instanceIds) {
      const entry = this.held.get(instanceId);
      if (!entry) continue;
      this.held.delete(instanceId);
      const uses = (this.keyUses.get(entry.key) ?? 1) - 1;
      if (uses > 0) this.keyUses.set(entry.key, uses);
      else {
        this.keyUses.delete(entry.key);
        keys.push(entry.key);
      }
    }
    if (keys.length === 0) return Promise.resolve();
    // An unlock that fails means the connection is gone, and its locks with it.
    return client.query({ name: "perdure_unlock", text: this.sql.unlock, values: [keys] }).then(
      () => undefined,
      () => this.drop(client),
    );
  }

  private connect(): Promise<pg.Client> {
    if (this.ended) return Promise.reject(new StoreClosedError());
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<pg.Client> {
    const client = new pg.Client({ ...this.connection, keepAlive: true, types: storeTypes(), pipeline: true });
    // Always listening: an 'error' nobody hears (a terminated backend) would end the process.
    client.on("error", () => void this.drop(client));
    client.on("end", () => void this.drop(client));
    try {
      await client.connect();
    } catch (error) {
      await this.drop(client);
      throw this.wrap(error);
    }
    if (this.ended) {
      await this.drop(client);
      throw new StoreClosedError();
    }
    this.client = client;
    return client;
  }

  /** Closes a connection; if it is the session's, what it held is gone with it. */
  private async drop(client: pg.Client): Promise<void> {
    if (this.client === client) {
      this.client = undefined;
      this.held.clear();
      this.keyUses.clear();
    }
    client.removeAllListeners("end");
    await client.end().catch(() => undefined);
  }
}
