/**
 * The Agent API's runs, in PostgreSQL: what the API lists, and the durable queue that every
 * engine on the database takes pending runs from (`claimNext`).
 */
import { StoreError } from "../errors.ts";
import { CLAIMABLE, MULTITASK_STRATEGIES, OF_DEAD_ENGINE, RUN_COLUMNS } from "../sql.ts";
import { RUNS_ANY, runsKey } from "../follow.ts";
import type { NewRun, PageOptions, RunRecord, RunStatus, RunStore, ThreadRef } from "../types.ts";
import { jsonObject, oneOf, pageOf, RUN_STATUSES } from "../validate.ts";
import type { PostgresContext } from "./context.ts";
import { jsonbText, pgText } from "./values.ts";

interface RunRow {
  run_id: string;
  owner: string;
  thread_id: string | null;
  assistant_id: string;
  execution_id: string | null;
  status: string;
  metadata: Record<string, unknown>;
  multitask_strategy: string;
  kwargs: Record<string, unknown>;
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
  metadata: row.metadata,
  multitaskStrategy: row.multitask_strategy as RunRecord["multitaskStrategy"],
  kwargs: row.kwargs,
  engineId: row.engine_id,
  startedFrom: row.started_from,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/**
 * Claims the first claimable run. FOR UPDATE SKIP LOCKED: a claimer passes over a row another
 * claimer has locked instead of waiting for it; a row claimed and committed since this statement's
 * snapshot is re-checked on its new version when locked (READ COMMITTED), fails `engine_id IS
 * NULL`, and is passed over too. So two claimers never get the same run.
 */
const claim = (where: string): string =>
  `UPDATE runs SET engine_id = $1, updated_at = $2
   WHERE seq = (SELECT r.seq FROM runs r WHERE ${where} ORDER BY r.seq LIMIT 1 FOR UPDATE SKIP LOCKED)
   RETURNING ${RUN_COLUMNS}`;
const CLAIM_ANY = claim(CLAIMABLE);
const CLAIM_ON_THREAD = claim(`r.owner = $3 AND r.thread_id = $4 AND ${CLAIMABLE}`);

/**
 * Run ids are the engine's UUIDs, unique across owners (`update` names a run by its id alone);
 * every read a client can cause still takes the owner.
 */
export class PostgresRunStore implements RunStore {
  constructor(private readonly ctx: PostgresContext) {}

  async create(run: NewRun): Promise<RunRecord> {
    const now = this.ctx.now();
    const [row] = await this.ctx.query<RunRow>(
      `INSERT INTO runs (run_id, owner, thread_id, assistant_id, execution_id, status, metadata, multitask_strategy, kwargs, engine_id, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9::jsonb, $10, $11, $11)
       ON CONFLICT (run_id) DO NOTHING RETURNING ${RUN_COLUMNS}`,
      [
        pgText("runId", run.runId),
        pgText("owner", run.owner),
        run.threadId === null ? null : pgText("threadId", run.threadId),
        pgText("assistantId", run.assistantId),
        run.executionId == null ? null : pgText("executionId", run.executionId),
        oneOf("status", run.status, RUN_STATUSES),
        jsonbText("metadata", jsonObject("metadata", run.metadata)),
        oneOf("multitaskStrategy", run.multitaskStrategy, MULTITASK_STRATEGIES),
        jsonbText("kwargs", jsonObject("kwargs", run.kwargs)),
        run.engineId == null ? null : pgText("engineId", run.engineId),
        now,
      ],
    );
    if (!row) throw new StoreError("GBX_STORE_INVALID_ARGUMENT", `run ${JSON.stringify(run.runId)} already exists`);
    // Committed (one statement outside a transaction): a dispatcher woken now finds it.
    if (row.status === "pending" && row.engine_id === null) this.ctx.signals.runs.publish(RUNS_ANY);
    return toRun(row);
  }

