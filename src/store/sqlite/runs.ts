/** The Agent API's runs, in SQLite. A run's work is an execution; the run is what the API lists and queues. */
import { StoreError } from "../errors.ts";
import type { NewRun, PageOptions, RunRecord, RunStatus, RunStore } from "../types.ts";
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
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const MULTITASK_STRATEGIES: readonly RunRecord["multitaskStrategy"][] = ["reject", "interrupt", "rollback", "enqueue"];

const COLUMNS =
  "run_id, owner, thread_id, assistant_id, execution_id, status, metadata, multitask_strategy, kwargs, created_at, updated_at";

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
  private readonly failAll;

  constructor(private readonly ctx: SqliteContext) {
    const { db } = ctx;
    this.insert = db.prepare<
      [string, string, string | null, string, string | null, string, string, string, string, number, number],
      RunRow
    >(
      `INSERT INTO runs (run_id, owner, thread_id, assistant_id, execution_id, status, metadata, multitask_strategy, kwargs, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING RETURNING ${COLUMNS}`,
    );
    this.select = db.prepare<[string, string], RunRow>(`SELECT ${COLUMNS} FROM runs WHERE owner = ? AND run_id = ?`);
    this.selectPage = db.prepare<[string, string, number, number], RunRow>(
      `SELECT ${COLUMNS} FROM runs WHERE owner = ? AND thread_id = ? ORDER BY seq DESC LIMIT ? OFFSET ?`,
    );
    this.selectPageOfStatus = db.prepare<[string, string, string, number, number], RunRow>(
      `SELECT ${COLUMNS} FROM runs WHERE owner = ? AND thread_id = ? AND status = ? ORDER BY seq DESC LIMIT ? OFFSET ?`,
    );
    this.change = db.prepare<[string, string | null, number, string]>(
      "UPDATE runs SET status = ?, execution_id = COALESCE(?, execution_id), updated_at = ? WHERE run_id = ?",
    );
    this.deleteOne = db.prepare<[string, string]>("DELETE FROM runs WHERE owner = ? AND run_id = ?");
    this.selectNextPending = db.prepare<[string, string], RunRow>(
      `SELECT ${COLUMNS} FROM runs WHERE owner = ? AND thread_id = ? AND status = 'pending' ORDER BY seq LIMIT 1`,
    );
    this.failAll = db.prepare<[number], { run_id: string }>(
      "UPDATE runs SET status = 'error', updated_at = ? WHERE status IN ('pending', 'running') RETURNING run_id",
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
      now,
      now,
    );
    if (!row) throw new StoreError("GBX_STORE_INVALID_ARGUMENT", `run ${JSON.stringify(run.runId)} already exists`);
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

  async update(runId: string, change: { status: RunStatus; executionId?: string }): Promise<boolean> {
    this.ctx.assertOpen();
    const status = oneOf("status", change.status, RUN_STATUSES);
    const executionId = change.executionId === undefined ? null : text("executionId", change.executionId);
    return this.change.run(status, executionId, this.ctx.now(), runId).changes === 1;
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

  async failUnfinished(): Promise<string[]> {
    this.ctx.assertOpen();
    return this.failAll.all(this.ctx.now()).map((row) => row.run_id);
  }
}
