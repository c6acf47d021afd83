/** Executions, in SQLite. */
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
import type { SqliteContext } from "./context.ts";
import type { SqliteEventLog } from "./events.ts";

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
  nodes_executed: string;
  result: string | null;
  context: string | null;
  last_seq: number;
}

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
  nodesExecuted: JSON.parse(row.nodes_executed) as string[],
  result: row.result === null ? null : (JSON.parse(row.result) as unknown),
  context: row.context === null ? null : (JSON.parse(row.context) as Record<string, unknown>),
  lastEventSeq: row.last_seq,
});

export class SqliteExecutionStore implements ExecutionStore {
  private readonly insert;
  private readonly select;
  private readonly selectOwned;
  private readonly selectByOwner;
  private readonly selectByThread;
  private readonly updateCounters;
  private readonly end;
  private readonly selectRunning;
  private readonly selectRunningOfEngine;
  private readonly selectRunningOfDeadEngines;
  private readonly releaseLock;
  private readonly askCancel;
  private readonly selectCancels;
  private readonly clearCancel;

  constructor(
    private readonly ctx: SqliteContext,
    private readonly events: SqliteEventLog,
  ) {
    const { db } = ctx;
    this.insert = db.prepare<[string, string, string, string, string | null, string | null, number]>(
      "INSERT INTO executions (id, owner, thread_id, runtime, status, engine_id, context, started_at) VALUES (?, ?, ?, ?, 'running', ?, ?, ?)",
    );
    this.select = db.prepare<[string], ExecutionRow>("SELECT * FROM executions WHERE id = ?");
    this.selectOwned = db.prepare<[string, string], ExecutionRow>(
      "SELECT * FROM executions WHERE id = ? AND owner = ?",
    );
    this.selectByOwner = db.prepare<[string, number], ExecutionRow>(
      "SELECT * FROM executions WHERE owner = ? ORDER BY started_at DESC, id DESC LIMIT ?",
    );
    this.selectByThread = db.prepare<[string, string, number], ExecutionRow>(
      "SELECT * FROM executions WHERE owner = ? AND thread_id = ? ORDER BY started_at DESC, id DESC LIMIT ?",
    );
    this.updateCounters = db.prepare<[number | null, string | null, string]>(
      "UPDATE executions SET tokens_used = COALESCE(?, tokens_used), nodes_executed = COALESCE(?, nodes_executed) WHERE id = ? AND status = 'running'",
    );
    this.end = db.prepare<
      [string, string | null, string | null, number, number, number | null, string | null, string | null, string]
    >(
      `UPDATE executions SET status = ?, error_type = ?, error = ?, ended_at = ?, duration_ms = ?,
         tokens_used = COALESCE(?, tokens_used), nodes_executed = COALESCE(?, nodes_executed), result = ?
       WHERE id = ? AND status = 'running'`,
    );
    this.selectRunning = db.prepare<[], ExecutionRow>("SELECT * FROM executions WHERE status = 'running'");
    this.selectRunningOfEngine = db.prepare<[string], ExecutionRow>(
      "SELECT * FROM executions WHERE status = 'running' AND engine_id = ?",
    );
    this.selectRunningOfDeadEngines = db.prepare<[], ExecutionRow>(
      `SELECT * FROM executions WHERE status = 'running'
         AND (engine_id IS NULL OR NOT EXISTS (SELECT 1 FROM engines WHERE engines.engine_id = executions.engine_id))`,
    );
    this.askCancel = db.prepare<[string, string, string], { engine_id: string | null }>(
      "UPDATE executions SET cancel_requested = ? WHERE id = ? AND owner = ? AND status = 'running' RETURNING engine_id",
    );
    this.selectCancels = db.prepare<[string], { id: string; cancel_requested: string }>(
      "SELECT id, cancel_requested FROM executions WHERE engine_id = ? AND status = 'running' AND cancel_requested IS NOT NULL",
    );
    this.clearCancel = db.prepare<[string]>("UPDATE executions SET cancel_requested = NULL WHERE id = ?");
    this.releaseLock = db.prepare<[string, string, string]>(
      "DELETE FROM thread_locks WHERE owner = ? AND thread_id = ? AND execution_id = ?",
    );
  }

