/** What the SQLite store's parts share: the connection, the notifier, and whether it is open. */
import type Database from "better-sqlite3";

import type { EventNotifier } from "../follow.ts";

export interface SqliteContext {
  readonly db: Database.Database;
  readonly notifier: EventNotifier;
  /** Aborted by `close()`: ends every follower. */
  readonly closed: AbortSignal;
  readonly pollIntervalMs: number;
  /** Throws GBX_STORE_CLOSED after `close()`. */
  assertOpen(): void;
  now(): number;
}
