/** Each execution's event log, in SQLite: seq numbers come from the execution's row. */
import { type BatchLimits, type EventBatch, followEvents, READ_BYTES, READ_LIMIT } from "../follow.ts";
import type { EventLog, FollowOptions, ListOptions, NewEvent, StoredEvent } from "../types.ts";
import { limitOf, nonNegativeInteger, toJson } from "../validate.ts";
import type { SqliteContext } from "./context.ts";

interface EventRow {
  seq: number;
  type: string;
  data: string;
  created_at: number;
  bytes: number;
}

const toEvent = (executionId: string, row: EventRow): StoredEvent => ({
  executionId,
  seq: row.seq,
  type: row.type,
  data: JSON.parse(row.data) as unknown,
  createdAt: row.created_at,
  json: row.data,
});

/** Rows one at a time until a limit: a batch never holds more than `limits.bytes` plus one event. */
function collect(executionId: string, rows: Iterable<EventRow>, limits: BatchLimits): EventBatch {
  const events: StoredEvent[] = [];
  let bytes = 0;
  for (const row of rows) {
    events.push(toEvent(executionId, row));
    bytes += row.bytes;
    // Leaving the loop early finalizes the statement: the rows after it are never read.
    if (events.length >= limits.count || bytes >= limits.bytes) return { events, more: true };
  }
  return { events, more: false };
}
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
      "SELECT seq, type, data, created_at, length(CAST(data AS BLOB)) AS bytes FROM execution_events WHERE execution_id = ? AND seq > ? ORDER BY seq LIMIT ?",
    );
    this.selectOwnedAfter = db.prepare<[string, string, number, number], EventRow>(
      `SELECT e.seq, e.type, e.data, e.created_at, length(CAST(e.data AS BLOB)) AS bytes FROM execution_events e JOIN executions x ON x.id = e.execution_id
       WHERE e.execution_id = ? AND x.owner = ? AND e.seq > ? ORDER BY e.seq LIMIT ?`,
    );
    this.selectStatus = db.prepare<[string, string], { status: string }>(
      "SELECT status FROM executions WHERE id = ? AND owner = ?",
    );
  }

  /** Appends inside the caller's transaction; null when the execution is not running. Publishing is the caller's, after commit. */
  appendInTransaction(executionId: string, event: NewEvent): StoredEvent | null {
    const data = toJson("event data", event.data);
    const row = this.nextSeq.get(executionId);
    if (!row) return null;
    const createdAt = this.ctx.now();
    this.insert.run(executionId, row.last_seq, event.type, data, createdAt);
    // The caller's data, not a parse of the text: an event can be megabytes, and it is read back as text.
    return { executionId, seq: row.last_seq, type: event.type, data: event.data, createdAt, json: data };
  }

  async append(executionId: string, event: NewEvent): Promise<StoredEvent | null> {
    this.ctx.assertOpen();
    const stored = this.ctx.db.transaction(() => this.appendInTransaction(executionId, event)).immediate();
    if (stored) this.ctx.signals.events.publish(executionId);
    return stored;
  }

  async read(owner: string, executionId: string, afterSeq: number, options?: ListOptions): Promise<StoredEvent[]> {
    this.ctx.assertOpen();
    nonNegativeInteger("afterSeq", afterSeq);
    const count = limitOf(options, READ_LIMIT);
    return collect(executionId, this.selectOwnedAfter.iterate(executionId, owner, afterSeq, count), {
      count,
      bytes: READ_BYTES,
    }).events;
  }

  async *follow(
    owner: string,
    executionId: string,
    afterSeq: number,
    options: FollowOptions = {},
  ): AsyncGenerator<StoredEvent, void, undefined> {
    this.ctx.assertOpen();
    nonNegativeInteger("afterSeq", afterSeq);
    if (!this.selectStatus.get(executionId, owner)) return;
    const { ctx } = this;
    const signal = options.signal ? AbortSignal.any([options.signal, ctx.closed]) : ctx.closed;
    yield* followEvents(
      {
        executionId,
        notifier: ctx.signals.events,
        pollIntervalMs: ctx.pollIntervalMs,
        signal,
        read: async (after, limits) =>
          ctx.closed.aborted
            ? { events: [], more: false }
            : collect(executionId, this.selectAfter.iterate(executionId, after, limits.count), limits),
        isRunning: async () => !ctx.closed.aborted && this.selectStatus.get(executionId, owner)?.status === "running",
      },
      afterSeq,
    );
  }
}
