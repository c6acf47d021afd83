/**
 * The store: executions, their event logs, threads and LangGraph checkpoints by thread, behind
 * one interface (`types.ts`). SQLite (embedded, the default) lives in `sqlite/`; PostgreSQL
 * (several engines on one database) in `postgres/`; both pass the same conformance suite
 * (test/support/store-conformance.ts).
 */
export type * from "./types.ts";
export { StoreError, type StoreErrorCode } from "./errors.ts";
export { followEvents, InProcessNotifier, RUNS_ANY, runsKey, type EventNotifier, type FollowSource } from "./follow.ts";
export { matchesFilter } from "./metadata-filter.ts";
export { pendingWriteIndex, SPECIAL_WRITE_INDEX } from "./write-index.ts";
export {
  DEFAULT_DATA_DIR,
  DEFAULT_FILE_NAME,
  openSqliteStore,
  SqliteStore,
  type SqliteStoreOptions,
} from "./sqlite/store.ts";
export { openPostgresStore, PostgresStore, type PostgresStoreOptions } from "./postgres/store.ts";
export { redactedUrl } from "./postgres/url.ts";
