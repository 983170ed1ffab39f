import { InvalidArgumentError } from "../errors/errors.js";
import type { InstanceQuery, RuntimeStatus } from "../store/store.js";
import { toEpochMs } from "../time/epoch.js";

const STATUSES: readonly RuntimeStatus[] = [
  "Pending",
  "Running",
  "Suspended",
  "Completed",
  "Failed",
  "Terminated",
  "ContinuedAsNew",
];

/** Filters and paging for `client.list`. */
export interface ListOptions {
  /** Only instances in these statuses. */
  runtimeStatus?: RuntimeStatus | RuntimeStatus[];
  /** Only instances of this orchestration. */
  name?: string;
  /** Only instances created at or after this time. */
  createdFrom?: Date;
  /** Only instances created before this time. */
  createdTo?: Date;
  /** Only instances whose id starts with this. */
  instanceIdPrefix?: string;
  /** Instances per page, 1–1000. Default 100. */
  pageSize?: number;
  /** The `continuationToken` of the previous page. */
  continuationToken?: string;
}

/** Checks list options and turns them into a store query. */
export function toInstanceQuery(options: ListOptions): InstanceQuery {
  const pageSize = options.pageSize ?? 100;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    throw new InvalidArgumentError(`pageSize must be an integer from 1 to 1000, got ${pageSize}.`);
  }
  const query: InstanceQuery = { limit: pageSize };
  if (options.runtimeStatus !== undefined) {
    const statuses = Array.isArray(options.runtimeStatus) ? options.runtimeStatus : [options.runtimeStatus];
    for (const status of statuses) {
      if (!STATUSES.includes(status)) {
        throw new InvalidArgumentError(`runtimeStatus "${status}" is not a status; use one of ${STATUSES.join(", ")}.`);
      }
    }
    query.runtimeStatus = statuses;
  }
  if (options.name !== undefined) query.name = String(options.name);
  if (options.createdFrom !== undefined) query.createdFrom = toEpochMs(options.createdFrom, "createdFrom");
  if (options.createdTo !== undefined) query.createdTo = toEpochMs(options.createdTo, "createdTo");
  if (options.instanceIdPrefix) query.instanceIdPrefix = String(options.instanceIdPrefix);
  if (options.continuationToken) query.after = decodeContinuationToken(options.continuationToken);
  return query;
}

/** An opaque cursor: the position after which the next page starts. */
export function encodeContinuationToken(after: { createdAt: number; instanceId: string }): string {
  return Buffer.from(JSON.stringify([after.createdAt, after.instanceId])).toString("base64url");
}

export function decodeContinuationToken(token: string): { createdAt: number; instanceId: string } {
  try {
    const [createdAt, instanceId] = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as unknown[];
    if (typeof createdAt === "number" && Number.isFinite(createdAt) && typeof instanceId === "string") {
      return { createdAt, instanceId };
    }
  } catch {
    // Falls through to the error below.
  }
  throw new InvalidArgumentError(
    "continuationToken is not valid: pass the token returned with the previous page, unchanged.",
  );
}
