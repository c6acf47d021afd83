// @ts-check
// LangGraph.js's StateSnapshot as the Agent API's ThreadState, field by field as LangGraph's JS
// server answers GET /threads/{id}/state (its stateSnapshotToThreadState): `values`, `next`,
// `tasks` (each `{id, name, error, interrupts, path, checkpoint, state, result}`), `metadata` (left
// out with no checkpoint), `created_at`, `checkpoint`, `parent_checkpoint`. Mirrors the Python
// harness's thread_state.py.
import { toAgentJson } from "./agent-json.mjs";

/**
 * @typedef {import("@langchain/langgraph").StateSnapshot} StateSnapshot
 * @typedef {{ thread_id: string, checkpoint_ns: string, checkpoint_id: string | null, checkpoint_map: unknown }} CheckpointRecord
 */

/** @type {(value: unknown) => value is Record<string, any>} */
const isRecord = (value) => typeof value === "object" && value !== null && !Array.isArray(value);

/** @param {unknown} config */
const configurableOf = (config) =>
  isRecord(config) && isRecord(config.configurable)
    ? /** @type {Record<string, unknown>} */ (config.configurable)
    : null;

/**
 * @param {Record<string, unknown>} c
 * @param {string | null} checkpointId
 * @returns {CheckpointRecord}
 */
const record = (c, checkpointId) => ({
  thread_id: /** @type {string} */ (c.thread_id),
  checkpoint_ns: typeof c.checkpoint_ns === "string" ? c.checkpoint_ns : "",
  checkpoint_id: checkpointId,
  checkpoint_map: isRecord(c.checkpoint_map) ? toAgentJson(c.checkpoint_map) : null,
});

/**
 * `{thread_id, checkpoint_ns, checkpoint_id, checkpoint_map}` of a config naming one checkpoint, else null.
 * @param {unknown} config
 * @returns {CheckpointRecord | null}
 */
export function configToCheckpoint(config) {
  const c = configurableOf(config);
  if (!c || typeof c.thread_id !== "string" || !c.thread_id || typeof c.checkpoint_id !== "string") return null;
  return record(c, c.checkpoint_id);
}

/**
 * The same for a task's config, which names its subgraph's namespace but not always a checkpoint.
 * @param {unknown} config
 * @returns {CheckpointRecord | null}
 */
export function taskConfigToCheckpoint(config) {
  const c = configurableOf(config);
  if (!c || typeof c.thread_id !== "string" || !c.thread_id) return null;
  return record(c, typeof c.checkpoint_id === "string" && c.checkpoint_id ? c.checkpoint_id : null);
}

/**
 * As the server words a failed task's error (its serializeError): an Error's message, else the JSON
 * text of what was stored, which for an error read back from a checkpoint is `{message, name}`.
 * @param {unknown} error
 */
function errorText(error) {
  if (error === null || error === undefined) return null;
  if (error instanceof Error) return error.message;
  return JSON.stringify(toAgentJson(error));
}

/** @type {(state: unknown) => state is StateSnapshot} */
const isSnapshot = (state) => isRecord(state) && "values" in state && "next" in state;

/**
 * `{thread_id, checkpoint_ns}` of a task whose subgraph has checkpoints (its config), as the server shows it.
 * @param {unknown} state
 */
function subgraphRef(state) {
  const c = isSnapshot(state) ? null : configurableOf(state);
  if (!c || typeof c.thread_id !== "string" || typeof c.checkpoint_ns !== "string") return null;
  return { thread_id: c.thread_id, checkpoint_ns: c.checkpoint_ns };
}

/**
 * @param {StateSnapshot["tasks"][number]} task
 * @returns {Record<string, unknown>}
 */
function taskState(task) {
  const state = /** @type {unknown} */ (task.state);
  return {
    id: task.id,
    name: task.name,
    error: errorText(task.error),
    interrupts: toAgentJson(task.interrupts ?? []),
    path: toAgentJson(task.path ?? []),
    // A subgraph's task names the subgraph's namespace; with `subgraphs` it holds its whole state.
    checkpoint: subgraphRef(state),
    state: isSnapshot(state) ? threadState(state) : null,
    result: toAgentJson(task.result ?? null),
  };
}

/**
 * @param {StateSnapshot} snapshot
 * @returns {Record<string, unknown>}
 */
export function threadState(snapshot) {
  const createdAt = snapshot.createdAt ? new Date(snapshot.createdAt) : null;
  return {
    values: toAgentJson(snapshot.values),
    next: [...(snapshot.next ?? [])],
    tasks: (snapshot.tasks ?? []).map(taskState),
    // Undefined for a thread with no checkpoint yet: the server's JSON has no such key.
    metadata: snapshot.metadata === undefined ? undefined : toAgentJson(snapshot.metadata),
    created_at: createdAt && !Number.isNaN(createdAt.getTime()) ? createdAt.toISOString() : null,
    checkpoint: configToCheckpoint(snapshot.config),
    parent_checkpoint: configToCheckpoint(snapshot.parentConfig),
  };
}
