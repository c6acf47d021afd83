// Runs the transpiled program as an ES module and finds its graph.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { moduleHost } from "./modules.mjs";

const GRAPH_EXPORTS = ["app", "default", "graph", "workflow", "builder"];
const FACTORY_EXPORTS = ["createApp", "create_app"];

export class NoGraphError extends Error {
  name = "NoGraphError";
}

/**
 * Writes the module into the execution's own tmp (the engine's work dir) and imports it. Its
 * package imports are absolute URLs already (transpile.mjs), so where it lives does not matter.
 * Returns the module URL (to recognise its stack frames) and a function that evaluates it.
 */
export function writeProgram(code) {
  const dir = mkdtempSync(join(tmpdir(), "graphbox-program-"));
  const file = join(dir, "workflow.mjs");
  writeFileSync(file, code);
  const url = pathToFileURL(file).href;
  return { url, load: () => moduleHost().importModule(url) };
}

const isCompiledGraph = (value) =>
  typeof value === "object" && value !== null && typeof value.stream === "function" && typeof value.getState === "function" && typeof value.nodes === "object";

const isGraphBuilder = (value) =>
  typeof value === "object" && value !== null && typeof value.compile === "function" && typeof value.addNode === "function";

/** A compiled graph from `value`, compiling a StateGraph with the harness's checkpointer; null if neither. */
function asGraph(value, checkpointer) {
  if (isCompiledGraph(value)) {
    // The engine's checkpointer replaces any the program set.
    value.checkpointer = checkpointer;
    return value;
  }
  if (isGraphBuilder(value)) return value.compile({ checkpointer });
  return null;
}

/** First of: `app`, the default export, `graph`, `workflow`, `builder` (compiled, or a StateGraph we compile); `createApp()`. */
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

/** The graph's own node names (without __start__ / __end__). */
export function nodeNames(graph) {
  return Object.keys(graph.nodes ?? {}).filter((name) => !name.startsWith("__"));
}
