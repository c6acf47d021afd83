/**
 * LangGraph checkpoints and pending writes by thread, in SQLite: the tables and statements of
 * langgraph's checkpoint-sqlite saver (libs/checkpoint-sqlite), keyed by owner as well.
 */
import { StoreError } from "../errors.ts";
import { matchesFilter } from "../metadata-filter.ts";
import type { CheckpointListOptions, CheckpointMetadata, CheckpointStore, CheckpointTuple, NewCheckpoint, PendingWrite, ThreadRef, TypedBlob, WritesTarget } from "../types.ts";
import { blobBytes, positiveInteger, toJson } from "../validate.ts";
import type { SqliteContext } from "./context.ts";

interface CheckpointRow {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
  parent_checkpoint_id: string | null;
  type: string;
  checkpoint: Buffer;
  metadata: string;
  state_json: string | null;
  created_at: number;
}

interface WriteRow {
  task_id: string;
  task_path: string;
  idx: number;
  channel: string;
  type: string;
  value: Buffer;
}

const COLUMNS = "thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata, state_json, created_at";

export class SqliteCheckpointStore implements CheckpointStore {
  private readonly upsert;
  private readonly touchThread;
  private readonly selectOne;
  private readonly selectLatest;
  private readonly selectList;
  private readonly selectWrites;
  private readonly replaceWrite;
  private readonly insertWrite;
  private readonly deleteCheckpoints;
  private readonly deleteWrites;

  constructor(private readonly ctx: SqliteContext) {
    const { db } = ctx;
    this.upsert = db.prepare<[string, string, string, string, string | null, string, Buffer, string, string | null, number]>(
      `INSERT INTO checkpoints (owner, thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata, state_json, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (owner, thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET
         parent_checkpoint_id = excluded.parent_checkpoint_id, type = excluded.type, checkpoint = excluded.checkpoint,
         metadata = excluded.metadata, state_json = excluded.state_json`,
    );
    this.touchThread = db.prepare<[number, string, string]>("UPDATE threads SET updated_at = ? WHERE owner = ? AND thread_id = ?");
    this.selectOne = db.prepare<[string, string, string, string], CheckpointRow>(
      `SELECT ${COLUMNS} FROM checkpoints WHERE owner = ? AND thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?`,
    );
    this.selectLatest = db.prepare<[string, string, string], CheckpointRow>(
      `SELECT ${COLUMNS} FROM checkpoints WHERE owner = ? AND thread_id = ? AND checkpoint_ns = ? ORDER BY checkpoint_id DESC LIMIT 1`,
    );
    // Checkpoint ids are UUIDv6, so their text order is their time order (as LangGraph relies on).
    this.selectList = db.prepare<[string, string, string | null, string | null, string | null, string | null, number], CheckpointRow>(
      `SELECT ${COLUMNS} FROM checkpoints
       WHERE owner = ? AND thread_id = ? AND (? IS NULL OR checkpoint_ns = ?) AND (? IS NULL OR checkpoint_id < ?)
       ORDER BY checkpoint_id DESC, checkpoint_ns DESC LIMIT ?`,
    );
    this.selectWrites = db.prepare<[string, string, string, string], WriteRow>(
      `SELECT task_id, task_path, idx, channel, type, value FROM checkpoint_writes
       WHERE owner = ? AND thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ? ORDER BY task_id, idx`,
    );
    const insertWrite = `INSERT INTO checkpoint_writes (owner, thread_id, checkpoint_ns, checkpoint_id, task_id, idx, task_path, channel, type, value)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (owner, thread_id, checkpoint_ns, checkpoint_id, task_id, idx)`;
    type WriteParams = [string, string, string, string, string, number, string, string, string, Buffer];
    this.replaceWrite = db.prepare<WriteParams>(
      `${insertWrite} DO UPDATE SET task_path = excluded.task_path, channel = excluded.channel, type = excluded.type, value = excluded.value`,
    );
    this.insertWrite = db.prepare<WriteParams>(`${insertWrite} DO NOTHING`);
    this.deleteCheckpoints = db.prepare<[string, string]>("DELETE FROM checkpoints WHERE owner = ? AND thread_id = ?");
    this.deleteWrites = db.prepare<[string, string]>("DELETE FROM checkpoint_writes WHERE owner = ? AND thread_id = ?");
  }

  async getTuple(ref: ThreadRef, options: { checkpointNs?: string; checkpointId?: string | null } = {}): Promise<CheckpointTuple | null> {
    this.ctx.assertOpen();
    const ns = options.checkpointNs ?? "";
    const row =
      options.checkpointId === undefined || options.checkpointId === null
        ? this.selectLatest.get(ref.owner, ref.threadId, ns)
        : this.selectOne.get(ref.owner, ref.threadId, ns, options.checkpointId);
    return row ? this.toTuple(ref, row) : null;
  }

