/**
 * The SQLite schema, as numbered migrations: migration N brings a database at version N-1 to N.
 * `schema_version` holds the one version number; a new migration is appended, never edited.
 *
 * Times are INTEGER milliseconds since the epoch; JSON is TEXT; LangGraph's serialized values
 * are BLOBs with their serde type beside them, as LangGraph's own savers store them.
 */
import type Database from "better-sqlite3";

import { StoreError } from "../errors.ts";

export const MIGRATIONS: readonly string[] = [
  // 1: threads, locks, executions, event logs, checkpoints, pending writes.
  `
  CREATE TABLE threads (
    owner       TEXT NOT NULL,
    thread_id   TEXT NOT NULL,
    runtime     TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (owner, thread_id)
  );
  CREATE INDEX threads_by_owner_updated ON threads (owner, updated_at);

  -- Apart from threads so that a lock can be taken before the thread exists.
  CREATE TABLE thread_locks (
    owner         TEXT NOT NULL,
    thread_id     TEXT NOT NULL,
    execution_id  TEXT NOT NULL,
    expires_at    INTEGER NOT NULL,
    PRIMARY KEY (owner, thread_id)
  );

  CREATE TABLE executions (
    id              TEXT PRIMARY KEY,
    owner           TEXT NOT NULL,
    thread_id       TEXT NOT NULL,
    runtime         TEXT NOT NULL,
    status          TEXT NOT NULL,
    error_type      TEXT,
    error           TEXT,
    engine_id       TEXT,
    started_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    duration_ms     INTEGER,
    tokens_used     INTEGER NOT NULL DEFAULT 0,
    nodes_executed  TEXT NOT NULL DEFAULT '[]',
    result          TEXT,
    last_seq        INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX executions_by_owner_thread ON executions (owner, thread_id, started_at);
  CREATE INDEX executions_by_owner_started ON executions (owner, started_at);
  CREATE INDEX executions_running ON executions (status) WHERE status = 'running';

  CREATE TABLE execution_events (
    execution_id  TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    type          TEXT NOT NULL,
    data          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (execution_id, seq)
  ) WITHOUT ROWID;

  CREATE TABLE checkpoints (
    owner                 TEXT NOT NULL,
    thread_id             TEXT NOT NULL,
    checkpoint_ns         TEXT NOT NULL DEFAULT '',
    checkpoint_id         TEXT NOT NULL,
    parent_checkpoint_id  TEXT,
    type                  TEXT NOT NULL,
    checkpoint            BLOB NOT NULL,
    metadata              TEXT NOT NULL DEFAULT '{}',
    -- A JSON view of the state for the thread APIs (the engine cannot read the runtime's blob).
    state_json            TEXT,
    created_at            INTEGER NOT NULL,
    PRIMARY KEY (owner, thread_id, checkpoint_ns, checkpoint_id)
  );

  CREATE TABLE checkpoint_writes (
    owner          TEXT NOT NULL,
    thread_id      TEXT NOT NULL,
    checkpoint_ns  TEXT NOT NULL DEFAULT '',
    checkpoint_id  TEXT NOT NULL,
    task_id        TEXT NOT NULL,
    idx            INTEGER NOT NULL,
    task_path      TEXT NOT NULL DEFAULT '',
    channel        TEXT NOT NULL,
    type           TEXT NOT NULL,
    value          BLOB NOT NULL,
    PRIMARY KEY (owner, thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
  );
  `,
  // 2: checkpoints carry the engine's write order (a thread's head is what was written last, not
  // the greatest id a program chose), each thread counts its checkpoint bytes (the per-thread
  // quota), and a thread keeps what its last result said of its head (next, interrupts).
  `
  ALTER TABLE checkpoints ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
  -- Rows written before this migration keep their insertion order.
  UPDATE checkpoints SET seq = rowid;
  CREATE INDEX checkpoints_by_seq ON checkpoints (owner, thread_id, checkpoint_ns, seq);

  CREATE TABLE checkpoint_threads (
    owner      TEXT NOT NULL,
    thread_id  TEXT NOT NULL,
    last_seq   INTEGER NOT NULL,
    bytes      INTEGER NOT NULL,
    PRIMARY KEY (owner, thread_id)
  );
  INSERT INTO checkpoint_threads (owner, thread_id, last_seq, bytes)
    SELECT owner, thread_id, MAX(seq), SUM(size) FROM (
      SELECT owner, thread_id, seq, length(checkpoint) + length(CAST(metadata AS BLOB)) + COALESCE(length(CAST(state_json AS BLOB)), 0) AS size FROM checkpoints
      UNION ALL
      SELECT owner, thread_id, 0, length(value) FROM checkpoint_writes
    ) GROUP BY owner, thread_id;

  ALTER TABLE threads ADD COLUMN head_json TEXT;
  `,
  // 3: an execution keeps the LangGraph context its request gave the run (config.context, JSON).
  `
  ALTER TABLE executions ADD COLUMN context TEXT;
  `,
  // 4: LangGraph's Agent Server API. Threads get metadata (canonical JSON, searched by key) and a
  // runtime that stays null until their first run (POST /threads makes them before any run).
  // SQLite cannot drop a NOT NULL, so the table is rebuilt within this transaction; nothing
  // refers to it by foreign key, view or trigger. Then the programs registered at run time,
  // their assistants, and the runs of the Agent API.
  `
  CREATE TABLE threads_v4 (
    owner       TEXT NOT NULL,
    thread_id   TEXT NOT NULL,
    runtime     TEXT,
    status      TEXT NOT NULL,
    metadata    TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    head_json   TEXT,
    PRIMARY KEY (owner, thread_id)
  );
  INSERT INTO threads_v4 (owner, thread_id, runtime, status, metadata, created_at, updated_at, head_json)
    SELECT owner, thread_id, runtime, status, '{}', created_at, updated_at, head_json FROM threads;
  DROP TABLE threads;
  ALTER TABLE threads_v4 RENAME TO threads;
  CREATE INDEX threads_by_owner_updated ON threads (owner, updated_at);
  CREATE INDEX threads_by_owner_created ON threads (owner, created_at);
  CREATE INDEX threads_by_owner_status ON threads (owner, status, created_at);

  CREATE TABLE graphs (
    owner        TEXT NOT NULL,
    graph_id     TEXT NOT NULL,
    language     TEXT NOT NULL,
    code         TEXT NOT NULL,
    files        TEXT NOT NULL DEFAULT '{}',
    graph        TEXT,
    version      INTEGER NOT NULL,
    description  TEXT NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (owner, graph_id)
  );

  CREATE TABLE assistants (
    owner         TEXT NOT NULL,
    assistant_id  TEXT NOT NULL,
    graph_id      TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT,
    config        TEXT NOT NULL DEFAULT '{}',
    context       TEXT NOT NULL DEFAULT '{}',
    metadata      TEXT NOT NULL DEFAULT '{}',
    version       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (owner, assistant_id)
  );
  CREATE INDEX assistants_by_owner_graph ON assistants (owner, graph_id, created_at);
  CREATE INDEX assistants_by_owner_created ON assistants (owner, created_at);
  CREATE INDEX assistants_by_owner_updated ON assistants (owner, updated_at);

  -- seq orders a thread's runs as they were created, even across a step of the clock.
  CREATE TABLE runs (
    seq                 INTEGER PRIMARY KEY,
    run_id              TEXT NOT NULL UNIQUE,
    owner               TEXT NOT NULL,
    thread_id           TEXT,
    assistant_id        TEXT NOT NULL,
    execution_id        TEXT,
    status              TEXT NOT NULL,
    metadata            TEXT NOT NULL DEFAULT '{}',
    multitask_strategy  TEXT NOT NULL,
    kwargs              TEXT NOT NULL DEFAULT '{}',
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
  );
  CREATE INDEX runs_by_thread ON runs (owner, thread_id, seq);
  -- A thread's pending runs in order without passing its finished ones (and the list by status).
  CREATE INDEX runs_by_thread_status ON runs (owner, thread_id, status, seq);
  CREATE INDEX runs_unfinished ON runs (status) WHERE status IN ('pending', 'running');
  `,
  // 5: LangGraph's long-term memory store (BaseStore items) per owner. A namespace is the JSON text
  // of its labels, so a prefix is one range of the unique index (see sqlite/items.ts); a rowid
  // orders the items written within one millisecond.
  `
  CREATE TABLE store_items (
    owner       TEXT NOT NULL,
    namespace   TEXT NOT NULL,
    item_key    TEXT NOT NULL,
    value       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (owner, namespace, item_key)
  );
  CREATE INDEX store_items_by_owner_updated ON store_items (owner, updated_at);
  `,
  // 6: engines sharing the database. Each holds a lease (a peer reaps it when it lapses); a cancel
  // asked on any engine waits on the execution for the engine that runs it; a run records which
  // engine claimed it (the durable queue) and the head it started from (where rollback returns).
  `
  CREATE TABLE engines (
    engine_id     TEXT PRIMARY KEY,
    address       TEXT NOT NULL,
    started_at    INTEGER NOT NULL,
    heartbeat_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
  );
  ALTER TABLE executions ADD COLUMN cancel_requested TEXT;
  CREATE INDEX executions_running_by_engine ON executions (engine_id) WHERE status = 'running';
  ALTER TABLE runs ADD COLUMN engine_id TEXT;
  ALTER TABLE runs ADD COLUMN started_from TEXT;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database to SCHEMA_VERSION in one write transaction (safe against a second opener). */
export function migrate(db: Database.Database, file: string): void {
  db.transaction(() => {
    db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    const row = db.prepare("SELECT version FROM schema_version").get() as { version: number } | undefined;
    const current = row?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new StoreError(
        "GBX_STORE_SCHEMA_TOO_NEW",
        `${file} has schema version ${current}, newer than this Graphbox's ${SCHEMA_VERSION}: run a newer Graphbox, or point GRAPHBOX_DATA_DIR elsewhere`,
      );
    }
    for (let version = current + 1; version <= SCHEMA_VERSION; version++) db.exec(MIGRATIONS[version - 1] as string);
    if (row === undefined) db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(SCHEMA_VERSION);
    else if (current !== SCHEMA_VERSION) db.prepare("UPDATE schema_version SET version = ?").run(SCHEMA_VERSION);
  }).immediate();
}
