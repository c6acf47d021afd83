/**
 * LangGraph's assistants routes, as the SDKs call them: create, get, patch, delete, search,
 * count, the graph's drawing, its schemas, its versions. Per API key; a registered graph_id
 * works wherever an assistant_id does.
 */
import { isDeepStrictEqual } from "node:util";

import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import { Assistants, toAssistantJson, type AssistantJson, type AssistantPatch } from "../../agent/assistants.ts";
import { parseDescription } from "../../agent/description.ts";
import { programOf, Programs } from "../../agent/programs.ts";
import type { Config } from "../../config/index.ts";
import { GraphboxError } from "../../contract/errors.ts";
import type { Engine } from "../../engine/engine.ts";
import type { Store } from "../../store/types.ts";
import {
  ASSISTANT_FIELDS,
  assistantCountBody,
  assistantCreateBody,
  assistantObject,
  assistantParams,
  assistantPatchBody,
  assistantSearchBody,
  assistantVersionsBody,
  deleteQuery,
  graphQuery,
  xrayOf,
} from "../agent-schemas.ts";
import { speaksLangGraph } from "../langgraph.ts";
import { ANY, COMMON_ERRORS, errorResponses } from "../openapi.ts";
import { ownerOf } from "../owner.ts";

const BODY_ERRORS = [
  ...COMMON_ERRORS,
  "GBX_ERR_INVALID_REQUEST",
  "GBX_ERR_INVALID_JSON",
  "GBX_ERR_BODY_TOO_LARGE",
  "GBX_ERR_UNSUPPORTED_MEDIA_TYPE",
] as const;
const notFound = errorResponses([...COMMON_ERRORS, "GBX_ERR_ASSISTANT_NOT_FOUND", "GBX_ERR_INVALID_REQUEST"]);
const oneAssistant = { 200: { description: "The assistant", ...assistantObject } };
const tags = ["assistants"];

const schemas = {
  create: {
    tags,
    summary: "Create an assistant of a registered graph",
    body: assistantCreateBody,
    response: {
      ...oneAssistant,
      ...errorResponses([
        ...BODY_ERRORS,
        "GBX_ERR_GRAPH_NOT_FOUND",
        "GBX_ERR_ASSISTANT_EXISTS",
        "GBX_ERR_ASSISTANT_LIMIT",
      ]),
    },
  },
  search: {
    tags,
    summary: "Search this API key's assistants (newest first by default); X-Pagination-Total counts them all",
    body: assistantSearchBody,
    response: {
      200: { description: "Assistants", type: "array", items: { type: "object", additionalProperties: true } },
      ...errorResponses([...BODY_ERRORS]),
    },
  },
  count: {
    tags,
    summary: "Count this API key's assistants matching the filters",
    body: assistantCountBody,
    response: { 200: { description: "How many", type: "integer" }, ...errorResponses([...BODY_ERRORS]) },
  },
  get: { tags, summary: "An assistant", params: assistantParams, response: { ...oneAssistant, ...notFound } },
  patch: {
    tags,
    summary: "Update an assistant (metadata is merged); its version + 1",
    params: assistantParams,
    body: assistantPatchBody,
    response: {
      ...oneAssistant,
      ...errorResponses([...BODY_ERRORS, "GBX_ERR_ASSISTANT_NOT_FOUND", "GBX_ERR_GRAPH_NOT_FOUND"]),
    },
  },
  delete: {
    tags,
    summary: "Delete an assistant (with delete_threads=true, the threads whose metadata names it too)",
    params: assistantParams,
    querystring: deleteQuery,
    response: {
      200: { description: "[assistant_id]", type: "array", items: { type: "string" } },
      ...notFound,
    },
  },
  graph: {
    tags,
    summary: "The assistant's graph drawn: nodes and edges (conditional ones marked)",
    description: "Without xray, the drawing made when the graph was registered; with it, the program is loaded again.",
    params: assistantParams,
    querystring: graphQuery,
    response: {
      200: {
        description: "{nodes, edges}",
        type: "object",
        additionalProperties: true,
        required: ["nodes", "edges"],
        properties: { nodes: { type: "array" }, edges: { type: "array" } },
      },
      ...errorResponses([
        ...COMMON_ERRORS,
        "GBX_ERR_ASSISTANT_NOT_FOUND",
        "GBX_ERR_GRAPH_NOT_FOUND",
        "GBX_ERR_INVALID_REQUEST",
        "GBX_ERR_GRAPH_INVALID",
        "GBX_ERR_RUNTIME_UNAVAILABLE",
        "GBX_ERR_RATE_LIMITED",
        "GBX_ERR_OVERLOADED",
      ]),
    },
  },
  schemas: {
    tags,
    summary: "The assistant's graph's JSON schemas: input, output, state, config, context",
    params: assistantParams,
    response: {
      200: {
        description: "{graph_id, input_schema, output_schema, state_schema, config_schema, context_schema}",
        type: "object",
        additionalProperties: true,
        required: ["graph_id", "input_schema", "output_schema", "state_schema", "config_schema", "context_schema"],
        properties: {
          graph_id: ANY,
          input_schema: ANY,
          output_schema: ANY,
          state_schema: ANY,
          config_schema: ANY,
          context_schema: ANY,
        },
      },
      ...errorResponses([
        ...COMMON_ERRORS,
        "GBX_ERR_INVALID_REQUEST",
        "GBX_ERR_ASSISTANT_NOT_FOUND",
        "GBX_ERR_GRAPH_NOT_FOUND",
      ]),
    },
  },
  versions: {
    tags,
    summary: "The assistant's versions, newest first (Graphbox keeps the current one only)",
    params: assistantParams,
    body: assistantVersionsBody,
    response: {
      200: {
        description: "[{assistant_id, version, graph_id, config, context, metadata, name, description, created_at}]",
        type: "array",
      },
      ...errorResponses([...BODY_ERRORS, "GBX_ERR_ASSISTANT_NOT_FOUND"]),
    },
  },
} as const;

