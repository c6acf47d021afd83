// @ts-check
// The `describe` op: a compiled graph's drawing and JSON Schemas, as LangGraph's JS server answers
// GET /assistants/{id}/graph and /schemas. Mirrors the Python harness's describe.py.
//
// Schemas are the server's run-time ones (its getRuntimeGraphSchema): a StateSchema's own, then
// zod schemas through LangGraph's registry, then zod schemas converted directly. A graph whose state
// is an Annotation.Root has no run-time schema: the server then parses the program's TypeScript
// types with the TypeScript compiler, which the sandbox does not carry; its schemas are null here.
import { toJsonSchema } from "@langchain/core/utils/json_schema";
import { isZodSchemaV3, isZodSchemaV4 } from "@langchain/core/utils/types";
import {
  getConfigTypeSchema,
  getInputTypeSchema,
  getOutputTypeSchema,
  getUpdateTypeSchema,
} from "@langchain/langgraph/zod/schema";

import { toAgentJson } from "./agent-json.mjs";

/**
 * @typedef {{ state: unknown, input: unknown, output: unknown, config: unknown }} Schemas
 * @typedef {{ _schemaRuntimeDefinition?: unknown, _inputRuntimeDefinition?: unknown,
 *   _outputRuntimeDefinition?: unknown, _configRuntimeSchema?: unknown }} Builder
 * @typedef {{ getJsonSchema: () => unknown, getInputJsonSchema: () => unknown }} StateSchemaLike
 */

/** An input that inherits the state's schema, all of it optional (LangGraph's marker). */
const PARTIAL_STATE_SCHEMA = Symbol.for("langgraph.state.partial");

/** @type {(value: any) => value is StateSchemaLike} */
const isStateSchema = (value) =>
  typeof value === "object" &&
  value !== null &&
  typeof value.getJsonSchema === "function" &&
  typeof value.getInputJsonSchema === "function";

/** @type {(schemas: Schemas) => boolean} */
const isEmpty = (schemas) => Object.values(schemas).every((schema) => schema === undefined || schema === null);

/** @param {Builder} builder */
function fromStateSchema(builder) {
  const { _schemaRuntimeDefinition: state, _inputRuntimeDefinition: input, _outputRuntimeDefinition: output } = builder;
  if (!isStateSchema(state) && !isStateSchema(input) && !isStateSchema(output)) return null;
  /** @type {Schemas} */
  const schemas = {
    state: isStateSchema(state) ? state.getJsonSchema() : undefined,
    input: isStateSchema(input)
      ? input.getInputJsonSchema()
      : input === PARTIAL_STATE_SCHEMA && isStateSchema(state)
        ? state.getInputJsonSchema()
        : undefined,
    output: isStateSchema(output) ? output.getJsonSchema() : undefined,
    config: undefined,
  };
  return isEmpty(schemas) ? null : schemas;
}

/** @param {any} graph */
function fromZodRegistry(graph) {
  /** @type {Schemas} */
  const schemas = {
    state: getUpdateTypeSchema(graph),
    input: getInputTypeSchema(graph),
    output: getOutputTypeSchema(graph),
    config: getConfigTypeSchema(graph),
  };
  return isEmpty(schemas) ? null : schemas;
}

/** @param {unknown} schema */
function zodToJsonSchema(schema) {
  if (!schema || !(isZodSchemaV4(schema) || isZodSchemaV3(schema))) return undefined;
  try {
    return /** @type {Record<string, unknown>} */ (toJsonSchema(/** @type {any} */ (schema)));
  } catch {
    return undefined;
  }
}

/** @param {Builder} builder */
function fromZod(builder) {
  const state = zodToJsonSchema(builder._schemaRuntimeDefinition);
  /** @type {Schemas} */
  const schemas = {
    state,
    input: zodToJsonSchema(builder._inputRuntimeDefinition) ?? (state ? { ...state, required: undefined } : undefined),
    output: zodToJsonSchema(builder._outputRuntimeDefinition),
    config: zodToJsonSchema(builder._configRuntimeSchema),
  };
  return isEmpty(schemas) ? null : schemas;
}

/**
 * @param {any} graph
 * @returns {Schemas | null}
 */
function runtimeSchemas(graph) {
  const builder = /** @type {Builder | undefined} */ (graph?.builder);
  if (!builder) return null;
  for (const derive of [() => fromStateSchema(builder), () => fromZodRegistry(graph), () => fromZod(builder)]) {
    try {
      const schemas = derive();
      if (schemas) return schemas;
    } catch {
      // the next way, as the server does
    }
  }
  return null;
}

/**
 * @param {import("./loader.mjs").Graph & { getGraphAsync: (config: Record<string, unknown>) => Promise<{ toJSON: () => unknown }> }} graph
 * @param {Record<string, unknown>} args `xray`: a boolean or a depth.
 */
export async function describe(graph, args) {
  const xray = typeof args.xray === "boolean" || typeof args.xray === "number" ? args.xray : undefined;
  const drawing = await graph.getGraphAsync({ ...(xray !== undefined ? { xray } : {}) });
  const schemas = runtimeSchemas(graph);
  /** @param {unknown} schema */
  const json = (schema) => (schema === undefined ? null : toAgentJson(schema));
  return {
    graph: toAgentJson(drawing.toJSON()),
    input_schema: json(schemas?.input),
    output_schema: json(schemas?.output),
    state_schema: json(schemas?.state),
    config_schema: json(schemas?.config),
    // As the server: to LangGraph.js a config schema and a context schema are one.
    context_schema: json(schemas?.config),
  };
}
