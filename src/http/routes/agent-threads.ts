/**
 * LangGraph's thread routes (the Agent Server API): `/threads` to create, read, patch, delete,
 * search and count threads, and their state and history as `ThreadState`. `GET
 * /threads/{id}/state` also keeps Graphbox's fields (`thread_id`, `runtime`, `status`,
 * `interrupts` as a list, `checkpoint_id`, `updated_at`), so clients of either API read it; `GET
 * /threads/{id}/history` stays Graphbox's (threads.ts).
 */
import { isJsonObject } from "../../contract/json.ts";
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import { GraphboxError, type ErrorCode } from "../../contract/errors.ts";
import type { Engine } from "../../engine/engine.ts";
import type { AgentThreadCount } from "../../agent/threads.ts";
import { AgentThreads } from "../../agent/threads.ts";
import type { ThreadJson } from "../../agent/thread-json.ts";
import type { ThreadRecord, ThreadStatus } from "../../store/types.ts";
import type { StateAnswer } from "../../agent/thread-states.ts";
import {
  checkpointParams,
  countBody,
  createBody,
  historyBody,
  patchBody,
  searchBody,
  stateCheckpointBody,
  subgraphsQuery,
  threadParams,
  updateStateBody,
  type CheckpointBody,
} from "../agent-thread-schemas.ts";
import { ANY, COMMON_ERRORS, described, errorResponses, oneOf } from "../openapi.ts";
import { ownerOf } from "../owner.ts";

const READ_ERRORS: ErrorCode[] = [...COMMON_ERRORS, "GBX_ERR_THREAD_NOT_FOUND", "GBX_ERR_INVALID_REQUEST"];
/** What asking a thread's program in a sandbox can answer besides. */
const PROGRAM_ERRORS: ErrorCode[] = [
  "GBX_ERR_RATE_LIMITED",
  "GBX_ERR_OVERLOADED",
  "GBX_ERR_RUNTIME_UNAVAILABLE",
  "GBX_ERR_PROGRAM_FAILED",
];
const TAGS = ["threads (LangGraph)"];

const threadFields = Object.fromEntries(
  ["thread_id", "created_at", "updated_at", "metadata", "status", "config"].map((f) => [
    f,
    f === "status" ? oneOf("idle", "busy", "interrupted", "error") : ANY,
  ]),
);
const THREAD = "LangGraph's Thread: {thread_id, created_at, updated_at, metadata, status, config, values, interrupts}";
const threadResponse = described(THREAD, threadFields);
// `metadata` is left out of a thread without checkpoints, as LangGraph's server does.
const stateFieldNames = ["values", "next", "tasks", "created_at", "checkpoint", "parent_checkpoint"];
const STATE = "LangGraph's ThreadState: {values, next, tasks, metadata, created_at, checkpoint, parent_checkpoint}";
const stateResponse = described(STATE, Object.fromEntries(stateFieldNames.map((f) => [f, ANY])));
const list = (description: string) => ({
  200: { description, type: "array", items: { type: "object", additionalProperties: true } },
});

