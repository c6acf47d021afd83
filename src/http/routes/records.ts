/** Threads and executions: state, history, status, cancel, stream replay. */
import type { FastifyInstance } from "fastify";

import type { Config } from "../../config/index.ts";
import type { Engine } from "../../engine/engine.ts";
import type { ExecutionOutcome } from "../../contract/types.ts";
import { GraphboxError } from "../../contract/errors.ts";
import type { ExecutionRecord, Store } from "../../store/types.ts";
import { ANY, COMMON_ERRORS, described, errorResponses, eventStream, oneOf } from "../openapi.ts";
import { ownerOf } from "../owner.ts";
import { SseStream } from "../sse.ts";

type IdParams = { Params: { id: string } };

const idParams = { type: "object", required: ["id"], properties: { id: { type: "string" } } };
const threadErrors = errorResponses([...COMMON_ERRORS, "GBX_ERR_THREAD_NOT_FOUND", "GBX_ERR_INVALID_REQUEST"]);
const executionErrors = errorResponses([...COMMON_ERRORS, "GBX_ERR_EXECUTION_NOT_FOUND", "GBX_ERR_INVALID_REQUEST"]);
const executionStatus = oneOf("running", "success", "interrupted", "error", "cancelled");
const executionFields = Object.fromEntries(
  ["execution_id", "thread_id", "runtime", "status", "error_type", "error", "started_at", "ended_at", "duration_ms", "tokens_used", "nodes_executed", "result"].map((f) => [f, f === "status" ? executionStatus : ANY]),
);
const threadStateFields = Object.fromEntries(
  ["thread_id", "runtime", "status", "values", "next", "interrupts", "checkpoint_id", "updated_at"].map((f) => [f, f === "status" ? oneOf("idle", "busy", "interrupted", "error") : ANY]),
);
const schemas = {
  state: { tags: ["threads"], summary: "A thread's current state: values, next, interrupts, checkpoint_id", params: idParams, response: { ...described("{thread_id, runtime, status, values, next, interrupts, checkpoint_id, updated_at}", threadStateFields), ...threadErrors } },
  history: {
    tags: ["threads"],
    summary: "A thread's checkpoints, newest first (use a checkpoint_id with config.checkpoint_id to time-travel)",
    params: idParams,
    // Query values are text (types are never coerced, see app.ts): `limit` is checked as digits.
    querystring: {
      type: "object",
      additionalProperties: false,
      properties: {
        limit: { type: "string", pattern: "^(1000|[1-9][0-9]{0,2})$", description: "How many checkpoints, 1 to 1000 (default 100)" },
        before: { type: "string", description: "Only checkpoints older than this checkpoint_id" },
      },
    },
    response: { ...described("{thread_id, checkpoints: [{checkpoint_id, parent_checkpoint_id, step, source, values, metadata, created_at}]}", { thread_id: ANY, checkpoints: { type: "array" } }), ...threadErrors },
  },
  execution: { tags: ["executions"], summary: "Status, timings, tokens and result of an execution", params: idParams, response: { ...described("{execution_id, thread_id, runtime, status, error_type, error, started_at, ended_at, duration_ms, tokens_used, nodes_executed, result}", executionFields), ...executionErrors } },
  cancel: { tags: ["executions"], summary: "Cancel a running execution (its stream ends with error_type cancelled)", params: idParams, response: { ...described("{execution_id, cancelled, execution}", { execution_id: ANY, cancelled: ANY, execution: { type: "object", additionalProperties: true, required: Object.keys(executionFields), properties: executionFields } }), ...executionErrors } },
  stream: {
    tags: ["executions"],
    summary: "Replay an execution's events after Last-Event-ID (header or ?last_event_id), then follow it live",
    params: idParams,
    querystring: { type: "object", properties: { last_event_id: { type: "string", pattern: "^[0-9]+$", description: "Replay from after this event id (0: from the start)" } } },
    headers: { type: "object", properties: { "last-event-id": { type: "string", pattern: "^[0-9]+$", description: "As ?last_event_id; wins over it" } } },
    response: { ...eventStream("The execution's events after Last-Event-ID, then its live ones until it ends"), ...executionErrors },
  },
};

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
  };
}

