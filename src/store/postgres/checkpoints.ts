/**
 * LangGraph checkpoints and pending writes by thread, in PostgreSQL, with the same rules as
 * SQLite's (`../sqlite/checkpoints.ts`): ids only grow, the head is what was written last (`seq`),
 * each thread's bytes are counted, and reads load no more than they may.
 *
 * SQLite's single writer made each thread's writes one after the other; here a write takes the
 * thread's `checkpoint_threads` row FOR UPDATE first, so writes to one thread queue on it (from
 * any engine) and the id order, seq and byte count stay exact. Calls from this process keep the
 * order they were made in (`inOrder`).
 */
import { StoreError } from "../errors.ts";
import type {
  CheckpointListOptions,
  CheckpointMetadata,
  CheckpointReadOptions,
  CheckpointState,
  CheckpointStore,
  CheckpointTuple,
  CheckpointWriteOptions,
  NewCheckpoint,
  PendingWrite,
  ThreadRef,
  TypedBlob,
  WritesTarget,
} from "../types.ts";
import { blobBytes, isJsonObject, positiveInteger, readTooLarge, toJson } from "../validate.ts";
import type { PostgresContext } from "./context.ts";
import { inOrder } from "./in-order.ts";
import type { PoolClient } from "pg";

/** A checkpoint's row without its blob, and how many bytes reading it (blob and writes) costs. */
interface HeaderRow {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
  parent_checkpoint_id: string | null;
  type: string;
  metadata: unknown;
  state_json: string | null;
  created_at: number;
  bytes: number;
}

interface WriteRow {
  checkpoint_ns: string;
  checkpoint_id: string;
  task_id: string;
  task_path: string;
  idx: number;
  channel: string;
  type: string;
  value: Buffer;
}

interface ThreadUsage {
  last_seq: number;
  bytes: number;
}

const HEADER = `c.thread_id, c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id, c.type, c.metadata, c.state_json, c.created_at,
  c.bytes + (SELECT COALESCE(SUM(octet_length(w.value)), 0) FROM checkpoint_writes w
     WHERE w.owner = c.owner AND w.thread_id = c.thread_id AND w.checkpoint_ns = c.checkpoint_ns AND w.checkpoint_id = c.checkpoint_id) AS bytes`;

const keyOf = (ns: string, id: string): string => `${ns}\u0000${id}`;

export class PostgresCheckpointStore implements CheckpointStore {
  constructor(
    private readonly ctx: PostgresContext,
    /** Keys `inOrder` by database. */
    private readonly orderKey: string,
  ) {}

  async getTuple(
    ref: ThreadRef,
    options: { checkpointNs?: string; checkpointId?: string | null } & CheckpointReadOptions = {},
  ): Promise<CheckpointTuple | null> {
    this.ctx.assertOpen();
    const ns = options.checkpointNs ?? "";
    const maxBytes = options.maxBytes === undefined ? Infinity : positiveInteger("maxBytes", options.maxBytes);
    const row =
      options.checkpointId === undefined || options.checkpointId === null
        ? await this.head(ref, ns)
        : (
            await this.ctx.query<HeaderRow>(
              `SELECT ${HEADER} FROM checkpoints c WHERE owner = $1 AND thread_id = $2 AND checkpoint_ns = $3 AND checkpoint_id = $4`,
              [ref.owner, ref.threadId, ns, options.checkpointId],
            )
          )[0];
    if (!row) return null;
    if (row.bytes > maxBytes) throw readTooLarge(row.checkpoint_id, row.bytes, maxBytes);
    return (await this.toTuples(ref, [row]))[0] ?? null;
  }

  async getHeadState(ref: ThreadRef, options: { checkpointNs?: string } = {}): Promise<CheckpointState | null> {
    this.ctx.assertOpen();
    const row = await this.head(ref, options.checkpointNs ?? "");
    return row ? toState(row) : null;
  }