  async list(ref: ThreadRef, options: CheckpointListOptions = {}): Promise<CheckpointTuple[]> {
    this.ctx.assertOpen();
    const limit = options.limit === undefined ? Infinity : positiveInteger("limit", options.limit);
    const ns = options.checkpointNs ?? null;
    const before = options.before ?? null;
    let rows: CheckpointRow[];
    if (options.filter === undefined) {
      rows = this.selectList.all(ref.owner, ref.threadId, ns, ns, before, before, limit === Infinity ? -1 : limit);
    } else {
      // The filter is applied here (see metadata-filter.ts), so the SQL cannot stop at `limit`:
      // read newest first and stop once enough matched.
      rows = [];
      for (const row of this.selectList.iterate(ref.owner, ref.threadId, ns, ns, before, before, -1)) {
        if (!matchesFilter(parseMetadata(row.metadata), options.filter)) continue;
        rows.push(row);
        if (rows.length >= limit) break;
      }
    }
    return rows.map((row) => this.toTuple(ref, row));
  }

  async put(ref: ThreadRef, checkpoint: NewCheckpoint): Promise<void> {
    this.ctx.assertOpen();
    if (typeof checkpoint.checkpointId !== "string" || checkpoint.checkpointId === "") {
      throw new StoreError("GBX_STORE_INVALID_ARGUMENT", "checkpointId must be a non-empty string");
    }
    const bytes = blobBytes("checkpoint", checkpoint.checkpoint);
    const metadata = toJson("checkpoint metadata", checkpoint.metadata ?? {});
    const state = checkpoint.values === undefined ? null : toJson("checkpoint values", checkpoint.values);
    const now = this.ctx.now();
    this.ctx.db
      .transaction(() => {
        this.upsert.run(
          ref.owner,
          ref.threadId,
          checkpoint.checkpointNs ?? "",
          checkpoint.checkpointId,
          checkpoint.parentCheckpointId ?? null,
          checkpoint.checkpoint.type,
          bytes,
          metadata,
          state,
          now,
        );
        this.touchThread.run(now, ref.owner, ref.threadId);
      })
      .immediate();
  }

  async putWrites(ref: ThreadRef, target: WritesTarget, writes: { idx: number; channel: string; value: TypedBlob }[]): Promise<void> {
    this.ctx.assertOpen();
    const rows = writes.map((write, position) => {
      if (!Number.isInteger(write.idx)) throw new StoreError("GBX_STORE_INVALID_ARGUMENT", `write ${position} has idx ${String(write.idx)}, not a whole number`);
      return { idx: write.idx, channel: write.channel, type: write.value.type, bytes: blobBytes(`write ${position}`, write.value) };
    });
    const ns = target.checkpointNs ?? "";
    const taskPath = target.taskPath ?? "";
    this.ctx.db
      .transaction(() => {
        for (const row of rows) {
          // As LangGraph's savers: a special write (negative idx) replaces, any other is kept as first written.
          const statement = row.idx < 0 ? this.replaceWrite : this.insertWrite;
          statement.run(ref.owner, ref.threadId, ns, target.checkpointId, target.taskId, row.idx, taskPath, row.channel, row.type, row.bytes);
        }
      })
      .immediate();
  }

  async deleteThread(ref: ThreadRef): Promise<void> {
    this.ctx.assertOpen();
    this.ctx.db
      .transaction(() => {
        this.deleteWrites.run(ref.owner, ref.threadId);
        this.deleteCheckpoints.run(ref.owner, ref.threadId);
      })
      .immediate();
  }

  private toTuple(ref: ThreadRef, row: CheckpointRow): CheckpointTuple {
    const writes = this.selectWrites.all(ref.owner, ref.threadId, row.checkpoint_ns, row.checkpoint_id);
    return {
      threadId: row.thread_id,
      checkpointNs: row.checkpoint_ns,
      checkpointId: row.checkpoint_id,
      parentCheckpointId: row.parent_checkpoint_id,
      checkpoint: { type: row.type, bytes: row.checkpoint },
      metadata: parseMetadata(row.metadata),
      values: row.state_json === null ? null : (JSON.parse(row.state_json) as unknown),
      pendingWrites: writes.map(
        (w): PendingWrite => ({ taskId: w.task_id, taskPath: w.task_path, idx: w.idx, channel: w.channel, value: { type: w.type, bytes: w.value } }),
      ),
      createdAt: row.created_at,
    };
  }
}

function parseMetadata(text: string): CheckpointMetadata {
  const value = JSON.parse(text) as unknown;
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as CheckpointMetadata) : {};
}
