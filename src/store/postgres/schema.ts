/**
 * The PostgreSQL schema, as numbered migrations like SQLite's (`../sqlite/schema.ts`): migration N
 * brings a database at version N-1 to N; a new migration is appended, never edited. Migration 1 is
 * the whole schema of SQLite's version 6, so both backends hold the same records.
 *
 * Every TEXT that is compared, sorted or range-scanned is COLLATE "C" (byte order, as SQLite
 * compares): a checkpoint id sorts by time, a namespace prefix is a range, whatever the database's
 * own collation. Times are BIGINT milliseconds since the epoch (parsed to numbers: they stay far below 2^53);
 * JSON that is searched by key is JSONB, JSON that is streamed back as it was written (event
 * data, results) is TEXT; LangGraph's serialized values are BYTEA with their serde type beside them.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: everything SQLite's schema holds at its version 6.
  `
  CREATE TABLE threads (
    owner       TEXT COLLATE "C" NOT NULL,
    thread_id   TEXT COLLATE "C" NOT NULL,
    runtime     TEXT,
    status      TEXT COLLATE "C" NOT NULL,
    metadata    JSONB NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    head_json   TEXT,
    PRIMARY KEY (owner, thread_id)
  );
  CREATE INDEX threads_by_owner_updated ON threads (owner, updated_at);
  CREATE INDEX threads_by_owner_created ON threads (owner, created_at);
  CREATE INDEX threads_by_owner_status ON threads (owner, status, created_at);

  -- Apart from threads so that a lock can be taken before the thread exists.
  CREATE TABLE thread_locks (
    owner         TEXT COLLATE "C" NOT NULL,
    thread_id     TEXT COLLATE "C" NOT NULL,
    execution_id  TEXT COLLATE "C" NOT NULL,
    expires_at    BIGINT NOT NULL,
    PRIMARY KEY (owner, thread_id)
  );

  CREATE TABLE engines (
    engine_id     TEXT COLLATE "C" PRIMARY KEY,
    address       TEXT NOT NULL,
    started_at    BIGINT NOT NULL,
    heartbeat_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
  );

  CREATE TABLE executions (
    id                TEXT COLLATE "C" PRIMARY KEY,
    owner             TEXT COLLATE "C" NOT NULL,
    thread_id         TEXT COLLATE "C" NOT NULL,
    runtime           TEXT NOT NULL,
    status            TEXT COLLATE "C" NOT NULL,
    error_type        TEXT,
    error             TEXT,
    engine_id         TEXT COLLATE "C",
    started_at        BIGINT NOT NULL,
    ended_at          BIGINT,
    duration_ms       BIGINT,
    tokens_used       BIGINT NOT NULL DEFAULT 0,
    nodes_executed    JSONB NOT NULL DEFAULT '[]',
    result            TEXT,
    context           TEXT,
    last_seq          INTEGER NOT NULL DEFAULT 0,
    -- A cancel asked by any engine of the engine that runs it: 'interrupt' or 'rollback'.
    cancel_requested  TEXT
  );
  CREATE INDEX executions_by_owner_thread ON executions (owner, thread_id, started_at);
  CREATE INDEX executions_by_owner_started ON executions (owner, started_at);
  CREATE INDEX executions_running_by_engine ON executions (engine_id) WHERE status = 'running';

  CREATE TABLE execution_events (
    execution_id  TEXT COLLATE "C" NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    type          TEXT NOT NULL,
    data          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (execution_id, seq)
  );

  -- seq: the engine's write order (a namespace's head is what was written last, not the greatest id).
  CREATE TABLE checkpoints (
    owner                 TEXT COLLATE "C" NOT NULL,
    thread_id             TEXT COLLATE "C" NOT NULL,
    checkpoint_ns         TEXT COLLATE "C" NOT NULL DEFAULT '',
    checkpoint_id         TEXT COLLATE "C" NOT NULL,
    parent_checkpoint_id  TEXT COLLATE "C",
    type                  TEXT NOT NULL,
    checkpoint            BYTEA NOT NULL,
    metadata              JSONB NOT NULL DEFAULT '{}',
    state_json            TEXT,
    -- What the put counted against the thread's quota (blob, metadata and values as JSON text):
    -- a read's cost without measuring the row again.
    bytes                 BIGINT NOT NULL,
    seq                   BIGINT NOT NULL,
    created_at            BIGINT NOT NULL,
    PRIMARY KEY (owner, thread_id, checkpoint_ns, checkpoint_id)
  );
  CREATE INDEX checkpoints_by_seq ON checkpoints (owner, thread_id, checkpoint_ns, seq);

  CREATE TABLE checkpoint_writes (
    owner          TEXT COLLATE "C" NOT NULL,
    thread_id      TEXT COLLATE "C" NOT NULL,
    checkpoint_ns  TEXT COLLATE "C" NOT NULL DEFAULT '',
    checkpoint_id  TEXT COLLATE "C" NOT NULL,
    task_id        TEXT COLLATE "C" NOT NULL,
    idx            INTEGER NOT NULL,
    task_path      TEXT NOT NULL DEFAULT '',
    channel        TEXT NOT NULL,
    type           TEXT NOT NULL,
    value          BYTEA NOT NULL,
    PRIMARY KEY (owner, thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
  );

  -- Per thread: the last checkpoint seq and the bytes stored (the per-thread quota). Its row is
  -- also what a checkpoint write locks (SELECT ... FOR UPDATE) so that writes to one thread queue.
  CREATE TABLE checkpoint_threads (
    owner      TEXT COLLATE "C" NOT NULL,
    thread_id  TEXT COLLATE "C" NOT NULL,
    last_seq   BIGINT NOT NULL,
    bytes      BIGINT NOT NULL,
    PRIMARY KEY (owner, thread_id)
  );

  CREATE TABLE graphs (
    owner        TEXT COLLATE "C" NOT NULL,
    graph_id     TEXT COLLATE "C" NOT NULL,
    language     TEXT NOT NULL,
    code         TEXT NOT NULL,
    files        JSONB NOT NULL DEFAULT '{}',
    graph        TEXT,
    version      INTEGER NOT NULL,
    description  JSONB NOT NULL DEFAULT '{}',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (owner, graph_id)
  );

  CREATE TABLE assistants (
    owner         TEXT COLLATE "C" NOT NULL,
    assistant_id  TEXT COLLATE "C" NOT NULL,
    graph_id      TEXT COLLATE "C" NOT NULL,
    name          TEXT COLLATE "C" NOT NULL,
    description   TEXT,
    config        JSONB NOT NULL DEFAULT '{}',
    context       JSONB NOT NULL DEFAULT '{}',
    metadata      JSONB NOT NULL DEFAULT '{}',
    version       INTEGER NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (owner, assistant_id)
  );
  CREATE INDEX assistants_by_owner_graph ON assistants (owner, graph_id, created_at);
  CREATE INDEX assistants_by_owner_created ON assistants (owner, created_at);
  CREATE INDEX assistants_by_owner_updated ON assistants (owner, updated_at);

  -- seq orders a thread's runs as they were created, even across a step of the clock.
  CREATE TABLE runs (
    seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id              TEXT COLLATE "C" NOT NULL UNIQUE,
    owner               TEXT COLLATE "C" NOT NULL,
    thread_id           TEXT COLLATE "C",
    assistant_id        TEXT COLLATE "C" NOT NULL,
    execution_id        TEXT COLLATE "C",
    status              TEXT COLLATE "C" NOT NULL,
    metadata            JSONB NOT NULL DEFAULT '{}',
    multitask_strategy  TEXT NOT NULL,
    kwargs              JSONB NOT NULL DEFAULT '{}',
    engine_id           TEXT COLLATE "C",
    started_from        TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
  );
  CREATE INDEX runs_by_thread ON runs (owner, thread_id, seq);
  CREATE INDEX runs_by_thread_status ON runs (owner, thread_id, status, seq);
  CREATE INDEX runs_unfinished ON runs (status, seq) WHERE status IN ('pending', 'running');

  -- A namespace is the JSON text of its labels (as in SQLite), so a prefix is one range of the key.
  CREATE TABLE store_items (
    owner       TEXT COLLATE "C" NOT NULL,
    namespace   TEXT COLLATE "C" NOT NULL,
    item_key    TEXT COLLATE "C" NOT NULL,
    value       JSONB NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    seq         BIGINT GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (owner, namespace, item_key)
  );
  CREATE INDEX store_items_by_owner_updated ON store_items (owner, updated_at, seq);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Taken with pg_advisory_xact_lock around a migration, so that engines starting at once from the
 * same checkout migrate one after the other (the second finds the work done). An arbitrary
 * constant: "gbx" in ASCII.
 */
export const MIGRATION_LOCK_KEY = 0x676278;