  async list(ref: ThreadRef, options: CheckpointListOptions = {}): Promise<CheckpointTuple[]> {
    this.ctx.assertOpen();
    const limit = options.limit === undefined ? Infinity : positiveInteger("limit", options.limit);
    const maxBytes = options.maxBytes === undefined ? Infinity : positiveInteger("maxBytes", options.maxBytes);
    const params: unknown[] = [ref.owner, ref.threadId];
    const param = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    const clauses = ["owner = $1", "thread_id = $2"];
    if (options.checkpointNs !== undefined) clauses.push(`checkpoint_ns = ${param(options.checkpointNs)}`);
    if (options.before !== undefined) clauses.push(`checkpoint_id < ${param(options.before)}`);
    // LangGraph's filter (`../metadata-filter.ts`): each key with an equal value, a null asked
    // for matching an absent key too. In SQL, so that `limit` can stop the scan.
    const filter = options.filter === undefined ? {} : (JSON.parse(toJson("filter", options.filter)) as unknown);
    if (!isJsonObject(filter)) throw new StoreError("GBX_STORE_INVALID_ARGUMENT", "a filter must be a JSON object");
    for (const [key, want] of Object.entries(filter)) {
      const k = param(key);
      clauses.push(
        want === null
          ? `(metadata -> ${k}::text IS NULL OR metadata -> ${k}::text = 'null'::jsonb)`
          : `metadata -> ${k}::text = ${param(JSON.stringify(want))}::jsonb`,
      );
    }
    const sqlLimit = limit === Infinity ? "" : `LIMIT ${param(limit)}`;
    // Checkpoint ids are UUIDv6 and only grow within a namespace, so their byte order is their time order.
    const rows = await this.ctx.query<HeaderRow>(
      `SELECT ${HEADER} FROM checkpoints c WHERE ${clauses.join(" AND ")} ORDER BY checkpoint_id DESC, checkpoint_ns DESC ${sqlLimit}`,
      params,
    );
    // Headers first: the blobs are loaded only for the rows that fit.
    const kept: HeaderRow[] = [];
    let bytes = 0;
    for (const row of rows) {
      if (bytes + row.bytes > maxBytes) {
        if (kept.length === 0) throw readTooLarge(row.checkpoint_id, row.bytes, maxBytes);
        break;
      }
      bytes += row.bytes;
      kept.push(row);
    }
    return this.toTuples(ref, kept);
  }

  async put(ref: ThreadRef, checkpoint: NewCheckpoint, options: CheckpointWriteOptions = {}): Promise<void> {
    this.ctx.assertOpen();
    if (typeof checkpoint.checkpointId !== "string" || checkpoint.checkpointId === "") {
      throw new StoreError("GBX_STORE_INVALID_ARGUMENT", "checkpointId must be a non-empty string");
    }
    const maxThreadBytes =
      options.maxThreadBytes === undefined ? Infinity : positiveInteger("maxThreadBytes", options.maxThreadBytes);
    const bytes = blobBytes("checkpoint", checkpoint.checkpoint);
    const metadata = toJson("checkpoint metadata", checkpoint.metadata ?? {});
    const state = checkpoint.values === undefined ? null : toJson("checkpoint values", checkpoint.values);
    const size = bytes.byteLength + Buffer.byteLength(metadata) + (state === null ? 0 : Buffer.byteLength(state));
    const ns = checkpoint.checkpointNs ?? "";
    await inOrder(this.orderOf(ref), () =>
      this.ctx.transaction(async (client) => {
        const usage = await this.lockUsage(client, ref);
        const newer = (
          await client.query<{ checkpoint_id: string }>(
            "SELECT checkpoint_id FROM checkpoints WHERE owner = $1 AND thread_id = $2 AND checkpoint_ns = $3 AND checkpoint_id >= $4 LIMIT 1",
            [ref.owner, ref.threadId, ns, checkpoint.checkpointId],
          )
        ).rows[0];
        if (newer) {
          throw new StoreError(
            "GBX_STORE_CHECKPOINT_NOT_NEWER",
            `checkpoint id ${JSON.stringify(checkpoint.checkpointId)} does not sort after ${JSON.stringify(newer.checkpoint_id)}, already in the thread's namespace ${JSON.stringify(ns)}`,
          );
        }
        checkQuota(usage, size, maxThreadBytes);
        const now = this.ctx.now();
        await client.query(
          `WITH stored AS (
             INSERT INTO checkpoints (owner, thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint,
               metadata, state_json, bytes, created_at, seq)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12)
           ), counted AS (
             UPDATE checkpoint_threads SET last_seq = $12, bytes = $13 WHERE owner = $1 AND thread_id = $2
           )
           UPDATE threads SET updated_at = $11 WHERE owner = $1 AND thread_id = $2`,
          [
            ref.owner,
            ref.threadId,
            ns,
            checkpoint.checkpointId,
            checkpoint.parentCheckpointId ?? null,
            checkpoint.checkpoint.type,
            bytes,
            metadata,
            state,
            size,
            now,
            usage.last_seq + 1,
            usage.bytes + size,
          ],
        );
      }),
    );
  }

