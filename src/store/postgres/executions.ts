/** Executions, in PostgreSQL. */
import type { RuntimeName } from "../../contract/types.ts";
import type {
  CancelAction,
  ExecutionEnding,
  ExecutionProgress,
  ExecutionRecord,
  ExecutionStatus,
  ExecutionStore,
  ListOptions,
  MarkFailedOptions,
  NewEvent,
  NewExecution,
  StoredEvent,
} from "../types.ts";
import { CANCEL_ACTIONS, contextJson, limitOf, nodeList, nonNegativeInteger, oneOf, toJson } from "../validate.ts";
import type { PostgresContext } from "./context.ts";
import type { PostgresEventLog } from "./events.ts";
import { inOrder } from "./in-order.ts";
import { CHANNELS, notify, wireKey } from "./signals.ts";

interface ExecutionRow {
  id: string;
  owner: string;
  thread_id: string;
  runtime: string;
  status: string;
  error_type: string | null;
  error: string | null;
  engine_id: string | null;
  started_at: number;
  ended_at: number | null;
  duration_ms: number | null;
  tokens_used: number;
  nodes_executed: string[];
  result: string | null;
  context: string | null;
  last_seq: number;
}

const COLUMNS = `id, owner, thread_id, runtime, status, error_type, error, engine_id, started_at, ended_at,
  duration_ms, tokens_used, nodes_executed, result, context, last_seq`;

const toExecution = (row: ExecutionRow): ExecutionRecord => ({
  id: row.id,
  threadId: row.thread_id,
  owner: row.owner,
  runtime: row.runtime as RuntimeName,
  status: row.status as ExecutionStatus,
  errorType: row.error_type,
  error: row.error,
  engineId: row.engine_id,
  startedAt: row.started_at,
  endedAt: row.ended_at,
  durationMs: row.duration_ms,
  tokensUsed: row.tokens_used,
  nodesExecuted: row.nodes_executed,
  result: row.result === null ? null : (JSON.parse(row.result) as unknown),
  context: row.context === null ? null : (JSON.parse(row.context) as Record<string, unknown>),
  lastEventSeq: row.last_seq,
});

/**
 * An ending in one statement (its own transaction, one round trip): the row is ended only while
 * running (the first ending wins), the final event takes the next seq, and followers are
 * signalled at commit.
 */
const FINISH = `
  WITH ended AS (
    UPDATE executions SET status = $2, error_type = $3, error = $4, ended_at = $5,
      duration_ms = COALESCE($6, GREATEST(0, $5 - started_at)),
      tokens_used = COALESCE($7, tokens_used), nodes_executed = COALESCE($8::jsonb, nodes_executed), result = $9,
      cancel_requested = NULL, last_seq = last_seq + CASE WHEN $10 THEN 1 ELSE 0 END
    WHERE id = $1 AND status = 'running' RETURNING last_seq
  ), logged AS (
    INSERT INTO execution_events (execution_id, seq, type, data, created_at)
    SELECT $1, last_seq, $11, $12, $15 FROM ended WHERE $10
  )
  SELECT last_seq, pg_notify($13, $14) FROM ended`;

const END = `UPDATE executions SET status = $2, error_type = $3, error = $4, ended_at = $5, duration_ms = $6,
    tokens_used = COALESCE($7, tokens_used), nodes_executed = COALESCE($8::jsonb, nodes_executed), result = $9,
    cancel_requested = NULL
  WHERE id = $1 AND status = 'running'`;

export class PostgresExecutionStore implements ExecutionStore {
  constructor(
    private readonly ctx: PostgresContext,
    private readonly events: PostgresEventLog,
  ) {}

  async create(execution: NewExecution): Promise<ExecutionRecord> {
    this.ctx.assertOpen();
    const startedAt = execution.startedAt ?? this.ctx.now();
    const context = execution.context == null ? null : contextJson(execution.context);
    const rows = await this.ctx.query<ExecutionRow>(
      `INSERT INTO executions (id, owner, thread_id, runtime, status, engine_id, context, started_at)
       VALUES ($1, $2, $3, $4, 'running', $5, $6, $7) RETURNING ${COLUMNS}`,
      [
        execution.id,
        execution.owner,
        execution.threadId,
        execution.runtime,
        execution.engineId ?? null,
        context,
        startedAt,
      ],
    );
    return toExecution(rows[0] as ExecutionRow);
  }

  async get(owner: string, id: string): Promise<ExecutionRecord | null> {
    this.ctx.assertOpen();
    const rows = await this.ctx.query<ExecutionRow>(`SELECT ${COLUMNS} FROM executions WHERE id = $1 AND owner = $2`, [
      id,
      owner,
    ]);
    return rows[0] ? toExecution(rows[0]) : null;
  }

  async list(owner: string, options?: ListOptions & { threadId?: string }): Promise<ExecutionRecord[]> {
    this.ctx.assertOpen();
    const limit = limitOf(options);
    const rows =
      options?.threadId === undefined
        ? await this.ctx.query<ExecutionRow>(
            `SELECT ${COLUMNS} FROM executions WHERE owner = $1 ORDER BY started_at DESC, id DESC LIMIT $2`,
            [owner, limit],
          )
        : await this.ctx.query<ExecutionRow>(
            `SELECT ${COLUMNS} FROM executions WHERE owner = $1 AND thread_id = $2 ORDER BY started_at DESC, id DESC LIMIT $3`,
            [owner, options.threadId, limit],
          );
    return rows.map(toExecution);
  }

