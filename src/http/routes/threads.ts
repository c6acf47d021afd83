/**
 * A thread's checkpoints in Graphbox's shape (time travel starts from one of them). Its state,
 * `GET /threads/{id}/state`, is answered with LangGraph's thread routes (agent-threads.ts).
 */
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import { GraphboxError } from "../../contract/errors.ts";
import type { Store } from "../../store/types.ts";
import { ANY, COMMON_ERRORS, described, errorResponses } from "../openapi.ts";
import { ownerOf } from "../owner.ts";
import { idParams } from "../schemas.ts";

const threadErrors = errorResponses([...COMMON_ERRORS, "GBX_ERR_THREAD_NOT_FOUND", "GBX_ERR_INVALID_REQUEST"]);
const historySchema = {
  tags: ["threads"],
  summary: "A thread's checkpoints, newest first (use a checkpoint_id with config.checkpoint_id to time-travel)",
  params: idParams,
  // Query values are text (types are never coerced, see api.ts): `limit` is checked as digits.
  querystring: {
    type: "object",
    additionalProperties: false,
    properties: {
      limit: {
        type: "string",
        pattern: "^(1000|[1-9][0-9]{0,2})$",
        description: "How many checkpoints, 1 to 1000 (default 100)",
      },
      before: { type: "string", description: "Only checkpoints older than this checkpoint_id" },
    },
  },
  response: {
    ...described(
      "{thread_id, checkpoints: [{checkpoint_id, parent_checkpoint_id, step, source, values, metadata, created_at}]}",
      { thread_id: ANY, checkpoints: { type: "array" } },
    ),
    ...threadErrors,
  },
} as const;

export interface ThreadRoutesOptions {
  store: Store;
}

export const threadRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ThreadRoutesOptions }> = async (
  app,
  { store },
) => {
  const threadOf = async (owner: string, threadId: string) => {
    const thread = await store.threads.get({ owner, threadId });
    if (!thread) throw new GraphboxError("GBX_ERR_THREAD_NOT_FOUND", `no thread ${JSON.stringify(threadId)}`);
    return thread;
  };

  app.get("/threads/:id/history", { schema: historySchema }, async (request) => {
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
  });
};
