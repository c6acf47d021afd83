/**
 * Answers a harness's checkpoint requests from the store, on the execution's own thread only:
 * whatever thread_id a program puts in its request, the engine reads and writes the thread it
 * started the execution on.
 *
 * Errors, and what the run makes of them:
 * - `CheckpointRequestError`: a request the engine declines (another thread): answered `ok: false`,
 *   the program sees an exception and the run goes on.
 * - `CheckpointRejected`: a request no harness would send (bad shape, a serializer type the runtime
 *   never writes, an id not in LangGraph's format or not newer than the thread's): the program
 *   forged it, and the run ends (`sandbox_error`, "the program sent a forged checkpoint: ...").
 * - `CheckpointQuotaExceeded`: over a checkpoint limit; the run ends (`output_limit`, naming `limit`).
 * The store given is the execution's `HarnessCheckpoints`, which applies the rules and limits.
 */
import type { CheckpointRequest } from "../contract/protocol/messages.ts";
import type { CheckpointStore, CheckpointTuple, ThreadRef, TypedBlob } from "../store/types.ts";
import { CheckpointRejected } from "./checkpoint-rules.ts";

export { CheckpointQuotaExceeded, CheckpointRejected } from "./checkpoint-rules.ts";

export class CheckpointRequestError extends Error {
  override name = "CheckpointRequestError";
}

const str = (args: Record<string, unknown>, name: string, fallback?: string): string => {
  const value = args[name] ?? fallback;
  if (typeof value !== "string") throw new CheckpointRejected(`checkpoint request needs a string ${name}`);
  return value;
};
const optionalStr = (args: Record<string, unknown>, name: string): string | null => {
  const value = args[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw new CheckpointRejected(`checkpoint request has a non-string ${name}`);
  return value;
};
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const blob = (type: unknown, data: unknown): TypedBlob => {
  if (typeof type !== "string" || typeof data !== "string")
    throw new CheckpointRejected("checkpoint blob needs a type and base64 data");
  // Buffer.from skips what is not base64; the harnesses send it whole, so anything else is not theirs.
  if (data.length % 4 !== 0 || !BASE64.test(data)) throw new CheckpointRejected("checkpoint blob data is not base64");
  return { type, bytes: Buffer.from(data, "base64") };
};
const plainObject = (value: unknown, what: string): Record<string, unknown> => {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new CheckpointRejected(`checkpoint request's ${what} is not an object`);
  return value as Record<string, unknown>;
};
const listLimit = (value: unknown): number | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1)
    throw new CheckpointRejected("list's limit must be a whole number ≥ 1");
  return value;
};
const b64 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");

function toWire(tuple: CheckpointTuple): Record<string, unknown> {
  return {
    thread_id: tuple.threadId,
    checkpoint_ns: tuple.checkpointNs,
    checkpoint_id: tuple.checkpointId,
    parent_checkpoint_id: tuple.parentCheckpointId,
    type: tuple.checkpoint.type,
    checkpoint: b64(tuple.checkpoint.bytes),
    metadata: tuple.metadata,
    writes: tuple.pendingWrites.map((w) => ({
      task_id: w.taskId,
      channel: w.channel,
      type: w.value.type,
      value: b64(w.value.bytes),
    })),
  };
}

export async function answerCheckpointRequest(
  store: CheckpointStore,
  thread: ThreadRef,
  request: CheckpointRequest,
): Promise<unknown> {
  const args = request.args;
  const asked = optionalStr(args, "thread_id");
  if (asked !== null && asked !== thread.threadId) {
    throw new CheckpointRequestError(`this execution may only use its own thread ${JSON.stringify(thread.threadId)}`);
  }
  switch (request.op) {
    case "get_tuple": {
      const tuple = await store.getTuple(thread, {
        checkpointNs: str(args, "checkpoint_ns", ""),
        checkpointId: optionalStr(args, "checkpoint_id"),
      });
      return tuple ? toWire(tuple) : null;
    }
    case "list": {
      const checkpointId = optionalStr(args, "checkpoint_id");
      const limit = listLimit(args["limit"]);
      const ns = optionalStr(args, "checkpoint_ns");
      const before = optionalStr(args, "before");
      if (checkpointId !== null) {
        // LangGraph's savers: a config with a checkpoint_id lists that one checkpoint.
        const tuple = await store.getTuple(thread, { checkpointNs: ns ?? "", checkpointId });
        return tuple && (before === null || tuple.checkpointId < before) ? [toWire(tuple)] : [];
      }
      // At most a page (HarnessCheckpoints caps it): the harness asks again with `before` for more.
      const tuples = await store.list(thread, {
        ...(ns !== null ? { checkpointNs: ns } : {}),
        ...(before !== null ? { before } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
      return tuples.map(toWire);
    }
    case "put": {
      await store.put(thread, {
        checkpointNs: str(args, "checkpoint_ns", ""),
        checkpointId: str(args, "checkpoint_id"),
        parentCheckpointId: optionalStr(args, "parent_checkpoint_id"),
        checkpoint: blob(args["type"], args["checkpoint"]),
        metadata:
          args["metadata"] === undefined || args["metadata"] === null ? {} : plainObject(args["metadata"], "metadata"),
        ...(args["values"] !== undefined ? { values: args["values"] } : {}),
      });
      return null;
    }
    case "put_writes": {
      const writes = args["writes"];
      if (!Array.isArray(writes)) throw new CheckpointRejected("put_writes needs a list of writes");
      await store.putWrites(
        thread,
        {
          checkpointNs: str(args, "checkpoint_ns", ""),
          checkpointId: str(args, "checkpoint_id"),
          taskId: str(args, "task_id"),
          taskPath: str(args, "task_path", ""),
        },
        writes.map((w: unknown) => {
          const write = plainObject(w, "write");
          const idx = write["idx"];
          if (typeof idx !== "number" || !Number.isInteger(idx) || typeof write["channel"] !== "string")
            throw new CheckpointRejected("a write needs a whole-number idx and a channel");
          return { idx, channel: write["channel"], value: blob(write["type"], write["value"]) };
        }),
      );
      return null;
    }
  }
}
