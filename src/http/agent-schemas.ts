/**
 * JSON schemas of the graphs' and assistants' routes (LangGraph's Agent Server API), written once
 * for validation, /openapi.json and the handlers' types, as schemas.ts does for the contract's.
 * Optional fields take null as absent: the SDKs send either.
 */
import type { FromSchema } from "json-schema-to-ts";

/** A registered program's id: it names it in URLs, so plain characters only. */
export const GRAPH_ID = {
  type: "string",
  pattern: "^[A-Za-z0-9._-]{1,128}$",
  description: "1 to 128 letters, digits, `.`, `_` or `-`",
} as const;

/** What a path names an assistant by: its assistant_id (a UUID) or a registered graph_id. */
export const ASSISTANT_REF = {
  type: "string",
  pattern: "^[A-Za-z0-9._-]{1,128}$",
  description: "An assistant_id, or a registered graph_id (its default assistant)",
} as const;

const UUID = {
  type: "string",
  pattern: "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
} as const;

// Query values are text (types are never coerced, see api.ts): numbers and booleans are checked as words.
const DIGITS = "^(0|[1-9][0-9]{0,8})$";
const BOOLEAN_WORD = { type: "string", enum: ["true", "false"] } as const;

export const pageQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    limit: { type: "string", pattern: "^(1000|[1-9][0-9]{0,2})$", description: "1 to 1000 (default 10)" },
    offset: { type: "string", pattern: DIGITS, description: "How many to skip (default 0)" },
  },
} as const;

export function pageOf(query: { limit?: string; offset?: string }): { limit: number; offset: number } {
  return { limit: query.limit === undefined ? 10 : Number(query.limit), offset: Number(query.offset ?? "0") };
}

export const assistantParams = {
  type: "object",
  required: ["assistant_id"],
  properties: { assistant_id: ASSISTANT_REF },
} as const;

const JSON_OBJECT = { type: ["object", "null"] } as const;
const NAME = { type: ["string", "null"], maxLength: 1024 } as const;
const DESCRIPTION = { type: ["string", "null"], maxLength: 65_536 } as const;
const METADATA = { type: ["object", "null"], description: "Shallow-merged into the assistant's on update" } as const;

export const assistantCreateBody = {
  type: "object",
  required: ["graph_id"],
  additionalProperties: false,
  properties: {
    graph_id: GRAPH_ID,
    assistant_id: { ...UUID, description: "Default: a new UUID" },
    config: {
      ...JSON_OBJECT,
      description: "The run config the assistant's runs start from (`configurable`, `recursion_limit`...)",
    },
    context: { ...JSON_OBJECT, description: "The context the assistant's runs start from" },
    metadata: JSON_OBJECT,
    name: NAME,
    description: DESCRIPTION,
    if_exists: { type: ["string", "null"], enum: ["raise", "do_nothing", null], description: "Default `raise` (409)" },
  },
} as const;
export type AssistantCreateBody = FromSchema<typeof assistantCreateBody>;

export const assistantPatchBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    graph_id: GRAPH_ID,
    config: JSON_OBJECT,
    context: JSON_OBJECT,
    metadata: METADATA,
    name: NAME,
    description: DESCRIPTION,
  },
} as const;
export type AssistantPatchBody = FromSchema<typeof assistantPatchBody>;

/** An assistant's fields in the reference server's order (the response schema writes them so). */
export const ASSISTANT_FIELDS = [
  "assistant_id",
  "version",
  "config",
  "context",
  "created_at",
  "updated_at",
  "graph_id",
  "metadata",
  "name",
  "description",
] as const;

const SORT_BY = ["assistant_id", "graph_id", "name", "created_at", "updated_at"] as const;

const searchFilters = {
  graph_id: { ...GRAPH_ID, type: ["string", "null"] },
  name: { type: ["string", "null"], maxLength: 1024, description: "Assistants whose name holds it (any case)" },
  metadata: { ...JSON_OBJECT, description: "Assistants whose metadata holds each of these keys with an equal value" },
} as const;

export const assistantSearchBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    ...searchFilters,
    limit: { type: ["integer", "null"], minimum: 1, maximum: 1000, description: "Default 10" },
    offset: { type: ["integer", "null"], minimum: 0, maximum: 1_000_000_000, description: "Default 0" },
    sort_by: { type: ["string", "null"], enum: [...SORT_BY, null], description: "Default created_at" },
    sort_order: { type: ["string", "null"], enum: ["asc", "desc", null], description: "Default desc" },
    select: {
      type: ["array", "null"],
      items: { type: "string", enum: ASSISTANT_FIELDS },
      maxItems: ASSISTANT_FIELDS.length,
      description: "Only these fields of each assistant",
    },
  },
} as const;
export type AssistantSearchBody = FromSchema<typeof assistantSearchBody>;

export const assistantCountBody = {
  type: "object",
  additionalProperties: false,
  properties: searchFilters,
} as const;
export type AssistantCountBody = FromSchema<typeof assistantCountBody>;

export const assistantVersionsBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    metadata: JSON_OBJECT,
    limit: { type: ["integer", "null"], minimum: 1, maximum: 1000 },
    offset: { type: ["integer", "null"], minimum: 0, maximum: 1_000_000_000 },
  },
} as const;
export type AssistantVersionsBody = FromSchema<typeof assistantVersionsBody>;

export const deleteQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    delete_threads: { ...BOOLEAN_WORD, description: "Also delete the threads whose metadata.assistant_id is this one" },
  },
} as const;

export const graphQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    xray: {
      type: "string",
      pattern: "^(true|false|[0-9]{1,2})$",
      description: "Draw subgraphs too: `true`, or how many levels deep",
    },
  },
} as const;

/** LangGraph's `xray` from its query word. */
export function xrayOf(word: string | undefined): boolean | number {
  if (word === undefined || word === "false") return false;
  if (word === "true") return true;
  const levels = Number(word);
  return levels === 0 ? false : levels;
}

/** An assistant as the response schemas describe it (values untyped, see openapi.ts `described`). */
export const assistantObject = {
  type: "object",
  additionalProperties: true,
  required: [...ASSISTANT_FIELDS],
  properties: Object.fromEntries(ASSISTANT_FIELDS.map((f) => [f, {}])),
};
