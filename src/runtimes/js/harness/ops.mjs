// @ts-check
// The ops of a job other than `run` (JOB_OPS in messages.ts): the program is loaded and its graph
// found as for a run (its checkpointer is the engine's), and one `answer` (or `error`) is sent.
// Mirrors the Python harness's ops.py.
//
// - `state`: the thread's ThreadState at `checkpoint_id` (null: the head), subgraphs' states with `subgraphs`;
// - `history`: ThreadStates newest first (`limit`, default 10; `before`; `checkpoint_id`; `filter` on metadata);
// - `update_state`: `updateState(values, as_node)` from `checkpoint_id` or the head: the new checkpoint;
// - `describe`: the graph's drawing and schemas (describe.mjs).
//
// `state`, `history` and `update_state` read the namespace `checkpoint_ns` ("" or absent: the root
// graph; `name:task_id|...`: a subgraph's, which LangGraph's getState/updateState hand to that subgraph).
import { toAgentJson } from "./agent-json.mjs";
import { describe } from "./describe.mjs";
import { describe as describeError, programTraceback } from "./errors.mjs";
import { threadState } from "./thread-state.mjs";

/**
 * The graph's members the ops use, beyond what a run uses (loader.mjs Graph).
 * @typedef {import("@langchain/langgraph").StateSnapshot} StateSnapshot
 * @typedef {import("./loader.mjs").Graph & {
 *   getState: (config: Record<string, unknown>, options?: { subgraphs?: boolean }) => Promise<StateSnapshot>,
 *   getStateHistory: (config: Record<string, unknown>, options?: Record<string, unknown>) => AsyncIterable<StateSnapshot>,
 *   updateState: (config: Record<string, unknown>, values: unknown, asNode?: string) => Promise<{ configurable?: Record<string, unknown> }>,
 *   getGraphAsync: (config: Record<string, unknown>) => Promise<{ toJSON: () => unknown }>,
 * }} OpGraph
 * @typedef {import("./types.js").JobMessage} JobMessage
 */

const DEFAULT_HISTORY_LIMIT = 10;
/** LangGraph's errors for an update or a drawing this graph cannot take: the request's fault, not the program's. */
const REQUEST_ERRORS = new Set(["InvalidUpdateError", "NotImplementedError"]);

/**
 * @param {JobMessage} job
 * @param {Record<string, unknown>} args
 * @param {unknown} checkpointId
 */
function configOf(job, args, checkpointId) {
  // The job's configurable too (the engine's graph_id...), which the checkpointer copies into the
  // metadata of a checkpoint updateState writes, as LangGraph's JS server has it.
  const ns = typeof args.checkpoint_ns === "string" ? args.checkpoint_ns : "";
  /** @type {Record<string, unknown>} */
  const configurable = { ...job.config.configurable, thread_id: job.thread_id, checkpoint_ns: ns };
  if (typeof checkpointId === "string" && checkpointId) configurable.checkpoint_id = checkpointId;
  return { configurable };
}

/**
 * A checkpoint id, given as itself or as the checkpoint object the SDKs send (`{checkpoint_id, ...}`).
 * @param {unknown} value
 */
function checkpointIdOf(value) {
  const id =
    typeof value === "object" && value !== null
      ? (/** @type {{ checkpoint_id?: unknown, configurable?: { checkpoint_id?: unknown } }} */ (value).checkpoint_id ??
        /** @type {{ configurable?: { checkpoint_id?: unknown } }} */ (value).configurable?.checkpoint_id)
      : value;
  return typeof id === "string" && id ? id : null;
}

/** @type {Record<string, (graph: OpGraph, job: JobMessage, args: Record<string, unknown>) => Promise<unknown>>} */
const OPS = {
  async state(graph, job, args) {
    return threadState(
      await graph.getState(configOf(job, args, args.checkpoint_id), { subgraphs: Boolean(args.subgraphs) }),
    );
  },
  async history(graph, job, args) {
    const { limit, filter } = args;
    const before = checkpointIdOf(args.before);
    const states = [];
    for await (const snapshot of graph.getStateHistory(configOf(job, args, args.checkpoint_id), {
      limit: typeof limit === "number" && Number.isInteger(limit) && limit > 0 ? limit : DEFAULT_HISTORY_LIMIT,
      ...(before ? { before: configOf(job, args, before) } : {}),
      ...(typeof filter === "object" && filter !== null && !Array.isArray(filter) ? { filter } : {}),
    }))
      states.push(threadState(snapshot));
    return states;
  },
  async update_state(graph, job, args) {
    const asNode = typeof args.as_node === "string" ? args.as_node : undefined;
    const next = await graph.updateState(configOf(job, args, args.checkpoint_id), args.values, asNode);
    return { checkpoint: toAgentJson(next?.configurable ?? null) };
  },
  async describe(graph, _job, args) {
    return describe(graph, args);
  },
};

/**
 * @param {JobMessage} job
 * @param {import("./channel.mjs").Channel} channel
 * @param {import("./loader.mjs").Graph} graph
 */
export async function answerOp(job, channel, graph) {
  const op = job.op && Object.hasOwn(OPS, job.op) ? OPS[job.op] : undefined;
  if (!op) {
    const error = `unknown op ${JSON.stringify(String(job.op).slice(0, 64))}`;
    channel.send("error", { error_type: "invalid_request", error, node: null, traceback: "" });
    return;
  }
  const args = typeof job.args === "object" && job.args !== null ? job.args : {};
  let data;
  try {
    data = await op(/** @type {OpGraph} */ (/** @type {unknown} */ (graph)), job, args);
  } catch (err) {
    const name = /** @type {{ name?: unknown } | null} */ (err)?.name;
    if (typeof name === "string" && REQUEST_ERRORS.has(name))
      channel.send("error", { error_type: "invalid_request", error: describeError(err), node: null, traceback: "" });
    else
      channel.send("error", {
        error_type: "program_error",
        error: describeError(err),
        node: null,
        traceback: programTraceback(err),
      });
    return;
  }
  channel.send("answer", { data });
}
