/** POST /execute-langgraph and its streaming twin. */
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import type { Config } from "../../config/index.ts";
import { statusOf, type Engine } from "../../engine/engine.ts";
import { COMMON_ERRORS, described, errorResponses, eventStream, oneOf } from "../openapi.ts";
import { ownerOf } from "../owner.ts";
import { toExecutionRequest } from "../request.ts";
import { executeBodySchema } from "../schemas.ts";
import { SseStream } from "../sse.ts";

const REQUEST_ERRORS = [
  ...COMMON_ERRORS,
  "GBX_ERR_INVALID_REQUEST",
  "GBX_ERR_INVALID_JSON",
  "GBX_ERR_BODY_TOO_LARGE",
  "GBX_ERR_UNSUPPORTED_MEDIA_TYPE",
  "GBX_ERR_LANGUAGE_UNDETECTED",
  "GBX_ERR_RUNTIME_UNAVAILABLE",
  "GBX_ERR_THREAD_BUSY",
  "GBX_ERR_THREAD_RUNTIME",
  "GBX_ERR_NOTHING_TO_CONTINUE",
  "GBX_ERR_RATE_LIMITED",
  "GBX_ERR_OVERLOADED",
] as const;
const PROGRAM_ERRORS =
  "Program failures answer 200 with status `error`: GBX_ERR_SYNTAX, GBX_ERR_PROGRAM, GBX_ERR_NO_APP, GBX_ERR_TIMEOUT, GBX_ERR_MEMORY_LIMIT, GBX_ERR_RESOURCE_LIMIT, GBX_ERR_OUTPUT_LIMIT, GBX_ERR_TOKEN_BUDGET, GBX_ERR_EGRESS_LIMIT, GBX_ERR_CANCELLED, GBX_ERR_SANDBOX.";

const executeSchema = {
  tags: ["execute"],
  summary: "Run a LangGraph program and answer with its result",
  body: executeBodySchema,
  response: {
    ...described(`{status: success | interrupted, result: {messages, state, metadata}}. ${PROGRAM_ERRORS}`, {
      status: oneOf("success", "interrupted", "error"),
    }),
    ...errorResponses([...REQUEST_ERRORS]),
  },
};
const streamSchema = {
  tags: ["execute"],
  summary: "Run a LangGraph program, streaming its events (Server-Sent Events)",
  body: executeBodySchema,
  response: {
    ...eventStream(
      `metadata, node_start, update, node_end, token, custom, interrupt, then complete or error. ${PROGRAM_ERRORS}`,
    ),
    ...errorResponses([...REQUEST_ERRORS]),
  },
};

export interface ExecuteRoutesOptions {
  engine: Engine;
  config: Readonly<Config>;
}

export const executeRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ExecuteRoutesOptions }> = async (
  app,
  { engine, config },
) => {
  app.post("/execute-langgraph", { schema: executeSchema }, async (request, reply) => {
    const outcome = await engine.execute({
      request: toExecutionRequest(request.body, config, false),
      owner: ownerOf(request),
    });
    return reply.status(statusOf(outcome)).send(outcome);
  });

  app.post("/execute-langgraph/stream", { schema: streamSchema }, async (request, reply) => {
    const gone = new AbortController();
    let stream: SseStream | null = null;
    // The stream opens with the first event: a request refused before it starts (over the
    // admission limits, thread busy, bad breakpoint) still gets a plain JSON error with its HTTP status.
    const open = (): SseStream => {
      if (!stream) {
        stream = new SseStream(reply, config.sseKeepAliveMs, () => gone.abort("the client disconnected"));
      }
      return stream;
    };
    const execution = toExecutionRequest(request.body, config, true);
    try {
      await engine.execute({
        request: execution,
        owner: ownerOf(request),
        signal: gone.signal,
        onEvent: (event) => open().send(event),
      });
    } catch (err: unknown) {
      // Refused before it started: a plain JSON error. Failed once streaming (the store could not
      // record the end): the stream is closed, and the client reads the record or reconnects.
      if (!stream) throw err;
      request.log.error({ err }, "the stream ended without its terminal event");
    }
    open().end();
  });
};
