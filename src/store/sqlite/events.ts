/** Each execution's event log, in SQLite: seq numbers come from the execution's row. */
import { followEvents } from "../follow.ts";
import type { EventLog, FollowOptions, ListOptions, NewEvent, StoredEvent } from "../types.ts";
import { limitOf, nonNegativeInteger, toJson } from "../validate.ts";
import type { SqliteContext } from "./context.ts";

interface EventRow {
  seq: number;
  type: string;
  data: string;
  created_at: number;
}

const toEvent = (executionId: string, row: EventRow): StoredEvent => ({
  executionId,
  seq: row.seq,
  type: row.type,
  data: JSON.parse(row.data) as unknown,
  createdAt: row.created_at,
});

const READ_LIMIT = 1000;

export class SqliteEventLog implements EventLog {
  private readonly nextSeq;
  private readonly insert;
  private readonly selectAfter;
  private readonly selectOwnedAfter;
  private readonly selectStatus;

  constructor(private readonly ctx: SqliteContext) {
    const { db } = ctx;
    // Counting on the execution's row serialises appenders on that row (in PostgreSQL too), and
    // refuses appends to an execution that has ended.
    this.nextSeq = db.prepare<[string], { last_seq: number }>(
      "UPDATE executions SET last_seq = last_seq + 1 WHERE id = ? AND status = 'running' RETURNING last_seq",
    );
    this.insert = db.prepare<[string, number, string, string, number]>(
      "INSERT INTO execution_events (execution_id, seq, type, data, created_at) VALUES (?, ?, ?, ?, ?)",
    );
    this.selectAfter = db.prepare<[string, number, number], EventRow>(
      "SELECT seq, type, data, created_at FROM execution_events WHERE execution_id = ? AND seq > ? ORDER BY seq LIMIT ?",
    );
    this.selectOwnedAfter = db.prepare<[string, string, number, number], EventRow>(
      `SELECT e.seq, e.type, e.data, e.created_at FROM execution_events e JOIN executions x ON x.id = e.execution_id
       WHERE e.execution_id = ? AND x.owner = ? AND e.seq > ? ORDER BY e.seq LIMIT ?`,
    );
    this.selectStatus = db.prepare<[string, string], { status: string }>("SELECT status FROM executions WHERE id = ? AND owner = ?");
  }

  /** Appends inside the caller's transaction; null when the execution is not running. Publishing is the caller's, after commit. */
  appendInTransaction(executionId: string, event: NewEvent): StoredEvent | null {
    const data = toJson("event data", event.data);
    const row = this.nextSeq.get(executionId);
    if (!row) return null;
    const createdAt = this.ctx.now();
    this.insert.run(executionId, row.last_seq, event.type, data, createdAt);
    return { executionId, seq: row.last_seq, type: event.type, data: JSON.parse(data) as unknown, createdAt };
  }

  async append(executionId: string, event: NewEvent): Promise<StoredEvent | null> {
    this.ctx.assertOpen();
    const stored = this.ctx.db.transaction(() => this.appendInTransaction(executionId, event)).immediate();
    if (stored) this.ctx.notifier.publish(executionId);
    return stored;
  }

  async read(owner: string, executionId: string, afterSeq: number, options?: ListOptions): Promise<StoredEvent[]> {
    this.ctx.assertOpen();
    nonNegativeInteger("afterSeq", afterSeq);
    return this.selectOwnedAfter.all(executionId, owner, afterSeq, limitOf(options, READ_LIMIT)).map((row) => toEvent(executionId, row));
  }

  async *follow(owner: string, executionId: string, afterSeq: number, options: FollowOptions = {}): AsyncGenerator<StoredEvent, void, undefined> {
    this.ctx.assertOpen();
    nonNegativeInteger("afterSeq", afterSeq);
    if (!this.selectStatus.get(executionId, owner)) return;
    const { ctx } = this;
    const signal = options.signal ? AbortSignal.any([options.signal, ctx.closed]) : ctx.closed;
    yield* followEvents(
      {
        executionId,
        notifier: ctx.notifier,
        pollIntervalMs: ctx.pollIntervalMs,
        signal,
        read: async (after, limit) => (ctx.closed.aborted ? [] : this.selectAfter.all(executionId, after, limit).map((row) => toEvent(executionId, row))),
        isRunning: async () => !ctx.closed.aborted && this.selectStatus.get(executionId, owner)?.status === "running",
      },
      afterSeq,
    );
  }
}