export function recordRoutes(server: FastifyInstance, engine: Engine, store: Store, config: Readonly<Config>): void {
  const threadOf = async (owner: string, threadId: string) => {
    const thread = await store.threads.get({ owner, threadId });
    if (!thread) throw new GraphboxError("GBX_ERR_THREAD_NOT_FOUND", `no thread ${JSON.stringify(threadId)}`);
    return thread;
  };
  const executionOf = async (owner: string, id: string) => {
    const execution = await store.executions.get(owner, id);
    if (!execution) throw new GraphboxError("GBX_ERR_EXECUTION_NOT_FOUND", `no execution ${JSON.stringify(id)}`);
    return execution;
  };

  for (const prefix of ["", "/api"]) {
    server.get<IdParams>(`${prefix}/threads/:id/state`, { schema: schemas.state }, async (request) => {
      const owner = ownerOf(request);
      const thread = await threadOf(owner, request.params.id);
      // The root namespace's head (what the engine wrote last, values without the blob), and what
      // the last result said it waits for, while that result's checkpoint is still the head.
      const head = await store.checkpoints.getHeadState(thread);
      const said = head ? await store.threads.getHead(thread) : null;
      const current = said !== null && said.checkpointId === head?.checkpointId ? said : null;
      return {
        thread_id: thread.threadId,
        runtime: thread.runtime,
        status: thread.status,
        values: head?.values ?? {},
        next: current?.next ?? [],
        interrupts: current?.interrupts ?? [],
        checkpoint_id: head?.checkpointId ?? null,
        updated_at: new Date(thread.updatedAt).toISOString(),
      };
    });

    server.get<IdParams & { Querystring: { limit?: string; before?: string } }>(
      `${prefix}/threads/:id/history`,
      { schema: schemas.history },
      async (request) => {
        const owner = ownerOf(request);
        const thread = await threadOf(owner, request.params.id);
        const tuples = await store.checkpoints.list(thread, {
          checkpointNs: "",
          limit: request.query.limit === undefined ? 100 : Number(request.query.limit),
          ...(request.query.before ? { before: request.query.before } : {}),
        });
        return {
          thread_id: thread.threadId,
          checkpoints: tuples.map((t) => ({
            checkpoint_id: t.checkpointId,
            parent_checkpoint_id: t.parentCheckpointId,
            step: t.metadata["step"] ?? null,
            source: t.metadata["source"] ?? null,
            values: t.values,
            metadata: t.metadata,
            created_at: new Date(t.createdAt).toISOString(),
          })),
        };
      },
    );

    server.get<IdParams>(`${prefix}/executions/:id`, { schema: schemas.execution }, async (request) => executionView(await executionOf(ownerOf(request), request.params.id)));

    server.post<IdParams>(`${prefix}/executions/:id/cancel`, { schema: schemas.cancel }, async (request) => {
      const owner = ownerOf(request);
      await executionOf(owner, request.params.id);
      const cancelled = await engine.cancel(owner, request.params.id);
      return { execution_id: request.params.id, cancelled, execution: executionView(await executionOf(owner, request.params.id)) };
    });

    server.get<IdParams & { Querystring: { last_event_id?: string } }>(`${prefix}/executions/:id/stream`, { schema: schemas.stream }, async (request, reply) => {
      const owner = ownerOf(request);
      await executionOf(owner, request.params.id);
      const header = request.headers["last-event-id"];
      const after = Number(typeof header === "string" ? header : (request.query.last_event_id ?? "0"));
      if (!Number.isInteger(after) || after < 0) throw new GraphboxError("GBX_ERR_INVALID_REQUEST", "`Last-Event-ID` must be a whole number");
      const gone = new AbortController();
      reply.hijack();
      // A reader going away stops following; it does not cancel the execution (the POST's client owns that).
      const stream = new SseStream(reply.raw, config.sseKeepAliveMs, () => gone.abort());
      for await (const event of store.events.follow(owner, request.params.id, after, { signal: gone.signal })) stream.send(event);
      stream.end();
    });
  }
}