const schemas = {
  create: {
    tags: TAGS,
    summary: "Create a thread",
    body: createBody,
    response: { ...threadResponse, ...errorResponses([...READ_ERRORS, "GBX_ERR_THREAD_EXISTS"]) },
  },
  get: {
    tags: TAGS,
    summary: "A thread, with its head's values and interrupts",
    params: threadParams,
    response: { ...threadResponse, ...errorResponses(READ_ERRORS) },
  },
  patch: {
    tags: TAGS,
    summary: "Merge metadata into a thread's",
    params: threadParams,
    body: patchBody,
    response: { ...threadResponse, ...errorResponses(READ_ERRORS) },
  },
  delete: {
    tags: TAGS,
    summary: "Delete a thread, its checkpoints and runs (a run on it is cancelled)",
    params: threadParams,
    response: {
      204: { description: "Deleted (no body)", type: "null" },
      ...errorResponses([...READ_ERRORS, "GBX_ERR_THREAD_BUSY"]),
    },
  },
  search: {
    tags: TAGS,
    summary: "The API key's threads matching metadata, status, ids or values; newest first by default",
    body: searchBody,
    response: { ...list(`[Thread]; X-Pagination-Total: how many match`), ...errorResponses(READ_ERRORS) },
  },
  count: {
    tags: TAGS,
    summary: "How many of the API key's threads match",
    body: countBody,
    response: { 200: { description: "The count", type: "integer" }, ...errorResponses(READ_ERRORS) },
  },
  state: {
    tags: TAGS,
    summary: "A thread's current state: LangGraph's ThreadState, and Graphbox's fields",
    params: threadParams,
    querystring: subgraphsQuery,
    response: {
      ...described(`${STATE}, and Graphbox's {thread_id, runtime, status, interrupts, checkpoint_id, updated_at}`, {
        ...Object.fromEntries(stateFieldNames.map((f) => [f, ANY])),
        ...Object.fromEntries(
          ["thread_id", "runtime", "interrupts", "checkpoint_id", "updated_at"].map((f) => [f, ANY]),
        ),
        status: oneOf("idle", "busy", "interrupted", "error"),
      }),
      ...errorResponses([...READ_ERRORS, ...PROGRAM_ERRORS]),
    },
  },
  stateAt: {
    tags: TAGS,
    summary: "A thread's state at one of its checkpoints",
    params: checkpointParams,
    querystring: subgraphsQuery,
    response: { ...stateResponse, ...errorResponses([...READ_ERRORS, ...PROGRAM_ERRORS]) },
  },
  stateAtCheckpoint: {
    tags: TAGS,
    summary: "A thread's state at a checkpoint given in the body",
    params: threadParams,
    body: stateCheckpointBody,
    response: { ...stateResponse, ...errorResponses([...READ_ERRORS, ...PROGRAM_ERRORS]) },
  },
  update: {
    tags: TAGS,
    summary: "Update a thread's state through its program, as a node would (refused while a run is active)",
    params: threadParams,
    body: updateStateBody,
    response: {
      ...described("{checkpoint: {thread_id, checkpoint_ns, checkpoint_id}}: the new head", { checkpoint: ANY }),
      ...errorResponses([
        ...READ_ERRORS,
        ...PROGRAM_ERRORS,
        "GBX_ERR_THREAD_BUSY",
        "GBX_ERR_THREAD_NO_PROGRAM",
        "GBX_ERR_THREAD_RUNTIME",
      ]),
    },
  },
  history: {
    tags: TAGS,
    summary: "A thread's states, newest first (LangGraph's; GET /threads/{id}/history is Graphbox's)",
    params: threadParams,
    body: historyBody,
    response: { ...list("[ThreadState]"), ...errorResponses([...READ_ERRORS, ...PROGRAM_ERRORS]) },
  },
} as const;

const yes = (flag: string | boolean | null | undefined): boolean => flag === true || flag === "true" || flag === "1";
/**
 * LangGraph's namespace of a subgraph: `node:task_id`, nested ones joined by `|` (both reserved in
 * node names). Every class excludes both separators, so matching stays linear.
 */
const SUBGRAPH_NS = /^[^|:]+:[^|:]+(?:\|[^|:]+:[^|:]+)*$/u;
function namespaceOf(ns: string | null | undefined): string {
  if (!ns) return "";
  if (!SUBGRAPH_NS.test(ns))
    throw new GraphboxError(
      "GBX_ERR_INVALID_REQUEST",
      "`checkpoint.checkpoint_ns` must be \"\" (the root graph) or a subgraph's namespace `name:task_id`, nested ones joined by `|`, as a task's `checkpoint` names it",
    );
  return ns;
}
const checkpointOf = (checkpoint: CheckpointBody | undefined) => ({
  checkpointId: checkpoint?.checkpoint_id ?? null,
  checkpointNs: namespaceOf(checkpoint?.checkpoint_ns),
});
/** `before` as the SDKs send it: an id (Python), a Checkpoint, or a config (JS). */
function beforeOf(before: unknown): string | null {
  if (before === null || before === undefined) return null;
  const id = isJsonObject(before)
    ? isJsonObject(before["configurable"])
      ? before["configurable"]["checkpoint_id"]
      : before["checkpoint_id"]
    : before;
  if (typeof id !== "string" || id === "" || id.length > 256)
    throw new GraphboxError(
      "GBX_ERR_INVALID_REQUEST",
      "`before` must be a checkpoint_id, a checkpoint `{checkpoint_id}` or a config `{configurable: {checkpoint_id}}`",
    );
  return id;
}
function updateValues(values: unknown): unknown {
  if (values !== undefined && typeof values !== "object")
    throw new GraphboxError("GBX_ERR_INVALID_REQUEST", "`values` must be an object, a list of objects, or null");
  return values ?? null;
}
const filterOf = (body: { metadata?: object | null; status?: string | null; values?: object | null }) => ({
  ...(body.metadata ? { metadata: body.metadata as Record<string, unknown> } : {}),
  ...(body.status ? { status: body.status as ThreadStatus } : {}),
  ...(body.values ? { values: body.values as Record<string, unknown> } : {}),
});
const selected = (thread: ThreadJson, select: readonly string[] | null | undefined) =>
  select ? Object.fromEntries(Object.entries(thread).filter(([key]) => select.includes(key))) : thread;

