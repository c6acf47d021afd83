/**
 * The store: executions, their event logs, threads and LangGraph checkpoints by thread, behind
 * one interface (`types.ts`). SQLite (embedded, the default) lives in `sqlite/`; a PostgreSQL
 * implementation provides the same `Store` and passes the same conformance suite
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
