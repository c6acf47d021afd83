/**
 * Faults of the store itself. Each has a stable code to check (not the class); to a client they
 * are the catalogue's GBX_ERR_INTERNAL.
 */
export type StoreErrorCode =
  /** A call after `close()`. */
  | "GBX_STORE_CLOSED"
  /** The database was written by a newer Graphbox (its schema_version is ahead of this code). */
  | "GBX_STORE_SCHEMA_TOO_NEW"
  /** The database cannot be reached or refuses the login (PostgreSQL, at open). */
  | "GBX_STORE_UNAVAILABLE"
  /** The data directory's file system cannot hold an SQLite write-ahead log. */
  | "GBX_STORE_WAL_UNAVAILABLE"
  /** A caller passed a value the store cannot hold (a TTL of 0, a blob that is not bytes...). */
  | "GBX_STORE_INVALID_ARGUMENT"
  /** A checkpoint id that does not sort after every id already in its thread's namespace. */
  | "GBX_STORE_CHECKPOINT_NOT_NEWER"
  /** A checkpoint write that would take its thread past `maxThreadBytes`. */
  | "GBX_STORE_QUOTA_EXCEEDED"
  /** A checkpoint read that would load more than `maxBytes`. */
  | "GBX_STORE_READ_TOO_LARGE";

export class StoreError extends Error {
  override name = "StoreError";
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}
