/**
 * The embedded store: one SQLite file in the data directory, in WAL mode so that readers never
 * wait for the writer, and several Store instances (or engine processes on one machine) may
 * share the file. better-sqlite3 is synchronous; the methods are async only to keep the one
 * interface that PostgreSQL implements too.
 */
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join, resolve } from "node:path";

import Database from "better-sqlite3";

import { DEFAULT_DATA_DIR } from "../../config/index.ts";
import { StoreError } from "../errors.ts";
import { InProcessNotifier } from "../follow.ts";
import type { Store, StoreSignals } from "../types.ts";
import { positiveInteger } from "../validate.ts";
import { SqliteAssistantStore } from "./assistants.ts";
import { SqliteCheckpointStore } from "./checkpoints.ts";
import { SqliteClusterStore } from "./cluster.ts";
import type { SqliteContext } from "./context.ts";
import { SqliteEventLog } from "./events.ts";
import { SqliteExecutionStore } from "./executions.ts";
import { SqliteGraphStore } from "./graphs.ts";
import { SqliteRunStore } from "./runs.ts";
import { SqliteItemStore } from "./items.ts";
import { migrate } from "./schema.ts";
import { SqliteThreadStore } from "./threads.ts";

export interface SqliteStoreOptions {
  /** Directory of the database (created, mode 0700). Default `<project>/.data`; the engine passes GRAPHBOX_DATA_DIR. */
  dataDir?: string;
  /** The database's file name in `dataDir`. Default `graphbox.sqlite`. */
  fileName?: string;
  /** How long a write waits for another connection's write before it fails (SQLITE_BUSY). Default 5000. */
  busyTimeoutMs?: number;
  /** How often a `follow` re-reads the log without being told (a writer in another process). Default 250. */
  pollIntervalMs?: number;
}

export { DEFAULT_DATA_DIR };
export const DEFAULT_FILE_NAME = "graphbox.sqlite";

/**
 * One set of signals per database file in this process, so Store instances on one file wake each
 * other. Engines in other processes on the same file are not woken: they poll.
 */
const notifiers = new Map<string, { signals: StoreSignals; users: number }>();

function takeSignals(file: string): StoreSignals {
  let entry = notifiers.get(file);
  if (!entry) {
    const signals = {
      events: new InProcessNotifier(),
      cancels: new InProcessNotifier(),
      runs: new InProcessNotifier(),
    };
    notifiers.set(file, (entry = { signals, users: 0 }));
  }
  entry.users++;
  return entry.signals;
}

function releaseSignals(file: string): void {
  const entry = notifiers.get(file);
  if (entry && --entry.users === 0) notifiers.delete(file);
}

export class SqliteStore implements Store {
  readonly backend = "sqlite";
  /** Absolute path of the database file. */
  readonly file: string;
  readonly threads: SqliteThreadStore;
  readonly executions: SqliteExecutionStore;
  readonly events: SqliteEventLog;
  readonly checkpoints: SqliteCheckpointStore;
  readonly graphs: SqliteGraphStore;
  readonly assistants: SqliteAssistantStore;
  readonly runs: SqliteRunStore;
  readonly items: SqliteItemStore;
  readonly cluster: SqliteClusterStore;
  readonly signals: StoreSignals;

  private readonly db: Database.Database;
  private readonly closing = new AbortController();

  /** Opens (creating or migrating) the database; throws a StoreError when it cannot be used. */
  constructor(options: SqliteStoreOptions = {}) {
    const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
    const busyTimeoutMs = positiveInteger("busyTimeoutMs", options.busyTimeoutMs ?? 5000);
    const pollIntervalMs = positiveInteger("pollIntervalMs", options.pollIntervalMs ?? 250);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.file = join(dataDir, options.fileName ?? DEFAULT_FILE_NAME);
    // Threads' state is the users' data: create the file private (SQLite gives -wal and -shm the same mode).
    closeSync(openSync(this.file, "a", 0o600));

    const db = new Database(this.file, { timeout: busyTimeoutMs });
    try {
      const mode = db.pragma("journal_mode = WAL", { simple: true });
      if (mode !== "wal") {
        throw new StoreError(
          "GBX_STORE_WAL_UNAVAILABLE",
          `${this.file}: SQLite cannot use a write-ahead log here (journal_mode is ${String(mode)}); set GRAPHBOX_DATA_DIR to a local disk`,
        );
      }
      // NORMAL is durable against a killed process in WAL mode; only a power cut can lose the last commits.
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
      migrate(db, this.file);
    } catch (err: unknown) {
      db.close();
      throw err;
    }
    this.db = db;

    const closed = this.closing.signal;
    const file = this.file;
    this.signals = takeSignals(file);
    const context: SqliteContext = {
      db,
      signals: this.signals,
      closed,
      pollIntervalMs,
      assertOpen() {
        if (closed.aborted) throw new StoreError("GBX_STORE_CLOSED", `the store on ${file} is closed`);
      },
      now: () => Date.now(),
    };
    this.threads = new SqliteThreadStore(context);
    this.events = new SqliteEventLog(context);
    this.executions = new SqliteExecutionStore(context, this.events);
    this.checkpoints = new SqliteCheckpointStore(context);
    this.graphs = new SqliteGraphStore(context);
    this.assistants = new SqliteAssistantStore(context);
    this.runs = new SqliteRunStore(context);
    this.items = new SqliteItemStore(context);
    this.cluster = new SqliteClusterStore(context);
  }

  /** One connection, synchronous: nothing ever waits for it. */
  poolStats(): { total: number; idle: number; waiting: number } {
    return { total: 1, idle: 1, waiting: 0 };
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    releaseSignals(this.file);
    this.db.close();
  }
}

/** Opens the SQLite store (the interface's async way in, as PostgreSQL's will be). */
export async function openSqliteStore(options: SqliteStoreOptions = {}): Promise<SqliteStore> {
  return new SqliteStore(options);
}
