// @ts-check
// Runs the transpiled program as an ES module and finds its graph.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { moduleHost } from "./modules.mjs";

/**
 * What the harness uses of a compiled graph (found by these members, as isCompiledGraph does).
 * @typedef {object} Graph
 * @property {Record<string, unknown>} nodes
 * @property {unknown} checkpointer
 * @property {(input: unknown, options: Record<string, unknown>) => Promise<AsyncIterable<[string, unknown]>>} stream
 * @property {(config: import("@langchain/core/runnables").RunnableConfig) => Promise<import("@langchain/langgraph").StateSnapshot>} getState
 * @typedef {{ compile: (options: { checkpointer: unknown }) => Graph, addNode: Function }} GraphBuilder
 * @typedef {import("./checkpointer.mjs").EngineCheckpointSaver} EngineCheckpointSaver
 */

const GRAPH_EXPORTS = ["app", "default", "graph", "workflow", "builder"];
const FACTORY_EXPORTS = ["createApp", "create_app"];

export class NoGraphError extends Error {
  name = "NoGraphError";
}

/**
 * Writes the module into the execution's own tmp (the engine's work dir) and imports it. Its
 * package imports are absolute URLs already (transpile.mjs), so where it lives does not matter.
 * Returns the module URL (to recognise its stack frames) and a function that evaluates it.
 * @param {string} code
 */
export function writeProgram(code) {
  const dir = mkdtempSync(join(tmpdir(), "graphbox-program-"));
  const file = join(dir, "workflow.mjs");
  writeFileSync(file, code);
  const url = pathToFileURL(file).href;
  return { url, load: () => moduleHost().importModule(url) };
}

/** @type {(value: any) => value is Graph} The program's exports: any value at all. */
const isCompiledGraph = (value) =>
  typeof value === "object" &&
  value !== null &&
  typeof value.stream === "function" &&
  typeof value.getState === "function" &&
  typeof value.nodes === "object";

/** @type {(value: any) => value is GraphBuilder} */
const isGraphBuilder = (value) =>
  typeof value === "object" &&
  value !== null &&
  typeof value.compile === "function" &&
  typeof value.addNode === "function";

/**
 * A compiled graph from `value`, compiling a StateGraph with the harness's checkpointer; null if neither.
 * @param {unknown} value
 * @param {EngineCheckpointSaver} checkpointer
 * @returns {Graph | null}
 */
function asGraph(value, checkpointer) {
  if (isCompiledGraph(value)) {
    // The engine's checkpointer replaces any the program set.
    value.checkpointer = checkpointer;
    return value;
  }
  if (isGraphBuilder(value)) return value.compile({ checkpointer });
  return null;
}

/**
 * First of: `app`, the default export, `graph`, `workflow`, `builder` (compiled, or a StateGraph we compile); `createApp()`.
 * @param {Record<string, unknown>} namespace
 * @param {EngineCheckpointSaver} checkpointer
 */
export async function findGraph(namespace, checkpointer) {
  for (const name of GRAPH_EXPORTS) {
    const graph = asGraph(namespace[name], checkpointer);
    if (graph) return graph;
  }
  for (const name of FACTORY_EXPORTS) {
    const factory = namespace[name];
    if (typeof factory !== "function") continue;
    const graph = asGraph(await factory(), checkpointer);
    if (graph) return graph;
    throw new NoGraphError(`${name}() returned neither a compiled graph nor a StateGraph`);
  }
  throw new NoGraphError(
    "no graph found: export `app` (a compiled graph or a StateGraph), or export one as the default export, " +
      "`graph`, `workflow` or `builder`, or export a zero-argument function `createApp()` returning one",
  );
}

/**
 * The graph's own node names (without __start__ / __end__).
 * @param {Graph} graph
 */
export function nodeNames(graph) {
  return Object.keys(graph.nodes ?? {}).filter((name) => !name.startsWith("__"));
}
