/** The JSON schemas of LangGraph's run routes: validation, the OpenAPI document, and the handlers' types. */
import { MULTITASK_STRATEGIES, RUN_STREAM_MODES } from "../agent/run-request.ts";
import { ANY, COMMON_ERRORS, described, errorResponses } from "./openapi.ts";

const object = { type: "object" } as const;
const nullableObject = { type: ["object", "null"] } as const;
const breakpoints = {
  anyOf: [{ type: "string", enum: ["*"] }, { type: "array", items: { type: "string" } }, { type: "null" }],
};
export const streamMode = { type: "string", enum: [...RUN_STREAM_MODES] } as const;

/** LangGraph's RunCreate: the fields Graphbox reads are typed; the others (webhook, feedback_keys...) pass unread. */
export const runBody = {
  type: "object",
  additionalProperties: true,
  required: ["assistant_id"],
  properties: {
    assistant_id: { type: "string", minLength: 1, maxLength: 256 },
    input: ANY,
    command: {
      type: ["object", "null"],
      additionalProperties: false,
      properties: { resume: ANY, update: ANY, goto: ANY },
    },
    metadata: nullableObject,
    config: {
      type: ["object", "null"],
      additionalProperties: true,
      properties: {
        configurable: object,
        recursion_limit: { type: "integer", minimum: 1, maximum: 10_000 },
        tags: { type: "array", items: { type: "string" } },
        timeout_ms: { type: "integer", minimum: 1 },
        max_tokens: { type: "integer", minimum: 0 },
      },
    },
    context: nullableObject,
    checkpoint: {
      type: ["object", "null"],
      additionalProperties: true,
      properties: { checkpoint_id: { type: ["string", "null"] } },
    },
    checkpoint_id: { type: ["string", "null"] },
    interrupt_before: breakpoints,
    interrupt_after: breakpoints,
    stream_mode: { anyOf: [streamMode, { type: "array", items: streamMode }, { type: "null" }] },
    stream_subgraphs: { type: ["boolean", "null"] },
    multitask_strategy: { type: ["string", "null"], enum: [...MULTITASK_STRATEGIES, null] },
    if_not_exists: { type: ["string", "null"], enum: ["create", "reject", null] },
    on_disconnect: { type: ["string", "null"], enum: ["cancel", "continue", null] },
    on_completion: { type: ["string", "null"], enum: ["delete", "keep", null] },
  },
} as const;

export const threadParams = {
  type: "object",
  required: ["thread_id"],
  properties: { thread_id: { type: "string", minLength: 1, maxLength: 256 } },
} as const;
export const runParams = {
  type: "object",
  required: ["thread_id", "run_id"],
  properties: {
    thread_id: { type: "string", minLength: 1, maxLength: 256 },
    run_id: { type: "string", minLength: 1, maxLength: 256 },
  },
} as const;

export const RUN_ERRORS = errorResponses([
  ...COMMON_ERRORS,
  "GBX_ERR_INVALID_REQUEST",
  "GBX_ERR_THREAD_NOT_FOUND",
  "GBX_ERR_RUN_REJECTED",
  "GBX_ERR_RUN_NOT_FOUND",
  "GBX_ERR_ASSISTANT_NOT_FOUND",
  "GBX_ERR_THREAD_BUSY",
  "GBX_ERR_THREAD_RUNTIME",
  "GBX_ERR_NOTHING_TO_CONTINUE",
  "GBX_ERR_RATE_LIMITED",
  "GBX_ERR_OVERLOADED",
]);
const RUN_FIELDS = ["run_id", "thread_id", "assistant_id", "created_at", "updated_at", "status", "metadata", "kwargs"];
export const runResponse = (summary: string) => described(summary, Object.fromEntries(RUN_FIELDS.map((f) => [f, ANY])));
export const tags = ["runs"];
