/**
 * What both SQL backends say the same way: the engines table's rows, and the run queue's rules
 * (which run may be claimed, which engine is dead), so that SQLite and PostgreSQL cannot drift
 * apart on who runs what.
 */
import type { EngineLease, RunRecord } from "./types.ts";

export interface EngineRow {
  engine_id: string;
  address: string;
  started_at: number;
  heartbeat_at: number;
  expires_at: number;
}

export const toLease = (row: EngineRow): EngineLease => ({
  engineId: row.engine_id,
  address: row.address,
  startedAt: row.started_at,
  heartbeatAt: row.heartbeat_at,
  expiresAt: row.expires_at,
});

export const MULTITASK_STRATEGIES: readonly RunRecord["multitaskStrategy"][] = [
  "reject",
  "interrupt",
  "rollback",
  "enqueue",
];

export const RUN_COLUMNS =
  "run_id, owner, thread_id, assistant_id, execution_id, status, metadata, multitask_strategy, kwargs, engine_id, started_from, created_at, updated_at";

/** No engine with a lease holds the run (its engine died, left, or it never had one). */
export const OF_DEAD_ENGINE =
  "(engine_id IS NULL OR NOT EXISTS (SELECT 1 FROM engines e WHERE e.engine_id = runs.engine_id))";

/**
 * A pending run (`r`) nobody has claimed, on a thread with no run running or claimed and no older
 * pending run (a thread's queue runs in order, one run at a time). Only a thread's oldest pending
 * run can ever pass, so two claimers that lock different rows never hold two runs of one thread.
 */
export const CLAIMABLE = `r.status = 'pending' AND r.engine_id IS NULL AND r.thread_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM runs o WHERE o.owner = r.owner AND o.thread_id = r.thread_id
    AND (o.status = 'running' OR (o.status = 'pending' AND (o.engine_id IS NOT NULL OR o.seq < r.seq))))`;
