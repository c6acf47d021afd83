/**
 * A program's description: its graph's drawing (LangGraph's `get_graph().to_json()`: nodes, edges
 * with `conditional`) and its schemas, as the harness's `describe` op answers them.
 *
 * The answer comes from a sandbox, where the program runs in the same process as the harness:
 * only the fields LangGraph's drawing has are kept, each checked, so what a program forges is at
 * worst a wrong drawing of its own graph, never a field the engine would act on.
 */
import { isJsonObject } from "../contract/json.ts";
import { GraphboxError } from "../contract/errors.ts";

export const SCHEMA_NAMES = [
  "input_schema",
  "output_schema",
  "state_schema",
  "config_schema",
  "context_schema",
] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

export interface DrawnNode {
  id: string;
  /** LangGraph's: `runnable`, `schema` (`__start__`, `__end__`) or `unknown`. */
  type: string;
  data: unknown;
  metadata?: unknown;
}

export interface DrawnEdge {
  source: string;
  target: string;
  /** Always there, as LangGraph's JS server draws it (Python's drawing has it only when true). */
  conditional: boolean;
  data?: unknown;
}

export interface Drawing {
  nodes: DrawnNode[];
  edges: DrawnEdge[];
}

export interface GraphDescription {
  graph: Drawing;
  schemas: Record<SchemaName, Record<string, unknown> | null>;
}

function unreadable(problem: string): GraphboxError {
  return new GraphboxError("GBX_ERR_GRAPH_INVALID", `the program's graph could not be described: ${problem}`);
}

function node(value: unknown, index: number): DrawnNode {
  if (!isJsonObject(value) || typeof value["id"] !== "string") throw unreadable(`node ${index} has no string \`id\``);
  return {
    id: value["id"],
    type: typeof value["type"] === "string" ? value["type"] : "unknown",
    data: value["data"] ?? null,
    ...(value["metadata"] === undefined ? {} : { metadata: value["metadata"] }),
  };
}

function edge(value: unknown, index: number): DrawnEdge {
  if (!isJsonObject(value) || typeof value["source"] !== "string" || typeof value["target"] !== "string")
    throw unreadable(`edge ${index} has no string \`source\` and \`target\``);
  return {
    source: value["source"],
    target: value["target"],
    conditional: value["conditional"] === true,
    ...(value["data"] === undefined ? {} : { data: value["data"] }),
  };
}

/**
 * The description in an answer of the `describe` op (or as stored): the drawing as `graph`
 * (or its nodes and edges at the top level) and the five schemas, each an object or null.
 * Throws GBX_ERR_GRAPH_INVALID when it is not one.
 */
export function parseDescription(answer: unknown): GraphDescription {
  if (!isJsonObject(answer)) throw unreadable("the answer is not an object");
  const drawing = isJsonObject(answer["graph"]) ? answer["graph"] : answer;
  const nodes = drawing["nodes"];
  const edges = drawing["edges"];
  if (!Array.isArray(nodes) || !Array.isArray(edges)) throw unreadable("it has no `nodes` and `edges` lists");
  const schemas = Object.fromEntries(
    SCHEMA_NAMES.map((name) => {
      const schema = answer[name];
      return [name, isJsonObject(schema) ? schema : null];
    }),
  ) as GraphDescription["schemas"];
  return { graph: { nodes: nodes.map(node), edges: edges.map(edge) }, schemas };
}

/** The description as a GraphRecord keeps it (`parseDescription` reads it back). */
export function storedDescription(description: GraphDescription): Record<string, unknown> {
  return { graph: description.graph, ...description.schemas };
}
