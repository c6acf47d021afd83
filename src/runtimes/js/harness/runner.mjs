// @ts-check
// Runs one job: transpile and load the program, find its graph, stream it, report events and the
// result. Mirrors the Python harness's runner.py step for step.
import { EngineCheckpointSaver } from "./checkpointer.mjs";
import { ChunkForwarder } from "./chunks.mjs";
import { describe, describeAt, programTraceback, setProgram, sourceTraceback } from "./errors.mjs";
import { findGraph, NoGraphError, nodeNames, writeProgram } from "./loader.mjs";
import { LlmMeter } from "./meter.mjs";
import { answerOp } from "./ops.mjs";
import { checkpointMetadata, graphInput } from "./run-input.mjs";
import { toJson } from "./serialize.mjs";
import { EngineStore } from "./store.mjs";
import { threadState } from "./thread-state.mjs";
import { tokenOf } from "./tokens.mjs";
import { NodeTracker } from "./tracker.mjs";
import { ProgramImportError, ProgramSyntaxError, stopTranspiler, transpile } from "./transpile.mjs";

/**
 * @typedef {import("./types.js").JobMessage} JobMessage
 * @typedef {import("./channel.mjs").Channel} Channel
 * @typedef {import("./loader.mjs").Graph} Graph
 */

/**
 * Python's repr of a list of names, so both runtimes word this error the same way.
 * @param {string[]} names
 */
const listOf = (names) => `[${names.map((name) => `'${name}'`).join(", ")}]`;

/**
 * @param {Graph} graph
 * @param {JobMessage} job
 */
function checkBreakpoints(graph, job) {
  const known = nodeNames(graph);
  const asked = [...job.config.interrupt_before, ...job.config.interrupt_after];
  const unknown = [...new Set(asked.filter((name) => !known.includes(name)))].sort();
  if (unknown.length === 0) return null;
  return `config.breakpoints names unknown node(s) ${listOf(unknown)}; the graph's nodes are ${listOf(known)}`;
}

/** @type {(channel: Channel, errorType: string, error: string, node: string | null, traceback: string) => void} */
const fail = (channel, errorType, error, node, traceback) =>
  channel.send("error", { error_type: errorType, error, node, traceback });

/**
 * @param {JobMessage} job
 * @param {Channel} channel
 * @param {EngineCheckpointSaver} checkpointer
 */
async function loadGraph(job, channel, checkpointer) {
  let compiled;
  try {
    compiled = await transpile(job.code, job.language, job.files);
  } catch (err) {
    if (err instanceof ProgramSyntaxError) fail(channel, "syntax_error", describeAt(err), null, sourceTraceback(err));
    else if (err instanceof ProgramImportError)
      fail(channel, "program_error", describeAt(err), null, sourceTraceback(err));
    else throw err;
    return null;
  } finally {
    stopTranspiler();
  }

  const program = writeProgram(compiled.code);
  setProgram(program.url, compiled.sourceMap);
  let namespace;
  try {
    namespace = await program.load();
  } catch (err) {
    // The program's top level threw (a failed import binding, a ReferenceError, an explicit throw...).
    fail(channel, "program_error", describe(err), null, programTraceback(err));
    return null;
  }

  try {
    return await findGraph(namespace, checkpointer, {
      choice: job.config.graph,
      // A graph factory gets the run's config, as LangGraph's servers give theirs.
      config: { configurable: { ...job.config.configurable, thread_id: job.thread_id } },
    });
  } catch (err) {
    if (err instanceof NoGraphError) fail(channel, "no_app", err.message, null, "");
    else fail(channel, "program_error", describe(err), null, programTraceback(err)); // createApp() or compile() threw
    return null;
  }
}

/**
 * Runs the job to exactly one `result` or `error` message. `progress.tracker` lets the caller
 * name the running node if the process has to end the run from outside (see main.mjs).
 * @param {JobMessage} job
 * @param {Channel} channel
 * @param {{ tracker?: NodeTracker }} progress
 */
