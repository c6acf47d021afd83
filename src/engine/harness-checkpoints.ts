/**
 * The checkpoint store as one execution's harness reaches it: the engine's rules in front of the
 * store. Writes must be the runtime's own (serializer types, LangGraph ids that only grow) and fit
 * the per-write and per-thread quotas; reads load no more than one answer may carry. A write
 * that breaks a rule throws `CheckpointRejected` or `CheckpointQuotaExceeded`, which end the run.
 */
import { StoreError } from "../store/errors.ts";
import type { RuntimeName } from "../contract/types.ts";
import type {
  CheckpointListOptions,
  CheckpointReadOptions,
  CheckpointState,
  CheckpointStore,
  CheckpointTuple,
  NewCheckpoint,
  ThreadRef,
  TypedBlob,
  WritesTarget,
} from "../store/types.ts";
import {
  checkCheckpointId,
  checkSerializerType,
  CheckpointQuotaExceeded,
  CheckpointRejected,
} from "./checkpoint-rules.ts";

export interface CheckpointLimits {
  /** Bytes of one `put` (blob, metadata and values) or one `put_writes` (every value). GRAPHBOX_MAX_CHECKPOINT_WRITE_BYTES. */
  maxWriteBytes: number;
  /** Bytes of everything a thread's checkpoints hold. GRAPHBOX_MAX_THREAD_CHECKPOINT_BYTES. */
  maxThreadBytes: number;
  /** Bytes (blobs and pending writes) one `get_tuple` or `list` answer may load. GRAPHBOX_MAX_CHECKPOINT_READ_BYTES. */
  maxReadBytes: number;
  /** Checkpoints one `list` answer holds; the harness pages with `before`. GRAPHBOX_CHECKPOINT_LIST_LIMIT. */
  listLimit: number;
}

export interface HarnessCheckpointsOptions extends CheckpointLimits {
  runtime: RuntimeName;
  /** Default Date.now. */
  now?: () => number;
}

/** Namespaces, task ids, paths and channel names are LangGraph's; this bounds what a program can make of them. */
const MAX_NAME_CHARS = 4096;

export class HarnessCheckpoints implements CheckpointStore {
  private readonly now: () => number;

  constructor(
    private readonly store: CheckpointStore,
    private readonly options: HarnessCheckpointsOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async getTuple(
    ref: ThreadRef,
    options: { checkpointNs?: string; checkpointId?: string | null } & CheckpointReadOptions = {},
  ): Promise<CheckpointTuple | null> {
    return this.reading(() => this.store.getTuple(ref, { ...options, maxBytes: this.options.maxReadBytes }));
  }

  getHeadState(ref: ThreadRef, options?: { checkpointNs?: string }): Promise<CheckpointState | null> {
    return this.store.getHeadState(ref, options);
  }

  async list(ref: ThreadRef, options: CheckpointListOptions = {}): Promise<CheckpointTuple[]> {
    const limit = Math.min(options.limit ?? Infinity, this.options.listLimit);
    return this.reading(() => this.store.list(ref, { ...options, limit, maxBytes: this.options.maxReadBytes }));
  }

  async put(ref: ThreadRef, checkpoint: NewCheckpoint): Promise<void> {
    const ns = checkpoint.checkpointNs ?? "";
    checkName("checkpoint_ns", ns);
    checkCheckpointId("checkpoint_id", checkpoint.checkpointId, this.now());
    checkSerializerType(this.options.runtime, "the checkpoint", checkpoint.checkpoint.type);
    const bytes =
      checkpoint.checkpoint.bytes.byteLength +
      jsonBytes("metadata", checkpoint.metadata) +
      jsonBytes("values", checkpoint.values);
    this.checkWriteSize("put", bytes);
    await this.writing(() => this.store.put(ref, checkpoint, { maxThreadBytes: this.options.maxThreadBytes }));
  }

  async putWrites(
    ref: ThreadRef,
    target: WritesTarget,
    writes: { idx: number; channel: string; value: TypedBlob }[],
  ): Promise<void> {
    checkName("checkpoint_ns", target.checkpointNs ?? "");
    checkName("task_id", target.taskId);
    checkName("task_path", target.taskPath ?? "");
    checkCheckpointId("put_writes checkpoint_id", target.checkpointId, this.now());
    let bytes = 0;
    for (const [position, write] of writes.entries()) {
      checkName("channel", write.channel);
      checkSerializerType(
        this.options.runtime,
        `write ${position} (channel ${JSON.stringify(write.channel.slice(0, 64))})`,
        write.value.type,
      );
      bytes += write.value.bytes.byteLength + write.channel.length;
    }
    this.checkWriteSize("put_writes", bytes);
    await this.writing(() =>
      this.store.putWrites(ref, target, writes, { maxThreadBytes: this.options.maxThreadBytes }),
    );
  }

  deleteThread(): Promise<void> {
    throw new CheckpointRejected("threads are deleted through the engine's API, not by programs");
  }

  private checkWriteSize(op: string, bytes: number): void {
    if (bytes > this.options.maxWriteBytes) {
      throw new CheckpointQuotaExceeded(
        "GRAPHBOX_MAX_CHECKPOINT_WRITE_BYTES",
        `a checkpoint ${op} of ${bytes} bytes is over GRAPHBOX_MAX_CHECKPOINT_WRITE_BYTES (${this.options.maxWriteBytes} bytes)`,
      );
    }
  }

  /** The store's refusals of a write, as the run's ending. */
  private async writing(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err: unknown) {
      if (!(err instanceof StoreError)) throw err;
      switch (err.code) {
        case "GBX_STORE_CHECKPOINT_NOT_NEWER":
        case "GBX_STORE_INVALID_ARGUMENT":
          throw new CheckpointRejected(err.message);
        case "GBX_STORE_QUOTA_EXCEEDED":
          throw new CheckpointQuotaExceeded(
            "GRAPHBOX_MAX_THREAD_CHECKPOINT_BYTES",
            `GRAPHBOX_MAX_THREAD_CHECKPOINT_BYTES: ${err.message}`,
          );
        default:
          throw err;
      }
    }
  }

  private async reading<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err: unknown) {
      if (err instanceof StoreError && err.code === "GBX_STORE_READ_TOO_LARGE") {
        throw new CheckpointQuotaExceeded(
          "GRAPHBOX_MAX_CHECKPOINT_READ_BYTES",
          `GRAPHBOX_MAX_CHECKPOINT_READ_BYTES: ${err.message}`,
        );
      }
      throw err;
    }
  }
}

function checkName(what: string, value: string): void {
  if (value.length > MAX_NAME_CHARS)
    throw new CheckpointRejected(`${what} is ${value.length} characters long, over ${MAX_NAME_CHARS}`);
}

function jsonBytes(what: string, value: unknown): number {
  if (value === undefined) return 0;
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? "null");
  } catch (err: unknown) {
    // Too deep to stringify, or not JSON at all: no harness writes that.
    throw new CheckpointRejected(
      `the checkpoint's ${what} is not JSON the engine can store: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
