/**
 * LangGraph checkpoints and pending writes by thread, in SQLite: the tables and statements of
 * langgraph's checkpoint-sqlite saver (libs/checkpoint-sqlite), keyed by owner as well, with the
 * engine's own rules on top: ids only grow, the head is what was written last (`seq`), each
 * thread's bytes are counted (`checkpoint_threads`), and reads load no more than they may.
 */
import { StoreError } from "../errors.ts";
import { matchesFilter } from "../metadata-filter.ts";
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
import { blobBytes, positiveInteger, readTooLarge, toJson } from "../validate.ts";
import type { SqliteContext } from "./context.ts";

/** A checkpoint's row without its blob, and how many bytes reading it (blob and writes) costs. */
interface HeaderRow {
  thread_id: string;
  checkpoint_ns: string;
  checkpoint_id: string;
  parent_checkpoint_id: string | null;
  type: string;
  metadata: string;
  state_json: string | null;
  created_at: number;
  bytes: number;
}

interface WriteRow {
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

// What a read costs is known before it loads anything: lengths come from SQLite's record headers.
const HEADER = `thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, metadata, state_json, created_at,
  length(checkpoint) + length(CAST(metadata AS BLOB)) + COALESCE(length(CAST(state_json AS BLOB)), 0)
  + (SELECT COALESCE(SUM(length(w.value)), 0) FROM checkpoint_writes w
     WHERE w.owner = c.owner AND w.thread_id = c.thread_id AND w.checkpoint_ns = c.checkpoint_ns AND w.checkpoint_id = c.checkpoint_id) AS bytes`;

export class SqliteCheckpointStore implements CheckpointStore {
  private readonly insert;
  private readonly touchThread;
  private readonly selectUsage;
  private readonly saveUsage;
  private readonly selectNotOlder;
  private readonly selectOne;
  private readonly selectHead;
  private readonly selectList;
  private readonly selectBlob;
  private readonly selectWrites;
  private readonly selectWriteSize;
  private readonly replaceWrite;
  private readonly insertWrite;
  private readonly deleteCheckpoints;
  private readonly deleteWrites;
  private readonly deleteUsage;

