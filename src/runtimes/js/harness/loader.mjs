// @ts-check
// Runs the transpiled program as an ES module and finds its graph.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { BINDINGS_EXPORT, readBindings } from "./bindings.mjs";
import { moduleHost } from "./modules.mjs";

/**
 * What the harness uses of a compiled graph (found by these members, as isCompiledGraph does).
 * @typedef {object} Graph
 * @property {Record<string, unknown>} nodes
 * @property {unknown} checkpointer
 * @property {(input: unknown, options: Record<string, unknown>) => Promise<AsyncIterable<[string, unknown]>>} stream
 * @property {(config: import("@langchain/core/runnables").RunnableConfig) => Promise<import("@langchain/langgraph").StateSnapshot>} getState
 * @property {(namespace?: string, recurse?: boolean) => AsyncIterable<[string, unknown]>} [getSubgraphsAsync]
 * @property {unknown} [builder] The StateGraph it was compiled from.
 * @typedef {{ compile: (options: { checkpointer: unknown }) => Graph, addNode: Function, nodes?: Record<string, unknown> }} GraphBuilder
 * @typedef {import("./checkpointer.mjs").EngineCheckpointSaver} EngineCheckpointSaver
 */

const GRAPH_EXPORTS = ["app", "default", "graph", "workflow", "builder"];

/**
 * Python's repr of a list of names, so both runtimes word this error the same way.
 * @param {string[]} names
 */
const listOf = (names) => `[${names.map((name) => `'${name}'`).join(", ")}]`;
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
 * langchain's `createAgent()` answers a ReactAgent, which holds its compiled graph in `graph`: that
 * graph is what a person who wrote `const agent = createAgent(...)` means to run.
 * @param {unknown} value
 * @returns {unknown}
 */
function unwrapAgent(value) {
  if (isCompiledGraph(value) || typeof value !== "object" || value === null) return value;
  const inner = /** @type {{ graph?: unknown }} */ (value).graph;
  return isCompiledGraph(inner) ? inner : value;
}

/**
 * A compiled graph from `value`, compiling a StateGraph with the harness's checkpointer; null if neither.
 * @param {unknown} value
 * @param {EngineCheckpointSaver} checkpointer
 * @returns {Graph | null}
 */
function asGraph(value, checkpointer) {
  value = unwrapAgent(value);
  if (isCompiledGraph(value)) {
    // The engine's checkpointer replaces any the program set.
    value.checkpointer = checkpointer;
    return value;
  }
  if (isGraphBuilder(value)) return value.compile({ checkpointer });
  return null;
}

/** @type {(value: any) => value is PromiseLike<unknown>} The program's values: anything at all. */
const isThenable = (value) =>
  (typeof value === "object" || typeof value === "function") && value !== null && typeof value.then === "function";

/**
 * What a graph factory makes, awaited. As LangGraph's servers call theirs, it gets the run's config,
 * but only when it declares a parameter without a default: `createApp(model = "...")` is called
 * with none, as before.
 * @param {Function} factory
 * @param {Record<string, unknown>} config
 */
const made = async (factory, config) => (factory.length > 0 ? factory(config) : factory());

/**
 * The program's named values: its exports, then its top-level bindings (bindings.mjs).
 * @param {Record<string, unknown>} namespace
 * @returns {[string, unknown][]}
 */
function namedValues(namespace) {
  const exported = Object.entries(namespace).filter(([name]) => name !== BINDINGS_EXPORT);
  return [...exported, ...readBindings(namespace)].map(([name, value]) => [name, unwrapAgent(value)]);
}

/**
 * Each value of `values` that `test` accepts, once, under the first name it has.
 * @template T
 * @param {[string, unknown][]} values
 * @param {(value: unknown) => value is T} test
 * @returns {[string, T][]}
 */
function distinct(values, test) {
  const seen = new Set();
  /** @type {[string, T][]} */
  const found = [];
  for (const [name, value] of values) {
    if (!test(value) || seen.has(value)) continue;
    seen.add(value);
    found.push([name, value]);
  }
  return found;
}

/**
 * Graphs that are parts of others: a node's subgraph, at any depth, or a builder's node.
 * @param {Graph[]} graphs
 * @param {GraphBuilder[]} builders
 */
async function innerGraphs(graphs, builders) {
  const inner = new Set();
  const addSubgraphs = async (/** @type {Graph} */ graph) => {
    for await (const [, sub] of graph.getSubgraphsAsync?.(undefined, true) ?? []) inner.add(sub);
  };
  for (const graph of graphs) await addSubgraphs(graph);
  for (const builder of builders) {
    for (const node of Object.values(builder.nodes ?? {})) {
      const runnable = /** @type {{ runnable?: unknown }} */ (node)?.runnable;
      if (!isCompiledGraph(runnable)) continue;
      inner.add(runnable);
      await addSubgraphs(runnable);
    }
  }
  return inner;
}

/**
 * The one compiled graph among the program's values that no other contains, else the one StateGraph not compiled.
 * @param {[string, unknown][]} values
 * @param {EngineCheckpointSaver} checkpointer
 */