  async updateProgress(id: string, progress: ExecutionProgress): Promise<boolean> {
    this.ctx.assertOpen();
    const tokens = progress.tokensUsed === undefined ? null : nonNegativeInteger("tokensUsed", progress.tokensUsed);
    const rows = await this.ctx.query(
      `UPDATE executions SET tokens_used = COALESCE($2, tokens_used), nodes_executed = COALESCE($3::jsonb, nodes_executed)
       WHERE id = $1 AND status = 'running' RETURNING 1`,
      [id, tokens, nodeList(progress.nodesExecuted)],
    );
    return rows.length === 1;
  }

  async finish(
    id: string,
    ending: ExecutionEnding,
    finalEvent?: NewEvent,
  ): Promise<{ finished: boolean; event: StoredEvent | null }> {
    this.ctx.assertOpen();
    const tokens = ending.tokensUsed === undefined ? null : nonNegativeInteger("tokensUsed", ending.tokensUsed);
    const nodes = nodeList(ending.nodesExecuted);
    const result = ending.result === undefined ? null : toJson("result", ending.result);
    const createdAt = this.ctx.now();
    const endedAt = ending.endedAt ?? createdAt;
    const event =
      finalEvent === undefined ? null : { type: finalEvent.type, data: toJson("event data", finalEvent.data) };
    // After the appends already asked for: an ending never overtakes its execution's events.
    return inOrder(this.events.orderOf(id), async () => {
      this.ctx.assertOpen();
      const rows = await this.ctx.query<{ last_seq: number }>(FINISH, [
        id,
        ending.status,
        ending.errorType ?? null,
        ending.error ?? null,
        endedAt,
        ending.durationMs ?? null,
        tokens,
        nodes,
        result,
        event !== null,
        event?.type ?? "",
        event?.data ?? "",
        CHANNELS.events,
        wireKey(id),
        createdAt,
      ]);
      const seq = rows[0]?.last_seq;
      if (seq === undefined) return { finished: false, event: null };
      return {
        finished: true,
        event:
          event === null || finalEvent === undefined
            ? null
            : { executionId: id, seq, type: event.type, data: finalEvent.data, createdAt, json: event.data },
      };
    });
  }

  async markRunningAsFailed(reason: string, options: MarkFailedOptions = {}): Promise<string[]> {
    this.ctx.assertOpen();
    let which = "";
    const params: unknown[] = [];
    if (options.engineId !== undefined) {
      which = "AND engine_id = $1";
      params.push(options.engineId);
    } else if (options.ofDeadEngines) {
      which =
        "AND (engine_id IS NULL OR NOT EXISTS (SELECT 1 FROM engines g WHERE g.engine_id = executions.engine_id))";
    }
    return this.ctx.transaction(async (client) => {
      // Locked in one order, so that two engines sweeping at once cannot deadlock; a row another
      // sweeper ended meanwhile is re-checked after its lock and skipped.
      const rows = (
        await client.query<ExecutionRow>(
          `SELECT ${COLUMNS} FROM executions WHERE status = 'running' ${which} ORDER BY id FOR UPDATE`,
          params,
        )
      ).rows;
      const now = this.ctx.now();
      for (const row of rows) {
        if (options.finalEvent) await this.events.appendOn(client, row.id, options.finalEvent(toExecution(row)));
        else await notify(client, CHANNELS.events, row.id);
        await client.query(END, [
          row.id,
          "error",
          "internal_error",
          reason,
          now,
          Math.max(0, now - row.started_at),
          null,
          null,
          null,
        ]);
        await client.query("DELETE FROM thread_locks WHERE owner = $1 AND thread_id = $2 AND execution_id = $3", [
          row.owner,
          row.thread_id,
          row.id,
        ]);
      }
      return rows.map((row) => row.id);
    });
  }

  async requestCancel(owner: string, id: string, action: CancelAction): Promise<boolean> {
    this.ctx.assertOpen();
    oneOf("action", action, CANCEL_ACTIONS);
    return this.ctx.transaction(async (client) => {
      const row = (
        await client.query<{ engine_id: string | null }>(
          "UPDATE executions SET cancel_requested = $3 WHERE id = $1 AND owner = $2 AND status = 'running' RETURNING engine_id",
          [id, owner, action],
        )
      ).rows[0];
      if (!row) return false;
      await notify(client, CHANNELS.cancels, row.engine_id ?? "");
      return true;
    });
  }

  async takeCancelRequests(engineId: string): Promise<{ executionId: string; action: CancelAction }[]> {
    this.ctx.assertOpen();
    const rows = await this.ctx.query<{ id: string; action: CancelAction }>(
      `UPDATE executions e SET cancel_requested = NULL
       FROM (SELECT id, cancel_requested FROM executions
             WHERE engine_id = $1 AND status = 'running' AND cancel_requested IS NOT NULL FOR UPDATE) asked
       WHERE e.id = asked.id RETURNING e.id, asked.cancel_requested AS action`,
      [engineId],
    );
    return rows.map((row) => ({ executionId: row.id, action: row.action }));
  }
}
