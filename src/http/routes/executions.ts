/** An execution's record, its cancellation, and its events replayed then followed live. */
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import type { Config } from "../../config/index.ts";
import type { Engine } from "../../engine/engine.ts";
import type { ExecutionOutcome } from "../../contract/types.ts";
import { GraphboxError } from "../../contract/errors.ts";
import type { ExecutionRecord, Store } from "../../store/types.ts";
import { ANY, COMMON_ERRORS, described, errorResponses, eventStream, oneOf } from "../openapi.ts";
import { ownerOf } from "../owner.ts";
import { idParams } from "../schemas.ts";
import { SseStream } from "../sse.ts";

const executionErrors = errorResponses([...COMMON_ERRORS, "GBX_ERR_EXECUTION_NOT_FOUND", "GBX_ERR_INVALID_REQUEST"]);
const executionStatus = oneOf("running", "success", "interrupted", "error", "cancelled");
const executionFields = Object.fromEntries(
  [
    "execution_id",
    "thread_id",
    "runtime",
    "status",
    "error_type",
    "error",
    "started_at",
    "ended_at",
    "duration_ms",
    "tokens_used",
    "nodes_executed",
    "result",
    "context",
  ].map((f) => [f, f === "status" ? executionStatus : ANY]),
);
const schemas = {
  execution: {
    tags: ["executions"],
    summary: "Status, timings, tokens and result of an execution",
    params: idParams,
    response: {
      ...described(
        "{execution_id, thread_id, runtime, status, error_type, error, started_at, ended_at, duration_ms, tokens_used, nodes_executed, result, context}",
        executionFields,
      ),
      ...executionErrors,
    },
  },
  cancel: {
    tags: ["executions"],
    summary: "Cancel a running execution (its stream ends with error_type cancelled)",
    params: idParams,
    response: {
      ...described("{execution_id, cancelled, execution}", {
        execution_id: ANY,
        cancelled: ANY,
        execution: {
          type: "object",
          additionalProperties: true,
          required: Object.keys(executionFields),
          properties: executionFields,
        },
      }),
      ...executionErrors,
    },
  },
  stream: {
    tags: ["executions"],
    summary: "Replay an execution's events after Last-Event-ID (header or ?last_event_id), then follow it live",
    params: idParams,
    querystring: {
      type: "object",
      properties: {
        last_event_id: {
          type: "string",
          pattern: "^[0-9]+$",
          description: "Replay from after this event id (0: from the start)",
        },
      },
    },
    headers: {
      type: "object",
      properties: {
        "last-event-id": { type: "string", pattern: "^[0-9]+$", description: "As ?last_event_id; wins over it" },
      },
    },
    response: {
      ...eventStream("The execution's events after Last-Event-ID, then its live ones until it ends"),
      ...executionErrors,
    },
  },
} as const;

function executionView(record: ExecutionRecord): Record<string, unknown> {
  const outcome = record.result as ExecutionOutcome | null;
  return {
    execution_id: record.id,
    thread_id: record.threadId,
    runtime: record.runtime,
    status: record.status,
    error_type: record.errorType,
    error: record.error,
    started_at: new Date(record.startedAt).toISOString(),
    ended_at: record.endedAt === null ? null : new Date(record.endedAt).toISOString(),
    duration_ms: record.durationMs,
    tokens_used: record.tokensUsed,
    nodes_executed: record.nodesExecuted,
    result: outcome,
    context: record.context,
  };
}

export interface ExecutionRoutesOptions {
  engine: Engine;
  store: Store;
  config: Readonly<Config>;
}

export const executionRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ExecutionRoutesOptions }> = async (
  app,
  { engine, store, config },
) => {
  const executionOf = async (owner: string, id: string) => {
    const execution = await store.executions.get(owner, id);
    if (!execution) throw new GraphboxError("GBX_ERR_EXECUTION_NOT_FOUND", `no execution ${JSON.stringify(id)}`);
    return execution;
  };

  app.get("/executions/:id", { schema: schemas.execution }, async (request) =>
    executionView(await executionOf(ownerOf(request), request.params.id)),
  );

  app.post("/executions/:id/cancel", { schema: schemas.cancel }, async (request) => {
    const owner = ownerOf(request);
    await executionOf(owner, request.params.id);
    const cancelled = await engine.cancel(owner, request.params.id);
    return {
      execution_id: request.params.id,
      cancelled,
      execution: executionView(await executionOf(owner, request.params.id)),
    };
  });

  app.get("/executions/:id/stream", { schema: schemas.stream }, async (request, reply) => {
    const owner = ownerOf(request);
    await executionOf(owner, request.params.id);
    const header = request.headers["last-event-id"];
    const after = Number(typeof header === "string" ? header : (request.query.last_event_id ?? "0"));
    if (!Number.isInteger(after) || after < 0)
      throw new GraphboxError("GBX_ERR_INVALID_REQUEST", "`Last-Event-ID` must be a whole number");
    const gone = new AbortController();
    // A reader going away stops following; it does not cancel the execution (the POST's client owns that).
    const stream = new SseStream(reply, config.sseKeepAliveMs, () => gone.abort());
    for await (const event of store.events.follow(owner, request.params.id, after, { signal: gone.signal })) {
      // A run's raw LangGraph chunks belong to its Agent API stream (/threads/{id}/runs/{id}/stream).
      if (event.type !== "chunk") stream.send(event);
    }
    stream.end();
  });
};