async function onlyGraph(values, checkpointer) {
  const compiled = distinct(values, isCompiledGraph);
  const builders = distinct(values, isGraphBuilder);
  const inner = await innerGraphs(
    compiled.map(([, graph]) => graph),
    builders.map(([, builder]) => builder),
  );
  const outer = compiled.filter(([, graph]) => !inner.has(graph));
  if (outer.length === 1) return asGraph(/** @type {[string, Graph]} */ (outer[0])[1], checkpointer);
  const used = new Set(compiled.map(([, graph]) => graph.builder));
  const loose = builders.filter(([, builder]) => !used.has(builder));
  if (outer.length === 0 && loose.length === 1)
    return asGraph(/** @type {[string, GraphBuilder]} */ (loose[0])[1], checkpointer);
  const several = outer.length ? outer : loose;
  if (several.length) {
    const names = several.map(([name]) => `\`${name}\``).join(", ");
    throw new NoGraphError(
      `the program defines ${several.length} graphs (${names}): set \`config.graph\` to the name of the one to run ` +
        "(or export it as `app`)",
    );
  }
  throw new NoGraphError(
    "no graph found: export `app` (a compiled graph or a StateGraph), or export one as the default export, " +
      "`graph`, `workflow` or `builder`, or export a zero-argument function `createApp()` returning one, " +
      "or define one compiled graph under any name",
  );
}

/**
 * The graph config.graph names: a compiled graph, a StateGraph, a promise of one, or a function
 * (async or not) returning one.
 * @param {[string, unknown][]} values
 * @param {string} choice
 * @param {EngineCheckpointSaver} checkpointer
 * @param {Record<string, unknown>} config
 */
async function chosenGraph(values, choice, checkpointer, config) {
  const found = values.find(([name]) => name === choice);
  const value = found?.[1];
  const graph = asGraph(
    typeof value === "function" && !isGraphBuilder(value) ? await made(value, config) : await value,
    checkpointer,
  );
  if (graph) return graph;
  const graphs = [...distinct(values, isCompiledGraph), ...distinct(values, isGraphBuilder)].map(([name]) => name);
  const what = found ? "is not a graph" : "the program does not define";
  throw new NoGraphError(`config.graph is '${choice}', which ${what}; the program's graphs are ${listOf(graphs)}`);
}

/**
 * The program's values with each promise among them settled, for a graph exported as a promise
 * (`export const graph = (async () => ...)()`), as LangGraph's servers accept one.
 * @param {[string, unknown][]} values
 * @returns {Promise<[string, unknown][]>}
 */
const settled = (values) =>
  Promise.all(values.map(async ([name, value]) => /** @type {[string, unknown]} */ ([name, unwrapAgent(await value)])));

/**
 * config.graph's choice; else the first export of `app`, the default export, `graph`, `workflow`,
 * `builder` (compiled, or a StateGraph we compile, or a promise of either), then the same names
 * unexported; `createApp()` (awaited); else the one graph at the top level, exported or not, the
 * program's promises awaited when no graph is found without them.
 * @param {Record<string, unknown>} namespace
 * @param {EngineCheckpointSaver} checkpointer
 * @param {{ choice?: string | null, config?: Record<string, unknown> }} [options] `config`: the run's,
 *   which factories get.
 */
export async function findGraph(namespace, checkpointer, options = {}) {
  const config = options.config ?? { configurable: {} };
  if (options.choice) return chosenGraph(namedValues(namespace), options.choice, checkpointer, config);
  for (const name of GRAPH_EXPORTS) {
    const graph = asGraph(await namespace[name], checkpointer);
    if (graph) return graph;
  }
  // The same names defined without `export`, as Python's are.
  const bindings = new Map(readBindings(namespace));
  for (const name of GRAPH_EXPORTS) {
    const graph = asGraph(await bindings.get(name), checkpointer);
    if (graph) return graph;
  }
  for (const name of FACTORY_EXPORTS) {
    const factory = namespace[name];
    if (typeof factory !== "function") continue;
    const graph = asGraph(await made(factory, config), checkpointer);
    if (graph) return graph;
    throw new NoGraphError(`${name}() returned neither a compiled graph nor a StateGraph`);
  }
  const values = namedValues(namespace);
  // A promise the program made for some other purpose is not waited for while a graph is there without it.
  const pending = values.some(([, value]) => isThenable(value));
  if (pending && !hasGraph(values)) return /** @type {Graph} */ (await onlyGraph(await settled(values), checkpointer));
  return /** @type {Graph} */ (await onlyGraph(values, checkpointer));
}

/** @param {[string, unknown][]} values */
const hasGraph = (values) => values.some(([, value]) => isCompiledGraph(value) || isGraphBuilder(value));

/**
 * The graph's own node names (without __start__ / __end__).
 * @param {Graph} graph
 */
export function nodeNames(graph) {
  return Object.keys(graph.nodes ?? {}).filter((name) => !name.startsWith("__"));
}
