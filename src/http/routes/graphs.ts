/**
 * Programs registered at run time, per API key: `PUT /graphs/{graph_id}` checks a program once and
 * keeps it, so runs name it (as a graph_id or an assistant_id) instead of sending its code.
 * `POST /execute-langgraph/graph` draws a program's graph without keeping or running it (what a
 * designer or the playground shows before a run).
 */
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import { graphNotFound, Programs } from "../../agent/programs.ts";
import { defaultAssistantId } from "../../agent/uuid5.ts";
import type { Config } from "../../config/index.ts";
import type { Engine } from "../../engine/engine.ts";
import type { GraphRecord, Store } from "../../store/types.ts";
import { programFiles } from "../files.ts";
import { speaksLangGraph } from "../langgraph.ts";
import { ANY, COMMON_ERRORS, described, errorResponses } from "../openapi.ts";
import { ownerOf } from "../owner.ts";
import { programLanguage } from "../request.ts";
import { executeBodySchema } from "../schemas.ts";
import { GRAPH_ID, pageQuery, pageOf } from "../agent-schemas.ts";

const graphParams = {
  type: "object",
  required: ["graph_id"],
  properties: { graph_id: GRAPH_ID },
} as const;

const graphBody = {
  type: "object",
  required: ["code"],
  additionalProperties: false,
  properties: {
    code: executeBodySchema.properties.code,
    language: executeBodySchema.properties.language,
    files: executeBodySchema.properties.files,
    graph: executeBodySchema.properties.config.properties.graph,
  },
} as const;

const describeBody = {
  type: "object",
  required: ["code"],
  additionalProperties: false,
  properties: {
    ...graphBody.properties,
    xray: { type: "boolean", description: "Draw subgraphs' nodes too (LangGraph's xray)" },
  },
} as const;

const SUMMARY_FIELDS = ["graph_id", "assistant_id", "language", "graph", "version", "created_at", "updated_at"];
const summaryFields = Object.fromEntries(SUMMARY_FIELDS.map((f) => [f, ANY]));
const notFound = errorResponses([...COMMON_ERRORS, "GBX_ERR_GRAPH_NOT_FOUND", "GBX_ERR_INVALID_REQUEST"]);