  async create(execution: NewExecution): Promise<ExecutionRecord> {
    this.ctx.assertOpen();
    const startedAt = execution.startedAt ?? this.ctx.now();
    const context = execution.context == null ? null : contextJson(execution.context);
    return this.ctx.db
      .transaction(() => {
        this.insert.run(
          execution.id,
          execution.owner,
          execution.threadId,
          execution.runtime,
          execution.engineId ?? null,
          context,
          startedAt,
        );
        return toExecution(this.select.get(execution.id) as ExecutionRow);
      })
      .immediate();
  }

  async get(owner: string, id: string): Promise<ExecutionRecord | null> {
    this.ctx.assertOpen();
    const row = this.selectOwned.get(id, owner);
    return row ? toExecution(row) : null;
  }

  async list(owner: string, options?: ListOptions & { threadId?: string }): Promise<ExecutionRecord[]> {
    this.ctx.assertOpen();
    const limit = limitOf(options);
    const rows =
      options?.threadId === undefined
        ? this.selectByOwner.all(owner, limit)
        : this.selectByThread.all(owner, options.threadId, limit);
    return rows.map(toExecution);
  }

  async updateProgress(id: string, progress: ExecutionProgress): Promise<boolean> {
    this.ctx.assertOpen();
    const tokens = progress.tokensUsed === undefined ? null : nonNegativeInteger("tokensUsed", progress.tokensUsed);
    return this.updateCounters.run(tokens, nodeList(progress.nodesExecuted), id).changes === 1;
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
    const outcome = this.ctx.db
      .transaction(() => {
        const row = this.select.get(id);
        if (!row || row.status !== "running") return { finished: false, event: null };
        const event = finalEvent ? this.events.appendInTransaction(id, finalEvent) : null;
        const endedAt = ending.endedAt ?? this.ctx.now();
        const duration = ending.durationMs ?? Math.max(0, endedAt - row.started_at);
        this.end.run(
          ending.status,
          ending.errorType ?? null,
          ending.error ?? null,
          endedAt,
          duration,
          tokens,
          nodes,
          result,
          id,
        );
        return { finished: true, event };
      })
      .immediate();
    if (outcome.finished) this.ctx.signals.events.publish(id);
    return outcome;
  }

  async markRunningAsFailed(reason: string, options: MarkFailedOptions = {}): Promise<string[]> {
    this.ctx.assertOpen();
    const failed = this.ctx.db
      .transaction(() => {
        const rows =
          options.engineId !== undefined
            ? this.selectRunningOfEngine.all(options.engineId)
            : options.ofDeadEngines
              ? this.selectRunningOfDeadEngines.all()
              : this.selectRunning.all();
        const now = this.ctx.now();
        for (const row of rows) {
          if (options.finalEvent) this.events.appendInTransaction(row.id, options.finalEvent(toExecution(row)));
          this.end.run(
            "error",
            "internal_error",
            reason,
            now,
            Math.max(0, now - row.started_at),
            null,
            null,
            null,
            row.id,
          );
          this.releaseLock.run(row.owner, row.thread_id, row.id);
        }
        return rows.map((row) => row.id);
      })
      .immediate();
    for (const id of failed) this.ctx.signals.events.publish(id);
    return failed;
  }

  async requestCancel(owner: string, id: string, action: CancelAction): Promise<boolean> {
    this.ctx.assertOpen();
    const row = this.askCancel.get(oneOf("action", action, CANCEL_ACTIONS), id, owner);
    if (!row) return false;
    if (row.engine_id !== null) this.ctx.signals.cancels.publish(row.engine_id);
    return true;
  }

  async takeCancelRequests(engineId: string): Promise<{ executionId: string; action: CancelAction }[]> {
    this.ctx.assertOpen();
    // RETURNING gives the row as updated (the request already cleared): read, then clear, in one transaction.
    const rows = this.ctx.db
      .transaction(() => {
        const asked = this.selectCancels.all(engineId);
        for (const row of asked) this.clearCancel.run(row.id);
        return asked;
      })
      .immediate();
    return rows.map((row) => ({
      executionId: row.id,
      action: row.cancel_requested === "rollback" ? "rollback" : "interrupt",
    }));
  }
}
