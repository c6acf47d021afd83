// @ts-check
// The checkpointer the harness installs in place of any the program set: it keeps checkpoints in
// the engine's store, through the channel. Mirrors the Python harness's checkpointer.py.
//
// The program never holds a database handle: it can only ask the engine for its own thread's
// checkpoints, and the engine decides which thread that is. Values travel as LangGraph.js's own
// typed serialization (base64, see serde.mjs), plus a JSON view of the state for the engine's
// thread APIs.
import { BaseCheckpointSaver, copyCheckpoint, getCheckpointId, WRITES_IDX_MAP } from "@langchain/langgraph-checkpoint";

import { GraphboxSerializer } from "./serde.mjs";
import { toJson } from "./serialize.mjs";

/**
 * @typedef {import("@langchain/core/runnables").RunnableConfig} RunnableConfig
 * @typedef {import("@langchain/langgraph-checkpoint").Checkpoint} Checkpoint
 * @typedef {import("@langchain/langgraph-checkpoint").CheckpointTuple} CheckpointTuple
 * @typedef {import("@langchain/langgraph-checkpoint").CheckpointMetadata} CheckpointMetadata
 * @typedef {import("@langchain/langgraph-checkpoint").CheckpointListOptions} CheckpointListOptions
 * @typedef {import("@langchain/langgraph-checkpoint").PendingWrite} PendingWrite
 * @typedef {import("./types.js").CheckpointRow} CheckpointRow
 * @typedef {import("./types.js").CheckpointOp} CheckpointOp
 */

/** @param {Uint8Array} bytes */
const b64 = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");

/**
 * The channels a user thinks of as state (LangGraph's internal branch/trigger channels left out).
 * @param {Checkpoint} checkpoint
 */
function stateView(checkpoint) {
  const values = checkpoint.channel_values ?? {};
  // A root-channel graph keeps its whole state in "__root__", shown as the result shows it.
  const visible = Object.entries(values).filter(
    ([key]) => key === "__root__" || !(key.startsWith("branch:") || key.startsWith("__")),
  );
  return toJson(Object.fromEntries(visible));
}

export class EngineCheckpointSaver extends BaseCheckpointSaver {
  /**
   * @param {import("./channel.mjs").Channel} channel
   * @param {((config: RunnableConfig, metadata: CheckpointMetadata) => Record<string, unknown>) | null} metadataOf
   *   What a checkpoint's metadata is made of (an Agent API job's, see run-input.mjs); null: LangGraph's own.
   */
  constructor(channel, metadataOf = null) {
    super(new GraphboxSerializer());
    this.channel = channel;
    this.metadataOf = metadataOf;
  }

  /**
   * @param {CheckpointOp} op
   * @param {Record<string, unknown>} args
   */
  call(op, args) {
    return this.channel.request("checkpoint", { op, args });
  }

  /**
   * @param {string} type
   * @param {string} data base64
   */
  load(type, data) {
    return this.serde.loadsTyped(type, new Uint8Array(Buffer.from(data, "base64")));
  }

  /**
   * @param {CheckpointRow} row
   * @returns {Promise<CheckpointTuple>}
   */
  async tuple(row) {
    const ids = { thread_id: row.thread_id, checkpoint_ns: row.checkpoint_ns };
    /** @type {CheckpointTuple} */
    const tuple = {
      config: { configurable: { ...ids, checkpoint_id: row.checkpoint_id } },
      checkpoint: await this.load(row.type, row.checkpoint),
      // What this harness stored (put), back as it was.
      metadata: /** @type {CheckpointMetadata} */ (row.metadata ?? {}),
      pendingWrites: await Promise.all(
        (row.writes ?? []).map(async (w) => [w.task_id, w.channel, await this.load(w.type, w.value)]),
      ),
    };
    if (row.parent_checkpoint_id)
      tuple.parentConfig = { configurable: { ...ids, checkpoint_id: row.parent_checkpoint_id } };
    return tuple;
  }

  /** @param {RunnableConfig} config */
  async getTuple(config) {
    const c = config.configurable ?? {};
    const row = /** @type {CheckpointRow | null} */ (
      this.call("get_tuple", {
        thread_id: c.thread_id,
        checkpoint_ns: c.checkpoint_ns ?? "",
        checkpoint_id: getCheckpointId(config) || null,
      })
    );
    return row ? this.tuple(row) : undefined;
  }

  /**
   * @param {RunnableConfig} config
   * @param {CheckpointListOptions} options
   */
  async *list(config, options = {}) {
    const c = config?.configurable ?? {};
    const { before, limit, filter } = options;
    const checkpointId = (config && getCheckpointId(config)) || null;
    let cursor = before?.configurable?.checkpoint_id ?? null;
    let produced = 0;
    // The engine answers a page at a time (GRAPHBOX_CHECKPOINT_LIST_LIMIT, and a byte bound):
    // ask again from the last id until a page comes back empty.
    for (;;) {
      const rows = /** @type {CheckpointRow[] | null} */ (
        this.call("list", {
          thread_id: c.thread_id ?? null,
          checkpoint_ns: c.checkpoint_ns ?? null,
          checkpoint_id: checkpointId,
          before: cursor,
          // A metadata filter is applied here, so the engine must not cut the list short first.
          limit: filter || limit === undefined ? null : limit - produced,
        })
      );
      if (!rows || rows.length === 0) return;
      for (const row of rows) {
        const item = await this.tuple(row);
        if (
          filter &&
          !Object.entries(filter).every(
            ([key, value]) => /** @type {Record<string, unknown> | undefined} */ (item.metadata)?.[key] === value,
          )
        )
          continue;
        yield item;
        produced += 1;
        if (limit !== undefined && produced >= limit) return;
      }
      if (checkpointId !== null) return;
      cursor = /** @type {CheckpointRow} */ (rows[rows.length - 1]).checkpoint_id;
    }
  }

  /**
   * @param {RunnableConfig} config
   * @param {Checkpoint} checkpoint
   * @param {CheckpointMetadata} metadata
   */
  async put(config, checkpoint, metadata) {
    const c = config.configurable ?? {};
    const prepared = copyCheckpoint(checkpoint);
    const [type, bytes] = await this.serde.dumpsTyped(prepared);
    const ids = { thread_id: c.thread_id, checkpoint_ns: c.checkpoint_ns ?? "" };
    this.call("put", {
      ...ids,
      checkpoint_id: checkpoint.id,
      parent_checkpoint_id: c.checkpoint_id ?? null,
      type,
      checkpoint: b64(bytes),
      metadata: toJson(this.metadataOf ? this.metadataOf(config, metadata) : metadata),
      values: stateView(prepared),
    });
    return { configurable: { ...ids, checkpoint_id: checkpoint.id } };
  }

  /**
   * @param {RunnableConfig} config
   * @param {PendingWrite[]} writes
   * @param {string} taskId
   * @param {string} taskPath
   */
  async putWrites(config, writes, taskId, taskPath = "") {
    const c = config.configurable ?? {};
    const rows = await Promise.all(
      writes.map(async ([channel, value], index) => {
        const [type, bytes] = await this.serde.dumpsTyped(value);
        return { idx: WRITES_IDX_MAP[channel] ?? index, channel, type, value: b64(bytes) };
      }),
    );
    this.call("put_writes", {
      thread_id: c.thread_id,
      checkpoint_ns: c.checkpoint_ns ?? "",
      checkpoint_id: c.checkpoint_id,
      task_id: taskId,
      task_path: taskPath ?? "",
      writes: rows,
    });
  }

  async deleteThread() {
    throw new Error("threads are deleted through the engine's API, not by programs");
  }
}
