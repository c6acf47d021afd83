/**
 * JSON schemas of LangGraph's thread routes (the Agent Server API), in the fields its SDKs send
 * (`@langchain/langgraph-sdk`, `langgraph-sdk`). As in schemas.ts they are the validation, the
 * OpenAPI document and the handlers' types. A field an SDK sends that Graphbox does not act on is
 * accepted and named as such in its description.
 */
import type { FromSchema } from "json-schema-to-ts";

const THREAD_STATUSES = ["idle", "busy", "interrupted", "error"] as const;
/** Thread ids as `/execute-langgraph` takes them (`config.thread_id`); LangGraph's servers take UUIDs. */
const threadId = { type: "string", minLength: 1, maxLength: 256 } as const;
const metadata = {
  type: "object",
  description: "JSON metadata (LangGraph's runs stamp `graph_id` and `assistant_id`)",
} as const;
const ttl = { description: "Accepted and ignored: Graphbox keeps a thread until it is deleted." } as const;

const checkpointIdSchema = { type: "string", minLength: 1, maxLength: 256 } as const;

/** LangGraph's `Checkpoint` as a request names one; `checkpoint_id` null or absent: the head. */
export const checkpointSchema = {
  type: ["object", "null"],
  additionalProperties: false,
  properties: {
    thread_id: { type: "string", description: "Ignored: the path names the thread." },
    checkpoint_id: { type: ["string", "null"], minLength: 1, maxLength: 256 },
    checkpoint_ns: {
      type: ["string", "null"],
      maxLength: 4096,
      // The route checks it too, with a message that says what a namespace looks like.
      pattern: "^$|^[^|:]+:[^|:]+(\\|[^|:]+:[^|:]+)*$",
      description:
        "\"\" or absent: the root graph; `name:task_id|...`: a subgraph's, as a task's `checkpoint` names it",
    },
    checkpoint_map: { type: ["object", "null"] },
  },
} as const;

export const threadParams = { type: "object", required: ["id"], properties: { id: threadId } } as const;
export const checkpointParams = {
  type: "object",
  required: ["id", "checkpoint_id"],
  properties: { id: threadId, checkpoint_id: { type: "string", minLength: 1, maxLength: 256 } },
} as const;

/** `?subgraphs=true`: query values are text (never coerced, see api.ts). */
export const subgraphsQuery = {
  type: "object",
  properties: {
    subgraphs: {
      type: "string",
      enum: ["true", "false", "1", "0"],
      description: "Also each task's subgraph state (`tasks[].state`)",
    },
  },
} as const;

export const createBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    thread_id: { ...threadId, description: "Default: a new UUID." },
    metadata: { ...metadata, type: ["object", "null"] },
    if_exists: {
      type: "string",
      enum: ["raise", "do_nothing"],
      description: "`raise` (default): 409 when this API key has the thread; `do_nothing`: answer it as it is",
    },
    supersteps: {
      type: ["array", "null"],
      maxItems: 0,
      description: "Not supported: create the thread, then `POST /threads/{id}/state`.",
    },
    ttl,
  },
} as const;

export const patchBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    metadata: { ...metadata, type: ["object", "null"], description: "Merged into the thread's (shallow)" },
    ttl,
  },
} as const;

const filterFields = {
  metadata: {
    ...metadata,
    type: ["object", "null"],
    description: "Only threads whose metadata has these keys with equal values",
  },
  values: {
    type: ["object", "null"],
    description:
      "Only threads whose head values contain these (JSONB containment), among the first 1000 of the order asked",
  },
  status: { type: ["string", "null"], enum: [...THREAD_STATUSES, null] },
} as const;

export const searchBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    ...filterFields,
    ids: { type: ["array", "null"], maxItems: 1000, items: threadId },
    limit: { type: "integer", minimum: 1, maximum: 1000, description: "Default 10" },
    offset: { type: "integer", minimum: 0, maximum: 1_000_000_000 },
    sort_by: { type: ["string", "null"], enum: ["thread_id", "status", "created_at", "updated_at", null] },
    sort_order: { type: ["string", "null"], enum: ["asc", "desc", null], description: "Default desc: newest first" },
    select: {
      type: ["array", "null"],
      items: {
        type: "string",
        enum: ["thread_id", "created_at", "updated_at", "metadata", "config", "status", "values", "interrupts"],
      },
      description: "Only these fields of each thread",
    },
    extract: { type: ["object", "null"], description: "Accepted and ignored (as LangGraph's JS server does)." },
  },
} as const;

export const countBody = {
  type: "object",
  additionalProperties: false,
  properties: filterFields,
} as const;

export const stateCheckpointBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    checkpoint: checkpointSchema,
    subgraphs: { type: ["boolean", "null"] },
  },
} as const;

export const updateStateBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    values: {
      description: "The update, as a node would write it: an object, a list of them, or null",
      anyOf: [{ type: "object" }, { type: "array" }, { type: "null" }],
    },
    as_node: {
      type: ["string", "null"],
      minLength: 1,
      maxLength: 256,
      description: "The node the update is written as",
    },
    checkpoint_id: {
      type: ["string", "null"],
      minLength: 1,
      maxLength: 256,
      description: "Branch from this checkpoint",
    },
    checkpoint: checkpointSchema,
  },
} as const;

export const historyBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    limit: { type: "integer", minimum: 1, maximum: 1000, description: "Default 10" },
    before: {
      description:
        "Only checkpoints older than this one: its checkpoint_id, a Checkpoint, or a config `{configurable: {checkpoint_id}}`",
      anyOf: [
        { type: "null" },
        checkpointIdSchema,
        {
          type: "object",
          required: ["configurable"],
          properties: {
            configurable: {
              type: "object",
              required: ["checkpoint_id"],
              properties: { checkpoint_id: checkpointIdSchema },
            },
          },
        },
        {
          type: "object",
          required: ["checkpoint_id"],
          properties: { checkpoint_id: checkpointIdSchema, configurable: { not: { type: "object" } } },
        },
      ],
    },
    metadata: {
      ...metadata,
      type: ["object", "null"],
      description: "Only checkpoints whose metadata has these keys with equal values",
    },
    checkpoint: checkpointSchema,
  },
} as const;

export type CheckpointBody = FromSchema<typeof checkpointSchema>;
export type CreateBody = FromSchema<typeof createBody>;
export type SearchBody = FromSchema<typeof searchBody>;
export type HistoryBody = FromSchema<typeof historyBody>;
