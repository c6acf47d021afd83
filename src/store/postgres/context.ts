/** What the PostgreSQL store's parts share: the pool, the signals, and whether it is open. */
import type { Pool, PoolClient, QueryResultRow } from "pg";

import type { StoreSignals } from "../types.ts";

/** A pool or one client inside a transaction: what a query runs on. */
export type Queryable = Pool | PoolClient;

export interface PostgresContext {
  readonly pool: Pool;
  /** LISTEN/NOTIFY on one dedicated connection (see `signals.ts`). */
  readonly signals: StoreSignals;
  /** Aborted by `close()`: ends every follower. */
  readonly closed: AbortSignal;
  /** How often a `follow` re-reads the log without a notification (a lost NOTIFY). */
  readonly pollIntervalMs: number;
  /** Throws GBX_STORE_CLOSED after `close()`. */
  assertOpen(): void;
  now(): number;
  /** Rows of one statement on the pool (after `assertOpen`). */
  query<R extends QueryResultRow>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /**
   * Runs `work` in one transaction on one client: BEGIN, COMMIT, or ROLLBACK when it throws
   * (the error goes on). NOTIFYs sent inside are delivered at COMMIT, never for a rolled-back write.
   */
  transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T>;
}
