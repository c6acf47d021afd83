/** Each execution's event log, in PostgreSQL: seq numbers come from the execution's row. */
import { type BatchLimits, type EventBatch, followEvents, READ_BYTES, READ_LIMIT } from "../follow.ts";
import type { EventLog, FollowOptions, ListOptions, NewEvent, StoredEvent } from "../types.ts";
import { limitOf, nonNegativeInteger, toJson } from "../validate.ts";
import type { PostgresContext, Queryable } from "./context.ts";
import { inOrder } from "./in-order.ts";
import { CHANNELS, wireKey } from "./signals.ts";

interface EventRow {
  seq: number;
  type: string;
  data: string;
  created_at: number;
  /** Bytes of data up to and including this event (the batch's byte bound). */
  running: number;
}

const toEvent = (executionId: string, row: EventRow): StoredEvent => ({
  executionId,
  seq: row.seq,
  type: row.type,
  data: JSON.parse(row.data) as unknown,
  createdAt: row.created_at,
  json: row.data,
});

/**
 * One statement counts the seq on the execution's row (serialising appenders on that row, and
 * refusing an execution that has ended), inserts the event and signals it: delivered at commit,
 * of this statement or of the caller's transaction.
 */
const APPEND = `
  WITH counted AS (
    UPDATE executions SET last_seq = last_seq + 1 WHERE id = $1 AND status = 'running' RETURNING last_seq
  ), inserted AS (
    INSERT INTO execution_events (execution_id, seq, type, data, created_at)
    SELECT $1, last_seq, $2, $3, $4 FROM counted RETURNING seq
  )
  SELECT seq, pg_notify($5, $6) FROM inserted`;

/**
 * Events after a seq, at most `count`, ending with the one whose data reaches `bytes` (lengths
 * summed by the database, so a slice of large events is never loaded whole to be measured).
 */
const SELECT_AFTER = `
  SELECT seq, type, data, created_at, running FROM (
    SELECT seq, type, data, created_at,
           sum(octet_length(data)) OVER (ORDER BY seq) AS running, octet_length(data) AS own
    FROM execution_events WHERE execution_id = $1 AND seq > $2 ORDER BY seq LIMIT $3
  ) slice WHERE running - own < $4 ORDER BY seq`;

export class PostgresEventLog implements EventLog {
  constructor(
    private readonly ctx: PostgresContext,
    /** Keys `inOrder` by database, so that two store instances on one database keep one order. */
    private readonly orderKey: string,
  ) {}

  /** The key in call order of an execution's writes (appends and its ending). */
  orderOf(executionId: string): string {
    return `${this.orderKey}\u0000execution\u0000${executionId}`;
  }

  /** Appends on `on` (the caller's transaction, or the pool); null when the execution is not running. */
  async appendOn(on: Queryable, executionId: string, event: NewEvent): Promise<StoredEvent | null> {
    const data = toJson("event data", event.data);
    const createdAt = this.ctx.now();
    const rows = (
      await on.query<{ seq: number }>(APPEND, [
        executionId,
        event.type,
        data,
        createdAt,
        CHANNELS.events,
        wireKey(executionId),
      ])
    ).rows;
    const seq = rows[0]?.seq;
    if (seq === undefined) return null;
    // The caller's data, not a parse of the text: an event can be megabytes, and it is read back as text.
    return { executionId, seq, type: event.type, data: event.data, createdAt, json: data };
  }

  async append(executionId: string, event: NewEvent): Promise<StoredEvent | null> {
    this.ctx.assertOpen();
    return inOrder(this.orderOf(executionId), async () => {
      this.ctx.assertOpen();
      // One statement is its own transaction: one round trip.
      return this.appendOn(this.ctx.pool, executionId, event);
    });
  }

  async read(owner: string, executionId: string, afterSeq: number, options?: ListOptions): Promise<StoredEvent[]> {
    this.ctx.assertOpen();
    nonNegativeInteger("afterSeq", afterSeq);
    const count = limitOf(options, READ_LIMIT);
    const owned = await this.ctx.query("SELECT 1 FROM executions WHERE id = $1 AND owner = $2", [executionId, owner]);
    if (owned.length === 0) return [];
    return (await this.batch(executionId, afterSeq, { count, bytes: READ_BYTES })).events;
  }

  async *follow(
    owner: string,
    executionId: string,
    afterSeq: number,
    options: FollowOptions = {},
  ): AsyncGenerator<StoredEvent, void, undefined> {
    this.ctx.assertOpen();
    nonNegativeInteger("afterSeq", afterSeq);
    const { ctx } = this;
    if ((await this.status(owner, executionId)) === null) return;
    const signal = options.signal ? AbortSignal.any([options.signal, ctx.closed]) : ctx.closed;
    yield* followEvents(
      {
        executionId,
        notifier: ctx.signals.events,
        pollIntervalMs: ctx.pollIntervalMs,
        signal,
        read: async (after, limits) =>
          ctx.closed.aborted ? { events: [], more: false } : this.batch(executionId, after, limits),
        isRunning: async () => !ctx.closed.aborted && (await this.status(owner, executionId)) === "running",
      },
      afterSeq,
    );
  }

  private async status(owner: string, executionId: string): Promise<string | null> {
    const rows = await this.ctx.query<{ status: string }>(
      "SELECT status FROM executions WHERE id = $1 AND owner = $2",
      [executionId, owner],
    );
    return rows[0]?.status ?? null;
  }

  private async batch(executionId: string, afterSeq: number, limits: BatchLimits): Promise<EventBatch> {
    const rows = await this.ctx.query<EventRow>(SELECT_AFTER, [executionId, afterSeq, limits.count, limits.bytes]);
    const last = rows.at(-1);
    const more = rows.length >= limits.count || (last !== undefined && last.running >= limits.bytes);
    return { events: rows.map((row) => toEvent(executionId, row)), more };
  }
}