  async get(owner: string, runId: string): Promise<RunRecord | null> {
    const [row] = await this.ctx.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE owner = $1 AND run_id = $2`, [
      owner,
      runId,
    ]);
    return row ? toRun(row) : null;
  }

  async list(owner: string, threadId: string, options?: PageOptions & { status?: RunStatus }): Promise<RunRecord[]> {
    const { limit, offset } = pageOf(options);
    const rows =
      options?.status === undefined
        ? await this.ctx.query<RunRow>(
            `SELECT ${RUN_COLUMNS} FROM runs WHERE owner = $1 AND thread_id = $2 ORDER BY seq DESC LIMIT $3 OFFSET $4`,
            [owner, threadId, limit, offset],
          )
        : await this.ctx.query<RunRow>(
            `SELECT ${RUN_COLUMNS} FROM runs WHERE owner = $1 AND thread_id = $2 AND status = $3
             ORDER BY seq DESC LIMIT $4 OFFSET $5`,
            [owner, threadId, oneOf("status", options.status, RUN_STATUSES), limit, offset],
          );
    return rows.map(toRun);
  }

  async update(
    runId: string,
    change: { status: RunStatus; executionId?: string; startedFrom?: string | null },
  ): Promise<boolean> {
    const [row] = await this.ctx.query<{ owner: string; thread_id: string | null }>(
      `UPDATE runs SET status = $1, execution_id = COALESCE($2, execution_id),
         started_from = CASE WHEN $3::boolean THEN $4 ELSE started_from END, updated_at = $5
       WHERE run_id = $6 RETURNING owner, thread_id`,
      [
        oneOf("status", change.status, RUN_STATUSES),
        change.executionId === undefined ? null : pgText("executionId", change.executionId),
        change.startedFrom !== undefined,
        change.startedFrom == null ? null : pgText("startedFrom", change.startedFrom),
        this.ctx.now(),
        runId,
      ],
    );
    // Waiters on the thread (join, an enqueued run's stream) may be on another engine.
    if (row?.thread_id != null) this.ctx.signals.runs.publish(runsKey(row.owner, row.thread_id));
    return row !== undefined;
  }

  async delete(owner: string, runId: string): Promise<boolean> {
    const rows = await this.ctx.query("DELETE FROM runs WHERE owner = $1 AND run_id = $2 RETURNING 1", [owner, runId]);
    return rows.length === 1;
  }

  async nextPending(owner: string, threadId: string): Promise<RunRecord | null> {
    const [row] = await this.ctx.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE owner = $1 AND thread_id = $2 AND status = 'pending' ORDER BY seq LIMIT 1`,
      [owner, threadId],
    );
    return row ? toRun(row) : null;
  }

  /** Publishes nothing: the claimer starts the run, and its update tells the thread's waiters. */
  async claimNext(engineId: string, thread?: ThreadRef): Promise<RunRecord | null> {
    const claimer = pgText("engineId", engineId);
    const now = this.ctx.now();
    const [row] = thread
      ? await this.ctx.query<RunRow>(CLAIM_ON_THREAD, [claimer, now, thread.owner, thread.threadId])
      : await this.ctx.query<RunRow>(CLAIM_ANY, [claimer, now]);
    return row ? toRun(row) : null;
  }

  async unclaim(runId: string, engineId: string): Promise<boolean> {
    const rows = await this.ctx.query(
      `UPDATE runs SET engine_id = NULL, updated_at = $1
       WHERE run_id = $2 AND engine_id = $3 AND status = 'pending' RETURNING 1`,
      [this.ctx.now(), runId, engineId],
    );
    const released = rows.length === 1;
    if (released) this.ctx.signals.runs.publish(RUNS_ANY);
    return released;
  }

  /**
   * Every engine sweeps: two sweeps at once pass over the rows the other has locked (SKIP LOCKED)
   * rather than wait on them in another order (a deadlock), so each run is reported by one sweep,
   * and a row skipped because a live caller held it is looked at again by the next sweep.
   */
  async recoverFromDeadEngines(): Promise<{ failed: string[]; requeued: string[] }> {
    this.ctx.assertOpen();
    const { failed, requeued } = await this.ctx.transaction(async (client) => {
      const now = this.ctx.now();
      const failedRows = await client.query<{ run_id: string }>(
        `UPDATE runs SET status = 'error', updated_at = $1
         WHERE seq IN (SELECT seq FROM runs WHERE status = 'running' AND ${OF_DEAD_ENGINE} FOR UPDATE SKIP LOCKED)
         RETURNING run_id`,
        [now],
      );
      const requeuedRows = await client.query<{ run_id: string }>(
        `UPDATE runs SET engine_id = NULL, updated_at = $1
         WHERE seq IN (SELECT seq FROM runs WHERE status = 'pending' AND engine_id IS NOT NULL AND ${OF_DEAD_ENGINE}
                       FOR UPDATE SKIP LOCKED)
         RETURNING run_id`,
        [now],
      );
      return {
        failed: failedRows.rows.map((row) => row.run_id),
        requeued: requeuedRows.rows.map((row) => row.run_id),
      };
    });
    if (requeued.length > 0) this.ctx.signals.runs.publish(RUNS_ANY);
    return { failed, requeued };
  }
}
