/** The Agent API's runs, in SQLite. A run's work is an execution; the run is what the API lists and queues. */
import { StoreError } from "../errors.ts";
import { CLAIMABLE, MULTITASK_STRATEGIES, OF_DEAD_ENGINE, RUN_COLUMNS } from "../sql.ts";
import { RUNS_ANY, runsKey } from "../follow.ts";
import type { NewRun, PageOptions, RunRecord, RunStatus, RunStore, ThreadRef } from "../types.ts";
import { jsonObject, oneOf, pageOf, RUN_STATUSES, text, toJson } from "../validate.ts";
import type { SqliteContext } from "./context.ts";

interface RunRow {
  run_id: string;
  owner: string;
  thread_id: string | null;
  assistant_id: string;
  execution_id: string | null;
  status: string;
  metadata: string;
  multitask_strategy: string;
  kwargs: string;
  engine_id: string | null;
  started_from: string | null;
  created_at: number;
  updated_at: number;
}

const toRun = (row: RunRow): RunRecord => ({
  owner: row.owner,
  runId: row.run_id,
  threadId: row.thread_id,
  assistantId: row.assistant_id,
  executionId: row.execution_id,
  status: row.status as RunStatus,
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  multitaskStrategy: row.multitask_strategy as RunRecord["multitaskStrategy"],
  kwargs: JSON.parse(row.kwargs) as Record<string, unknown>,
  engineId: row.engine_id,
  startedFrom: row.started_from,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/**
 * Run ids are the engine's UUIDs, unique across owners (`update` names a run by its id alone);
 * every read a client can cause still takes the owner.
 */
export class SqliteRunStore implements RunStore {
  private readonly insert;
  private readonly select;
  private readonly selectPage;
  private readonly selectPageOfStatus;
  private readonly change;
  private readonly deleteOne;
  private readonly selectNextPending;
  private readonly claimAny;
  private readonly claimOnThread;
  private readonly release;
  private readonly failRunningOfDead;
  private readonly requeueOfDead;

  constructor(private readonly ctx: SqliteContext) {
    const { db } = ctx;
    this.insert = db.prepare<
      [
        string,
        string,
        string | null,
        string,
        string | null,
        string,
        string,
        string,
        string,
        string | null,
        number,
        number,
      ],
      RunRow
    >(
      `INSERT INTO runs (run_id, owner, thread_id, assistant_id, execution_id, status, metadata, multitask_strategy, kwargs, engine_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING RETURNING ${RUN_COLUMNS}`,
    );
    this.select = db.prepare<[string, string], RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE owner = ? AND run_id = ?`,
    );
    this.selectPage = db.prepare<[string, string, number, number], RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE owner = ? AND thread_id = ? ORDER BY seq DESC LIMIT ? OFFSET ?`,
    );
    this.selectPageOfStatus = db.prepare<[string, string, string, number, number], RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE owner = ? AND thread_id = ? AND status = ? ORDER BY seq DESC LIMIT ? OFFSET ?`,
    );
    this.change = db.prepare<
      [string, string | null, number, string | null, number, string],
      { owner: string; thread_id: string | null }
    >(
      `UPDATE runs SET status = ?, execution_id = COALESCE(?, execution_id),
         started_from = CASE WHEN ? THEN ? ELSE started_from END, updated_at = ? WHERE run_id = ?
       RETURNING owner, thread_id`,
    );
    this.deleteOne = db.prepare<[string, string]>("DELETE FROM runs WHERE owner = ? AND run_id = ?");
    this.selectNextPending = db.prepare<[string, string], RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE owner = ? AND thread_id = ? AND status = 'pending' ORDER BY seq LIMIT 1`,
    );
    this.claimAny = db.prepare<[string, number], RunRow>(
      `UPDATE runs SET engine_id = ?, updated_at = ?
       WHERE run_id = (SELECT r.run_id FROM runs r WHERE ${CLAIMABLE} ORDER BY r.seq LIMIT 1) RETURNING ${RUN_COLUMNS}`,
    );
    this.claimOnThread = db.prepare<[string, number, string, string], RunRow>(
      `UPDATE runs SET engine_id = ?, updated_at = ?
       WHERE run_id = (SELECT r.run_id FROM runs r WHERE r.owner = ? AND r.thread_id = ? AND ${CLAIMABLE}
                       ORDER BY r.seq LIMIT 1) RETURNING ${RUN_COLUMNS}`,
    );
    this.release = db.prepare<[number, string, string]>(
      "UPDATE runs SET engine_id = NULL, updated_at = ? WHERE run_id = ? AND engine_id = ? AND status = 'pending'",
    );
    this.failRunningOfDead = db.prepare<[number], { run_id: string }>(
      `UPDATE runs SET status = 'error', updated_at = ? WHERE status = 'running' AND ${OF_DEAD_ENGINE} RETURNING run_id`,
    );
    this.requeueOfDead = db.prepare<[number], { run_id: string }>(
      `UPDATE runs SET engine_id = NULL, updated_at = ?
       WHERE status = 'pending' AND engine_id IS NOT NULL AND ${OF_DEAD_ENGINE} RETURNING run_id`,
    );
  }

  async create(run: NewRun): Promise<RunRecord> {
    this.ctx.assertOpen();
    const now = this.ctx.now();
    const row = this.insert.get(
      text("runId", run.runId),
      run.owner,
      run.threadId === null ? null : text("threadId", run.threadId),
      text("assistantId", run.assistantId),
      run.executionId == null ? null : text("executionId", run.executionId),
      oneOf("status", run.status, RUN_STATUSES),
      toJson("metadata", jsonObject("metadata", run.metadata)),
      oneOf("multitaskStrategy", run.multitaskStrategy, MULTITASK_STRATEGIES),
      toJson("kwargs", jsonObject("kwargs", run.kwargs)),
      run.engineId == null ? null : text("engineId", run.engineId),
      now,
      now,
    );
    if (!row) throw new StoreError("GBX_STORE_INVALID_ARGUMENT", `run ${JSON.stringify(run.runId)} already exists`);
    if (row.status === "pending" && row.engine_id === null) this.ctx.signals.runs.publish(RUNS_ANY);
    return toRun(row);
  }

  async get(owner: string, runId: string): Promise<RunRecord | null> {
    this.ctx.assertOpen();
    const row = this.select.get(owner, runId);
    return row ? toRun(row) : null;
  }

  async list(owner: string, threadId: string, options?: PageOptions & { status?: RunStatus }): Promise<RunRecord[]> {
    this.ctx.assertOpen();
    const { limit, offset } = pageOf(options);
    const rows =
      options?.status === undefined
        ? this.selectPage.all(owner, threadId, limit, offset)
        : this.selectPageOfStatus.all(owner, threadId, oneOf("status", options.status, RUN_STATUSES), limit, offset);
    return rows.map(toRun);
  }

  async update(
    runId: string,
    change: { status: RunStatus; executionId?: string; startedFrom?: string | null },
  ): Promise<boolean> {
    this.ctx.assertOpen();
    const status = oneOf("status", change.status, RUN_STATUSES);
    const executionId = change.executionId === undefined ? null : text("executionId", change.executionId);
    const from = change.startedFrom == null ? null : text("startedFrom", change.startedFrom);
    const setFrom = change.startedFrom === undefined ? 0 : 1;
    const row = this.change.get(status, executionId, setFrom, from, this.ctx.now(), runId);
    // Waiters on the thread (join, an enqueued run's stream) may be on another engine.
    if (row?.thread_id != null) this.ctx.signals.runs.publish(runsKey(row.owner, row.thread_id));
    return row !== undefined;
  }

  async delete(owner: string, runId: string): Promise<boolean> {
    this.ctx.assertOpen();
    return this.deleteOne.run(owner, runId).changes === 1;
  }

  async nextPending(owner: string, threadId: string): Promise<RunRecord | null> {
    this.ctx.assertOpen();
    const row = this.selectNextPending.get(owner, threadId);
    return row ? toRun(row) : null;
  }

  async claimNext(engineId: string, thread?: ThreadRef): Promise<RunRecord | null> {
    this.ctx.assertOpen();
    const claimer = text("engineId", engineId);
    const now = this.ctx.now();
    const row = thread
      ? this.claimOnThread.get(claimer, now, thread.owner, thread.threadId)
      : this.claimAny.get(claimer, now);
    return row ? toRun(row) : null;
  }

  async unclaim(runId: string, engineId: string): Promise<boolean> {
    this.ctx.assertOpen();
    const released = this.release.run(this.ctx.now(), runId, engineId).changes === 1;
    if (released) this.ctx.signals.runs.publish(RUNS_ANY);
    return released;
  }

  async recoverFromDeadEngines(): Promise<{ failed: string[]; requeued: string[] }> {
    this.ctx.assertOpen();
    const { failed, requeued } = this.ctx.db
      .transaction(() => {
        const now = this.ctx.now();
        return {
          failed: this.failRunningOfDead.all(now).map((row) => row.run_id),
          requeued: this.requeueOfDead.all(now).map((row) => row.run_id),
        };
      })
      .immediate();
    if (requeued.length > 0) this.ctx.signals.runs.publish(RUNS_ANY);
    return { failed, requeued };
  }
}