  async putWrites(
    ref: ThreadRef,
    target: WritesTarget,
    writes: { idx: number; channel: string; value: TypedBlob }[],
    options: CheckpointWriteOptions = {},
  ): Promise<void> {
    this.ctx.assertOpen();
    const maxThreadBytes =
      options.maxThreadBytes === undefined ? Infinity : positiveInteger("maxThreadBytes", options.maxThreadBytes);
    const rows = writes.map((write, position) => {
      if (!Number.isInteger(write.idx))
        throw new StoreError(
          "GBX_STORE_INVALID_ARGUMENT",
          `write ${position} has idx ${String(write.idx)}, not a whole number`,
        );
      return {
        idx: write.idx,
        channel: write.channel,
        type: write.value.type,
        bytes: blobBytes(`write ${position}`, write.value),
      };
    });
    const ns = target.checkpointNs ?? "";
    const taskPath = target.taskPath ?? "";
    const key = [ref.owner, ref.threadId, ns, target.checkpointId, target.taskId];
    await inOrder(this.orderOf(ref), () =>
      this.ctx.transaction(async (client) => {
        const usage = await this.lockUsage(client, ref);
        const stored = new Map<number, number>();
        const existing = await client.query<{ idx: number; bytes: number }>(
          `SELECT idx, octet_length(value) AS bytes FROM checkpoint_writes
           WHERE owner = $1 AND thread_id = $2 AND checkpoint_ns = $3 AND checkpoint_id = $4 AND task_id = $5 AND idx = ANY($6::int[])`,
          [...key, rows.map((row) => row.idx)],
        );
        for (const row of existing.rows) stored.set(row.idx, row.bytes);
        let added = 0;
        const kept: typeof rows = [];
        for (const row of rows) {
          const before = stored.get(row.idx);
          // As LangGraph's savers: a special write (negative idx) replaces, any other is kept as first written.
          if (before !== undefined && row.idx >= 0) continue;
          added += row.bytes.byteLength - (before ?? 0);
          stored.set(row.idx, row.bytes.byteLength);
          kept.push(row);
        }
        checkQuota(usage, added, maxThreadBytes);
        for (const row of kept) {
          await client.query(
            `INSERT INTO checkpoint_writes (owner, thread_id, checkpoint_ns, checkpoint_id, task_id, idx, task_path, channel, type, value)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (owner, thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
             DO UPDATE SET task_path = excluded.task_path, channel = excluded.channel, type = excluded.type, value = excluded.value`,
            [...key, row.idx, taskPath, row.channel, row.type, row.bytes],
          );
        }
        if (added !== 0)
          await client.query("UPDATE checkpoint_threads SET bytes = $3 WHERE owner = $1 AND thread_id = $2", [
            ref.owner,
            ref.threadId,
            usage.bytes + added,
          ]);
      }),
    );
  }

  async deleteThread(ref: ThreadRef): Promise<void> {
    this.ctx.assertOpen();
    await inOrder(this.orderOf(ref), () =>
      this.ctx.transaction(async (client) => {
        const key = [ref.owner, ref.threadId];
        await client.query("DELETE FROM checkpoint_threads WHERE owner = $1 AND thread_id = $2", key);
        await client.query("DELETE FROM checkpoint_writes WHERE owner = $1 AND thread_id = $2", key);
        await client.query("DELETE FROM checkpoints WHERE owner = $1 AND thread_id = $2", key);
      }),
    );
  }

