/**
 * TEMPORARY, until the PostgreSQL store's `openPostgresStore` (store.ts) is merged: a Store on a
 * real PostgreSQL made of the Agent API parts (graphs, assistants, runs, items) and just enough of
 * the rest for their conformance cases (threads' metadata, search, head and delete; engine leases).
 * Nothing is faked: every part is SQL on a real pool. Whatever the cases do not reach throws.
 * At merge, test/store-postgres-agent.test.ts opens `openPostgresStore` instead and this file goes.
 */
import pg from "pg";

import {
  InProcessNotifier,
  StoreError,
  type Store,
  type ThreadRecord,
  type ThreadStore,
} from "../../src/store/index.ts";
import type { PostgresContext } from "../../src/store/postgres/context.ts";
import { PostgresAssistantStore } from "../../src/store/postgres/assistants.ts";
import { PostgresGraphStore } from "../../src/store/postgres/graphs.ts";
import { PostgresItemStore } from "../../src/store/postgres/items.ts";
import { bind, metadataMatches } from "../../src/store/postgres/json-filter.ts";
import { orderBy } from "../../src/store/postgres/order.ts";
import { PostgresRunStore } from "../../src/store/postgres/runs.ts";
import { MIGRATIONS } from "../../src/store/postgres/schema.ts";
import { jsonbText } from "../../src/store/postgres/values.ts";
import { isJsonObject, jsonObject, metadataFilter, oneOf, pageOf, THREAD_STATUSES } from "../../src/store/validate.ts";

// BIGINT (times, seq) as numbers, as the store's pool parses them.
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === pg.types.builtins.INT8
      ? (value: string): number => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** Runs the schema's first migration on an empty database. */
export async function migrate(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(MIGRATIONS[0] as string);
  } finally {
    await client.end();
  }
}

function contextOn(pool: pg.Pool, closed: AbortController): PostgresContext {
  const assertOpen = (): void => {
    if (closed.signal.aborted) throw new StoreError("GBX_STORE_CLOSED", "the store is closed");
  };
  return {
    pool,
    signals: { events: new InProcessNotifier(), cancels: new InProcessNotifier(), runs: new InProcessNotifier() },
    closed: closed.signal,
    pollIntervalMs: 100,
    assertOpen,
    now: () => Date.now(),
    async query(sql, params = []) {
      assertOpen();
      return (await pool.query(sql, [...params])).rows;
    },
    async transaction(work) {
      assertOpen();
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await work(client);
        await client.query("COMMIT");
        return result;
      } catch (err: unknown) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
  };
}

interface ThreadRow {
  owner: string;
  thread_id: string;
  runtime: ThreadRecord["runtime"];
  status: ThreadRecord["status"];
  metadata: Record<string, unknown>;
  created_at: number;
  updated_at: number;
  head_json: string | null;
}