export async function run(job, channel, progress = {}) {
  // LangChain.js runs a callback handler in the background unless told otherwise (LangGraph's
  // `messages` handler included), so a token could reach the channel after its node's update.
  // Awaited, every handler runs in order with the graph, as Python's inline ones do.
  process.env.LANGCHAIN_CALLBACKS_BACKGROUND = "false";
  // The engine's checkpointer replaces any the program set, so threads live in the engine's store.
  // A job of the Agent API (it has run metadata) stores checkpoint metadata as its server does.
  const checkpointer = new EngineCheckpointSaver(channel, job.config.metadata ? checkpointMetadata : null);
  const graph = await loadGraph(job, channel, checkpointer);
  if (!graph) return;
  /** @type {{ store?: unknown }} */ (graph).store = new EngineStore(channel); // in place of the program's, as the checkpointer
  if ((job.op ?? "run") !== "run") {
    await answerOp(job, channel, graph);
    return;
  }

  const problem = checkBreakpoints(graph, job);
  if (problem) {
    fail(channel, "invalid_request", problem, null, "");
    return;
  }

  /** @type {Record<string, unknown>} */
  const configurable = { ...job.config.configurable, thread_id: job.thread_id };
  if (job.config.checkpoint_id) configurable.checkpoint_id = job.config.checkpoint_id;
  const tracker = new NodeTracker(channel, Boolean(job.debug));
  progress.tracker = tracker;
  // `messages` yields the tokens of every LLM call; a run nobody streams does not pay for it.
  const streamMode = job.stream ? ["tasks", "updates", "custom", "messages"] : ["tasks"];
  if (job.debug) streamMode.push("checkpoints");
  const chunks = new ChunkForwarder(channel, job);
  const ownModes = new Set(streamMode);
  streamMode.push(...chunks.modes.filter((mode) => !ownModes.has(mode)));
  const nested = job.stream || chunks.subgraphs;
  const options = {
    configurable,
    // Per run, as LangGraph has it: a thread keeps no context from one run to the next.
    context: job.config.context ?? undefined,
    recursionLimit: job.config.recursion_limit,
    callbacks: [new LlmMeter({ channel })],
    // The run's metadata (the Agent API's), which its checkpoints carry too (checkpointMetadata).
    ...(job.config.metadata ? { metadata: { ...job.config.metadata } } : {}),
    streamMode,
    interruptBefore: job.config.interrupt_before.length ? job.config.interrupt_before : undefined,
    interruptAfter: job.config.interrupt_after.length ? job.config.interrupt_after : undefined,
    // Each step's checkpoint is stored before the next step starts, so a killed run resumes.
    durability: "sync",
    // So that `messages` reaches the LLM calls inside subgraphs (an agent used as a node).
    subgraphs: nested,
  };

  try {
    // With `subgraphs`, a subgraph's chunks come out too: its tokens, and its custom events (as they
    // did without it); its own tasks and updates stay inside it.
    for await (const item of await graph.stream(graphInput(job), options)) {
      const [ns, mode, chunk] = /** @type {[string[], string, unknown]} */ (
        /** @type {unknown} */ (nested ? item : [[], ...item])
      );
      chunks.forward(ns, mode, chunk);
      // A mode only stream_modes asked for: no event of the engine's own comes of it.
      if (!ownModes.has(mode)) continue;
      if (mode === "messages") {
        const token = tokenOf(chunk);
        if (token) channel.send("token", token);
      } else if (mode === "custom") channel.send("custom", { data: toJson(chunk) });
      else if (ns.length > 0) continue;
      else if (mode === "tasks") tracker.observe(/** @type {import("./tracker.mjs").TaskChunk} */ (chunk));
      else if (mode === "updates") {
        if (!(typeof chunk === "object" && chunk !== null && "__interrupt__" in chunk))
          channel.send("update", { data: toJson(chunk) });
      } else if (mode === "checkpoints") tracker.checkpoint(chunk);
    }
  } catch (err) {
    fail(channel, "program_error", describe(err), tracker.blame(), programTraceback(err));
    return;
  }

  let snapshot;
  try {
    // The thread's head after this run (not `configurable.checkpoint_id`, the fork point it started from).
    snapshot = await graph.getState({ configurable: { thread_id: job.thread_id } });
  } catch (err) {
    fail(channel, "program_error", `the final state could not be read: ${describe(err)}`, null, programTraceback(err));
    return;
  }
  const isRecord = typeof snapshot.values === "object" && snapshot.values !== null && !Array.isArray(snapshot.values);
  const values = isRecord ? snapshot.values : { __root__: snapshot.values };
  const interrupts = (snapshot.tasks ?? []).flatMap((task) =>
    (task.interrupts ?? []).map((item) => ({ id: String(item.id ?? ""), value: toJson(item.value) })),
  );
  const next = [...(snapshot.next ?? [])];
  channel.send("result", {
    status: next.length || interrupts.length ? "interrupted" : "success",
    messages: Array.isArray(values.messages) ? toJson(values.messages) : [],
    state: toJson(values),
    next,
    interrupts,
    checkpoint_id: snapshot.config?.configurable?.checkpoint_id ?? null,
    thread_state: threadState(snapshot),
  });
}
