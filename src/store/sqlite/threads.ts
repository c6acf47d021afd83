/** Threads and their run locks, in SQLite. */
import type {
  ListOptions,
  LockAttempt,
  NewThread,
  ThreadHead,
  ThreadRecord,
  ThreadRef,
  ThreadStatus,
  ThreadStore,
} from "../types.ts";
import type { RuntimeName } from "../../contract/types.ts";
import { limitOf, positiveInteger, toJson } from "../validate.ts";
import type { SqliteContext } from "./context.ts";

interface ThreadRow {
  owner: string;
  thread_id: string;
  runtime: string;
  status: string;
  created_at: number;
  updated_at: number;
}

const toThread = (row: ThreadRow): ThreadRecord => ({
  owner: row.owner,
  threadId: row.thread_id,
  runtime: row.runtime as RuntimeName,
  status: row.status as ThreadStatus,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export class SqliteThreadStore implements ThreadStore {
  private readonly insert;
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
  private readonly takeLock;
  private readonly selectLock;
  private readonly releaseLock;

  constructor(private readonly ctx: SqliteContext) {
    const { db } = ctx;
    this.insert = db.prepare<[string, string, string, string, number, number]>(
      "INSERT INTO threads (owner, thread_id, runtime, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (owner, thread_id) DO NOTHING",
    );
    // The head (a result's next and interrupts) is read only by getHead: lists stay light.
    const columns = "owner, thread_id, runtime, status, created_at, updated_at";
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
    const now = this.ctx.now();
    return this.ctx.db
      .transaction(() => {
        const created =
          this.insert.run(thread.owner, thread.threadId, thread.runtime, thread.status ?? "idle", now, now).changes ===
          1;
        const row = this.select.get(thread.owner, thread.threadId) as ThreadRow;
        return { thread: toThread(row), created };
      })
      .immediate();
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
    const now = this.ctx.now();
    if (head === undefined) return this.updateStatus.run(status, now, ref.owner, ref.threadId).changes === 1;
    const json = toJson("thread head", {
      checkpointId: head.checkpointId,
      next: head.next,
      interrupts: head.interrupts,
    });
    return this.updateStatusAndHead.run(status, now, json, ref.owner, ref.threadId).changes === 1;
  }

  async getHead(ref: ThreadRef): Promise<ThreadHead | null> {
    this.ctx.assertOpen();
    const json = this.selectHead.get(ref.owner, ref.threadId)?.head_json ?? null;
    if (json === null) return null;
    const head = JSON.parse(json) as Partial<ThreadHead>;
    return {
      checkpointId: typeof head.checkpointId === "string" ? head.checkpointId : null,
      next: Array.isArray(head.next) ? head.next.filter((n): n is string => typeof n === "string") : [],
      interrupts: Array.isArray(head.interrupts) ? head.interrupts : [],
    };
  }

  async delete(ref: ThreadRef): Promise<boolean> {
    this.ctx.assertOpen();
    return this.ctx.db
      .transaction(() => {
        this.deleteWrites.run(ref.owner, ref.threadId);
        this.deleteCheckpoints.run(ref.owner, ref.threadId);
        this.deleteUsage.run(ref.owner, ref.threadId);
        this.deleteLock.run(ref.owner, ref.threadId);
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
