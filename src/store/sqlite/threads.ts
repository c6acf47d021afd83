/** Threads and their run locks, in SQLite. */
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
  text,
  THREAD_STATUSES,
} from "../validate.ts";
import type { SqliteContext } from "./context.ts";
import { canonicalJson, metadataMatches, type SqlCondition } from "./json-filter.ts";
import { orderBy } from "../order.ts";

interface ThreadRow {
  owner: string;
  thread_id: string;
  runtime: string | null;
  status: string;
  metadata: string;
  created_at: number;
  updated_at: number;
}

const toThread = (row: ThreadRow): ThreadRecord => ({
  owner: row.owner,
  threadId: row.thread_id,
  runtime: row.runtime as RuntimeName | null,
  status: row.status as ThreadStatus,
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const SORT_COLUMNS: Record<NonNullable<ThreadSearch["sortBy"]>, string> = {
  thread_id: "thread_id",
  status: "status",
  created_at: "created_at",
  updated_at: "updated_at",
};

const THREAD_COLUMNS = "owner, thread_id, runtime, status, metadata, created_at, updated_at";

export class SqliteThreadStore implements ThreadStore {
  private readonly insert;
  private readonly setRuntime;
  private readonly setMetadata;
  private readonly select;
  private readonly selectByOwner;
  private readonly updateStatus;
  private readonly updateStatusAndHead;
  private readonly selectHead;
  private readonly deleteUsage;
  private readonly deleteThread;
  private readonly deleteLock;
  private readonly deleteCheckpoints;
  private readonly deleteWrites;
  private readonly deleteRuns;
  private readonly takeLock;
  private readonly selectLock;
  private readonly releaseLock;

  constructor(private readonly ctx: SqliteContext) {
    const { db } = ctx;
    this.insert = db.prepare<[string, string, string | null, string, string, number, number]>(
      "INSERT INTO threads (owner, thread_id, runtime, status, metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (owner, thread_id) DO NOTHING",
    );
    this.setRuntime = db.prepare<[string, string, string]>(
      "UPDATE threads SET runtime = ? WHERE owner = ? AND thread_id = ? AND runtime IS NULL",
    );
    this.setMetadata = db.prepare<[string, number, string, string]>(
      "UPDATE threads SET metadata = ?, updated_at = ? WHERE owner = ? AND thread_id = ?",
    );
    // The head (a result's next, interrupts and state) is read only by getHead: lists stay light.
    const columns = THREAD_COLUMNS;
    this.select = db.prepare<[string, string], ThreadRow>(
      `SELECT ${columns} FROM threads WHERE owner = ? AND thread_id = ?`,
    );
    this.selectByOwner = db.prepare<[string, number], ThreadRow>(
      `SELECT ${columns} FROM threads WHERE owner = ? ORDER BY updated_at DESC, thread_id LIMIT ?`,
    );
    this.updateStatus = db.prepare<[string, number, string, string]>(
      "UPDATE threads SET status = ?, updated_at = ? WHERE owner = ? AND thread_id = ?",
    );
    this.updateStatusAndHead = db.prepare<[string, number, string, string, string]>(
      "UPDATE threads SET status = ?, updated_at = ?, head_json = ? WHERE owner = ? AND thread_id = ?",
    );
    this.selectHead = db.prepare<[string, string], { head_json: string | null }>(
      "SELECT head_json FROM threads WHERE owner = ? AND thread_id = ?",
    );
    this.deleteUsage = db.prepare<[string, string]>("DELETE FROM checkpoint_threads WHERE owner = ? AND thread_id = ?");
    this.deleteThread = db.prepare<[string, string]>("DELETE FROM threads WHERE owner = ? AND thread_id = ?");
    this.deleteLock = db.prepare<[string, string]>("DELETE FROM thread_locks WHERE owner = ? AND thread_id = ?");
    this.deleteCheckpoints = db.prepare<[string, string]>("DELETE FROM checkpoints WHERE owner = ? AND thread_id = ?");
    this.deleteWrites = db.prepare<[string, string]>("DELETE FROM checkpoint_writes WHERE owner = ? AND thread_id = ?");
    this.deleteRuns = db.prepare<[string, string]>("DELETE FROM runs WHERE owner = ? AND thread_id = ?");
    // One statement decides, so two engines racing for the lock cannot both win: the row is
    // inserted, or taken over when lapsed or already ours, or left alone (0 changes).
    this.takeLock = db.prepare<[string, string, string, number, number]>(
      `INSERT INTO thread_locks (owner, thread_id, execution_id, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (owner, thread_id) DO UPDATE SET execution_id = excluded.execution_id, expires_at = excluded.expires_at
       WHERE thread_locks.expires_at <= ? OR thread_locks.execution_id = excluded.execution_id`,
    );
    this.selectLock = db.prepare<[string, string], { execution_id: string; expires_at: number }>(
      "SELECT execution_id, expires_at FROM thread_locks WHERE owner = ? AND thread_id = ?",
    );
    this.releaseLock = db.prepare<[string, string, string]>(
      "DELETE FROM thread_locks WHERE owner = ? AND thread_id = ? AND execution_id = ?",
    );
  }

  async ensure(thread: NewThread): Promise<{ thread: ThreadRecord; created: boolean }> {
    this.ctx.assertOpen();
    const runtime = thread.runtime === null ? null : oneOf("runtime", thread.runtime, RUNTIME_NAMES);
    const status = oneOf("status", thread.status ?? "idle", THREAD_STATUSES);
    const metadata = canonicalJson("metadata", jsonObject("metadata", thread.metadata ?? {}));
    const now = this.ctx.now();
    return this.ctx.db
      .transaction(() => {
        const created =
          this.insert.run(thread.owner, thread.threadId, runtime, status, metadata, now, now).changes === 1;
        // A thread made by POST /threads takes the runtime of its first run.
        if (!created && runtime !== null) this.setRuntime.run(runtime, thread.owner, thread.threadId);
        const row = this.select.get(thread.owner, thread.threadId) as ThreadRow;
        return { thread: toThread(row), created };
      })
      .immediate();
  }

  async updateMetadata(ref: ThreadRef, metadata: Record<string, unknown>): Promise<ThreadRecord | null> {
    this.ctx.assertOpen();
    const patch = jsonObject("metadata", metadata);
    return this.ctx.db
      .transaction(() => {
        const row = this.select.get(ref.owner, ref.threadId);
        if (!row) return null;
        const merged = { ...(JSON.parse(row.metadata) as Record<string, unknown>), ...patch };
        this.setMetadata.run(canonicalJson("metadata", merged), this.ctx.now(), ref.owner, ref.threadId);
        return toThread(this.select.get(ref.owner, ref.threadId) as ThreadRow);
      })
      .immediate();
  }

  async search(owner: string, search: ThreadSearch = {}): Promise<ThreadRecord[]> {
    this.ctx.assertOpen();
    const where = this.where(owner, search);
    const order = orderBy(SORT_COLUMNS, {
      sortBy: search.sortBy,
      sortOrder: search.sortOrder,
      fallback: "created_at",
      tiebreak: "thread_id",
    });
    const { limit, offset } = pageOf(search);
    return this.ctx.db
      .prepare<unknown[], ThreadRow>(
        `SELECT ${THREAD_COLUMNS} FROM threads WHERE ${where.sql} ${order} LIMIT ? OFFSET ?`,
      )
      .all(...where.params, limit, offset)
      .map(toThread);
  }

  async count(
    owner: string,
    search: Omit<ThreadSearch, "limit" | "offset" | "sortBy" | "sortOrder"> = {},
  ): Promise<number> {
    this.ctx.assertOpen();
    const where = this.where(owner, search);
    return (
      this.ctx.db
        .prepare<unknown[], { n: number }>(`SELECT count(*) AS n FROM threads WHERE ${where.sql}`)
        .get(...where.params)?.n ?? 0
    );
  }

  private where(owner: string, search: ThreadSearch): SqlCondition {
    const clauses = ["owner = ?"];
    const params: unknown[] = [owner];
    if (search.status !== undefined) {
      clauses.push("status = ?");
      params.push(oneOf("status", search.status, THREAD_STATUSES));
    }
    if (search.ids !== undefined) {
      if (!Array.isArray(search.ids))
        throw new StoreError("GBX_STORE_INVALID_ARGUMENT", "ids must be a list of thread ids");
      // As the reference: an empty list filters nothing.
      if (search.ids.length > 0) {
        clauses.push("thread_id IN (SELECT value FROM json_each(?))");
        params.push(JSON.stringify(search.ids.map((id) => text("ids", id))));
      }
    }
    const filter = metadataFilter(search.metadata);
    if (filter !== undefined) {
      const match = metadataMatches("threads.metadata", filter);
      clauses.push(match.sql);
      params.push(...match.params);
    }
    return { sql: clauses.join(" AND "), params };
  }

  async get(ref: ThreadRef): Promise<ThreadRecord | null> {
    this.ctx.assertOpen();
    const row = this.select.get(ref.owner, ref.threadId);
    return row ? toThread(row) : null;
  }

  async list(owner: string, options?: ListOptions): Promise<ThreadRecord[]> {
    this.ctx.assertOpen();
    return this.selectByOwner.all(owner, limitOf(options)).map(toThread);
  }

  async setStatus(ref: ThreadRef, status: ThreadStatus, head?: ThreadHead): Promise<boolean> {
    this.ctx.assertOpen();
    oneOf("status", status, THREAD_STATUSES);
    const now = this.ctx.now();
    if (head === undefined) return this.updateStatus.run(status, now, ref.owner, ref.threadId).changes === 1;
    return this.updateStatusAndHead.run(status, now, headJson(head), ref.owner, ref.threadId).changes === 1;
  }

  async getHead(ref: ThreadRef): Promise<ThreadHead | null> {
    this.ctx.assertOpen();
    const json = this.selectHead.get(ref.owner, ref.threadId)?.head_json ?? null;
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
    return this.ctx.db
      .transaction(() => {
        this.deleteWrites.run(ref.owner, ref.threadId);
        this.deleteCheckpoints.run(ref.owner, ref.threadId);
        this.deleteUsage.run(ref.owner, ref.threadId);
        this.deleteLock.run(ref.owner, ref.threadId);
        this.deleteRuns.run(ref.owner, ref.threadId);
        return this.deleteThread.run(ref.owner, ref.threadId).changes === 1;
      })
      .immediate();
  }

  async tryLock(ref: ThreadRef, executionId: string, ttlMs: number): Promise<LockAttempt> {
    this.ctx.assertOpen();
    positiveInteger("ttlMs", ttlMs);
    const now = this.ctx.now();
    const expiresAt = now + ttlMs;
    return this.ctx.db
      .transaction((): LockAttempt => {
        if (this.takeLock.run(ref.owner, ref.threadId, executionId, expiresAt, now).changes === 1)
          return { acquired: true, expiresAt };
        const held = this.selectLock.get(ref.owner, ref.threadId);
        // The conflict branch only declines a live lock held by another execution, so `held` exists.
        return { acquired: false, heldBy: held?.execution_id ?? "", expiresAt: held?.expires_at ?? now };
      })
      .immediate();
  }

  async unlock(ref: ThreadRef, executionId: string): Promise<boolean> {
    this.ctx.assertOpen();
    return this.releaseLock.run(ref.owner, ref.threadId, executionId).changes === 1;
  }
}