  constructor(private readonly ctx: SqliteContext) {
    const { db } = ctx;
    this.insert = db.prepare<
      [string, string, string, string, string | null, string, Buffer, string, string | null, number, number]
    >(
      `INSERT INTO checkpoints (owner, thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata, state_json, created_at, seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.touchThread = db.prepare<[number, string, string]>(
      "UPDATE threads SET updated_at = ? WHERE owner = ? AND thread_id = ?",
    );
    this.selectUsage = db.prepare<[string, string], ThreadUsage>(
      "SELECT last_seq, bytes FROM checkpoint_threads WHERE owner = ? AND thread_id = ?",
    );
    this.saveUsage = db.prepare<[string, string, number, number]>(
      `INSERT INTO checkpoint_threads (owner, thread_id, last_seq, bytes) VALUES (?, ?, ?, ?)
       ON CONFLICT (owner, thread_id) DO UPDATE SET last_seq = excluded.last_seq, bytes = excluded.bytes`,
    );
    // Compared by SQLite (bytes of UTF-8, as MAX() and ORDER BY do), not by JavaScript's UTF-16 order.
    this.selectNotOlder = db.prepare<[string, string, string, string], { checkpoint_id: string }>(
      "SELECT checkpoint_id FROM checkpoints WHERE owner = ? AND thread_id = ? AND checkpoint_ns = ? AND checkpoint_id >= ? LIMIT 1",
    );
    this.selectOne = db.prepare<[string, string, string, string], HeaderRow>(
      `SELECT ${HEADER} FROM checkpoints c WHERE owner = ? AND thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?`,
    );
    this.selectHead = db.prepare<[string, string, string], HeaderRow>(
      `SELECT ${HEADER} FROM checkpoints c WHERE owner = ? AND thread_id = ? AND checkpoint_ns = ? ORDER BY seq DESC LIMIT 1`,
    );
    // Checkpoint ids are UUIDv6 and only grow within a namespace, so their text order is their time order (as LangGraph relies on).
    this.selectList = db.prepare<
      [string, string, string | null, string | null, string | null, string | null, number],
      HeaderRow
    >(
      `SELECT ${HEADER} FROM checkpoints c
       WHERE owner = ? AND thread_id = ? AND (? IS NULL OR checkpoint_ns = ?) AND (? IS NULL OR checkpoint_id < ?)
       ORDER BY checkpoint_id DESC, checkpoint_ns DESC LIMIT ?`,
    );
    this.selectBlob = db.prepare<[string, string, string, string], { checkpoint: Buffer }>(
      "SELECT checkpoint FROM checkpoints WHERE owner = ? AND thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?",
    );
    this.selectWrites = db.prepare<[string, string, string, string], WriteRow>(
      `SELECT task_id, task_path, idx, channel, type, value FROM checkpoint_writes
       WHERE owner = ? AND thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ? ORDER BY task_id, idx`,
    );
    this.selectWriteSize = db.prepare<[string, string, string, string, string, number], { bytes: number }>(
      `SELECT length(value) AS bytes FROM checkpoint_writes
       WHERE owner = ? AND thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ? AND task_id = ? AND idx = ?`,
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
    this.deleteUsage = db.prepare<[string, string]>("DELETE FROM checkpoint_threads WHERE owner = ? AND thread_id = ?");
  }

  async getTuple(
    ref: ThreadRef,
    options: { checkpointNs?: string; checkpointId?: string | null } & CheckpointReadOptions = {},
  ): Promise<CheckpointTuple | null> {
    this.ctx.assertOpen();
    const ns = options.checkpointNs ?? "";
    const maxBytes = options.maxBytes === undefined ? Infinity : positiveInteger("maxBytes", options.maxBytes);
    const row =
      options.checkpointId === undefined || options.checkpointId === null
        ? this.selectHead.get(ref.owner, ref.threadId, ns)
        : this.selectOne.get(ref.owner, ref.threadId, ns, options.checkpointId);
    if (!row) return null;
    if (row.bytes > maxBytes) throw readTooLarge(row.checkpoint_id, row.bytes, maxBytes);
    return this.toTuple(ref, row);
  }

  async getHeadState(ref: ThreadRef, options: { checkpointNs?: string } = {}): Promise<CheckpointState | null> {
    this.ctx.assertOpen();
    const row = this.selectHead.get(ref.owner, ref.threadId, options.checkpointNs ?? "");
    return row ? toState(row) : null;
  }

  async list(ref: ThreadRef, options: CheckpointListOptions = {}): Promise<CheckpointTuple[]> {
    this.ctx.assertOpen();
    const limit = options.limit === undefined ? Infinity : positiveInteger("limit", options.limit);
    const maxBytes = options.maxBytes === undefined ? Infinity : positiveInteger("maxBytes", options.maxBytes);
    const ns = options.checkpointNs ?? null;
    const before = options.before ?? null;
    // Headers only, newest first: a blob is loaded once its row is known to fit.
    const rows: HeaderRow[] = [];
    let bytes = 0;
    const sqlLimit = options.filter === undefined && limit !== Infinity ? limit : -1;
    for (const row of this.selectList.iterate(ref.owner, ref.threadId, ns, ns, before, before, sqlLimit)) {
      // The filter is applied here (see metadata-filter.ts), so the SQL cannot stop at `limit`.
      if (options.filter !== undefined && !matchesFilter(parseMetadata(row.metadata), options.filter)) continue;
      if (bytes + row.bytes > maxBytes) {
        if (rows.length === 0) throw readTooLarge(row.checkpoint_id, row.bytes, maxBytes);
        break;
      }
      bytes += row.bytes;
      rows.push(row);
      if (rows.length >= limit) break;
    }
    return rows.map((row) => this.toTuple(ref, row));
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
    const now = this.ctx.now();
    this.ctx.db
      .transaction(() => {
        const newer = this.selectNotOlder.get(ref.owner, ref.threadId, ns, checkpoint.checkpointId);
        if (newer) {
          throw new StoreError(
            "GBX_STORE_CHECKPOINT_NOT_NEWER",
            `checkpoint id ${JSON.stringify(checkpoint.checkpointId)} does not sort after ${JSON.stringify(newer.checkpoint_id)}, already in the thread's namespace ${JSON.stringify(ns)}`,
          );
        }
        const usage = this.usage(ref, size, maxThreadBytes);
        this.insert.run(
          ref.owner,
          ref.threadId,
          ns,
          checkpoint.checkpointId,
          checkpoint.parentCheckpointId ?? null,
          checkpoint.checkpoint.type,
          bytes,
          metadata,
          state,
          now,
          usage.last_seq + 1,
        );
        this.saveUsage.run(ref.owner, ref.threadId, usage.last_seq + 1, usage.bytes + size);
        this.touchThread.run(now, ref.owner, ref.threadId);
      })
      .immediate();
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
    this.ctx.db
      .transaction(() => {
        let added = 0;
        for (const row of rows) {
          const key = [ref.owner, ref.threadId, ns, target.checkpointId, target.taskId, row.idx] as const;
          const stored = this.selectWriteSize.get(...key);
          // As LangGraph's savers: a special write (negative idx) replaces, any other is kept as first written.
          if (stored !== undefined && row.idx >= 0) continue;
          added += row.bytes.byteLength - (stored?.bytes ?? 0);
          (row.idx < 0 ? this.replaceWrite : this.insertWrite).run(...key, taskPath, row.channel, row.type, row.bytes);
        }
        const usage = this.usage(ref, added, maxThreadBytes);
        this.saveUsage.run(ref.owner, ref.threadId, usage.last_seq, usage.bytes + added);
      })
      .immediate();
  }

  async deleteThread(ref: ThreadRef): Promise<void> {
    this.ctx.assertOpen();
    this.ctx.db
      .transaction(() => {
        this.deleteWrites.run(ref.owner, ref.threadId);
        this.deleteCheckpoints.run(ref.owner, ref.threadId);
        this.deleteUsage.run(ref.owner, ref.threadId);
      })
      .immediate();
  }

  /** The thread's counters, once `adding` bytes are known to fit under `max` (inside the write's transaction). */
  private usage(ref: ThreadRef, adding: number, max: number): ThreadUsage {
    const usage = this.selectUsage.get(ref.owner, ref.threadId) ?? { last_seq: 0, bytes: 0 };
    if (adding > 0 && usage.bytes + adding > max) {
      throw new StoreError(
        "GBX_STORE_QUOTA_EXCEEDED",
        `the thread's checkpoints would take ${usage.bytes + adding} bytes, over its quota of ${max} bytes (${usage.bytes} stored, ${adding} more)`,
      );
    }
    return usage;
  }

  private toTuple(ref: ThreadRef, row: HeaderRow): CheckpointTuple {
    const blob = this.selectBlob.get(ref.owner, ref.threadId, row.checkpoint_ns, row.checkpoint_id);
    const writes = this.selectWrites.all(ref.owner, ref.threadId, row.checkpoint_ns, row.checkpoint_id);
    return {
      ...toState(row),
      threadId: row.thread_id,
      checkpoint: { type: row.type, bytes: blob?.checkpoint ?? Buffer.alloc(0) },
      pendingWrites: writes.map((w): PendingWrite => ({
        taskId: w.task_id,
        taskPath: w.task_path,
        idx: w.idx,
        channel: w.channel,
        value: { type: w.type, bytes: w.value },
      })),
    };
  }
}

function toState(row: HeaderRow): CheckpointState {
  return {
    checkpointNs: row.checkpoint_ns,
    checkpointId: row.checkpoint_id,
    parentCheckpointId: row.parent_checkpoint_id,
    metadata: parseMetadata(row.metadata),
    values: row.state_json === null ? null : (JSON.parse(row.state_json) as unknown),
    createdAt: row.created_at,
  };
}

function parseMetadata(text: string): CheckpointMetadata {
  const value = JSON.parse(text) as unknown;
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as CheckpointMetadata) : {};
}
