// @ts-check
// The raw chunks of the LangGraph stream modes a run asked for (`stream_modes`), as `chunk`
// messages. Mirrors the Python harness's chunks.py.
//
// Each goes out as LangGraph's JS server (the reference) sends it to its clients (its stream.mts):
// the chunk in the Agent API's JSON (agent-json.mjs); a `checkpoints` chunk as `{values, metadata,
// next}`; for `debug` and `tasks` with the server's additions: a checkpoint's `checkpoint` and
// `parent_checkpoint` records and `parent_config` (for LangGraph.js's `parentConfig`), a subgraph
// task's `checkpoint` in place of its config, and no internal (`__`-prefixed) configurable keys or
// callbacks in configs. A subgraph's chunks carry its namespace and go out only when the run asked
// for `subgraphs`.
import { toAgentJson } from "./agent-json.mjs";
import { configToCheckpoint, taskConfigToCheckpoint } from "./thread-state.mjs";

/** @typedef {import("./types.js").ChunkMode} ChunkMode */

/** @type {readonly ChunkMode[]} */
const CHUNK_MODES = ["values", "updates", "messages", "custom", "debug", "tasks", "checkpoints"];

/** @type {(value: unknown) => value is Record<string, any>} */
const isRecord = (value) => typeof value === "object" && value !== null && !Array.isArray(value);

/** @param {unknown} config */
function publicConfig(config) {
  if (!isRecord(config) || !isRecord(config.configurable)) return config;
  const { callbacks: _callbacks, ...rest } = config;
  const configurable = Object.fromEntries(Object.entries(config.configurable).filter(([key]) => !key.startsWith("__")));
  return { ...rest, configurable };
}

/** @param {unknown} task */
function taskChunk(task) {
  if (!isRecord(task) || !taskConfigToCheckpoint(task.state)) return task;
  const { state, ...rest } = task;
  return { ...rest, checkpoint: taskConfigToCheckpoint(state) };
}

/** @param {unknown} payload */
function checkpointChunk(payload) {
  if (!isRecord(payload)) return payload;
  const { parentConfig, ...rest } = payload;
  return {
    ...rest,
    checkpoint: configToCheckpoint(payload.config),
    parent_checkpoint: configToCheckpoint(parentConfig),
    tasks: Array.isArray(payload.tasks) ? payload.tasks.map(taskChunk) : payload.tasks,
    config: publicConfig(payload.config),
    parent_config: publicConfig(parentConfig),
  };
}

/** @param {unknown} payload */
function checkpointsChunk(payload) {
  if (!isRecord(payload)) return payload;
  return { values: payload.values, metadata: payload.metadata, next: payload.next };
}

/** @param {unknown} chunk */
function debugChunk(chunk) {
  if (!isRecord(chunk)) return chunk;
  if (chunk.type === "checkpoint") return { ...chunk, payload: checkpointChunk(chunk.payload) };
  if (chunk.type === "task_result") return { ...chunk, payload: taskChunk(chunk.payload) };
  return chunk;
}

/** @type {Partial<Record<ChunkMode, (chunk: unknown) => unknown>>} */
const SHAPES = { debug: debugChunk, checkpoints: checkpointsChunk, tasks: taskChunk };

export class ChunkForwarder {
  /**
   * @param {import("./channel.mjs").Channel} channel
   * @param {import("./types.js").JobMessage} job
   */
  constructor(channel, job) {
    this.channel = channel;
    const asked = new Set(job.stream_modes ?? []);
    /** @type {ChunkMode[]} */
    this.modes = CHUNK_MODES.filter((mode) => asked.has(mode));
    this.subgraphs = Boolean(job.subgraphs);
  }

  /**
   * @param {string[]} ns
   * @param {string} mode
   * @param {unknown} chunk
   */
  forward(ns, mode, chunk) {
    const known = /** @type {ChunkMode | undefined} */ (this.modes.find((m) => m === mode));
    if (!known || (ns.length > 0 && !this.subgraphs)) return;
    const shape = SHAPES[known];
    this.channel.send("chunk", { mode: known, ns: ns.map(String), data: toAgentJson(shape ? shape(chunk) : chunk) });
  }
}