  private orderOf(ref: ThreadRef): string {
    return `${this.orderKey}\u0000checkpoints\u0000${ref.owner}\u0000${ref.threadId}`;
  }

  /** The thread's counters, its row made if need be and locked until the transaction ends. */
  private async lockUsage(client: PoolClient, ref: ThreadRef): Promise<ThreadUsage> {
    const rows = await client.query<ThreadUsage>(
      `INSERT INTO checkpoint_threads (owner, thread_id, last_seq, bytes) VALUES ($1, $2, 0, 0)
       ON CONFLICT (owner, thread_id) DO UPDATE SET last_seq = checkpoint_threads.last_seq
       RETURNING last_seq, bytes`,
      [ref.owner, ref.threadId],
    );
    return rows.rows[0] as ThreadUsage;
  }

  private async head(ref: ThreadRef, ns: string): Promise<HeaderRow | undefined> {
    const rows = await this.ctx.query<HeaderRow>(
      `SELECT ${HEADER} FROM checkpoints c WHERE owner = $1 AND thread_id = $2 AND checkpoint_ns = $3 ORDER BY seq DESC LIMIT 1`,
      [ref.owner, ref.threadId, ns],
    );
    return rows[0];
  }

  /** The rows' blobs and pending writes, two queries for all of them. */
  private async toTuples(ref: ThreadRef, rows: HeaderRow[]): Promise<CheckpointTuple[]> {
    if (rows.length === 0) return [];
    const params = [ref.owner, ref.threadId, rows.map((r) => r.checkpoint_ns), rows.map((r) => r.checkpoint_id)];
    const which = "(checkpoint_ns, checkpoint_id) IN (SELECT * FROM unnest($3::text[], $4::text[]))";
    const blobs = await this.ctx.query<{ checkpoint_ns: string; checkpoint_id: string; checkpoint: Buffer }>(
      `SELECT checkpoint_ns, checkpoint_id, checkpoint FROM checkpoints WHERE owner = $1 AND thread_id = $2 AND ${which}`,
      params,
    );
    const writes = await this.ctx.query<WriteRow>(
      `SELECT checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, value FROM checkpoint_writes
       WHERE owner = $1 AND thread_id = $2 AND ${which} ORDER BY task_id, idx`,
      params,
    );
    const blobOf = new Map(blobs.map((b) => [keyOf(b.checkpoint_ns, b.checkpoint_id), b.checkpoint]));
    const writesOf = new Map<string, PendingWrite[]>();
    for (const w of writes) {
      const k = keyOf(w.checkpoint_ns, w.checkpoint_id);
      let list = writesOf.get(k);
      if (!list) writesOf.set(k, (list = []));
      list.push({
        taskId: w.task_id,
        taskPath: w.task_path,
        idx: w.idx,
        channel: w.channel,
        value: { type: w.type, bytes: w.value },
      });
    }
    return rows.map((row) => {
      const k = keyOf(row.checkpoint_ns, row.checkpoint_id);
      return {
        ...toState(row),
        threadId: row.thread_id,
        checkpoint: { type: row.type, bytes: blobOf.get(k) ?? Buffer.alloc(0) },
        pendingWrites: writesOf.get(k) ?? [],
      };
    });
  }
}

function checkQuota(usage: ThreadUsage, adding: number, max: number): void {
  if (adding > 0 && usage.bytes + adding > max) {
    throw new StoreError(
      "GBX_STORE_QUOTA_EXCEEDED",
      `the thread's checkpoints would take ${usage.bytes + adding} bytes, over its quota of ${max} bytes (${usage.bytes} stored, ${adding} more)`,
    );
  }
}

function toState(row: HeaderRow): CheckpointState {
  return {
    checkpointNs: row.checkpoint_ns,
    checkpointId: row.checkpoint_id,
    parentCheckpointId: row.parent_checkpoint_id,
    metadata: isJsonObject(row.metadata) ? (row.metadata as CheckpointMetadata) : {},
    values: row.state_json === null ? null : (JSON.parse(row.state_json) as unknown),
    createdAt: row.created_at,
  };
}
