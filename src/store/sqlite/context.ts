/** What the SQLite store's parts share: the connection, the signals, and whether it is open. */
import type Database from "better-sqlite3";

import type { StoreSignals } from "../types.ts";

export interface SqliteContext {
  readonly db: Database.Database;
  /** In this process, shared by every Store on the same file. */
  readonly signals: StoreSignals;
  /** Aborted by `close()`: ends every follower. */
  readonly closed: AbortSignal;
  readonly pollIntervalMs: number;
  /** Throws GBX_STORE_CLOSED after `close()`. */
  assertOpen(): void;
  now(): number;
}
