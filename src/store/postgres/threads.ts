/** Threads and their run locks, in PostgreSQL. */
import { RUNTIME_NAMES, type RuntimeName } from "../../contract/types.ts";
import { StoreError } from "../errors.ts";
import type {
  ListOptions,
  LockAttempt,
  NewThread,
  ThreadHead,
  ThreadRecord,
  ThreadRef,
  ThreadSearch,
  ThreadStatus,
  ThreadStore,
} from "../types.ts";
import {
  headJson,
  isJsonObject,
  jsonObject,
  limitOf,
  metadataFilter,
  oneOf,
  pageOf,
  positiveInteger,
  SORT_ORDERS,
  text,
  THREAD_STATUSES,
  toJson,
} from "../validate.ts";
import type { PostgresContext } from "./context.ts";

interface ThreadRow {
  owner: string;
  thread_id: string;
  runtime: string | null;
  status: string;
  metadata: Record<string, unknown>;
  created_at: number;
  updated_at: number;
}

const toThread = (row: ThreadRow): ThreadRecord => ({
  owner: row.owner,
  threadId: row.thread_id,
  runtime: row.runtime as RuntimeName | null,
  status: row.status as ThreadStatus,
  metadata: row.metadata,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const SORT_COLUMNS: Record<NonNullable<ThreadSearch["sortBy"]>, string> = {
  thread_id: "thread_id",
  status: "status",
  created_at: "created_at",
  updated_at: "updated_at",
};

const COLUMNS = "owner, thread_id, runtime, status, metadata, created_at, updated_at";

/**
 * One statement decides, so two engines racing for the lock cannot both win: the row is inserted,
 * or taken over when lapsed or already ours, or left alone; left alone, the holder is read.
 */
const TRY_LOCK = `
  WITH taken AS (
    INSERT INTO thread_locks (owner, thread_id, execution_id, expires_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (owner, thread_id) DO UPDATE SET execution_id = excluded.execution_id, expires_at = excluded.expires_at
    WHERE thread_locks.expires_at <= $5 OR thread_locks.execution_id = excluded.execution_id
    RETURNING execution_id, expires_at
  )
  SELECT true AS acquired, execution_id, expires_at FROM taken
  UNION ALL
  SELECT false, execution_id, expires_at FROM thread_locks
  WHERE owner = $1 AND thread_id = $2 AND NOT EXISTS (SELECT 1 FROM taken)`;

interface Condition {
  sql: string;
  params: unknown[];
}

export class PostgresThreadStore implements ThreadStore {
  constructor(private readonly ctx: PostgresContext) {}

  async ensure(thread: NewThread): Promise<{ thread: ThreadRecord; created: boolean }> {
    this.ctx.assertOpen();
    const runtime = thread.runtime === null ? null : oneOf("runtime", thread.runtime, RUNTIME_NAMES);
    const status = oneOf("status", thread.status ?? "idle", THREAD_STATUSES);
    const metadata = toJson("metadata", jsonObject("metadata", thread.metadata ?? {}));
    const now = this.ctx.now();
    return this.ctx.transaction(async (client) => {
      const created =
        (
          await client.query(
            `INSERT INTO threads (owner, thread_id, runtime, status, metadata, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5::jsonb, $6, $6) ON CONFLICT (owner, thread_id) DO NOTHING RETURNING 1`,
            [thread.owner, thread.threadId, runtime, status, metadata, now],
          )
        ).rows.length === 1;
      // A thread made by POST /threads takes the runtime of its first run.
      const rows = created
        ? await client.query<ThreadRow>(`SELECT ${COLUMNS} FROM threads WHERE owner = $1 AND thread_id = $2`, [
            thread.owner,
            thread.threadId,
          ])
        : await client.query<ThreadRow>(
            `UPDATE threads SET runtime = COALESCE(runtime, $3) WHERE owner = $1 AND thread_id = $2 RETURNING ${COLUMNS}`,
            [thread.owner, thread.threadId, runtime],
          );
      return { thread: toThread(rows.rows[0] as ThreadRow), created };
    });
  }

  async updateMetadata(ref: ThreadRef, metadata: Record<string, unknown>): Promise<ThreadRecord | null> {
    this.ctx.assertOpen();
    const patch = toJson("metadata", jsonObject("metadata", metadata));
    // jsonb's || is LangGraph's shallow merge: the patch's keys replace the stored ones.
    const rows = await this.ctx.query<ThreadRow>(
      `UPDATE threads SET metadata = metadata || $3::jsonb, updated_at = $4 WHERE owner = $1 AND thread_id = $2 RETURNING ${COLUMNS}`,
      [ref.owner, ref.threadId, patch, this.ctx.now()],
    );
    return rows[0] ? toThread(rows[0]) : null;
  }

  async search(owner: string, search: ThreadSearch = {}): Promise<ThreadRecord[]> {
    this.ctx.assertOpen();
    const where = this.where(owner, search);
    const sortKeys = Object.keys(SORT_COLUMNS) as (keyof typeof SORT_COLUMNS)[];
    const column = SORT_COLUMNS[oneOf("sortBy", search.sortBy ?? "created_at", sortKeys)];
    const order = oneOf("sortOrder", search.sortOrder ?? "desc", SORT_ORDERS) === "asc" ? "ASC" : "DESC";
    const { limit, offset } = pageOf(search);
    const n = where.params.length;
    const rows = await this.ctx.query<ThreadRow>(
      `SELECT ${COLUMNS} FROM threads WHERE ${where.sql} ORDER BY ${column} ${order}, thread_id ${order} LIMIT $${n + 1} OFFSET $${n + 2}`,
      [...where.params, limit, offset],
    );
    return rows.map(toThread);
  }

  async count(
    owner: string,
    search: Omit<ThreadSearch, "limit" | "offset" | "sortBy" | "sortOrder"> = {},
  ): Promise<number> {
    this.ctx.assertOpen();
    const where = this.where(owner, search);
    const rows = await this.ctx.query<{ n: number }>(
      `SELECT count(*) AS n FROM threads WHERE ${where.sql}`,
      where.params,
    );
    return rows[0]?.n ?? 0;
  }

  private where(owner: string, search: ThreadSearch): Condition {
    const clauses = ["owner = $1"];
    const params: unknown[] = [owner];
    const param = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    if (search.status !== undefined) clauses.push(`status = ${param(oneOf("status", search.status, THREAD_STATUSES))}`);
    if (search.ids !== undefined) {
      if (!Array.isArray(search.ids))
        throw new StoreError("GBX_STORE_INVALID_ARGUMENT", "ids must be a list of thread ids");
      // As the reference: an empty list filters nothing.
      if (search.ids.length > 0)
        clauses.push(`thread_id = ANY(${param(search.ids.map((id) => text("ids", id)))}::text[])`);
    }
    // Each key with a deep-equal value: jsonb's = compares objects whatever their key order, and
    // the type too (1 ≠ "1" ≠ true); the key is a parameter, never part of the SQL.
    const filter = metadataFilter(search.metadata);
    for (const [key, want] of Object.entries(filter ?? {}))
      clauses.push(`(metadata -> ${param(key)}::text) = ${param(toJson("metadata filter", want))}::jsonb`);
    return { sql: clauses.join(" AND "), params };
  }

  async get(ref: ThreadRef): Promise<ThreadRecord | null> {
    this.ctx.assertOpen();
    const rows = await this.ctx.query<ThreadRow>(`SELECT ${COLUMNS} FROM threads WHERE owner = $1 AND thread_id = $2`, [
      ref.owner,
      ref.threadId,
    ]);
    return rows[0] ? toThread(rows[0]) : null;
  }

  async list(owner: string, options?: ListOptions): Promise<ThreadRecord[]> {
    this.ctx.assertOpen();
    const rows = await this.ctx.query<ThreadRow>(
      `SELECT ${COLUMNS} FROM threads WHERE owner = $1 ORDER BY updated_at DESC, thread_id LIMIT $2`,
      [owner, limitOf(options)],
    );
    return rows.map(toThread);
  }

  async setStatus(ref: ThreadRef, status: ThreadStatus, head?: ThreadHead): Promise<boolean> {
    this.ctx.assertOpen();
    oneOf("status", status, THREAD_STATUSES);
    const now = this.ctx.now();
    const rows =
      head === undefined
        ? await this.ctx.query(
            "UPDATE threads SET status = $3, updated_at = $4 WHERE owner = $1 AND thread_id = $2 RETURNING 1",
            [ref.owner, ref.threadId, status, now],
          )
        : await this.ctx.query(
            "UPDATE threads SET status = $3, updated_at = $4, head_json = $5 WHERE owner = $1 AND thread_id = $2 RETURNING 1",
            [ref.owner, ref.threadId, status, now, headJson(head)],
          );
    return rows.length === 1;
  }

  async getHead(ref: ThreadRef): Promise<ThreadHead | null> {
    this.ctx.assertOpen();
    const rows = await this.ctx.query<{ head_json: string | null }>(
      "SELECT head_json FROM threads WHERE owner = $1 AND thread_id = $2",
      [ref.owner, ref.threadId],
    );
    const json = rows[0]?.head_json ?? null;
    if (json === null) return null;
    const head = JSON.parse(json) as Partial<ThreadHead>;
    const kept: ThreadHead = {
      checkpointId: typeof head.checkpointId === "string" ? head.checkpointId : null,
      next: Array.isArray(head.next) ? head.next.filter((n): n is string => typeof n === "string") : [],
      interrupts: Array.isArray(head.interrupts) ? head.interrupts : [],
    };
    if (head.threadState === null || isJsonObject(head.threadState)) kept.threadState = head.threadState;
    return kept;
  }

  async delete(ref: ThreadRef): Promise<boolean> {
    this.ctx.assertOpen();
    return this.ctx.transaction(async (client) => {
      const key = [ref.owner, ref.threadId];
      // The checkpoint writers' row first (they lock it too): a write in flight finishes before the delete.
      await client.query("DELETE FROM checkpoint_threads WHERE owner = $1 AND thread_id = $2", key);
      await client.query("DELETE FROM checkpoint_writes WHERE owner = $1 AND thread_id = $2", key);
      await client.query("DELETE FROM checkpoints WHERE owner = $1 AND thread_id = $2", key);
      await client.query("DELETE FROM thread_locks WHERE owner = $1 AND thread_id = $2", key);
      await client.query("DELETE FROM runs WHERE owner = $1 AND thread_id = $2", key);
      return (
        (await client.query("DELETE FROM threads WHERE owner = $1 AND thread_id = $2 RETURNING 1", key)).rows.length ===
        1
      );
    });
  }

  async tryLock(ref: ThreadRef, executionId: string, ttlMs: number): Promise<LockAttempt> {
    this.ctx.assertOpen();
    positiveInteger("ttlMs", ttlMs);
    const now = this.ctx.now();
    const expiresAt = now + ttlMs;
    // A holder inserted and committed by another engine after this statement began is seen by
    // the conflict but not by the statement's snapshot: nothing comes back, and it is asked again.
    for (let attempt = 0; ; attempt++) {
      const row = (
        await this.ctx.query<{ acquired: boolean; execution_id: string; expires_at: number }>(TRY_LOCK, [
          ref.owner,
          ref.threadId,
          executionId,
          expiresAt,
          now,
        ])
      )[0];
      if (row?.acquired) return { acquired: true, expiresAt };
      if (row) return { acquired: false, heldBy: row.execution_id, expiresAt: row.expires_at };
      if (attempt >= 5) return { acquired: false, heldBy: "", expiresAt: now };
    }
  }

  async unlock(ref: ThreadRef, executionId: string): Promise<boolean> {
    this.ctx.assertOpen();
    const rows = await this.ctx.query(
      "DELETE FROM thread_locks WHERE owner = $1 AND thread_id = $2 AND execution_id = $3 RETURNING 1",
      [ref.owner, ref.threadId, executionId],
    );
    return rows.length === 1;
  }
}
