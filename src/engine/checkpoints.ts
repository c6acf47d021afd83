/**
 * Answers a harness's checkpoint requests from the store, on the execution's own thread only:
 * whatever thread_id a program puts in its request, the engine reads and writes the thread it
 * started the execution on.
 */
import type { CheckpointRequest } from "../protocol/messages.ts";
import type { CheckpointStore, CheckpointTuple, ThreadRef, TypedBlob } from "../store/types.ts";

export class CheckpointRequestError extends Error {
  override name = "CheckpointRequestError";
}

const str = (args: Record<string, unknown>, name: string, fallback?: string): string => {
  const value = args[name] ?? fallback;
  if (typeof value !== "string") throw new CheckpointRequestError(`checkpoint request needs a string ${name}`);
  return value;
};
const optionalStr = (args: Record<string, unknown>, name: string): string | null => {
  const value = args[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw new CheckpointRequestError(`checkpoint request has a non-string ${name}`);
  return value;
};
const blob = (type: unknown, data: unknown): TypedBlob => {
  if (typeof type !== "string" || typeof data !== "string") throw new CheckpointRequestError("checkpoint blob needs a type and base64 data");
  return { type, bytes: Buffer.from(data, "base64") };
};
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");

function toWire(tuple: CheckpointTuple): Record<string, unknown> {
  return {
    thread_id: tuple.threadId,
    checkpoint_ns: tuple.checkpointNs,
    checkpoint_id: tuple.checkpointId,
    parent_checkpoint_id: tuple.parentCheckpointId,
    type: tuple.checkpoint.type,
    checkpoint: b64(tuple.checkpoint.bytes),
    metadata: tuple.metadata,
    writes: tuple.pendingWrites.map((w) => ({ task_id: w.taskId, channel: w.channel, type: w.value.type, value: b64(w.value.bytes) })),
  };
}

export async function answerCheckpointRequest(store: CheckpointStore, thread: ThreadRef, request: CheckpointRequest): Promise<unknown> {
  const args = request.args;
  const asked = optionalStr(args, "thread_id");
  if (asked !== null && asked !== thread.threadId) {
    throw new CheckpointRequestError(`this execution may only use its own thread ${JSON.stringify(thread.threadId)}`);
  }
  switch (request.op) {
    case "get_tuple": {
      const tuple = await store.getTuple(thread, { checkpointNs: str(args, "checkpoint_ns", ""), checkpointId: optionalStr(args, "checkpoint_id") });
      return tuple ? toWire(tuple) : null;
    }
    case "list": {
      const checkpointId = optionalStr(args, "checkpoint_id");
      const limit = typeof args["limit"] === "number" ? args["limit"] : undefined;
      const ns = optionalStr(args, "checkpoint_ns");
      const before = optionalStr(args, "before");
      const tuples = await store.list(thread, {
        ...(ns !== null ? { checkpointNs: ns } : {}),
        ...(before !== null ? { before } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
      return tuples.filter((t) => checkpointId === null || t.checkpointId === checkpointId).map(toWire);
    }
    case "put": {
      const metadata = args["metadata"];
      await store.put(thread, {
        checkpointNs: str(args, "checkpoint_ns", ""),
        checkpointId: str(args, "checkpoint_id"),
        parentCheckpointId: optionalStr(args, "parent_checkpoint_id"),
        checkpoint: blob(args["type"], args["checkpoint"]),
        metadata: typeof metadata === "object" && metadata !== null ? (metadata as Record<string, unknown>) : {},
        ...(args["values"] !== undefined ? { values: args["values"] } : {}),
      });
      return null;
    }
    case "put_writes": {
      const writes = args["writes"];
      if (!Array.isArray(writes)) throw new CheckpointRequestError("put_writes needs a list of writes");
      await store.putWrites(
        thread,
        { checkpointNs: str(args, "checkpoint_ns", ""), checkpointId: str(args, "checkpoint_id"), taskId: str(args, "task_id"), taskPath: str(args, "task_path", "") },
        writes.map((w: unknown) => {
          const write = (w ?? {}) as Record<string, unknown>;
          if (typeof write["idx"] !== "number" || typeof write["channel"] !== "string") throw new CheckpointRequestError("a write needs idx and channel");
          return { idx: write["idx"], channel: write["channel"], value: blob(write["type"], write["value"]) };
        }),
      );
      return null;
    }
  }
}