const toThread = (row: ThreadRow): ThreadRecord => ({
  owner: row.owner,
  threadId: row.thread_id,
  runtime: row.runtime,
  status: row.status,
  metadata: row.metadata,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const THREAD_COLUMNS = "owner, thread_id, runtime, status, metadata, created_at, updated_at, head_json";

const missing = (what: string) => (): never => {
  throw new Error(`${what} is not in this harness (pg-core's part)`);
};

/** The thread operations the Agent API record cases use. */
function threadsOn(ctx: PostgresContext): ThreadStore {
  const where = (owner: string, search: Parameters<ThreadStore["count"]>[1] = {}, params: unknown[]): string => {
    const clauses = [`owner = ${bind(params, owner)}`];
    if (search.status !== undefined)
      clauses.push(`status = ${bind(params, oneOf("status", search.status, THREAD_STATUSES))}`);
    if (search.ids !== undefined) {
      if (!Array.isArray(search.ids)) throw new StoreError("GBX_STORE_INVALID_ARGUMENT", "ids must be a list");
      if (search.ids.length > 0) clauses.push(`thread_id = ANY(${bind(params, search.ids)}::text[])`);
    }
    const filter = metadataFilter(search.metadata);
    if (filter !== undefined) clauses.push(metadataMatches("metadata", filter, params));
    return clauses.join(" AND ");
  };
  return {
    async ensure(thread) {
      const metadata = jsonbText("metadata", jsonObject("metadata", thread.metadata ?? {}));
      const status = oneOf("status", thread.status ?? "idle", THREAD_STATUSES);
      const now = ctx.now();
      const [row] = await ctx.query<ThreadRow & { created: boolean }>(
        `INSERT INTO threads (owner, thread_id, runtime, status, metadata, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $6)
         ON CONFLICT (owner, thread_id) DO UPDATE SET runtime = COALESCE(threads.runtime, excluded.runtime)
         RETURNING ${THREAD_COLUMNS}, (xmax = 0) AS created`,
        [thread.owner, thread.threadId, thread.runtime, status, metadata, now],
      );
      return { thread: toThread(row as ThreadRow), created: (row as { created: boolean }).created };
    },
    async updateMetadata(ref, metadata) {
      const [row] = await ctx.query<ThreadRow>(
        `UPDATE threads SET metadata = metadata || $3::jsonb, updated_at = $4 WHERE owner = $1 AND thread_id = $2
         RETURNING ${THREAD_COLUMNS}`,
        [ref.owner, ref.threadId, jsonbText("metadata", jsonObject("metadata", metadata)), ctx.now()],
      );
      return row ? toThread(row) : null;
    },
    async search(owner, search = {}) {
      const params: unknown[] = [];
      const conditions = where(owner, search, params);
      const order = orderBy(
        { thread_id: "thread_id", status: "status", created_at: "created_at", updated_at: "updated_at" },
        { sortBy: search.sortBy, sortOrder: search.sortOrder, fallback: "created_at", tiebreak: "thread_id" },
      );
      const { limit, offset } = pageOf(search);
      const rows = await ctx.query<ThreadRow>(
        `SELECT ${THREAD_COLUMNS} FROM threads WHERE ${conditions} ${order}
         LIMIT ${bind(params, limit)} OFFSET ${bind(params, offset)}`,
        params,
      );
      return rows.map(toThread);
    },
    async count(owner, search) {
      const params: unknown[] = [];
      const [row] = await ctx.query<{ n: number }>(
        `SELECT count(*)::integer AS n FROM threads WHERE ${where(owner, search, params)}`,
        params,
      );
      return row?.n ?? 0;
    },
    async get(ref) {
      const [row] = await ctx.query<ThreadRow>(
        `SELECT ${THREAD_COLUMNS} FROM threads WHERE owner = $1 AND thread_id = $2`,
        [ref.owner, ref.threadId],
      );
      return row ? toThread(row) : null;
    },
    async setStatus(ref, status, head) {
      if (head?.threadState != null && !isJsonObject(head.threadState))
        throw new StoreError("GBX_STORE_INVALID_ARGUMENT", "threadState must be a JSON object or null");
      const rows = await ctx.query(
        `UPDATE threads SET status = $3, updated_at = $4, head_json = COALESCE($5, head_json)
         WHERE owner = $1 AND thread_id = $2 RETURNING 1`,
        [
          ref.owner,
          ref.threadId,
          oneOf("status", status, THREAD_STATUSES),
          ctx.now(),
          head ? JSON.stringify(head) : null,
        ],
      );
      return rows.length === 1;
    },
    async getHead(ref) {
      const [row] = await ctx.query<{ head_json: string | null }>(
        "SELECT head_json FROM threads WHERE owner = $1 AND thread_id = $2",
        [ref.owner, ref.threadId],
      );
      return row?.head_json ? (JSON.parse(row.head_json) as Awaited<ReturnType<ThreadStore["getHead"]>>) : null;
    },
    async delete(ref) {
      return ctx.transaction(async (client) => {
        await client.query("DELETE FROM runs WHERE owner = $1 AND thread_id = $2", [ref.owner, ref.threadId]);
        const deleted = await client.query("DELETE FROM threads WHERE owner = $1 AND thread_id = $2", [
          ref.owner,
          ref.threadId,
        ]);
        return deleted.rowCount === 1;
      });
    },
    list: missing("threads.list"),
    tryLock: missing("threads.tryLock"),
    unlock: missing("threads.unlock"),
  };
}

/** A Store on the (migrated) database at `url`: the Agent API parts, and enough of the rest. */
export function openAgentHarnessStore(url: string): Store {
  const pool = new pg.Pool({ connectionString: url, max: 8, types });
  // pool.end() resolves once it has asked each connection to end, not when they have: close()
  // waits for them, so that no connection is still open when the test's server stops.
  const ended: Promise<void>[] = [];
  pool.on("connect", (client) => ended.push(new Promise((resolve) => client.once("end", () => resolve()))));
  const closed = new AbortController();
  const ctx = contextOn(pool, closed);
  let closing: Promise<void> | null = null;
  return {
    backend: "postgres",
    signals: ctx.signals,
    cluster: {
      async heartbeat(engine, ttlMs) {
        const now = ctx.now();
        await ctx.query(
          `INSERT INTO engines (engine_id, address, started_at, heartbeat_at, expires_at) VALUES ($1, $2, $3, $3, $4)
           ON CONFLICT (engine_id) DO UPDATE SET heartbeat_at = $3, expires_at = $4`,
          [engine.engineId, engine.address, now, now + ttlMs],
        );
        return true;
      },
      live: missing("cluster.live"),
      reapExpired: missing("cluster.reapExpired"),
      async leave(engineId) {
        await ctx.query("DELETE FROM engines WHERE engine_id = $1", [engineId]);
      },
    },
    threads: threadsOn(ctx),
    executions: new Proxy({} as Store["executions"], { get: (_, name) => missing(`executions.${String(name)}`) }),
    events: new Proxy({} as Store["events"], { get: (_, name) => missing(`events.${String(name)}`) }),
    checkpoints: new Proxy({} as Store["checkpoints"], { get: (_, name) => missing(`checkpoints.${String(name)}`) }),
    graphs: new PostgresGraphStore(ctx),
    assistants: new PostgresAssistantStore(ctx),
    runs: new PostgresRunStore(ctx),
    items: new PostgresItemStore(ctx),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close() {
      closed.abort();
      closing ??= pool.end().then(async () => {
        await Promise.all(ended);
      });
      return closing;
    },
  };
}