const schemas = {
  put: {
    tags: ["graphs"],
    summary:
      "Register a program under graph_id (or replace it: version + 1); it is loaded once in a sandbox to check it",
    description:
      "The program must load and hold a graph; one that does not is refused (422) with its own message and nothing is stored. " +
      "The graph_id then works as an assistant_id (its default assistant, `assistant_id` in the answer).",
    params: graphParams,
    body: graphBody,
    response: {
      ...described(`{${SUMMARY_FIELDS.join(", ")}}`, summaryFields),
      ...errorResponses([
        ...COMMON_ERRORS,
        "GBX_ERR_INVALID_REQUEST",
        "GBX_ERR_INVALID_JSON",
        "GBX_ERR_BODY_TOO_LARGE",
        "GBX_ERR_UNSUPPORTED_MEDIA_TYPE",
        "GBX_ERR_LANGUAGE_UNDETECTED",
        "GBX_ERR_RUNTIME_UNAVAILABLE",
        "GBX_ERR_GRAPH_INVALID",
        "GBX_ERR_GRAPH_LIMIT",
        "GBX_ERR_RATE_LIMITED",
        "GBX_ERR_OVERLOADED",
      ]),
    },
  },
  get: {
    tags: ["graphs"],
    summary: "A registered program: its summary, its code and files",
    params: graphParams,
    response: {
      ...described(`{${SUMMARY_FIELDS.join(", ")}, code, files}`, { ...summaryFields, code: ANY, files: ANY }),
      ...notFound,
    },
  },
  list: {
    tags: ["graphs"],
    summary: "This API key's registered programs (summaries, by graph_id)",
    querystring: pageQuery,
    response: {
      200: { description: `[{${SUMMARY_FIELDS.join(", ")}}]`, type: "array" },
      ...errorResponses([...COMMON_ERRORS, "GBX_ERR_INVALID_REQUEST"]),
    },
  },
  describe: {
    tags: ["executions"],
    summary: "Draw a program's graph without running it: nodes and edges (conditional ones marked) and its schemas",
    description:
      "The program is loaded once in a sandbox, as a run would load it, and nothing is kept. " +
      "A program that does not load is refused (422 GBX_ERR_GRAPH_INVALID) with its own message.",
    body: describeBody,
    response: {
      ...described(
        "{graph: {nodes: [{id, type, data}], edges: [{source, target, conditional}]}, input_schema, output_schema, state_schema, config_schema, context_schema}",
        {
          graph: {
            type: "object",
            required: ["nodes", "edges"],
            properties: { nodes: { type: "array" }, edges: { type: "array" } },
          },
        },
      ),
      ...errorResponses([
        ...COMMON_ERRORS,
        "GBX_ERR_INVALID_REQUEST",
        "GBX_ERR_INVALID_JSON",
        "GBX_ERR_BODY_TOO_LARGE",
        "GBX_ERR_UNSUPPORTED_MEDIA_TYPE",
        "GBX_ERR_LANGUAGE_UNDETECTED",
        "GBX_ERR_RUNTIME_UNAVAILABLE",
        "GBX_ERR_GRAPH_INVALID",
        "GBX_ERR_RATE_LIMITED",
        "GBX_ERR_OVERLOADED",
      ]),
    },
  },
  delete: {
    tags: ["graphs"],
    summary: "Delete a registered program and its assistants",
    params: graphParams,
    response: { 204: { description: "Deleted: no body", type: "null" }, ...notFound },
  },
} as const;

const summary = (g: GraphRecord) => ({
  graph_id: g.graphId,
  assistant_id: defaultAssistantId(g.graphId),
  language: g.language,
  graph: g.graph,
  version: g.version,
  created_at: new Date(g.createdAt).toISOString(),
  updated_at: new Date(g.updatedAt).toISOString(),
});

export interface GraphRoutesOptions {
  engine: Engine;
  store: Store;
  config: Readonly<Config>;
}

export const graphRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: GraphRoutesOptions }> = async (
  app,
  { engine, store, config },
) => {
  speaksLangGraph(app);
  const programs = new Programs({ engine, store, config });

  app.put("/graphs/:graph_id", { schema: schemas.put }, async (request) => {
    const { code, files, graph } = request.body;
    const language = programLanguage(code, request.body.language);
    const record = await programs.register({
      owner: ownerOf(request),
      graphId: request.params.graph_id,
      program: { language, code, files: programFiles(files, language, config), graph: graph ?? null },
    });
    return summary(record);
  });

  app.post("/execute-langgraph/graph", { schema: schemas.describe }, async (request) => {
    const { code, files, graph, xray } = request.body;
    const language = programLanguage(code, request.body.language);
    const description = await programs.describe({
      owner: ownerOf(request),
      program: { language, code, files: programFiles(files, language, config), graph: graph ?? null },
      xray: xray ?? false,
    });
    return { graph: description.graph, ...description.schemas };
  });

  app.get("/graphs/:graph_id", { schema: schemas.get }, async (request) => {
    const record = await programs.get(ownerOf(request), request.params.graph_id);
    return { ...summary(record), code: record.code, files: record.files };
  });

  app.get("/graphs", { schema: schemas.list }, async (request) => {
    const records = await programs.list(ownerOf(request), pageOf(request.query));
    return records.map(summary);
  });

  app.delete("/graphs/:graph_id", { schema: schemas.delete }, async (request, reply) => {
    const { graph_id } = request.params;
    if (!(await programs.delete(ownerOf(request), graph_id))) throw graphNotFound(graph_id);
    return reply.status(204).send(null);
  });
};