/** Graphbox's GET /threads/{id}/state: the ThreadState with the fields it had before. */
const withGraphboxFields = (thread: ThreadRecord, answer: StateAnswer) => ({
  ...answer.state,
  thread_id: thread.threadId,
  runtime: thread.runtime,
  status: thread.status,
  interrupts: answer.interrupts,
  checkpoint_id: answer.checkpointId,
  updated_at: new Date(thread.updatedAt).toISOString(),
});

export interface AgentThreadRoutesOptions {
  engine: Engine;
}

export const agentThreadRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: AgentThreadRoutesOptions }> = async (
  app,
  { engine },
) => {
  const threads = new AgentThreads(engine);
  const ref = (request: { params: { id: string } } & Parameters<typeof ownerOf>[0]) => ({
    owner: ownerOf(request),
    threadId: request.params.id,
  });

  app.post("/threads", { schema: schemas.create }, async (request) => {
    const body = request.body ?? {};
    return threads.create(ownerOf(request), {
      ...(body.thread_id ? { threadId: body.thread_id } : {}),
      ...(body.metadata ? { metadata: body.metadata as Record<string, unknown> } : {}),
      ...(body.if_exists ? { ifExists: body.if_exists } : {}),
    });
  });

  app.post("/threads/search", { schema: schemas.search }, async (request, reply) => {
    const body = request.body ?? {};
    const limit = body.limit ?? 10;
    const offset = body.offset ?? 0;
    const { threads: page, total } = await threads.search(ownerOf(request), {
      ...filterOf(body),
      ...(body.ids ? { ids: body.ids } : {}),
      limit,
      offset,
      sortBy: body.sort_by ?? "created_at",
      sortOrder: body.sort_order ?? "desc",
    });
    // As LangGraph's JS server computes them (offset + every match; one more, and a next offset,
    // when the matches fill exactly one page): clients written against it read the same numbers.
    const counted = offset + total;
    if (total === limit) void reply.header("x-pagination-next", String(counted));
    void reply.header("x-pagination-total", String(total === limit ? counted + 1 : counted));
    return page.map((thread) => selected(thread, body.select));
  });

  app.post("/threads/count", { schema: schemas.count }, async (request) => {
    const filter: AgentThreadCount = filterOf(request.body ?? {});
    return threads.count(ownerOf(request), filter);
  });

  app.get("/threads/:id", { schema: schemas.get }, async (request) => threads.get(ref(request)));

  app.patch("/threads/:id", { schema: schemas.patch }, async (request) =>
    threads.patch(ref(request), (request.body.metadata ?? {}) as Record<string, unknown>),
  );

  app.delete("/threads/:id", { schema: schemas.delete }, async (request, reply) => {
    await threads.delete(ref(request));
    return reply.status(204).send(null);
  });

  app.get("/threads/:id/state", { schema: schemas.state }, async (request) => {
    const thread = await threads.record(ref(request));
    const answer = await threads.states.state(thread, {
      checkpointId: null,
      subgraphs: yes(request.query.subgraphs),
    });
    return withGraphboxFields(thread, answer);
  });

  app.get("/threads/:id/state/:checkpoint_id", { schema: schemas.stateAt }, async (request) => {
    const thread = await threads.record(ref(request));
    const answer = await threads.states.state(thread, {
      checkpointId: request.params.checkpoint_id,
      subgraphs: yes(request.query.subgraphs),
    });
    return answer.state;
  });

  app.post("/threads/:id/state/checkpoint", { schema: schemas.stateAtCheckpoint }, async (request) => {
    const thread = await threads.record(ref(request));
    const answer = await threads.states.state(thread, {
      ...checkpointOf(request.body.checkpoint ?? undefined),
      subgraphs: yes(request.body.subgraphs),
    });
    return answer.state;
  });

  app.post("/threads/:id/state", { schema: schemas.update }, async (request) => {
    const thread = await threads.record(ref(request));
    const { values, as_node, checkpoint_id, checkpoint } = request.body;
    const at = checkpointOf(checkpoint ?? undefined);
    return threads.states.update(thread, {
      values: updateValues(values),
      asNode: as_node ?? null,
      checkpointId: checkpoint_id ?? at.checkpointId,
      checkpointNs: at.checkpointNs,
    });
  });

  app.post("/threads/:id/history", { schema: schemas.history }, async (request) => {
    const thread = await threads.record(ref(request));
    const body = request.body ?? {};
    return threads.states.history(thread, {
      ...checkpointOf(body.checkpoint ?? undefined),
      limit: body.limit ?? 10,
      before: beforeOf(body.before),
      metadata: (body.metadata as Record<string, unknown> | null | undefined) ?? null,
    });
  });
};
