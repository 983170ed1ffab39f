import { randomUUID } from "node:crypto";
import pg from "pg";
import type { RuntimeStatus, StoreNotification } from "../store.js";
import type { Tx } from "./connection.js";
import type { BatchSignal } from "./episodeBatch.js";

/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; stay well below. */
const MAX_PAYLOAD = 7_000;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

/** What travels in a NOTIFY: who sent it, whether work became due, and which instances finished. */
interface Payload {
  /** The sending store object, which has told its own listeners already. */
  s: string;
  w?: 1;
  f?: [string, string][];
}

/**
 * Cross-process notifications over LISTEN/NOTIFY, on a channel named after the schema.
 * Writers call `publish` inside their transaction, so the notification goes out when (and
 * only if) it commits. One dedicated connection listens, and turns what other processes
 * sent into the same notifications the store gives for its own writes: `work` (wake up and
 * poll) and `instance-updated` for finished instances (wake up a waiting client). If the
 * listening connection drops, it reconnects with backoff and then reports `work`, since
 * notifications sent meanwhile are lost.
 */
export class Notifications {
  /** Tells this store's own writes apart from other processes'. */
  private readonly senderId = randomUUID();
  private client: pg.Client | undefined;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = RECONNECT_MIN_MS;

  constructor(
    private readonly channel: string,
    private readonly connection: pg.ClientConfig,
    private readonly emit: (notification: StoreNotification) => void,
  ) {}

  /** Sends the signal of a transaction, from inside it. */
  async publish(tx: Tx, signal: BatchSignal): Promise<void> {
    if (!signal.work && signal.finished.length === 0) return;
    await tx.query("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", [this.channel, this.payloads(signal)]);
  }

  /** Connects the listening client; rejects if the first connection fails. */
  async start(): Promise<void> {
    await this.listen();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private payloads(signal: BatchSignal): string[] {
    const base: Payload = { s: this.senderId };
    if (signal.work) base.w = 1;
    const payloads: string[] = [];
    let finished: [string, string][] = [];
    let size = JSON.stringify(base).length + 8;
    for (const { instanceId, status } of signal.finished) {
      const entry: [string, string] = [instanceId, status];
      const entrySize = JSON.stringify(entry).length + 1;
      if (finished.length > 0 && size + entrySize > MAX_PAYLOAD) {
        payloads.push(JSON.stringify({ ...base, f: finished }));
        finished = [];
        size = JSON.stringify(base).length + 8;
      }
      finished.push(entry);
      size += entrySize;
    }
    payloads.push(JSON.stringify(finished.length > 0 ? { ...base, f: finished } : base));
    return payloads;
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ ...this.connection, keepAlive: true });
    client.on("notification", (message) => this.receive(message));
    client.on("error", () => this.lost(client));
    client.on("end", () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch (error) {
      client.removeAllListeners("end");
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryDelay = RECONNECT_MIN_MS;
  }

  private receive(message: pg.Notification): void {
    if (message.channel !== this.channel || !message.payload) return;
    let payload: Payload;
    try {
      payload = JSON.parse(message.payload) as Payload;
    } catch {
      return;
    }
    if (payload.s === this.senderId) return;
    for (const [instanceId, status] of payload.f ?? []) {
      this.emit({ kind: "instance-updated", instanceId, status: status as RuntimeStatus });
    }
    if (payload.w) this.emit({ kind: "work" });
  }

  /** The listening connection broke: reconnect, with backoff, until closed. */
  private lost(client: pg.Client): void {
    if (this.closed || this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners("end");
    client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.listen().then(
        // Notifications sent while disconnected are gone: have everyone look for work.
        () => this.emit({ kind: "work" }),
        () => {
          this.retryDelay = Math.min(this.retryDelay * 2, RECONNECT_MAX_MS);
          this.scheduleReconnect();
        },
      );
    }, this.retryDelay);
    this.retryTimer.unref();
  }
}