/** Present keys only: null or absent leaves a field as it is. */
function patchOf(body: {
  graph_id?: string;
  config?: Record<string, unknown> | null;
  context?: Record<string, unknown> | null;
  metadata?: Record<string, unknown> | null;
  name?: string | null;
  description?: string | null;
}): AssistantPatch {
  return {
    ...(body.graph_id != null ? { graphId: body.graph_id } : {}),
    ...(body.config != null ? { config: body.config } : {}),
    ...(body.context != null ? { context: body.context } : {}),
    ...(body.metadata != null ? { metadata: body.metadata } : {}),
    ...(body.name != null ? { name: body.name } : {}),
    ...(body.description != null ? { description: body.description } : {}),
  };
}

function selected(assistant: AssistantJson, select: readonly string[] | null | undefined): Partial<AssistantJson> {
  if (!select || select.length === 0) return assistant;
  return Object.fromEntries(ASSISTANT_FIELDS.filter((f) => select.includes(f)).map((f) => [f, assistant[f]]));
}

export interface AssistantRoutesOptions {
  engine: Engine;
  store: Store;
  config: Readonly<Config>;
}

export const assistantRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: AssistantRoutesOptions }> = async (
  app,
  { engine, store, config },
) => {
  speaksLangGraph(app);
  const assistants = new Assistants({ store, config });
  const programs = new Programs({ engine, store, config });

  app.post("/assistants", { schema: schemas.create }, async (request) => {
    const b = request.body;
    const created = await assistants.create(ownerOf(request), {
      graphId: b.graph_id,
      ...(b.assistant_id ? { assistantId: b.assistant_id } : {}),
      ...(b.config ? { config: b.config } : {}),
      ...(b.context ? { context: b.context } : {}),
      ...(b.metadata ? { metadata: b.metadata } : {}),
      ...(b.name != null ? { name: b.name } : {}),
      description: b.description ?? null,
      ...(b.if_exists ? { ifExists: b.if_exists } : {}),
    });
    return toAssistantJson(created);
  });

  app.post("/assistants/search", { schema: schemas.search }, async (request, reply) => {
    const b = request.body;
    const owner = ownerOf(request);
    const filters = {
      ...(b.graph_id != null ? { graphId: b.graph_id } : {}),
      ...(b.name != null ? { name: b.name } : {}),
      ...(b.metadata != null ? { metadata: b.metadata } : {}),
    };
    const offset = b.offset ?? 0;
    const found = await assistants.search(owner, {
      ...filters,
      limit: b.limit ?? 10,
      offset,
      sortBy: b.sort_by ?? "created_at",
      sortOrder: b.sort_order ?? "desc",
    });
    const total = await assistants.count(owner, filters);
    void reply.header("x-pagination-total", String(total));
    if (offset + found.length < total) void reply.header("x-pagination-next", String(offset + found.length));
    return found.map((a) => selected(toAssistantJson(a), b.select));
  });

  app.post("/assistants/count", { schema: schemas.count }, async (request) => {
    const b = request.body;
    return assistants.count(ownerOf(request), {
      ...(b.graph_id != null ? { graphId: b.graph_id } : {}),
      ...(b.name != null ? { name: b.name } : {}),
      ...(b.metadata != null ? { metadata: b.metadata } : {}),
    });
  });

  app.get("/assistants/:assistant_id", { schema: schemas.get }, async (request) =>
    toAssistantJson(await assistants.get(ownerOf(request), request.params.assistant_id)),
  );

  app.patch("/assistants/:assistant_id", { schema: schemas.patch }, async (request) => {
    const updated = await assistants.update(ownerOf(request), request.params.assistant_id, patchOf(request.body));
    return toAssistantJson(updated);
  });

  app.delete("/assistants/:assistant_id", { schema: schemas.delete }, async (request) =>
    assistants.delete(ownerOf(request), request.params.assistant_id, {
      deleteThreads: request.query.delete_threads === "true",
    }),
  );

  app.get("/assistants/:assistant_id/graph", { schema: schemas.graph }, async (request) => {
    const owner = ownerOf(request);
    const assistant = await assistants.get(owner, request.params.assistant_id);
    const graph = await programs.get(owner, assistant.graphId);
    const xray = xrayOf(request.query.xray);
    // The drawing without subgraphs was made at registration; subgraphs need the program loaded.
    const description =
      xray === false
        ? parseDescription(graph.description)
        : await programs.describe({ owner, program: programOf(graph), xray });
    return { nodes: description.graph.nodes, edges: description.graph.edges };
  });

  app.get("/assistants/:assistant_id/schemas", { schema: schemas.schemas }, async (request) => {
    const owner = ownerOf(request);
    const assistant = await assistants.get(owner, request.params.assistant_id);
    const graph = await programs.get(owner, assistant.graphId);
    return { graph_id: graph.graphId, ...parseDescription(graph.description).schemas };
  });

  app.post("/assistants/:assistant_id/versions", { schema: schemas.versions }, async (request) => {
    const b = request.body;
    const a = await assistants.get(ownerOf(request), request.params.assistant_id);
    // Only the current version is kept; it is the first (newest) of the list.
    const matches = Object.entries(b.metadata ?? {}).every(([key, value]) =>
      isDeepStrictEqual(Object.hasOwn(a.metadata, key) ? a.metadata[key] : undefined, value),
    );
    if (!matches || (b.offset ?? 0) > 0) {
      // LangGraph's server answers an empty page so.
      throw new GraphboxError("GBX_ERR_ASSISTANT_NOT_FOUND", `Assistant ${JSON.stringify(a.assistantId)} not found.`);
    }
    return [
      {
        assistant_id: a.assistantId,
        version: a.version,
        graph_id: a.graphId,
        config: a.config,
        context: a.context,
        name: a.name,
        description: a.description,
        metadata: a.metadata,
        created_at: new Date(a.updatedAt).toISOString(),
      },
    ];
  });
};
